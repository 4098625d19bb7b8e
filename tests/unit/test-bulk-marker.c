/* test-bulk-marker.c -- unit tests of the signed X-ATS-Bulk header
 * (lib/bulk/marker.c): what it says verifies for its own mail only, under
 * the current or a previous secret, and nothing altered verifies. */
#include "atsm-check.h"
#include "bulk/marker.h"

#include <stdio.h>
#include <string.h>

#define SECRET1 "0123456789abcdef0123456789abcdef-one"
#define SECRET2 "fedcba9876543210fedcba9876543210-two"
#define MSGID "bulk.12.3.aa55@atsmail.test"

static void
keys_of(const char *text, struct atsm_token_keys *k)
{
	struct atsm_err err;

	ck_assert_int_eq(atsm_token_keys_from_string(text, k, &err), 0);
}

static void
make(const struct atsm_token_keys *k, long long job, int item, const char *login,
    const char *msgid, char *out, size_t size)
{
	struct atsm_bulk_mark m;
	struct atsm_err err;

	memset(&m, 0, sizeof(m));
	m.job = job;
	m.item = item;
	snprintf(m.login, sizeof(m.login), "%s", login);
	ck_assert_msg(atsm_bulk_marker_make(k, &m, msgid, out, size, &err) == 0, "%s", err.msg);
}

START_TEST(round_trip)
{
	struct atsm_token_keys k;
	struct atsm_bulk_mark m;
	struct atsm_err err;
	char v[ATSM_BULK_MARKER_MAX];

	keys_of(SECRET1 "\n", &k);
	make(&k, 12, 3, "alice", MSGID, v, sizeof(v));
	ck_assert(strncmp(v, "job=12; item=3; user=alice; sig=", 32) == 0);
	ck_assert_msg(atsm_bulk_marker_check(&k, v, MSGID, &m, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(m.job, 12);
	ck_assert_int_eq(m.item, 3);
	ck_assert_str_eq(m.login, "alice");
}
END_TEST

START_TEST(other_mail_does_not_verify)
{
	struct atsm_token_keys k;
	struct atsm_bulk_mark m;
	struct atsm_err err;
	char v[ATSM_BULK_MARKER_MAX];

	keys_of(SECRET1 "\n", &k);
	make(&k, 12, 3, "alice", MSGID, v, sizeof(v));
	ck_assert_int_eq(atsm_bulk_marker_check(&k, v, "bulk.12.4.aa55@atsmail.test", &m, &err),
	    -1);
	ck_assert(strstr(err.msg, "does not verify") != NULL);
}
END_TEST

START_TEST(altered_fields_do_not_verify)
{
	struct atsm_token_keys k;
	struct atsm_bulk_mark m;
	struct atsm_err err;
	char v[ATSM_BULK_MARKER_MAX], w[ATSM_BULK_MARKER_MAX];
	const char *sig;

	keys_of(SECRET1 "\n", &k);
	make(&k, 12, 3, "alice", MSGID, v, sizeof(v));
	sig = strstr(v, "sig=");
	ck_assert_ptr_nonnull(sig);
	/* another user, job or item with the same signature */
	snprintf(w, sizeof(w), "job=12; item=3; user=bob; %s", sig);
	ck_assert_int_eq(atsm_bulk_marker_check(&k, w, MSGID, &m, &err), -1);
	snprintf(w, sizeof(w), "job=13; item=3; user=alice; %s", sig);
	ck_assert_int_eq(atsm_bulk_marker_check(&k, w, MSGID, &m, &err), -1);
	snprintf(w, sizeof(w), "job=12; item=33; user=alice; %s", sig);
	ck_assert_int_eq(atsm_bulk_marker_check(&k, w, MSGID, &m, &err), -1);
	/* one digit of the signature changed */
	snprintf(w, sizeof(w), "%s", v);
	w[strlen(w) - 1] = w[strlen(w) - 1] == '0' ? '1' : '0';
	ck_assert_int_eq(atsm_bulk_marker_check(&k, w, MSGID, &m, &err), -1);
}
END_TEST

START_TEST(previous_secret_verifies_other_does_not)
{
	struct atsm_token_keys old, both, other;
	struct atsm_bulk_mark m;
	struct atsm_err err;
	char v[ATSM_BULK_MARKER_MAX];

	keys_of(SECRET1 "\n", &old);
	keys_of(SECRET2 "\n" SECRET1 "\n", &both);
	keys_of(SECRET2 "\n", &other);
	make(&old, 7, 1, "carol", MSGID, v, sizeof(v));
	ck_assert_msg(atsm_bulk_marker_check(&both, v, MSGID, &m, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(atsm_bulk_marker_check(&other, v, MSGID, &m, &err), -1);
}
END_TEST

START_TEST(malformed_refused_with_reason)
{
	struct atsm_token_keys k;
	struct atsm_bulk_mark m;
	struct atsm_err err;
	static const char *bad[] = {
		"", "job=1; item=1; user=a", "job=01; item=1; user=a; sig=" , "nonsense",
		"job=1; job=2; item=1; user=a; sig=00",
		"job=1; item=1; user=a; sig=zz; extra=1",
		"job=-1; item=1; user=a; sig=0000000000000000000000000000000000000000000000000000000000000000",
	};
	size_t i;

	keys_of(SECRET1 "\n", &k);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(atsm_bulk_marker_check(&k, bad[i], MSGID, &m, &err) == -1, "%s",
		    bad[i]);
		ck_assert(strstr(err.msg, ATSM_BULK_MARKER) != NULL);
	}
	/* no Message-ID, nothing to bind to */
	ck_assert_int_eq(atsm_bulk_marker_check(&k, "job=1", "", &m, &err), -1);
}
END_TEST

START_TEST(make_refuses_what_it_cannot_name)
{
	struct atsm_token_keys k;
	struct atsm_bulk_mark m;
	struct atsm_err err;
	char v[ATSM_BULK_MARKER_MAX];

	keys_of(SECRET1 "\n", &k);
	memset(&m, 0, sizeof(m));
	m.job = 1;
	m.item = 1;
	snprintf(m.login, sizeof(m.login), "a;b");
	ck_assert_int_eq(atsm_bulk_marker_make(&k, &m, MSGID, v, sizeof(v), &err), -1);
	snprintf(m.login, sizeof(m.login), "alice");
	m.item = 0;
	ck_assert_int_eq(atsm_bulk_marker_make(&k, &m, MSGID, v, sizeof(v), &err), -1);
	m.item = 1;
	ck_assert_int_eq(atsm_bulk_marker_make(&k, &m, "", v, sizeof(v), &err), -1);
	ck_assert_int_eq(atsm_bulk_marker_make(&k, &m, MSGID, v, 20, &err), -1);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("bulk-marker");
	TCase *tc = tcase_create("marker");

	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, other_mail_does_not_verify);
	tcase_add_test(tc, altered_fields_do_not_verify);
	tcase_add_test(tc, previous_secret_verifies_other_does_not);
	tcase_add_test(tc, malformed_refused_with_reason);
	tcase_add_test(tc, make_refuses_what_it_cannot_name);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()

/* test-verp.c -- unit tests of VERP envelope senders (lib/rules/verp.c). */
#include "atsm-check.h"
#include "rules/verp.h"
#include "rules/token.h"

#include <stdio.h>
#include <string.h>

#define SECRET "0123456789abcdef0123456789abcdef-test-secret"

static struct atsm_buf out;
static struct atsm_err err;
static char tok[ATSM_TOKEN_MAX];
static struct atsm_token_keys keys;
static unsigned char id[ATSM_TOKEN_ID_LEN];

static void
setup(void)
{
	atsm_buf_init(&out, 0);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(atsm_token_keys_from_string(SECRET, &keys, &err), 0);
	ck_assert_int_eq(atsm_token_new_id(id, &err), 0);
	ck_assert_int_eq(atsm_token_make(&keys, id, tok), 0);
}

static void
teardown(void)
{
	atsm_buf_free(&out);
	atsm_token_keys_wipe(&keys);
}

START_TEST(test_make_plain_sender)
{
	char want[128];

	ck_assert_int_eq(atsm_verp_make("alice@example.com", '\0', NULL, tok,
	    &out, &err), 0);
	snprintf(want, sizeof(want), "alice+ats-%s@example.com", tok);
	ck_assert_str_eq(atsm_buf_str(&out), want);
}
END_TEST

START_TEST(test_make_strips_brackets)
{
	char want[128];

	ck_assert_int_eq(atsm_verp_make(" <alice@example.com> ", '+', "ats-",
	    tok, &out, &err), 0);
	snprintf(want, sizeof(want), "alice+ats-%s@example.com", tok);
	ck_assert_str_eq(atsm_buf_str(&out), want);
}
END_TEST

START_TEST(test_make_replaces_existing_detail)
{
	char want[128];

	ck_assert_int_eq(atsm_verp_make("alice+news@example.com", '+', NULL,
	    tok, &out, &err), 0);
	snprintf(want, sizeof(want), "alice+ats-%s@example.com", tok);
	ck_assert_str_eq(atsm_buf_str(&out), want);
	/* a sender stamped before (a re-sent mail) gets the new token only */
	atsm_buf_reset(&out);
	ck_assert_int_eq(atsm_verp_make(want, '+', NULL, "abc", &out, &err), 0);
	ck_assert_str_eq(atsm_buf_str(&out), "alice+ats-abc@example.com");
}
END_TEST

START_TEST(test_make_other_delimiter_and_tag)
{
	ck_assert_int_eq(atsm_verp_make("bob-x@example.com", '-', "b.", "k2",
	    &out, &err), 0);
	ck_assert_str_eq(atsm_buf_str(&out), "bob-b.k2@example.com");
}
END_TEST

START_TEST(test_round_trip_verifies)
{
	char got[ATSM_TOKEN_MAX];
	unsigned char back[ATSM_TOKEN_ID_LEN];

	ck_assert_int_eq(atsm_verp_make("recruiter.taro@corp.example", '+',
	    NULL, tok, &out, &err), 0);
	ck_assert_int_eq(atsm_verp_parse(atsm_buf_str(&out), '+', NULL, got),
	    0);
	ck_assert_str_eq(got, tok);
	ck_assert_int_eq(atsm_token_verify(&keys, got, strlen(got), back), 0);
	ck_assert(memcmp(back, id, sizeof(id)) == 0);
}
END_TEST

START_TEST(test_parse_upper_case_bounce_address)
{
	char addr[128], got[ATSM_TOKEN_MAX];
	size_t i;

	snprintf(addr, sizeof(addr), "<ALICE+ATS-%s@EXAMPLE.COM>", tok);
	for (i = 0; addr[i] != '\0'; i++)
		if (addr[i] >= 'a' && addr[i] <= 'z')
			addr[i] = (char)(addr[i] - 'a' + 'A');
	ck_assert_int_eq(atsm_verp_parse(addr, '+', "ats-", got), 0);
	ck_assert_str_eq(got, tok);
}
END_TEST

START_TEST(test_parse_foreign_addresses_give_nothing)
{
	static const char *const foreign[] = {
		"alice@example.com", "alice+news@example.com",
		"alice+ats-@example.com", "alice+ats-abc!1@example.com",
		"alice+atsabc@example.com", "ats-abc@example.com",
		"alice+ats-abc", "", "<>",
		"alice+ats-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"@example.com",
	};
	char got[ATSM_TOKEN_MAX];
	size_t i;

	for (i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
		got[0] = 'x';
		ck_assert_msg(atsm_verp_parse(foreign[i], '+', NULL, got) == -1,
		    "token found in %s", foreign[i]);
		ck_assert_str_eq(got, "");
	}
	ck_assert_int_eq(atsm_verp_parse(NULL, '+', NULL, got), -1);
}
END_TEST

START_TEST(test_parse_detail_before_our_tag)
{
	char got[ATSM_TOKEN_MAX];

	ck_assert_int_eq(atsm_verp_parse("alice+news+ats-abc23@example.com",
	    '+', NULL, got), 0);
	ck_assert_str_eq(got, "abc23");
	/* our tag earlier but garbage at the end is not a token */
	ck_assert_int_eq(atsm_verp_parse("alice+ats-abc+zz9@example.com",
	    '+', NULL, got), -1);
}
END_TEST

START_TEST(test_make_too_long_local_part)
{
	char sender[128], want[256];
	size_t keep = ATSM_VERP_LOCAL_MAX - 1 - 4 - strlen(tok);

	/* exactly 64 octets is fine */
	memset(sender, 'a', keep);
	snprintf(sender + keep, sizeof(sender) - keep, "@example.com");
	ck_assert_int_eq(atsm_verp_make(sender, '+', NULL, tok, &out, &err), 0);
	ck_assert_uint_eq(strchr(atsm_buf_str(&out), '@') - atsm_buf_str(&out),
	    64);
	/* one more is refused, and out is untouched */
	atsm_buf_reset(&out);
	memset(sender, 'a', keep + 1);
	snprintf(sender + keep + 1, sizeof(sender) - keep - 1, "@example.com");
	ck_assert_int_eq(atsm_verp_make(sender, '+', NULL, tok, &out, &err), -1);
	ck_assert_str_eq(atsm_buf_str(&out), "");
	snprintf(want, sizeof(want), "stamped envelope sender would have a "
	    "local part of 65 octets (limit 64); VERP skipped for \"%s\"",
	    sender);
	ck_assert_str_eq(err.msg, want);
}
END_TEST

START_TEST(test_make_refuses_unstampable_senders)
{
	ck_assert_int_eq(atsm_verp_make("<>", '+', NULL, tok, &out, &err), -1);
	ck_assert_str_eq(err.msg, "null envelope sender <>; VERP skipped");
	ck_assert_int_eq(atsm_verp_make("alice", '+', NULL, tok, &out, &err),
	    -1);
	ck_assert_str_eq(err.msg, "envelope sender \"alice\" has no local part "
	    "or domain; VERP skipped");
	ck_assert_int_eq(atsm_verp_make("\"a b\"@example.com", '+', NULL, tok,
	    &out, &err), -1);
	ck_assert_int_eq(atsm_verp_make("+x@example.com", '+', NULL, tok, &out,
	    &err), -1);
	ck_assert_str_eq(atsm_buf_str(&out), "");
}
END_TEST

START_TEST(test_make_refuses_bad_tag_or_token)
{
	ck_assert_int_eq(atsm_verp_make("a@example.com", '+', "at+s", tok,
	    &out, &err), -1);
	ck_assert(strstr(err.msg, "VERP tag \"at+s\"") != NULL);
	ck_assert_int_eq(atsm_verp_make("a@example.com", '+', NULL, "ABC",
	    &out, &err), -1);
	ck_assert_str_eq(err.msg, "VERP token is not lower-case base32");
	ck_assert_int_eq(atsm_verp_make("a@example.com", '+', NULL, "", &out,
	    &err), -1);
	ck_assert_str_eq(atsm_buf_str(&out), "");
}
END_TEST

/* ---------------------------------------- format 2: the recipient's MAC */

START_TEST(test_rcpt_mac_binds_token_and_recipient)
{
	char a[ATSM_VERP_RMAC_LEN + 1], b[ATSM_VERP_RMAC_LEN + 1];
	char other[ATSM_TOKEN_MAX];
	unsigned char id2[ATSM_TOKEN_ID_LEN];
	struct atsm_token_keys k2;
	size_t i;

	ck_assert_int_eq(atsm_verp_rcpt_mac(&keys, 0, tok, "taro@candidate.test", a), 0);
	ck_assert_uint_eq(strlen(a), ATSM_VERP_RMAC_LEN);
	for (i = 0; i < ATSM_VERP_RMAC_LEN; i++)
		ck_assert(strchr("abcdefghijklmnopqrstuvwxyz234567", a[i]) != NULL);
	/* deterministic, and the token's case does not matter */
	ck_assert_int_eq(atsm_verp_rcpt_mac(&keys, 0, tok, "taro@candidate.test", b), 0);
	ck_assert_str_eq(a, b);
	ck_assert(atsm_verp_rcpt_ok(&keys, tok, a, "taro@candidate.test"));
	for (i = 0; i < ATSM_VERP_RMAC_LEN; i++)
		b[i] = (char)(a[i] >= 'a' && a[i] <= 'z' ? a[i] - 'a' + 'A' : a[i]);
	ck_assert(atsm_verp_rcpt_ok(&keys, tok, b, "taro@candidate.test"));
	/* another recipient, another token, another secret: no */
	ck_assert(!atsm_verp_rcpt_ok(&keys, tok, a, "hanako@candidate.test"));
	memcpy(id2, id, sizeof(id2));
	id2[0] ^= 1;
	ck_assert_int_eq(atsm_token_make(&keys, id2, other), 0);
	ck_assert(!atsm_verp_rcpt_ok(&keys, other, a, "taro@candidate.test"));
	ck_assert_int_eq(atsm_token_keys_from_string("another-secret-0123456789abcdef0123", &k2,
	    &err), 0);
	ck_assert(!atsm_verp_rcpt_ok(&k2, tok, a, "taro@candidate.test"));
	/* a rotated secret: the second key still verifies */
	atsm_token_keys_wipe(&k2);
	ck_assert_int_eq(atsm_token_keys_from_string("another-secret-0123456789abcdef0123\n"
	    SECRET "\n", &k2, &err), 0);
	ck_assert(atsm_verp_rcpt_ok(&k2, tok, a, "taro@candidate.test"));
	atsm_token_keys_wipe(&k2);
	/* a changed character, a short or bad rmac, no keys */
	b[0] = a[0] == 'a' ? 'b' : 'a';
	strcpy(b + 1, a + 1);
	ck_assert(!atsm_verp_rcpt_ok(&keys, tok, b, "taro@candidate.test"));
	ck_assert(!atsm_verp_rcpt_ok(&keys, tok, "abc", "taro@candidate.test"));
	ck_assert(!atsm_verp_rcpt_ok(&keys, tok, "abcdefg1", "taro@candidate.test"));
	ck_assert(!atsm_verp_rcpt_ok(NULL, tok, a, "taro@candidate.test"));
	ck_assert_int_eq(atsm_verp_rcpt_mac(&keys, 1, tok, "taro@candidate.test", b), -1);
}
END_TEST

START_TEST(test_make_and_parse_format_2)
{
	char rmac[ATSM_VERP_RMAC_LEN + 1], got_tok[ATSM_TOKEN_MAX];
	char got_rmac[ATSM_VERP_RMAC_LEN + 1], want[160];

	ck_assert_int_eq(atsm_verp_rcpt_mac(&keys, 0, tok, "taro@candidate.test", rmac), 0);
	ck_assert_int_eq(atsm_verp_make_rcpt("alice+news@example.com", '+', NULL, tok, rmac,
	    &out, &err), 0);
	snprintf(want, sizeof(want), "alice+ats-%s-%s@example.com", tok, rmac);
	ck_assert_str_eq(atsm_buf_str(&out), want);
	ck_assert_int_eq(atsm_verp_parse_stamp(want, '+', NULL, got_tok, got_rmac), 0);
	ck_assert_str_eq(got_tok, tok);
	ck_assert_str_eq(got_rmac, rmac);
	/* atsm_verp_parse reads it too: the token */
	ck_assert_int_eq(atsm_verp_parse(want, '+', NULL, got_tok), 0);
	ck_assert_str_eq(got_tok, tok);
	/* a format-1 stamp still parses, with no rmac */
	snprintf(want, sizeof(want), "<ALICE+ATS-%s@EXAMPLE.COM>", tok);
	ck_assert_int_eq(atsm_verp_parse_stamp(want, '+', NULL, got_tok, got_rmac), 0);
	ck_assert_str_eq(got_tok, tok);
	ck_assert_str_eq(got_rmac, "");
	/* no rmac: atsm_verp_make_rcpt makes format 1 */
	atsm_buf_reset(&out);
	ck_assert_int_eq(atsm_verp_make_rcpt("alice@example.com", '+', NULL, tok, "", &out, &err),
	    0);
	snprintf(want, sizeof(want), "alice+ats-%s@example.com", tok);
	ck_assert_str_eq(atsm_buf_str(&out), want);
	/* a bad rmac is refused; a local part too long with it is refused */
	ck_assert_int_eq(atsm_verp_make_rcpt("alice@example.com", '+', NULL, tok, "abc", &out,
	    &err), -1);
	ck_assert_int_eq(atsm_verp_make_rcpt("a-seventeen-chars@example.com", '+', NULL, tok,
	    rmac, &out, &err), -1);
	ck_assert(strstr(err.msg, "limit 64") != NULL);
	/* a separator without a full rmac is no stamp */
	snprintf(want, sizeof(want), "alice+ats-%s-abc@example.com", tok);
	ck_assert_int_eq(atsm_verp_parse_stamp(want, '+', NULL, got_tok, got_rmac), -1);
	ck_assert_str_eq(got_tok, "");
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("verp");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_make_plain_sender);
	tcase_add_test(tc, test_make_strips_brackets);
	tcase_add_test(tc, test_make_replaces_existing_detail);
	tcase_add_test(tc, test_make_other_delimiter_and_tag);
	tcase_add_test(tc, test_round_trip_verifies);
	tcase_add_test(tc, test_parse_upper_case_bounce_address);
	tcase_add_test(tc, test_parse_foreign_addresses_give_nothing);
	tcase_add_test(tc, test_parse_detail_before_our_tag);
	tcase_add_test(tc, test_make_too_long_local_part);
	tcase_add_test(tc, test_make_refuses_unstampable_senders);
	tcase_add_test(tc, test_make_refuses_bad_tag_or_token);
	tcase_add_test(tc, test_rcpt_mac_binds_token_and_recipient);
	tcase_add_test(tc, test_make_and_parse_format_2);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()

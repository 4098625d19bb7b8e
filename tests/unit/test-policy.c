/* test-policy.c -- unit tests of the sharing policy (lib/rules/policy.c). */
#include "atsm-check.h"
#include "rules/policy.h"

#include <stdio.h>
#include <string.h>

static struct atsm_policy_input in;
static struct atsm_buf reason;
static char *excluded[] = { "rival.example", ".secret.example", "@press.example" };
static char *plain[] = { "taro@candidate.example", "hanako@client.example" };

static void
setup(void)
{
	memset(&in, 0, sizeof(in));
	in.counterparts = plain;
	in.ncounterparts = 2;
	in.excluded_domains = excluded;
	in.nexcluded = 3;
	atsm_buf_init(&reason, 0);
}

static void
teardown(void)
{
	atsm_buf_free(&reason);
}

static enum atsm_visibility
decide(void)
{
	return atsm_policy_visibility(&in, &reason);
}

START_TEST(test_mode_admin_gives_admins)
{
	in.mode = ATSM_SHARING_ADMIN;
	ck_assert_int_eq(decide(), ATSM_VIS_ADMINS);
	ck_assert_str_eq(atsm_buf_str(&reason), "sender mode admin");
}
END_TEST

START_TEST(test_mode_public_gives_shared)
{
	in.mode = ATSM_SHARING_PUBLIC;
	ck_assert_int_eq(decide(), ATSM_VIS_SHARED);
	ck_assert_str_eq(atsm_buf_str(&reason), "sender mode public");
}
END_TEST

START_TEST(test_mode_private_gives_private)
{
	in.mode = ATSM_SHARING_PRIVATE;
	ck_assert_int_eq(decide(), ATSM_VIS_PRIVATE);
	ck_assert_str_eq(atsm_buf_str(&reason), "sender mode private");
}
END_TEST

START_TEST(test_share_command_beats_every_mode)
{
	static const enum atsm_sharing_mode modes[] = {
		ATSM_SHARING_ADMIN, ATSM_SHARING_PUBLIC, ATSM_SHARING_CUSTOM,
		ATSM_SHARING_PRIVATE
	};
	size_t i;

	in.command_share = 1;
	for (i = 0; i < 4; i++) {
		in.mode = modes[i];
		ck_assert_int_eq(decide(), ATSM_VIS_SHARED);
		ck_assert_str_eq(atsm_buf_str(&reason), "ats+share command");
	}
}
END_TEST

START_TEST(test_private_command_beats_every_mode)
{
	static const enum atsm_sharing_mode modes[] = {
		ATSM_SHARING_ADMIN, ATSM_SHARING_PUBLIC, ATSM_SHARING_CUSTOM,
		ATSM_SHARING_PRIVATE
	};
	size_t i;

	in.command_share = -1;
	in.default_share = true;
	for (i = 0; i < 4; i++) {
		in.mode = modes[i];
		ck_assert_int_eq(decide(), ATSM_VIS_PRIVATE);
		ck_assert_str_eq(atsm_buf_str(&reason), "ats+private command");
	}
}
END_TEST

START_TEST(test_excluded_domain_makes_private)
{
	char *cp[] = { "hanako@client.example", "taro@rival.example" };

	in.mode = ATSM_SHARING_PUBLIC;
	in.counterparts = cp;
	ck_assert_int_eq(decide(), ATSM_VIS_PRIVATE);
	ck_assert_str_eq(atsm_buf_str(&reason),
	    "counterpart taro@rival.example in excluded domain rival.example");
}
END_TEST

START_TEST(test_excluded_domain_overrides_share_command)
{
	char *cp[] = { "taro@rival.example" };

	in.mode = ATSM_SHARING_PUBLIC;
	in.command_share = 1;
	in.counterparts = cp;
	in.ncounterparts = 1;
	ck_assert_int_eq(decide(), ATSM_VIS_PRIVATE);
	ck_assert_str_eq(atsm_buf_str(&reason),
	    "counterpart taro@rival.example in excluded domain rival.example");
}
END_TEST

START_TEST(test_excluded_domain_named_before_private_command)
{
	char *cp[] = { "taro@rival.example" };

	in.mode = ATSM_SHARING_CUSTOM;
	in.command_share = -1;
	in.counterparts = cp;
	in.ncounterparts = 1;
	ck_assert_int_eq(decide(), ATSM_VIS_PRIVATE);
	ck_assert_str_eq(atsm_buf_str(&reason),
	    "counterpart taro@rival.example in excluded domain rival.example");
	in.ncounterparts = 0;
	ck_assert_int_eq(decide(), ATSM_VIS_PRIVATE);
	ck_assert_str_eq(atsm_buf_str(&reason), "ats+private command");
}
END_TEST

START_TEST(test_excluded_subdomain_matches)
{
	char *cp[] = { "ceo@mail.hq.rival.example" };

	in.mode = ATSM_SHARING_ADMIN;
	in.counterparts = cp;
	in.ncounterparts = 1;
	ck_assert_int_eq(decide(), ATSM_VIS_PRIVATE);
	ck_assert_str_eq(atsm_buf_str(&reason), "counterpart "
	    "ceo@mail.hq.rival.example in excluded domain rival.example");
}
END_TEST

START_TEST(test_excluded_entry_prefix_and_lookalike)
{
	char *cp1[] = { "a@x.secret.example" };
	char *cp2[] = { "b@press.example" };
	char *cp3[] = { "c@notrival.example", "d@rival.example.org" };

	in.mode = ATSM_SHARING_PUBLIC;
	in.ncounterparts = 1;
	in.counterparts = cp1;
	ck_assert_int_eq(decide(), ATSM_VIS_PRIVATE);
	ck_assert_str_eq(atsm_buf_str(&reason),
	    "counterpart a@x.secret.example in excluded domain secret.example");
	in.counterparts = cp2;
	ck_assert_int_eq(decide(), ATSM_VIS_PRIVATE);
	ck_assert_str_eq(atsm_buf_str(&reason),
	    "counterpart b@press.example in excluded domain press.example");
	/* whole labels only: look-alike domains are not excluded */
	in.counterparts = cp3;
	in.ncounterparts = 2;
	ck_assert_int_eq(decide(), ATSM_VIS_SHARED);
	ck_assert_str_eq(atsm_buf_str(&reason), "sender mode public");
}
END_TEST

START_TEST(test_many_exclusion_domains)
{
	char names[40][32], *doms[40];
	char *cp[] = { "x@d37.example" };
	int i;

	for (i = 0; i < 40; i++) {
		snprintf(names[i], sizeof(names[i]), "d%d.example", i);
		doms[i] = names[i];
	}
	in.mode = ATSM_SHARING_PUBLIC;
	in.excluded_domains = doms;
	in.nexcluded = 40;
	in.counterparts = cp;
	in.ncounterparts = 1;
	ck_assert_int_eq(decide(), ATSM_VIS_PRIVATE);
	ck_assert_str_eq(atsm_buf_str(&reason),
	    "counterpart x@d37.example in excluded domain d37.example");
}
END_TEST

START_TEST(test_custom_all_records_shared)
{
	struct atsm_policy_record r[] = {
		{ ATSM_RECORD_RESUME, 12, true }, { ATSM_RECORD_CONTACT, 3, true },
	};

	in.mode = ATSM_SHARING_CUSTOM;
	in.records = r;
	in.nrecords = 2;
	ck_assert_int_eq(decide(), ATSM_VIS_SHARED);
	ck_assert_str_eq(atsm_buf_str(&reason),
	    "custom mode: all 2 linked records shared");
}
END_TEST

START_TEST(test_custom_one_record_not_shared)
{
	struct atsm_policy_record r[] = {
		{ ATSM_RECORD_CONTACT, 3, true }, { ATSM_RECORD_RESUME, 12, false },
	};

	in.mode = ATSM_SHARING_CUSTOM;
	in.default_share = true;
	in.records = r;
	in.nrecords = 2;
	ck_assert_int_eq(decide(), ATSM_VIS_PRIVATE);
	ck_assert_str_eq(atsm_buf_str(&reason),
	    "custom mode: resume 12 not shared");
}
END_TEST

START_TEST(test_custom_no_record_uses_default_share)
{
	in.mode = ATSM_SHARING_CUSTOM;
	in.default_share = false;
	ck_assert_int_eq(decide(), ATSM_VIS_PRIVATE);
	ck_assert_str_eq(atsm_buf_str(&reason), "custom mode: default share off");
	in.default_share = true;
	ck_assert_int_eq(decide(), ATSM_VIS_SHARED);
	ck_assert_str_eq(atsm_buf_str(&reason), "custom mode: default share on");
}
END_TEST

START_TEST(test_custom_records_override_default_share)
{
	struct atsm_policy_record r[] = { { ATSM_RECORD_RESUME, 5, true } };

	in.mode = ATSM_SHARING_CUSTOM;
	in.default_share = false;
	in.records = r;
	in.nrecords = 1;
	ck_assert_int_eq(decide(), ATSM_VIS_SHARED);
	ck_assert_str_eq(atsm_buf_str(&reason),
	    "custom mode: all 1 linked record shared");
}
END_TEST

START_TEST(test_unknown_mode_fails_closed)
{
	in.mode = (enum atsm_sharing_mode)42;
	ck_assert_int_eq(decide(), ATSM_VIS_PRIVATE);
	ck_assert_str_eq(atsm_buf_str(&reason), "unknown sender mode");
	/* and a NULL reason buffer is allowed */
	in.mode = ATSM_SHARING_ADMIN;
	ck_assert_int_eq(atsm_policy_visibility(&in, NULL), ATSM_VIS_ADMINS);
}
END_TEST

START_TEST(test_names_round_trip)
{
	enum atsm_visibility v;
	enum atsm_sharing_mode m;
	struct atsm_err err;

	ck_assert_str_eq(atsm_visibility_name(ATSM_VIS_SHARED), "shared");
	ck_assert_str_eq(atsm_visibility_name(ATSM_VIS_ADMINS), "admins");
	ck_assert_str_eq(atsm_visibility_name(ATSM_VIS_PRIVATE), "private");
	ck_assert_str_eq(atsm_sharing_mode_name(ATSM_SHARING_ADMIN), "admin");
	ck_assert_str_eq(atsm_sharing_mode_name(ATSM_SHARING_PUBLIC), "public");
	ck_assert_str_eq(atsm_sharing_mode_name(ATSM_SHARING_CUSTOM), "custom");
	ck_assert_str_eq(atsm_sharing_mode_name(ATSM_SHARING_PRIVATE),
	    "private");
	ck_assert_int_eq(atsm_sharing_mode_from_name("custom", &m, &err), 0);
	ck_assert_int_eq(m, ATSM_SHARING_CUSTOM);
	ck_assert_int_eq(atsm_sharing_mode_from_name("Public", &m, &err), 0);
	ck_assert_int_eq(m, ATSM_SHARING_PUBLIC);
	ck_assert_int_eq(atsm_visibility_from_name("admins", &v, &err), 0);
	ck_assert_int_eq(v, ATSM_VIS_ADMINS);
	ck_assert_int_eq(atsm_sharing_mode_from_name("everyone", &m, &err), -1);
	ck_assert_str_eq(err.msg, "unknown sharing mode \"everyone\"; use "
	    "admin, public, custom or private");
	ck_assert_int_eq(atsm_visibility_from_name("admin", &v, &err), -1);
	ck_assert_str_eq(atsm_record_kind_name(ATSM_RECORD_CONTACT), "contact");
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_mode_admin_gives_admins);
	tcase_add_test(tc, test_mode_public_gives_shared);
	tcase_add_test(tc, test_mode_private_gives_private);
	tcase_add_test(tc, test_share_command_beats_every_mode);
	tcase_add_test(tc, test_private_command_beats_every_mode);
	tcase_add_test(tc, test_excluded_domain_makes_private);
	tcase_add_test(tc, test_excluded_domain_overrides_share_command);
	tcase_add_test(tc, test_excluded_domain_named_before_private_command);
	tcase_add_test(tc, test_excluded_subdomain_matches);
	tcase_add_test(tc, test_excluded_entry_prefix_and_lookalike);
	tcase_add_test(tc, test_many_exclusion_domains);
	tcase_add_test(tc, test_custom_all_records_shared);
	tcase_add_test(tc, test_custom_one_record_not_shared);
	tcase_add_test(tc, test_custom_no_record_uses_default_share);
	tcase_add_test(tc, test_custom_records_override_default_share);
	tcase_add_test(tc, test_unknown_mode_fails_closed);
	tcase_add_test(tc, test_names_round_trip);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()

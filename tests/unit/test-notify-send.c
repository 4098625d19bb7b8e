/* test-notify-send.c -- unit tests of the notification sender's decisions
 * (lib/notify/send.c): notify_kinds, the From rule, and what an SMTP reply
 * means for a notification. */
#include "atsm-check.h"
#include "notify/send.h"

#include <string.h>

static char *kinds_v[] = { "intake.duplicate", "bounce.hard", NULL };
static char *all_v[] = { "all", NULL };
static char *bad_v[] = { "bounce.hard", "bounce.soft", NULL };

START_TEST(kinds_on_and_off)
{
	struct atsm_conf_list some = { 2, kinds_v }, all = { 1, all_v }, none = { 0, all_v + 1 };

	ck_assert(atsm_notify_kind_on(&some, "intake.duplicate"));
	ck_assert(atsm_notify_kind_on(&some, "bounce.hard"));
	ck_assert(!atsm_notify_kind_on(&some, "intake.created"));
	ck_assert(!atsm_notify_kind_on(&some, "bounce"));
	ck_assert(atsm_notify_kind_on(&all, "shared.assigned"));
	ck_assert(!atsm_notify_kind_on(&none, "bounce.hard"));
}
END_TEST

START_TEST(unknown_kinds_named)
{
	struct atsm_conf_list some = { 2, kinds_v }, all = { 1, all_v }, bad = { 2, bad_v };

	ck_assert_ptr_null(atsm_notify_kinds_unknown(&some));
	ck_assert_ptr_null(atsm_notify_kinds_unknown(&all));
	ck_assert_str_eq(atsm_notify_kinds_unknown(&bad), "bounce.soft");
}
END_TEST

START_TEST(from_rule)
{
	struct atsm_conf c;
	char *dom[] = { "corp.test", NULL }, out[256];

	memset(&c, 0, sizeof(c));
	c.notify_from = "";
	c.explain_from = "";
	c.ats_domain = "";
	atsm_notify_from(&c, "mx1", out, sizeof(out));
	ck_assert_str_eq(out, "atsmail <postmaster@mx1>");
	c.ats_domain = "ats.corp.test";
	atsm_notify_from(&c, "mx1", out, sizeof(out));
	ck_assert_str_eq(out, "atsmail <postmaster@ats.corp.test>");
	c.company_domains.n = 1;
	c.company_domains.v = dom;
	atsm_notify_from(&c, "mx1", out, sizeof(out));
	ck_assert_str_eq(out, "atsmail <postmaster@corp.test>");
	c.explain_from = "ATS <ats@corp.test>";
	atsm_notify_from(&c, "mx1", out, sizeof(out));
	ck_assert_str_eq(out, "ATS <ats@corp.test>");
	c.notify_from = "Notices <notice@corp.test>";
	atsm_notify_from(&c, "mx1", out, sizeof(out));
	ck_assert_str_eq(out, "Notices <notice@corp.test>");
}
END_TEST

START_TEST(smtp_outcomes)
{
	ck_assert_int_eq(atsm_notify_judge(250, 1, 3), ATSM_NOTIFY_SENT);
	ck_assert_int_eq(atsm_notify_judge(250, 3, 3), ATSM_NOTIFY_SENT);
	ck_assert_int_eq(atsm_notify_judge(451, 1, 3), ATSM_NOTIFY_RETRY);
	ck_assert_int_eq(atsm_notify_judge(-1, 2, 3), ATSM_NOTIFY_RETRY);
	ck_assert_int_eq(atsm_notify_judge(421, 3, 3), ATSM_NOTIFY_FAILED);
	ck_assert_int_eq(atsm_notify_judge(-1, 3, 3), ATSM_NOTIFY_FAILED);
	ck_assert_int_eq(atsm_notify_judge(550, 1, 3), ATSM_NOTIFY_FAILED);
	ck_assert_int_eq(atsm_notify_judge(554, 1, 10), ATSM_NOTIFY_FAILED);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("notify-send");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, kinds_on_and_off);
	tcase_add_test(tc, unknown_kinds_named);
	tcase_add_test(tc, from_rule);
	tcase_add_test(tc, smtp_outcomes);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()

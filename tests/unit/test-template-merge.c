/* test-template-merge.c -- template/merge.c: the tags, fallbacks, missing
 * values, unknown tags, syntax, {{job.block}}, HTML escaping. */
#include <stdio.h>
#include <string.h>

#include "atsm-check.h"
#include "template/template.h"

static struct atsm_tpl_fields f;

static void
setup(void)
{
	atsm_tpl_fields_init(&f);
	snprintf(f.what, sizeof(f.what), "resume 12 <hanako@example.jp>");
	ck_assert_int_eq(atsm_tpl_fields_set(&f, "resume.name", "山田 花子"), 0);
	ck_assert_int_eq(atsm_tpl_fields_set(&f, "company.name", NULL), 0);
	ck_assert_int_eq(atsm_tpl_fields_set(&f, "user.name", "Sato & Co <x>"), 0);
	ck_assert_int_eq(atsm_tpl_fields_set(&f, "job.title", "Cエンジニア"), 0);
	ck_assert_int_eq(atsm_tpl_fields_set(&f, "job.company", "株式会社ABC"), 0);
	ck_assert_int_eq(atsm_tpl_fields_set(&f, "job.id", "7"), 0);
	ck_assert_int_eq(atsm_tpl_fields_set(&f, "job.status", "open"), 0);
	ck_assert_int_eq(atsm_tpl_fields_set(&f, "date.ja", "2026年12月4日"), 0);
}

static void
teardown(void)
{
	atsm_tpl_fields_free(&f);
}

/* Merge s; returns the result (static) or NULL with fault/err. */
static struct atsm_tpl_fault fault;
static struct atsm_err err;
static char result[4096];

static const char *
merge(const char *s, enum atsm_tpl_missing m, bool html)
{
	struct atsm_buf out;
	int rc;

	atsm_buf_init(&out, 0);
	rc = atsm_tpl_merge(s, strlen(s), &f, m, html, &out, &fault, &err);
	snprintf(result, sizeof(result), "%s", atsm_buf_str(&out));
	atsm_buf_free(&out);
	return rc == 0 ? result : NULL;
}

START_TEST(test_tpl_values_and_blanks)
{
	ck_assert_str_eq(merge("{{resume.name}} 様\n{{ date.ja }}", 0, false),
	    "山田 花子 様\n2026年12月4日");
	ck_assert_str_eq(merge("no tags {single} }}", 0, false), "no tags {single} }}");
	ck_assert_str_eq(merge("", 0, false), "");
}
END_TEST

START_TEST(test_tpl_fallback_used_for_null_and_absent)
{
	ck_assert_str_eq(merge("{{company.name|貴社}}ご担当者様", 0, false),
	    "貴社ご担当者様");
	ck_assert_str_eq(merge("{{ contact.name | ご担当者 }}様", 0, false),
	    "ご担当者様");
	/* a value present wins over the fallback */
	ck_assert_str_eq(merge("{{resume.name|X}}", 0, false), "山田 花子");
}
END_TEST

START_TEST(test_tpl_missing_refused_naming_tag_and_record)
{
	ck_assert_ptr_null(merge("Dear {{company.name}}", ATSM_TPL_MISSING_REFUSE, false));
	ck_assert_int_eq(fault.code, ATSM_TPL_FAULT_MISSING);
	ck_assert_str_eq(fault.tag, "company.name");
	ck_assert_ptr_nonnull(strstr(err.msg, "{{company.name}}"));
	ck_assert_ptr_nonnull(strstr(err.msg, "resume 12 <hanako@example.jp>"));
	/* empty mode merges nothing */
	ck_assert_str_eq(merge("Dear {{company.name}}!", ATSM_TPL_MISSING_EMPTY, false),
	    "Dear !");
}
END_TEST

START_TEST(test_tpl_unknown_tag_always_a_fault)
{
	ck_assert_ptr_null(merge("{{resume.nmae|x}}", ATSM_TPL_MISSING_EMPTY, false));
	ck_assert_int_eq(fault.code, ATSM_TPL_FAULT_UNKNOWN_TAG);
	ck_assert_str_eq(fault.tag, "resume.nmae");
	ck_assert_ptr_nonnull(strstr(err.msg, "{{resume.nmae}}"));
	ck_assert(atsm_tpl_tag_known("job.block"));
	ck_assert(!atsm_tpl_tag_known("job"));
}
END_TEST

START_TEST(test_tpl_syntax_faults)
{
	ck_assert_ptr_null(merge("Hello {{resume.name", 0, false));
	ck_assert_int_eq(fault.code, ATSM_TPL_FAULT_SYNTAX);
	ck_assert_ptr_null(merge("Hello {{ }}", 0, false));
	ck_assert_int_eq(fault.code, ATSM_TPL_FAULT_SYNTAX);
	ck_assert_ptr_null(merge("{{aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}}",
	    0, false));
	ck_assert_int_eq(fault.code, ATSM_TPL_FAULT_SYNTAX);
}
END_TEST

START_TEST(test_tpl_job_block_lines_and_language)
{
	ck_assert_str_eq(merge("{{job.block}}", 0, false),
	    "求人：Cエンジニア\n企業：株式会社ABC\n求人番号：7\n状況：募集中");
	snprintf(f.lang, sizeof(f.lang), "en");
	ck_assert_str_eq(merge("{{job.block}}", 0, false),
	    "Position: Cエンジニア\nCompany: 株式会社ABC\nJob ID: 7\nStatus: open");
	ck_assert_int_eq(atsm_tpl_fields_set(&f, "job.title", NULL), 0);
	ck_assert_ptr_null(merge("{{job.block}}", 0, false));
	ck_assert_str_eq(fault.tag, "job.block");
}
END_TEST

START_TEST(test_tpl_html_escapes_values_not_fallbacks)
{
	ck_assert_str_eq(merge("<p>{{user.name}}</p>", 0, true),
	    "<p>Sato &amp; Co &lt;x&gt;</p>");
	ck_assert_str_eq(merge("{{company.name|<b>貴社</b>}}", 0, true), "<b>貴社</b>");
	ck_assert_str_eq(merge("{{job.block}}", 0, true),
	    "求人：Cエンジニア<br>\n企業：株式会社ABC<br>\n求人番号：7<br>\n状況：募集中");
}
END_TEST

START_TEST(test_tpl_check_and_codes)
{
	ck_assert_int_eq(atsm_tpl_check("{{resume.name}} {{x|y}}", 23, &fault, &err), -1);
	ck_assert_str_eq(fault.tag, "x");
	ck_assert_int_eq(atsm_tpl_check("{{resume.name}} {{job.block}}", 29, &fault, &err), 0);
	ck_assert(atsm_template_code_valid("interview-1"));
	ck_assert(!atsm_template_code_valid("Interview"));
	ck_assert(!atsm_template_code_valid("-a"));
	ck_assert(!atsm_template_code_valid("a234567890123456789012345678901234"));
}
END_TEST

START_TEST(test_tpl_output_limit_is_a_fault)
{
	struct atsm_buf out;
	char big[3000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	atsm_buf_init(&out, 1000);
	ck_assert_int_eq(atsm_tpl_merge_text(big, strlen(big), &f, 0, &out, &fault, &err), -1);
	ck_assert_int_eq(fault.code, ATSM_TPL_FAULT_LIMIT);
	atsm_buf_free(&out);
}
END_TEST

START_TEST(test_tpl_unclosed_braces_stay_linear)
{
	/* 200,000 "{{" without "}}": a syntax fault found in one pass */
	static char s[400001];
	struct atsm_buf out;

	memset(s, '{', sizeof(s) - 1);
	atsm_buf_init(&out, 0);
	ck_assert_int_eq(atsm_tpl_merge_text(s, sizeof(s) - 1, &f, 0, &out, &fault, &err), -1);
	ck_assert_int_eq(fault.code, ATSM_TPL_FAULT_SYNTAX);
	atsm_buf_free(&out);
}
END_TEST

START_TEST(test_tpl_notify_tags_only_in_notifications)
{
	/* known, so that a notification's own text passes atsm_tpl_check */
	ck_assert(atsm_tpl_tag_known("notify.resume_name"));
	ck_assert(atsm_tpl_tag_is_notify("notify.held_id"));
	ck_assert(!atsm_tpl_tag_is_notify("notify."));
	ck_assert(!atsm_tpl_tag_is_notify("notify.Held"));
	ck_assert(!atsm_tpl_tag_is_notify("resume.name"));
	ck_assert_int_eq(atsm_tpl_check("{{notify.resume_name}}", 22, &fault, &err), 0);
	/* a recruiter's template: refused, naming the tag */
	ck_assert_int_eq(atsm_tpl_check_no_notify("{{resume.name}} {{notify.from|x}}", 33,
	    &fault, &err), -1);
	ck_assert_int_eq(fault.code, ATSM_TPL_FAULT_MISSING);
	ck_assert_str_eq(fault.tag, "notify.from");
	ck_assert_ptr_nonnull(strstr(err.msg, "{{notify.from}} is a param of a notification"));
	ck_assert_int_eq(atsm_tpl_check_no_notify("{{resume.name}} {{job.block}} {{date.ja}}", 41,
	    &fault, &err), 0);
	ck_assert_int_eq(fault.code, ATSM_TPL_FAULT_NONE);
	/* at merge, a recruiter's mail has no such value */
	ck_assert_ptr_null(merge("{{notify.from}}", ATSM_TPL_MISSING_REFUSE, false));
	ck_assert_int_eq(fault.code, ATSM_TPL_FAULT_MISSING);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("template-merge");
	TCase *tc = tcase_create("merge");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_tpl_values_and_blanks);
	tcase_add_test(tc, test_tpl_fallback_used_for_null_and_absent);
	tcase_add_test(tc, test_tpl_missing_refused_naming_tag_and_record);
	tcase_add_test(tc, test_tpl_unknown_tag_always_a_fault);
	tcase_add_test(tc, test_tpl_syntax_faults);
	tcase_add_test(tc, test_tpl_job_block_lines_and_language);
	tcase_add_test(tc, test_tpl_html_escapes_values_not_fallbacks);
	tcase_add_test(tc, test_tpl_check_and_codes);
	tcase_add_test(tc, test_tpl_notify_tags_only_in_notifications);
	tcase_add_test(tc, test_tpl_output_limit_is_a_fault);
	tcase_add_test(tc, test_tpl_unclosed_braces_stay_linear);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()

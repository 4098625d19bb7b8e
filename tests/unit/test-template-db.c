/* test-template-db.c -- store/template-db.c against a real PostgreSQL
 * holding the migrations and tests/data/seed.sql: who may load which
 * template, and the values of the tags of several recipients at once.
 *
 * ATSM_TEST_PG is the conninfo (superuser); without it the program is
 * skipped.  tests/e2e/template-db.sh starts a private server, loads schema
 * and seed and runs this program.
 */
#include "atsm-check.h"
#include "store/template-db.h"
#include "pg-fixture.h"

#include <regex.h>

static void
setup(void)
{
	serial++;	/* the fixture's counter; these tests use fixed codes */
	pgfx_open();
	sql("DELETE FROM atsmail.templates WHERE code IN ('t-shared', 't-bob')");
	sql("INSERT INTO atsmail.templates (code, name, subject, body, body_html, lang,"
	    " phase_process, shared, on_missing)"
	    " VALUES ('t-shared', 'Shared', 'S {{resume.name}}', 'B', '<p>H</p>', 'ja',"
	    " 'interview1', true, 'empty')");
	sql("INSERT INTO atsmail.templates (code, name, subject, body, lang, owner_id, shared)"
	    " VALUES ('t-bob', 'Bob', 'S', 'B', 'en', 2, false)");
}

static void
teardown(void)
{
	sql("DELETE FROM atsmail.templates WHERE code IN ('t-shared', 't-bob')");
	pgfx_close();
}

START_TEST(test_tpl_db_load_shared_personal_admin)
{
	struct atsm_template t;
	struct atsm_err err;

	ck_assert_int_eq(atsm_tpl_db_load(conn, "t-shared", 1, &t, &err), 1);
	ck_assert_str_eq(t.code, "t-shared");
	ck_assert_str_eq(t.subject, "S {{resume.name}}");
	ck_assert_str_eq(t.body_html, "<p>H</p>");
	ck_assert_str_eq(t.phase_process, "interview1");
	ck_assert_str_eq(t.phase_resume, "");
	ck_assert_int_eq(t.on_missing, ATSM_TPL_MISSING_EMPTY);
	ck_assert_int_eq(t.revision, 1);
	ck_assert(t.shared);
	atsm_template_free(&t);
	/* bob's personal template: not alice's, bob's, and the admin's */
	ck_assert_int_eq(atsm_tpl_db_load(conn, "t-bob", 1, &t, &err), 0);
	ck_assert_int_eq(atsm_tpl_db_load(conn, "t-bob", 2, &t, &err), 1);
	ck_assert_ptr_null(t.body_html);
	ck_assert_int_eq(t.owner_id, 2);
	ck_assert_int_eq(t.on_missing, ATSM_TPL_MISSING_REFUSE);
	atsm_template_free(&t);
	ck_assert_int_eq(atsm_tpl_db_load(conn, "t-bob", 5, &t, &err), 1);
	atsm_template_free(&t);
	ck_assert_int_eq(atsm_tpl_db_load(conn, "nope", 1, &t, &err), 0);
	ck_assert_int_eq(atsm_tpl_db_load(conn, "Bad Code", 1, &t, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "Bad Code"));
}
END_TEST

static const char *
get(const struct atsm_tpl_fields *f, const char *k)
{
	bool known;
	const char *v = atsm_tpl_fields_get(f, k, &known);

	ck_assert_msg(known, "tag %s not set", k);
	return v;
}

START_TEST(test_tpl_db_fields_several_recipients)
{
	static const char kinds[] = { 'r', 'c', '-', 'r' };
	static const long long ids[] = { 1002, 2001, 0, 999999 };
	static const char *const rcpts[] = { NULL, "Suzuki@Client.test", "x@example.net", "" };
	struct atsm_tpl_fields f[4];
	struct atsm_err err;
	regex_t re;
	size_t i;

	for (i = 0; i < 4; i++)
		atsm_tpl_fields_init(&f[i]);
	ck_assert_msg(atsm_tpl_db_fields(conn, 4, kinds, ids, rcpts, 3001, 1, f, &err) == 0,
	    "%s", err.msg);
	/* a resume with a process for the job */
	ck_assert_str_eq(f[0].what, "resume 1002 <hanako@candidate.test>");
	ck_assert_str_eq(get(&f[0], "resume.id"), "1002");
	ck_assert_str_eq(get(&f[0], "resume.email"), "hanako@candidate.test");
	ck_assert_str_eq(get(&f[0], "recipient.email"), "hanako@candidate.test");
	ck_assert_str_eq(get(&f[0], "recipient.name"), get(&f[0], "resume.name"));
	ck_assert_str_eq(get(&f[0], "company.name"), "Acme");
	ck_assert_str_eq(get(&f[0], "job.id"), "3001");
	ck_assert_str_eq(get(&f[0], "job.company"), "Acme");
	ck_assert_str_eq(get(&f[0], "job.status"), "open");
	ck_assert_str_eq(get(&f[0], "process.phase"), "screening");
	ck_assert_str_eq(get(&f[0], "process.phase_label"), "書類選考");
	ck_assert_ptr_null(get(&f[0], "contact.name"));
	ck_assert_str_eq(get(&f[0], "user.name"), "Alice Recruiter");
	ck_assert_str_eq(get(&f[0], "user.email"), "alice@atsmail.test");
	ck_assert_str_eq(get(&f[0], "user.login"), "alice@atsmail.test");
	ck_assert_int_eq(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", REG_EXTENDED), 0);
	ck_assert_int_eq(regexec(&re, get(&f[0], "date"), 0, NULL, 0), 0);
	regfree(&re);
	ck_assert_int_eq(regcomp(&re, "^[0-9]{4}年[1-9][0-9]?月[1-9][0-9]?日$", REG_EXTENDED), 0);
	ck_assert_int_eq(regexec(&re, get(&f[0], "date.ja"), 0, NULL, 0), 0);
	regfree(&re);
	/* a contact: its own company; the address as given */
	ck_assert_str_eq(f[1].what, "contact 2001 <Suzuki@Client.test>");
	ck_assert_str_eq(get(&f[1], "contact.id"), "2001");
	ck_assert_str_eq(get(&f[1], "contact.email"), "suzuki@client.test");
	ck_assert_str_eq(get(&f[1], "company.name"), "Acme");
	ck_assert_ptr_null(get(&f[1], "resume.name"));
	ck_assert_ptr_null(get(&f[1], "process.phase"));
	/* no record: only user, job and date tags */
	ck_assert_str_eq(f[2].what, "<x@example.net>");
	ck_assert_ptr_null(get(&f[2], "recipient.name"));
	ck_assert_str_eq(get(&f[2], "recipient.email"), "x@example.net");
	ck_assert_str_eq(get(&f[2], "job.title"), "Job 3001");
	/* a resume that does not exist: no values */
	ck_assert_str_eq(f[3].what, "resume 999999");
	ck_assert_ptr_null(get(&f[3], "resume.id"));
	for (i = 0; i < 4; i++)
		atsm_tpl_fields_free(&f[i]);
}
END_TEST

START_TEST(test_tpl_db_fields_without_job)
{
	static const char kinds[] = { 'r' };
	static const long long ids[] = { 1002 };
	struct atsm_tpl_fields f;
	struct atsm_err err;

	atsm_tpl_fields_init(&f);
	ck_assert_int_eq(atsm_tpl_db_fields(conn, 1, kinds, ids, NULL, 0, 2, &f, &err), 0);
	ck_assert_ptr_null(get(&f, "job.title"));
	ck_assert_ptr_null(get(&f, "company.name"));
	ck_assert_ptr_null(get(&f, "process.phase"));
	ck_assert_str_eq(get(&f, "user.name"), "Bob Recruiter");
	atsm_tpl_fields_free(&f);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("template-db");
	TCase *tc = tcase_create("template-db");

	pgfx_require("tests/e2e/template-db.sh");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_tpl_db_load_shared_personal_admin);
	tcase_add_test(tc, test_tpl_db_fields_several_recipients);
	tcase_add_test(tc, test_tpl_db_fields_without_job);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()

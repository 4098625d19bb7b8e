/* test-setup-input.c -- unit tests of what `atsmailctl setup` accepts
 * (ctl/setup-input.c): the database and role names it puts into SQL, and
 * the superuser's conninfo it derives from db_conninfo.  No database. */
#include "atsm-check.h"
#include "setup.h"

#include <string.h>

#define CONTAINS(hay, needle) ck_assert_msg(strstr((hay), (needle)) != NULL, \
	"'%s' does not contain '%s'", (hay), (needle))

START_TEST(test_database_names_accepted)
{
	struct atsm_err err;
	char longest[CTL_SETUP_NAME_MAX + 1];

	ck_assert_int_eq(ctl_setup_check_database("atsmail", &err), 0);
	ck_assert_int_eq(ctl_setup_check_database("_x9", &err), 0);
	ck_assert_int_eq(ctl_setup_check_database("atsmail_2026", &err), 0);
	memset(longest, 'a', CTL_SETUP_NAME_MAX);
	longest[CTL_SETUP_NAME_MAX] = '\0';
	ck_assert_int_eq(ctl_setup_check_database(longest, &err), 0);
}
END_TEST

START_TEST(test_database_names_refused)
{
	struct atsm_err err;
	char toolong[CTL_SETUP_NAME_MAX + 2];

	ck_assert_int_eq(ctl_setup_check_database("ats\"; DROP DATABASE x; --", &err), -1);
	CONTAINS(err.msg, "--database");
	CONTAINS(err.msg, "'\"' at position 4 is not allowed");
	ck_assert_int_eq(ctl_setup_check_database("AtsMail", &err), -1);
	CONTAINS(err.msg, "'A' at position 1");
	ck_assert_int_eq(ctl_setup_check_database("9lives", &err), -1);
	CONTAINS(err.msg, "'9' at position 1");
	ck_assert_int_eq(ctl_setup_check_database("ats-mail", &err), -1);
	CONTAINS(err.msg, "'-' at position 4");
	ck_assert_int_eq(ctl_setup_check_database("ats mail", &err), -1);
	ck_assert_int_eq(ctl_setup_check_database("日本", &err), -1);
	CONTAINS(err.msg, "byte 0xe6 at position 1");
	ck_assert_int_eq(ctl_setup_check_database("", &err), -1);
	CONTAINS(err.msg, "empty");
	memset(toolong, 'a', sizeof(toolong) - 1);
	toolong[sizeof(toolong) - 1] = '\0';
	ck_assert_int_eq(ctl_setup_check_database(toolong, &err), -1);
	CONTAINS(err.msg, "longer than 63 bytes");
	ck_assert_int_eq(ctl_setup_check_database("template1", &err), -1);
	ck_assert_int_eq(ctl_setup_check_database("postgres", &err), -1);
	CONTAINS(err.msg, "'postgres'");
}
END_TEST

START_TEST(test_role_names)
{
	struct atsm_err err;

	ck_assert_int_eq(ctl_setup_check_role("--service-user", "atsmail", &err), 0);
	ck_assert_int_eq(ctl_setup_check_role("--service-user", "www-data", &err), 0);
	ck_assert_int_eq(ctl_setup_check_role("--admin-login", "root", &err), 0);
	ck_assert_int_eq(ctl_setup_check_role("--service-user", "atsmail_writer", &err), -1);
	CONTAINS(err.msg, "--service-user 'atsmail_writer'");
	CONTAINS(err.msg, "group roles");
	ck_assert_int_eq(ctl_setup_check_role("--admin-login", "pg_monitor", &err), -1);
	CONTAINS(err.msg, "reserved");
	ck_assert_int_eq(ctl_setup_check_role("--service-user", "postgres", &err), -1);
	CONTAINS(err.msg, "superuser");
	ck_assert_int_eq(ctl_setup_check_role("--service-user", "-x", &err), -1);
	CONTAINS(err.msg, "'-' at position 1");
	ck_assert_int_eq(ctl_setup_check_role("--service-user", "a'b", &err), -1);
	CONTAINS(err.msg, "''' at position 2");
	ck_assert_int_eq(ctl_setup_check_role("--service-user", "user$", &err), -1);
}
END_TEST

START_TEST(test_superuser_conninfo_from_db_conninfo)
{
	struct atsm_err err;
	char out[512];

	/* where the server is stays; who logs in and with what goes */
	ck_assert_int_eq(ctl_setup_superuser_conninfo(NULL,
	    "host=/run/postgresql port=5433 dbname=atsmail user=atsmail password=s3cret "
	    "application_name=x", "postgres", out, sizeof(out), &err), 0);
	ck_assert_str_eq(out, "host='/run/postgresql' port='5433' dbname='postgres'");
	/* URIs too */
	ck_assert_int_eq(ctl_setup_superuser_conninfo(NULL,
	    "postgresql://atsmail@%2Fvar%2Frun%2Fpostgresql/atsmail", "atsmail", out,
	    sizeof(out), &err), 0);
	ck_assert_str_eq(out, "host='/var/run/postgresql' dbname='atsmail'");
	/* nothing but the database: libpq's defaults (Debian: /run/postgresql) */
	ck_assert_int_eq(ctl_setup_superuser_conninfo(NULL, "dbname=atsmail", "atsmail", out,
	    sizeof(out), &err), 0);
	ck_assert_str_eq(out, "dbname='atsmail'");
}
END_TEST

START_TEST(test_superuser_conninfo_given)
{
	struct atsm_err err;
	char out[512];

	/* given: kept whole (user included), dbname replaced, quotes escaped */
	ck_assert_int_eq(ctl_setup_superuser_conninfo("host=/tmp/it's user=pgadmin dbname=x",
	    "host=elsewhere", "db2", out, sizeof(out), &err), 0);
	ck_assert_str_eq(out, "user='pgadmin' host='/tmp/it\\'s' dbname='db2'");
	ck_assert_int_eq(ctl_setup_superuser_conninfo("host", NULL, "db", out, sizeof(out),
	    &err), -1);
	CONTAINS(err.msg, "--superuser-conninfo cannot be read");
	ck_assert_int_eq(ctl_setup_superuser_conninfo(NULL, "nosuchkey=1", "db", out,
	    sizeof(out), &err), -1);
	CONTAINS(err.msg, "db_conninfo cannot be read");
	ck_assert_int_eq(ctl_setup_superuser_conninfo(NULL, "host=/run/postgresql", "db", out,
	    16, &err), -1);
	CONTAINS(err.msg, "longer than 16 bytes");
}
END_TEST

START_TEST(test_conninfo_dbname)
{
	struct atsm_err err;
	char out[64];

	ck_assert_int_eq(ctl_setup_conninfo_dbname("host=/x dbname=ats2", out, sizeof(out),
	    &err), 0);
	ck_assert_str_eq(out, "ats2");
	ck_assert_int_eq(ctl_setup_conninfo_dbname("host=/x", out, sizeof(out), &err), 0);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(ctl_setup_conninfo_dbname("'", out, sizeof(out), &err), -1);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("setup-input");
	TCase *tc = tcase_create("setup-input");

	tcase_add_test(tc, test_database_names_accepted);
	tcase_add_test(tc, test_database_names_refused);
	tcase_add_test(tc, test_role_names);
	tcase_add_test(tc, test_superuser_conninfo_from_db_conninfo);
	tcase_add_test(tc, test_superuser_conninfo_given);
	tcase_add_test(tc, test_conninfo_dbname);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()

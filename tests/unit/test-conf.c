/* test-conf.c -- unit tests of atsmail.conf parsing (lib/base/conf.c, lib/base/conf-table.c). */
#include "atsm-check.h"
#include "base/buf.h"
#include "base/conf.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Load text over fresh defaults; the error message, or "" on success. */
static const char *
load(struct atsm_conf *c, const char *text, struct atsm_err *err)
{
	ck_assert_int_eq(atsm_conf_init(c, err), 0);
	atsm_err_clear(err);
	atsm_conf_load_text(c, text, strlen(text), "test.conf", err);
	return err->msg;
}

static void
assert_load_error(const char *text, const char *want)
{
	struct atsm_conf c;
	struct atsm_err err;

	ck_assert_int_eq(atsm_conf_init(&c, &err), 0);
	ck_assert_int_eq(atsm_conf_load_text(&c, text, strlen(text), "test.conf", &err), -1);
	ck_assert_str_eq(err.msg, want);
	atsm_conf_free(&c);
}

static char *
value_of(const struct atsm_conf *c, const char *name)
{
	struct atsm_buf b;

	atsm_buf_init(&b, 0);
	ck_assert_ptr_nonnull(atsm_conf_find(name));
	ck_assert_int_eq(atsm_conf_write_value(c, atsm_conf_find(name), &b), 0);
	return atsm_buf_steal(&b);
}

START_TEST(test_defaults)
{
	struct atsm_conf c;
	struct atsm_err err;

	ck_assert_int_eq(atsm_conf_init(&c, &err), 0);
	ck_assert_str_eq(c.db_conninfo, "dbname=atsmail");
	ck_assert_uint_eq(c.webhook_max_attempts, 12);
	ck_assert_uint_eq(c.db_statement_timeout, 2000);
	ck_assert_uint_eq(c.db_connect_timeout, 2000);
	ck_assert_str_eq(c.ats_domain, "");
	ck_assert_uint_eq(c.company_domains.n, 0);
	ck_assert_ptr_nonnull(c.company_domains.v);
	ck_assert_ptr_null(c.company_domains.v[0]);
	ck_assert_str_eq(c.secret_file, "/etc/atsmail/secret");
	ck_assert_str_eq(c.journal_dir, "/var/spool/atsmail/journal");
	ck_assert_uint_eq(c.log_level, 2);          /* info */
	ck_assert_uint_eq(c.syslog_facility, 0);    /* mail */
	ck_assert_uint_eq(c.header_max_bytes, 256 * 1024);
	ck_assert_uint_eq(c.address_max_count, 1000);
	ck_assert_uint_eq(c.decode_max_bytes, 64 * 1024);
	atsm_conf_free(&c);
	/* free leaves a zeroed struct, and a second free is harmless */
	ck_assert_ptr_null(c.db_conninfo);
	atsm_conf_free(&c);
}
END_TEST

START_TEST(test_table_is_complete)
{
	struct atsm_conf c;
	struct atsm_err err;
	size_t i, j;

	ck_assert_uint_ge(atsm_conf_nsettings, 13);
	for (i = 0; i < atsm_conf_nsettings; i++) {
		const struct atsm_conf_setting *s = &atsm_conf_settings[i];

		ck_assert_msg(s->name != NULL && *s->name != '\0', "setting %zu has no name", i);
		ck_assert_msg(s->doc != NULL && strlen(s->doc) > 20, "%s has no doc", s->name);
		ck_assert_msg(s->reason != NULL && strlen(s->reason) > 20,
		    "%s has no reason for its default", s->name);
		ck_assert_msg(s->defval != NULL, "%s has no default", s->name);
		ck_assert_msg(s->offset < sizeof(struct atsm_conf), "%s: bad offset", s->name);
		ck_assert_msg(atsm_conf_find(s->name) == s, "%s not found", s->name);
		ck_assert_msg(s->type != ATSM_CONF_ENUM || (s->choices != NULL &&
		    strchr(s->choices, '|') != NULL), "%s: enum without choices", s->name);
		ck_assert_msg(s->min <= s->max, "%s: min > max", s->name);
		for (j = 0; j < i; j++) {
			ck_assert_msg(strcmp(s->name, atsm_conf_settings[j].name) != 0,
			    "%s listed twice", s->name);
			ck_assert_msg(s->offset != atsm_conf_settings[j].offset,
			    "%s shares its field with %s", s->name, atsm_conf_settings[j].name);
		}
		/* each default alone parses through the file path */
		ck_assert_int_eq(atsm_conf_init(&c, &err), 0);
		ck_assert_msg(atsm_conf_set(&c, s->name, s->defval, &err) == 0,
		    "default of %s: %s", s->name, err.msg);
		atsm_conf_free(&c);
	}
	ck_assert_ptr_null(atsm_conf_find("dbhost"));
	ck_assert_ptr_null(atsm_conf_find("DB_POOL_SIZE"));
}
END_TEST

/* write_value gives back what the file would say, and it parses to the same value */
START_TEST(test_write_value_round_trips)
{
	static const char text[] =
	    "webhook_max_attempts = 17\n"
	    "db_statement_timeout = 1500ms\n"
	    "db_connect_timeout = 3\n"
	    "ats_domain = ats.example.com\n"
	    "company_domains = example.com,example.co.jp  example.net\n"
	    "log_level = DEBUG\n"
	    "syslog_facility = local3\n"
	    "header_max_bytes = 1048576\n"
	    "decode_max_bytes = 3000\n";
	struct atsm_conf c, d;
	struct atsm_err err;
	size_t i;
	char *v, *w;

	ck_assert_str_eq(load(&c, text, &err), "");
	v = value_of(&c, "db_statement_timeout");
	ck_assert_str_eq(v, "1500ms");
	free(v);
	v = value_of(&c, "db_connect_timeout");
	ck_assert_str_eq(v, "3s");
	free(v);
	v = value_of(&c, "company_domains");
	ck_assert_str_eq(v, "example.com, example.co.jp, example.net");
	free(v);
	v = value_of(&c, "log_level");
	ck_assert_str_eq(v, "debug");
	free(v);
	v = value_of(&c, "header_max_bytes");
	ck_assert_str_eq(v, "1m");
	free(v);
	v = value_of(&c, "decode_max_bytes");
	ck_assert_str_eq(v, "3000");
	free(v);
	v = value_of(&c, "db_conninfo");
	ck_assert_str_eq(v, "(secret)");
	free(v);

	ck_assert_int_eq(atsm_conf_init(&d, &err), 0);
	for (i = 0; i < atsm_conf_nsettings; i++) {
		const struct atsm_conf_setting *s = &atsm_conf_settings[i];

		if (s->secret)
			continue;
		v = value_of(&c, s->name);
		ck_assert_msg(atsm_conf_set(&d, s->name, v, &err) == 0, "%s: %s", s->name, err.msg);
		w = value_of(&d, s->name);
		ck_assert_str_eq(w, v);
		free(v);
		free(w);
	}
	ck_assert_uint_eq(d.db_statement_timeout, 1500);
	ck_assert_uint_eq(d.syslog_facility, 4);
	atsm_conf_free(&c);
	atsm_conf_free(&d);
}
END_TEST

START_TEST(test_uint)
{
	struct atsm_conf c;
	struct atsm_err err;

	ck_assert_str_eq(load(&c, "webhook_max_attempts = 1\n", &err), "");
	ck_assert_uint_eq(c.webhook_max_attempts, 1);
	atsm_conf_free(&c);
	ck_assert_str_eq(load(&c, "webhook_max_attempts=1000", &err), "");
	ck_assert_uint_eq(c.webhook_max_attempts, 1000);
	atsm_conf_free(&c);

	assert_load_error("\n\nwebhook_max_attempts = abc\n",
	    "test.conf line 3: webhook_max_attempts = 'abc': not a whole number (expected 1..1000)");
	assert_load_error("webhook_max_attempts = 0\n",
	    "test.conf line 1: webhook_max_attempts = '0': out of range (expected 1..1000)");
	assert_load_error("webhook_max_attempts = 1001\n",
	    "test.conf line 1: webhook_max_attempts = '1001': out of range (expected 1..1000)");
	assert_load_error("webhook_max_attempts = 99999999999999999999999\n",
	    "test.conf line 1: webhook_max_attempts = '99999999999999999999999': out of range (expected 1..1000)");
	assert_load_error("webhook_max_attempts = -1\n",
	    "test.conf line 1: webhook_max_attempts = '-1': not a whole number (expected 1..1000)");
	assert_load_error("webhook_max_attempts = 8 9\n",
	    "test.conf line 1: webhook_max_attempts = '8 9': not a whole number (expected 1..1000)");
	assert_load_error("webhook_max_attempts =\n",
	    "test.conf line 1: webhook_max_attempts = '': not a whole number (expected 1..1000)");
	assert_load_error("address_max_count = 1.5\n",
	    "test.conf line 1: address_max_count = '1.5': not a whole number (expected 1..100000)");
}
END_TEST

START_TEST(test_time)
{
	struct atsm_conf c;
	struct atsm_err err;

	ck_assert_str_eq(load(&c, "db_statement_timeout = 250ms\n"
	    "db_connect_timeout = 5\n", &err), "");
	ck_assert_uint_eq(c.db_statement_timeout, 250);
	ck_assert_uint_eq(c.db_connect_timeout, 5000);
	atsm_conf_free(&c);
	ck_assert_str_eq(load(&c, "db_statement_timeout = 10s\n", &err), "");
	ck_assert_uint_eq(c.db_statement_timeout, 10000);
	atsm_conf_free(&c);

	assert_load_error("db_statement_timeout = 2x\n",
	    "test.conf line 1: db_statement_timeout = '2x': "
	    "not a time such as 250ms, 2s, 5m or 1h (expected 50ms..10s)");
	assert_load_error("db_statement_timeout = ms\n",
	    "test.conf line 1: db_statement_timeout = 'ms': "
	    "not a time such as 250ms, 2s, 5m or 1h (expected 50ms..10s)");
	assert_load_error("db_statement_timeout = 1m\n",
	    "test.conf line 1: db_statement_timeout = '1m': out of range (expected 50ms..10s)");
	assert_load_error("db_statement_timeout = 49ms\n",
	    "test.conf line 1: db_statement_timeout = '49ms': out of range (expected 50ms..10s)");
	assert_load_error("db_connect_timeout = 1h\n",
	    "test.conf line 1: db_connect_timeout = '1h': out of range (expected 1s..10s)");
	/* the multiplication by the unit must not wrap into range */
	assert_load_error("db_connect_timeout = 5124095576030432h\n",
	    "test.conf line 1: db_connect_timeout = '5124095576030432h': out of range (expected 1s..10s)");
}
END_TEST

START_TEST(test_size)
{
	struct atsm_conf c;
	struct atsm_err err;

	ck_assert_str_eq(load(&c, "header_max_bytes = 10M\ndecode_max_bytes = 2048\n", &err), "");
	ck_assert_uint_eq(c.header_max_bytes, 10 * 1024 * 1024);
	ck_assert_uint_eq(c.decode_max_bytes, 2048);
	atsm_conf_free(&c);
	ck_assert_str_eq(load(&c, "header_max_bytes = 1k", &err), "");
	ck_assert_uint_eq(c.header_max_bytes, 1024);
	atsm_conf_free(&c);

	assert_load_error("header_max_bytes = 1g\n",
	    "test.conf line 1: header_max_bytes = '1g': out of range (expected 1k..64m)");
	assert_load_error("header_max_bytes = 512\n",
	    "test.conf line 1: header_max_bytes = '512': out of range (expected 1k..64m)");
	assert_load_error("header_max_bytes = 64kb\n",
	    "test.conf line 1: header_max_bytes = '64kb': "
	    "not a size such as 512, 64k or 10m (expected 1k..64m)");
	assert_load_error("decode_max_bytes = k\n",
	    "test.conf line 1: decode_max_bytes = 'k': "
	    "not a size such as 512, 64k or 10m (expected 1k..16m)");
	assert_load_error("decode_max_bytes = 18014398509481984k\n",
	    "test.conf line 1: decode_max_bytes = '18014398509481984k': out of range (expected 1k..16m)");
}
END_TEST

START_TEST(test_enum)
{
	struct atsm_conf c;
	struct atsm_err err;

	ck_assert_str_eq(load(&c, "log_level = error\nsyslog_facility = local7\n", &err), "");
	ck_assert_uint_eq(c.log_level, 0);
	ck_assert_uint_eq(c.syslog_facility, 8);
	atsm_conf_free(&c);
	ck_assert_str_eq(load(&c, "log_level = Warning\n", &err), "");
	ck_assert_uint_eq(c.log_level, 1);
	atsm_conf_free(&c);

	assert_load_error("\n\n\n\n\n\nlog_level = loud\n",
	    "test.conf line 7: log_level = 'loud': expected one of error, warning, info, debug");
	assert_load_error("log_level = info debug\n",
	    "test.conf line 1: log_level = 'info debug': expected one of error, warning, info, debug");
	assert_load_error("log_level = inf\n",
	    "test.conf line 1: log_level = 'inf': expected one of error, warning, info, debug");
	assert_load_error("syslog_facility = local8\n",
	    "test.conf line 1: syslog_facility = 'local8': expected one of mail, local0, "
	    "local1, local2, local3, local4, local5, local6, local7");
}
END_TEST

/* No setting of the table is a yes/no yet: a table of our own exercises the type. */
struct test_fields {
	bool flag;
	char *name;
};

START_TEST(test_bool_and_custom_table)
{
	static const struct atsm_conf_setting flag = {
		"flag", ATSM_CONF_BOOL, offsetof(struct test_fields, flag), "no",
		NULL, 0, 0, false, "doc", "reason",
	};
	static const char *const yes[] = { "yes", "YES", "true", "on", "1" };
	static const char *const no[] = { "no", "False", "off", "0" };
	struct test_fields t = { false, NULL };
	struct atsm_err err;
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		t.flag = false;
		ck_assert_int_eq(atsm_conf_set_field(&t, &flag, yes[i], &err), 0);
		ck_assert_msg(t.flag, "%s is not true", yes[i]);
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		t.flag = true;
		ck_assert_int_eq(atsm_conf_set_field(&t, &flag, no[i], &err), 0);
		ck_assert_msg(!t.flag, "%s is not false", no[i]);
	}
	t.flag = true;
	ck_assert_int_eq(atsm_conf_set_field(&t, &flag, "maybe", &err), -1);
	ck_assert_str_eq(err.msg,
	    "flag = 'maybe': expected yes or no (also true, false, on, off, 1, 0)");
	ck_assert(t.flag);
	ck_assert_int_eq(atsm_conf_set_field(&t, &flag, "2", &err), -1);
}
END_TEST

START_TEST(test_string_and_path)
{
	struct atsm_conf c;
	struct atsm_err err;

	ck_assert_str_eq(load(&c, "ats_domain =   ats.example.com   \n"
	    "journal_dir = /srv/atsmail/journal\n"
	    "db_conninfo = host=db.example.com dbname=ats # not a comment\n", &err), "");
	ck_assert_str_eq(c.ats_domain, "ats.example.com");
	ck_assert_str_eq(c.journal_dir, "/srv/atsmail/journal");
	ck_assert_str_eq(c.db_conninfo, "host=db.example.com dbname=ats # not a comment");
	atsm_conf_free(&c);

	assert_load_error("secret_file = etc/atsmail/secret\n",
	    "test.conf line 1: secret_file = 'etc/atsmail/secret': "
	    "not an absolute path (must start with '/')");
	assert_load_error("journal_dir =\n",
	    "test.conf line 1: journal_dir = '': must not be empty (expected an absolute path)");
	assert_load_error("ats_domain = a\x01z\n",
	    "test.conf line 1: ats_domain = 'a?z': contains a control character");
	/* ats_domain may be empty: its default is */
	ck_assert_str_eq(load(&c, "ats_domain = x.example\nats_domain =\n", &err), "");
	ck_assert_str_eq(c.ats_domain, "");
	atsm_conf_free(&c);
}
END_TEST

START_TEST(test_list)
{
	struct atsm_conf c;
	struct atsm_err err;

	ck_assert_str_eq(load(&c, "company_domains = example.com,, example.co.jp\t"
	    "example.net ,example.org,\n", &err), "");
	ck_assert_uint_eq(c.company_domains.n, 4);
	ck_assert_str_eq(c.company_domains.v[0], "example.com");
	ck_assert_str_eq(c.company_domains.v[1], "example.co.jp");
	ck_assert_str_eq(c.company_domains.v[2], "example.net");
	ck_assert_str_eq(c.company_domains.v[3], "example.org");
	ck_assert_ptr_null(c.company_domains.v[4]);
	/* setting over a list frees the old one (ASan checks) */
	ck_assert_int_eq(atsm_conf_set(&c, "company_domains", " , ,", &err), 0);
	ck_assert_uint_eq(c.company_domains.n, 0);
	ck_assert_ptr_null(c.company_domains.v[0]);
	ck_assert_int_eq(atsm_conf_set(&c, "company_domains", "a.example", &err), 0);
	ck_assert_uint_eq(c.company_domains.n, 1);
	ck_assert_str_eq(c.company_domains.v[0], "a.example");
	atsm_conf_free(&c);
}
END_TEST

START_TEST(test_unknown_and_missing_equals)
{
	assert_load_error("# comment\nlog_level = info\n\n\n\n\n\n\n\n\n\ndbhost = db.example.com\n",
	    "test.conf line 12: unknown setting 'dbhost'");
	assert_load_error("log_level = info\nfoo\n",
	    "test.conf line 2: missing '=' after 'foo'");
	assert_load_error("db pool size 8  \n",
	    "test.conf line 1: missing '=' after 'db pool size 8'");
	assert_load_error("  = 8\n",
	    "test.conf line 1: continuation line without a setting before it");
	assert_load_error("= 8\n", "test.conf line 1: missing setting name before '='");
	assert_load_error("Log_Level = info\n", "test.conf line 1: unknown setting 'Log_Level'");
}
END_TEST

START_TEST(test_continuation_and_comments)
{
	struct atsm_conf c;
	struct atsm_err err;

	ck_assert_str_eq(load(&c,
	    "# atsmail.conf\n"
	    "   # an indented comment is a comment, not a continuation\n"
	    "company_domains = example.com,\n"
	    "    example.co.jp\n"
	    "# a comment between continuation lines\n"
	    "\n"
	    "\texample.net\n"
	    "db_conninfo = host=db\n"
	    "  dbname=ats\n"
	    "log_level = debug\n", &err), "");
	ck_assert_uint_eq(c.company_domains.n, 3);
	ck_assert_str_eq(c.company_domains.v[2], "example.net");
	ck_assert_str_eq(c.db_conninfo, "host=db dbname=ats");
	ck_assert_uint_eq(c.log_level, 3);
	atsm_conf_free(&c);

	/* an error in a continued line names the line where it starts */
	assert_load_error("log_level = info\nwebhook_max_attempts = 8\n  9\n",
	    "test.conf line 2: webhook_max_attempts = '8 9': not a whole number (expected 1..1000)");
	assert_load_error("\n   continued = 1\n",
	    "test.conf line 2: continuation line without a setting before it");
}
END_TEST

START_TEST(test_last_assignment_wins)
{
	struct atsm_conf c;
	struct atsm_err err;

	ck_assert_str_eq(load(&c, "webhook_max_attempts = 3\nats_domain = a.example\n"
	    "webhook_max_attempts = 12\nats_domain = b.example\n", &err), "");
	ck_assert_uint_eq(c.webhook_max_attempts, 12);
	ck_assert_str_eq(c.ats_domain, "b.example");
	atsm_conf_free(&c);
}
END_TEST

START_TEST(test_long_line)
{
	struct atsm_conf c;
	struct atsm_err err;
	size_t n = ATSM_CONF_LINE_MAX + 100, off;
	char *text = malloc(2 * n);

	ck_assert_ptr_nonnull(text);
	/* one physical line just under the limit is fine */
	off = (size_t)sprintf(text, "log_level = info\nats_domain = ");
	memset(text + off, 'a', ATSM_CONF_LINE_MAX - 13);
	text[off + ATSM_CONF_LINE_MAX - 13] = '\0';
	ck_assert_str_eq(load(&c, text, &err), "");
	ck_assert_uint_eq(strlen(c.ats_domain), ATSM_CONF_LINE_MAX - 13);
	atsm_conf_free(&c);

	/* over it, on one physical line */
	memset(text + off, 'a', n - off);
	text[n] = '\0';
	assert_load_error(text, "test.conf line 2: logical line longer than 65536 bytes");

	/* over it, through continuation lines */
	off = (size_t)sprintf(text, "# x\nats_domain = a\n");
	while (off + 20 < 2 * n) {
		memcpy(text + off, "  bbbbbbbbbbbbbbbb\n", 19);
		off += 19;
	}
	text[off] = '\0';
	assert_load_error(text, "test.conf line 2: logical line longer than 65536 bytes");
	free(text);
}
END_TEST

START_TEST(test_crlf_bom_nul)
{
	struct atsm_conf c;
	struct atsm_err err;
	static const char nul[] = "log_level = info\nats_domain = a\0b\n";

	ck_assert_str_eq(load(&c, "\xef\xbb\xbf" "webhook_max_attempts = 9\r\n"
	    "company_domains = a.example,\r\n  b.example\r\n\r\n# c\r\n"
	    "ats_domain = x.example\r\n", &err), "");
	ck_assert_uint_eq(c.webhook_max_attempts, 9);
	ck_assert_uint_eq(c.company_domains.n, 2);
	ck_assert_str_eq(c.company_domains.v[1], "b.example");
	ck_assert_str_eq(c.ats_domain, "x.example");
	atsm_conf_free(&c);

	ck_assert_int_eq(atsm_conf_init(&c, &err), 0);
	ck_assert_int_eq(atsm_conf_load_text(&c, nul, sizeof(nul) - 1, "test.conf", &err), -1);
	ck_assert_str_eq(err.msg, "test.conf line 2: contains a NUL byte");
	atsm_conf_free(&c);
	/* a lone CR inside a line is a control character */
	assert_load_error("ats_domain = a\rb\n",
	    "test.conf line 1: ats_domain = 'a?b': contains a control character");
}
END_TEST

START_TEST(test_empty_text)
{
	struct atsm_conf c;
	struct atsm_err err;

	ck_assert_str_eq(load(&c, "", &err), "");
	ck_assert_uint_eq(c.webhook_max_attempts, 12);
	atsm_conf_free(&c);
	ck_assert_str_eq(load(&c, "\n  \n# only comments\n\t# and blanks\n", &err), "");
	ck_assert_str_eq(c.db_conninfo, "dbname=atsmail");
	atsm_conf_free(&c);
	/* NULL name: errors start at the line */
	ck_assert_int_eq(atsm_conf_init(&c, &err), 0);
	ck_assert_int_eq(atsm_conf_load_text(&c, "x = 1", 5, NULL, &err), -1);
	ck_assert_str_eq(err.msg, "line 1: unknown setting 'x'");
	atsm_conf_free(&c);
}
END_TEST

START_TEST(test_failed_load_changes_nothing)
{
	struct atsm_conf c;
	struct atsm_err err;
	static const char text[] = "webhook_max_attempts = 20\ncompany_domains = b.example\nbad = 1\n";

	ck_assert_str_eq(load(&c, "webhook_max_attempts = 5\ncompany_domains = a.example\n", &err), "");
	ck_assert_int_eq(atsm_conf_load_text(&c, text, strlen(text), "t", &err), -1);
	ck_assert_str_eq(err.msg, "t line 3: unknown setting 'bad'");
	ck_assert_uint_eq(c.webhook_max_attempts, 5);
	ck_assert_uint_eq(c.company_domains.n, 1);
	ck_assert_str_eq(c.company_domains.v[0], "a.example");
	/* a good load over it replaces the values and frees the old ones */
	ck_assert_int_eq(atsm_conf_load_text(&c, text, (size_t)(strstr(text, "bad") - text), "t",
	    &err), 0);
	ck_assert_uint_eq(c.webhook_max_attempts, 20);
	ck_assert_str_eq(c.company_domains.v[0], "b.example");
	atsm_conf_free(&c);
}
END_TEST

START_TEST(test_load_file)
{
	struct atsm_conf c;
	struct atsm_err err;
	char path[] = "/tmp/test-conf-XXXXXX";
	static const char text[] = "# test\nwebhook_max_attempts = 4\nlog_level = shout\n";
	int fd = mkstemp(path);
	/* the first two lines, then the third */
	int two = (int)(strchr(strchr(text, '\n') + 1, '\n') + 1 - text);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, (size_t)two), two);
	ck_assert_int_eq(atsm_conf_init(&c, &err), 0);
	ck_assert_int_eq(atsm_conf_load(&c, path, &err), 0);
	ck_assert_uint_eq(c.webhook_max_attempts, 4);
	ck_assert_int_eq(write(fd, text + two, sizeof(text) - 1 - (size_t)two),
	    (int)sizeof(text) - 1 - two);
	close(fd);
	ck_assert_int_eq(atsm_conf_load(&c, path, &err), -1);
	ck_assert_msg(strncmp(err.msg, path, strlen(path)) == 0, "no path in: %s", err.msg);
	ck_assert_str_eq(err.msg + strlen(path),
	    " line 3: log_level = 'shout': expected one of error, warning, info, debug");
	unlink(path);

	ck_assert_int_eq(atsm_conf_load(&c, path, &err), -1);
	ck_assert_msg(strstr(err.msg, path) != NULL, "no path in: %s", err.msg);
	ck_assert_msg(strstr(err.msg, "No such file") != NULL, "no reason in: %s", err.msg);
	ck_assert_int_eq(atsm_conf_load(&c, "/tmp", &err), -1);
	ck_assert_str_eq(err.msg, "/tmp: not a regular file");
	ck_assert_uint_eq(c.webhook_max_attempts, 4);
	atsm_conf_free(&c);
}
END_TEST

START_TEST(test_secret_not_echoed)
{
	struct atsm_conf c;
	struct atsm_err err;
	struct atsm_buf b;

	assert_load_error("db_conninfo = password=hunter2\x7f\n",
	    "test.conf line 1: db_conninfo = (secret): contains a control character");
	ck_assert_int_eq(atsm_conf_init(&c, &err), 0);
	ck_assert_int_eq(atsm_conf_set(&c, "db_conninfo", "password=hunter2\x01", &err), -1);
	ck_assert_ptr_null(strstr(err.msg, "hunter2"));
	ck_assert_int_eq(atsm_conf_set(&c, "db_conninfo", "password=hunter2", &err), 0);
	ck_assert_str_eq(c.db_conninfo, "password=hunter2");
	atsm_buf_init(&b, 0);
	ck_assert_int_eq(atsm_conf_write_value(&c, atsm_conf_find("db_conninfo"), &b), 0);
	ck_assert_str_eq(atsm_buf_str(&b), "(secret)");
	atsm_buf_free(&b);
	atsm_conf_free(&c);
}
END_TEST

START_TEST(test_set)
{
	struct atsm_conf c;
	struct atsm_err err;

	ck_assert_int_eq(atsm_conf_init(&c, &err), 0);
	ck_assert_int_eq(atsm_conf_set(&c, "webhook_max_attempts", "32", &err), 0);
	ck_assert_uint_eq(c.webhook_max_attempts, 32);
	ck_assert_int_eq(atsm_conf_set(&c, "webhook_max_attempts", "many", &err), -1);
	ck_assert_str_eq(err.msg, "webhook_max_attempts = 'many': not a whole number (expected 1..1000)");
	ck_assert_uint_eq(c.webhook_max_attempts, 32);
	ck_assert_int_eq(atsm_conf_set(&c, "journal_dir", "/srv/j", &err), 0);
	ck_assert_int_eq(atsm_conf_set(&c, "journal_dir", "j", &err), -1);
	ck_assert_str_eq(c.journal_dir, "/srv/j");
	ck_assert_int_eq(atsm_conf_set(&c, "pool", "1", &err), -1);
	ck_assert_str_eq(err.msg, "unknown setting 'pool'");
	/* a NULL err is allowed */
	ck_assert_int_eq(atsm_conf_set(&c, "pool", "1", NULL), -1);
	atsm_conf_free(&c);
}
END_TEST

START_TEST(test_long_value_is_cut_in_error)
{
	struct atsm_err err;
	struct atsm_conf c;
	char text[400];

	memset(text, '9', sizeof(text));
	memcpy(text, "webhook_max_attempts = ", strlen("webhook_max_attempts = "));
	text[sizeof(text) - 1] = '\0';
	ck_assert_int_eq(atsm_conf_init(&c, &err), 0);
	ck_assert_int_eq(atsm_conf_load_text(&c, text, strlen(text), "t", &err), -1);
	ck_assert_str_eq(err.msg, "t line 1: webhook_max_attempts = '"
	    "9999999999999999999999999999999999999999999999999999999999999999"
	    "...': out of range (expected 1..1000)");
	atsm_conf_free(&c);
}
END_TEST

START_TEST(test_copy_is_deep)
{
	struct atsm_conf c, d;
	struct atsm_err err;

	ck_assert_str_eq(load(&c, "company_domains = a.example b.example\n", &err), "");
	ck_assert_int_eq(atsm_conf_copy(&d, &c, &err), 0);
	ck_assert_ptr_ne(d.company_domains.v, c.company_domains.v);
	ck_assert_ptr_ne(d.db_conninfo, c.db_conninfo);
	ck_assert_str_eq(d.company_domains.v[1], "b.example");
	atsm_conf_free(&c);
	ck_assert_str_eq(d.company_domains.v[0], "a.example");
	ck_assert_str_eq(d.secret_file, "/etc/atsmail/secret");
	atsm_conf_free(&d);
}
END_TEST

START_TEST(test_format_allowed)
{
	struct atsm_buf b;

	atsm_buf_init(&b, 0);
	ck_assert_int_eq(atsm_conf_format_allowed(atsm_conf_find("db_statement_timeout"), &b), 0);
	ck_assert_str_eq(atsm_buf_str(&b), "50ms..10s");
	atsm_buf_reset(&b);
	ck_assert_int_eq(atsm_conf_format_allowed(atsm_conf_find("header_max_bytes"), &b), 0);
	ck_assert_str_eq(atsm_buf_str(&b), "1k..64m");
	atsm_buf_reset(&b);
	ck_assert_int_eq(atsm_conf_format_allowed(atsm_conf_find("ats_domain"), &b), 0);
	ck_assert_str_eq(atsm_buf_str(&b), "");
	atsm_buf_free(&b);
	ck_assert_str_eq(atsm_conf_type_name(ATSM_CONF_TIME), "time");
	ck_assert_str_eq(atsm_conf_type_name(ATSM_CONF_PATH), "absolute path");
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_table_is_complete);
	tcase_add_test(tc, test_write_value_round_trips);
	tcase_add_test(tc, test_uint);
	tcase_add_test(tc, test_time);
	tcase_add_test(tc, test_size);
	tcase_add_test(tc, test_enum);
	tcase_add_test(tc, test_bool_and_custom_table);
	tcase_add_test(tc, test_string_and_path);
	tcase_add_test(tc, test_list);
	tcase_add_test(tc, test_unknown_and_missing_equals);
	tcase_add_test(tc, test_continuation_and_comments);
	tcase_add_test(tc, test_last_assignment_wins);
	tcase_add_test(tc, test_long_line);
	tcase_add_test(tc, test_crlf_bom_nul);
	tcase_add_test(tc, test_empty_text);
	tcase_add_test(tc, test_failed_load_changes_nothing);
	tcase_add_test(tc, test_load_file);
	tcase_add_test(tc, test_secret_not_echoed);
	tcase_add_test(tc, test_set);
	tcase_add_test(tc, test_long_value_is_cut_in_error);
	tcase_add_test(tc, test_copy_is_deep);
	tcase_add_test(tc, test_format_allowed);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()

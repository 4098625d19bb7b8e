/* test-log.c -- unit tests of logging (lib/base/log.c): names, level filter, stderr lines. */
#include "atsm-check.h"
#include "base/conf.h"
#include "base/log.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* stderr goes to a temporary file for the test (each test runs in its own
 * process under Check, so nothing needs to be put back). */
static FILE *captured;

static void
capture_stderr(void)
{
	captured = tmpfile();
	ck_assert_ptr_nonnull(captured);
	ck_assert_int_ge(dup2(fileno(captured), STDERR_FILENO), 0);
}

/* Everything written to stderr since capture_stderr(). */
static char *
captured_text(void)
{
	static char text[1 << 20];
	size_t n;

	rewind(captured);
	n = fread(text, 1, sizeof(text) - 1, captured);
	text[n] = '\0';
	return text;
}

START_TEST(test_level_names)
{
	ck_assert_int_eq(atsm_log_level_from_name("error"), LOG_ERR);
	ck_assert_int_eq(atsm_log_level_from_name("warning"), LOG_WARNING);
	ck_assert_int_eq(atsm_log_level_from_name("info"), LOG_INFO);
	ck_assert_int_eq(atsm_log_level_from_name("debug"), LOG_DEBUG);
	ck_assert_int_eq(atsm_log_level_from_name("DEBUG"), LOG_DEBUG);
	ck_assert_int_eq(atsm_log_level_from_name("notice"), -1);
	ck_assert_int_eq(atsm_log_level_from_name(""), -1);
	ck_assert_int_eq(atsm_log_level_from_name(NULL), -1);
}
END_TEST

START_TEST(test_facility_names)
{
	ck_assert_int_eq(atsm_log_facility_from_name("mail"), LOG_MAIL);
	ck_assert_int_eq(atsm_log_facility_from_name("local0"), LOG_LOCAL0);
	ck_assert_int_eq(atsm_log_facility_from_name("local5"), LOG_LOCAL5);
	ck_assert_int_eq(atsm_log_facility_from_name("local7"), LOG_LOCAL7);
	ck_assert_int_eq(atsm_log_facility_from_name("local8"), -1);
	ck_assert_int_eq(atsm_log_facility_from_name("daemon"), -1);
}
END_TEST

/* The enum settings of atsmail.conf and the log module agree on each index. */
START_TEST(test_conf_indexes_match_names)
{
	const char *names[] = { "log_level", "syslog_facility" };
	size_t k;

	for (k = 0; k < 2; k++) {
		const struct atsm_conf_setting *s = atsm_conf_find(names[k]);
		const char *p;
		char word[32];
		unsigned i;

		ck_assert_ptr_nonnull(s);
		for (i = 0, p = s->choices; *p != '\0'; i++) {
			size_t n = strcspn(p, "|");
			int by_name, by_index;

			ck_assert_uint_lt(n, sizeof(word));
			memcpy(word, p, n);
			word[n] = '\0';
			by_name = k == 0 ? atsm_log_level_from_name(word) :
			    atsm_log_facility_from_name(word);
			by_index = k == 0 ? atsm_log_level_from_conf(i) : atsm_log_facility_from_conf(i);
			ck_assert_msg(by_name >= 0 && by_name == by_index,
			    "%s choice %u '%s': %d by name, %d by index", s->name, i, word,
			    by_name, by_index);
			p += n;
			if (*p == '|')
				p++;
		}
		ck_assert_int_eq(k == 0 ? atsm_log_level_from_conf(i) :
		    atsm_log_facility_from_conf(i), -1);
	}
}
END_TEST

START_TEST(test_stderr_format)
{
	char want[256];

	capture_stderr();
	atsm_log_open("atsmail-test", LOG_MAIL, false, true);
	atsm_log_set_level(LOG_DEBUG);
	atsm_log(LOG_WARNING, "disk %s at %d%%", "full", 99);
	atsm_log(LOG_ERR, "cannot connect");
	atsm_log(LOG_INFO, "recorded message %d", 7);
	atsm_log(LOG_DEBUG, "matched");
	snprintf(want, sizeof(want),
	    "atsmail-test[%ld]: warning: disk full at 99%%\n"
	    "atsmail-test[%ld]: error: cannot connect\n"
	    "atsmail-test[%ld]: recorded message 7\n"
	    "atsmail-test[%ld]: debug: matched\n",
	    (long)getpid(), (long)getpid(), (long)getpid(), (long)getpid());
	ck_assert_str_eq(captured_text(), want);
	atsm_log_close();
}
END_TEST

START_TEST(test_level_filter)
{
	char want[256];

	capture_stderr();
	atsm_log_open("f", LOG_LOCAL0, false, true);
	atsm_log_set_level(LOG_WARNING);
	ck_assert_int_eq(atsm_log_get_level(), LOG_WARNING);
	atsm_log(LOG_INFO, "dropped info");
	atsm_log(LOG_DEBUG, "dropped debug");
	atsm_log(LOG_WARNING, "kept warning");
	atsm_log(LOG_ERR, "kept error");
	atsm_log_set_level(LOG_ERR);
	atsm_log(LOG_WARNING, "dropped warning");
	snprintf(want, sizeof(want), "f[%ld]: warning: kept warning\nf[%ld]: error: kept error\n",
	    (long)getpid(), (long)getpid());
	ck_assert_str_eq(captured_text(), want);
	/* out-of-range levels are clamped to syslog's */
	atsm_log_set_level(42);
	ck_assert_int_eq(atsm_log_get_level(), LOG_DEBUG);
	atsm_log_set_level(-3);
	ck_assert_int_eq(atsm_log_get_level(), LOG_EMERG);
	atsm_log_close();
}
END_TEST

START_TEST(test_no_stderr_when_not_asked)
{
	capture_stderr();
	atsm_log_open("quiet", LOG_MAIL, false, false);
	atsm_log_set_level(LOG_DEBUG);
	atsm_log(LOG_ERR, "nowhere");
	ck_assert_str_eq(captured_text(), "");
	/* after close, messages go to stderr again (start-up errors are not lost) */
	atsm_log_close();
	atsm_log(LOG_ERR, "back");
	ck_assert_ptr_nonnull(strstr(captured_text(), "atsmail["));
	ck_assert_ptr_nonnull(strstr(captured_text(), "]: error: back\n"));
}
END_TEST

START_TEST(test_control_characters_and_length)
{
	char *text, *big;
	size_t n;

	capture_stderr();
	atsm_log_open("c", LOG_MAIL, false, true);
	atsm_log_set_level(LOG_INFO);
	atsm_log(LOG_WARNING, "subject '%s'", "a\nc[1]: error: forged\r\x1b[31m");
	text = captured_text();
	ck_assert_ptr_nonnull(strstr(text, "warning: subject 'a?c[1]: error: forged??[31m'\n"));
	ck_assert_ptr_eq(strchr(text, '\n'), text + strlen(text) - 1);

	capture_stderr();
	big = malloc(100000);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', 99999);
	big[99999] = '\0';
	atsm_log(LOG_INFO, "%s", big);
	free(big);
	text = captured_text();
	n = strlen(text);
	/* cut, but still one whole line */
	ck_assert_uint_gt(n, 1000);
	ck_assert_uint_lt(n, 4096);
	ck_assert_int_eq(text[n - 1], '\n');
	ck_assert_ptr_eq(strchr(text, '\n'), text + n - 1);
	atsm_log_close();
}
END_TEST

#define THREADS 8
#define LINES 200

static void *
log_lines(void *arg)
{
	int i, t = (int)(long)arg;

	for (i = 0; i < LINES; i++)
		atsm_log(LOG_INFO, "thread %d line %d %s", t, i,
		    "padding padding padding padding padding padding padding padding");
	return NULL;
}

START_TEST(test_threads_do_not_mix_lines)
{
	pthread_t th[THREADS];
	char prefix[64], *text, *line, *save = NULL;
	long t;
	int count = 0;
	size_t plen;

	capture_stderr();
	atsm_log_open("th", LOG_MAIL, false, true);
	atsm_log_set_level(LOG_INFO);
	for (t = 0; t < THREADS; t++)
		ck_assert_int_eq(pthread_create(&th[t], NULL, log_lines, (void *)t), 0);
	for (t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	plen = (size_t)snprintf(prefix, sizeof(prefix), "th[%ld]: thread ", (long)getpid());
	text = captured_text();
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		ck_assert_msg(strncmp(line, prefix, plen) == 0, "mixed line: %s", line);
		ck_assert_msg(strstr(line, " padding padding padding padding padding padding "
		    "padding padding") != NULL && strstr(line + plen, "th[") == NULL,
		    "mixed line: %s", line);
		count++;
	}
	ck_assert_int_eq(count, THREADS * LINES);
	atsm_log_close();
}
END_TEST

START_TEST(test_syslog_and_stderr_together)
{
	char want[128];

	capture_stderr();
	/* syslog may have no /dev/log here; the stderr copy must still appear */
	atsm_log_open("both", LOG_LOCAL7, true, true);
	atsm_log_set_level(LOG_INFO);
	atsm_log(LOG_LOCAL3 | LOG_WARNING, "facility bits ignored");
	snprintf(want, sizeof(want), "both[%ld]: warning: facility bits ignored\n", (long)getpid());
	ck_assert_str_eq(captured_text(), want);
	atsm_log_close();
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_level_names);
	tcase_add_test(tc, test_facility_names);
	tcase_add_test(tc, test_conf_indexes_match_names);
	tcase_add_test(tc, test_stderr_format);
	tcase_add_test(tc, test_level_filter);
	tcase_add_test(tc, test_no_stderr_when_not_asked);
	tcase_add_test(tc, test_control_characters_and_length);
	tcase_add_test(tc, test_threads_do_not_mix_lines);
	tcase_add_test(tc, test_syslog_and_stderr_together);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()

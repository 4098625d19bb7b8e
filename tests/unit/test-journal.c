/* test-journal.c -- unit tests of the local journal and its replay
 * (lib/store/journal.c): the shared fixture and helpers (test-journal.h),
 * and the tests of writing -- the line format, file modes, concurrent
 * writers, limits, keys, errors.  The replay's tests are
 * test-journal-replay.c, in the same program.  Each test works in its own
 * mkdtemp directory. */
#include "test-journal.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

char base[64];     /* mkdtemp */
char dir[128];     /* base/journal, created by atsm_journal_open */

void
setup(void)
{
	strcpy(base, "/tmp/atsm-journal-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(base));
	snprintf(dir, sizeof(dir), "%s/journal", base);
}

void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
	ck_assert_int_eq(system(cmd), 0);
}

/* ---- a fake database: a set of applied keys, as the real callback keeps
 * in a table within the same transaction ---- */

void
db_init(struct db *db)
{
	memset(db, 0, sizeof(*db));
	db->applied = json_object();
	db->order = json_array();
	db->retry_after = -1;
}

void
db_free(struct db *db)
{
	json_decref(db->applied);
	json_decref(db->order);
}

enum atsm_journal_verdict
apply(const char *kind, const char *key, json_t *entry, void *ctx)
{
	struct db *db = ctx;
	json_t *n;

	db->calls++;
	ck_assert_str_eq(json_string_value(json_object_get(entry, "key")), key);
	ck_assert_str_eq(json_string_value(json_object_get(entry, "kind")),
	    kind);
	if (db->append_first != NULL) {
		ck_assert_int_eq(atsm_journal_append(db->append_first,
		    "test.late", "late-first", NULL, NULL), 0);
		db->append_first = NULL;
	}
	if (db->append_during != NULL) {
		ck_assert_int_eq(atsm_journal_append(db->append_during,
		    "test.late", "late-key", NULL, NULL), 0);
		db->append_during = NULL;
	}
	if (db->retry_after >= 0 && db->run_applied >= (unsigned)db->retry_after)
		return ATSM_JOURNAL_RETRY;
	if (db->reject_kind != NULL && strcmp(kind, db->reject_kind) == 0)
		return ATSM_JOURNAL_REJECT;
	if ((n = json_object_get(db->applied, key)) != NULL) {
		json_integer_set(n, json_integer_value(n) + 1);
		return ATSM_JOURNAL_DUPLICATE;
	}
	json_object_set_new(db->applied, key, json_integer(1));
	json_array_append_new(db->order, json_string(key));
	db->run_applied++;
	return ATSM_JOURNAL_APPLIED;
}

int
replay(struct db *db, struct atsm_journal_summary *sum)
{
	struct atsm_err err = { .msg = "" };
	int rc;

	db->run_applied = 0;
	rc = atsm_journal_replay(dir, apply, db, sum, &err);
	ck_assert_msg(rc == 0, "replay: %s", err.msg);
	return rc;
}

struct atsm_journal *
jopen(const char *component)
{
	struct atsm_err err = { .msg = "" };
	struct atsm_journal *j = atsm_journal_open(dir, component, &err);

	ck_assert_msg(j != NULL, "open: %s", err.msg);
	return j;
}

void
append_n(struct atsm_journal *j, const char *prefix, int n)
{
	struct atsm_err err = { .msg = "" };
	char key[64];
	json_t *data;
	int i;

	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "%s-%d", prefix, i);
		data = json_pack("{s:i, s:s}", "n", i, "text", "line\nbreak");
		ck_assert_msg(atsm_journal_append(j, "test.entry", key, data,
		    &err) == 0, "append: %s", err.msg);
		json_decref(data);
	}
}

int
count_suffix(const char *suffix)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	size_t m = strlen(suffix), n;
	int c = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (n >= m && strcmp(de->d_name + n - m, suffix) == 0)
			c++;
	}
	closedir(d);
	return c;
}

/* Lines of a file as parsed JSON (NULL entries for lines that are not). */
json_t *
read_lines(const char *path)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	json_t *arr = json_array(), *doc;
	FILE *f = fopen(path, "r");

	ck_assert_msg(f != NULL, "cannot open %s", path);
	while ((n = getline(&line, &cap, f)) > 0) {
		ck_assert_msg(line[n - 1] == '\n', "line without newline");
		doc = json_loadb(line, (size_t)n - 1, 0, NULL);
		json_array_append_new(arr, doc != NULL ? doc : json_null());
	}
	free(line);
	fclose(f);
	return arr;
}

char *
file_in_dir(const char *name)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

/* ---- tests of writing ---- */

START_TEST(test_append_replay_round_trip)
{
	struct atsm_journal *j = jopen("milter");
	struct atsm_journal_summary sum;
	struct db db;
	size_t i;
	char key[32];

	append_n(j, "k", 10);
	atsm_journal_close(j);
	db_init(&db);
	replay(&db, &sum);
	ck_assert_uint_eq(sum.applied, 10);
	ck_assert_uint_eq(sum.files, 1);
	ck_assert_uint_eq(sum.duplicate + sum.rejected + sum.malformed +
	    sum.remaining, 0);
	ck_assert(!sum.stopped);
	for (i = 0; i < 10; i++) {      /* in the order they were written */
		snprintf(key, sizeof(key), "k-%zu", i);
		ck_assert_str_eq(json_string_value(json_array_get(db.order, i)),
		    key);
	}
	/* a fully processed file is gone; nothing is replayed twice */
	ck_assert_int_eq(count_suffix(".jsonl") + count_suffix(".replaying"), 0);
	replay(&db, &sum);
	ck_assert_uint_eq(sum.applied + sum.files, 0);
	db_free(&db);
}
END_TEST

START_TEST(test_lines_are_compact_json_entries)
{
	struct atsm_journal *j = jopen("dovecot");
	json_t *lines, *e;
	size_t i;
	const char *at;
	char host[256] = "";

	append_n(j, "e", 5);
	json_t *nul = json_pack("{s:s}", "evil", "a\r\nb\x01");
	ck_assert_int_eq(atsm_journal_append(j, "test.x", "nl", nul, NULL), 0);
	json_decref(nul);
	atsm_journal_close(j);
	gethostname(host, sizeof(host) - 1);
	lines = read_lines(file_in_dir("dovecot.jsonl"));
	ck_assert_uint_eq(json_array_size(lines), 6);
	json_array_foreach(lines, i, e) {
		ck_assert_msg(json_is_object(e), "line %zu is not JSON", i);
		ck_assert_int_eq(json_integer_value(json_object_get(e, "v")), 1);
		ck_assert(json_is_string(json_object_get(e, "key")));
		ck_assert(json_is_string(json_object_get(e, "kind")));
		ck_assert(json_is_object(json_object_get(e, "data")));
		ck_assert_str_eq(json_string_value(json_object_get(e, "host")),
		    host);
		at = json_string_value(json_object_get(e, "at"));
		ck_assert_ptr_nonnull(at);
		ck_assert_uint_eq(strlen(at), 20);
		ck_assert(at[4] == '-' && at[10] == 'T' && at[19] == 'Z');
	}
	e = json_array_get(lines, 0);
	ck_assert_str_eq(json_string_value(json_object_get(e, "key")), "e-0");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(e,
	    "data"), "text")), "line\nbreak");
	json_decref(lines);
}
END_TEST

START_TEST(test_modes_file_0600_dir_0700)
{
	struct atsm_journal *j;
	struct stat st;
	mode_t old = umask(0);

	j = jopen("milter");
	umask(old);
	append_n(j, "m", 1);
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0700);
	ck_assert_int_eq(stat(atsm_journal_path(j), &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_str_eq(atsm_journal_path(j), file_in_dir("milter.jsonl"));
	atsm_journal_close(j);
}
END_TEST

struct worker {
	struct atsm_journal *j;
	int id;
	int failures;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	char key[64];
	json_t *data;
	int i;

	for (i = 0; i < 200; i++) {
		snprintf(key, sizeof(key), "t%d-%d", w->id, i);
		/* entries of different sizes make interleaving visible */
		data = json_pack("{s:i, s:s%}", "i", i, "pad",
		    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		    (size_t)(i % 60));
		if (atsm_journal_append(w->j, "test.thread", key, data, NULL))
			w->failures++;
		json_decref(data);
	}
	return NULL;
}

START_TEST(test_concurrent_appends_do_not_interleave)
{
	struct atsm_journal *j = jopen("milter");
	struct worker w[8];
	pthread_t th[8];
	json_t *lines, *e, *keys = json_object();
	size_t i;
	int t;

	for (t = 0; t < 8; t++) {
		w[t] = (struct worker){ j, t, 0 };
		ck_assert_int_eq(pthread_create(&th[t], NULL, worker_main,
		    &w[t]), 0);
	}
	for (t = 0; t < 8; t++) {
		pthread_join(th[t], NULL);
		ck_assert_int_eq(w[t].failures, 0);
	}
	atsm_journal_close(j);
	lines = read_lines(file_in_dir("milter.jsonl"));
	ck_assert_uint_eq(json_array_size(lines), 1600);
	json_array_foreach(lines, i, e) {
		ck_assert_msg(json_is_object(e), "line %zu is broken", i);
		json_object_set(keys, json_string_value(json_object_get(e,
		    "key")), json_true());
	}
	ck_assert_uint_eq(json_object_size(keys), 1600);
	json_decref(keys);
	json_decref(lines);
}
END_TEST

START_TEST(test_line_limit)
{
	struct atsm_journal *j = jopen("milter");
	struct atsm_journal_summary sum;
	struct atsm_err err = { .msg = "" };
	struct db db;
	json_t *data, *rej, *r;
	char *big = malloc(ATSM_JOURNAL_LINE_MAX + 2);
	FILE *f;

	ck_assert_ptr_nonnull(big);
	memset(big, 'x', ATSM_JOURNAL_LINE_MAX + 1);
	big[ATSM_JOURNAL_LINE_MAX + 1] = '\0';
	data = json_pack("{s:s}", "big", big);
	ck_assert_int_eq(atsm_journal_append(j, "test.big", "big", data, &err),
	    -1);
	ck_assert_msg(strstr(err.msg, "milter.jsonl") != NULL, "%s", err.msg);
	json_decref(data);
	append_n(j, "small", 1);
	atsm_journal_close(j);
	f = fopen(file_in_dir("milter.jsonl"), "a");
	fputs(big, f);
	fputs("\n", f);
	fclose(f);
	j = jopen("milter");
	append_n(j, "after", 1);
	atsm_journal_close(j);
	db_init(&db);
	replay(&db, &sum);
	ck_assert_uint_eq(sum.applied, 2);
	ck_assert_uint_eq(sum.malformed, 1);
	rej = read_lines(file_in_dir("rejected.jsonl"));
	r = json_array_get(rej, 0);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "raw_length")),
	    ATSM_JOURNAL_LINE_MAX + 1);
	ck_assert_uint_lt(json_string_length(json_object_get(r, "raw")), 10000);
	json_decref(rej);
	free(big);
	db_free(&db);
}
END_TEST

START_TEST(test_make_key)
{
	char a[65], b[65], c[65];

	ck_assert_int_eq(atsm_journal_make_key("milter",
	    "<abc@example.com> 4XyZ1", a), 0);
	ck_assert_int_eq(atsm_journal_make_key("milter",
	    "<abc@example.com> 4XyZ1", b), 0);
	ck_assert_str_eq(a, b);
	ck_assert_uint_eq(strlen(a), 64);
	ck_assert_uint_eq(strspn(a, "0123456789abcdef"), 64);
	ck_assert_int_eq(atsm_journal_make_key("milter",
	    "<abc@example.com> 4XyZ2", c), 0);
	ck_assert_str_ne(a, c);
	ck_assert_int_eq(atsm_journal_make_key("dovecot",
	    "<abc@example.com> 4XyZ1", c), 0);
	ck_assert_str_ne(a, c);
	/* the split between component and unique part matters */
	ck_assert_int_eq(atsm_journal_make_key("ab", "c", b), 0);
	ck_assert_int_eq(atsm_journal_make_key("a", "bc", c), 0);
	ck_assert_str_ne(b, c);
	ck_assert_int_eq(atsm_journal_make_key(NULL, "x", c), -1);
}
END_TEST

START_TEST(test_errors_name_directory_and_file)
{
	struct atsm_err err = { .msg = "" };
	struct atsm_journal_summary sum;
	char path[256];
	struct db db;

	/* parent missing */
	snprintf(path, sizeof(path), "%s/missing/journal", base);
	ck_assert_ptr_null(atsm_journal_open(path, "milter", &err));
	ck_assert_msg(strstr(err.msg, path) != NULL, "%s", err.msg);
	/* the journal file cannot be opened for writing (works as root too) */
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(mkdir(file_in_dir("milter.jsonl"), 0700), 0);
	ck_assert_ptr_null(atsm_journal_open(dir, "milter", &err));
	ck_assert_msg(strstr(err.msg, file_in_dir("milter.jsonl")) != NULL,
	    "%s", err.msg);
	/* a file where the directory should be */
	snprintf(path, sizeof(path), "%s/plain", base);
	fclose(fopen(path, "w"));
	ck_assert_ptr_null(atsm_journal_open(path, "milter", &err));
	ck_assert_msg(strstr(err.msg, path) != NULL, "%s", err.msg);
	/* a component that cannot name a file */
	ck_assert_ptr_null(atsm_journal_open(dir, "../x", &err));
	ck_assert_msg(strstr(err.msg, "../x") != NULL, "%s", err.msg);
	ck_assert_ptr_null(atsm_journal_open(dir, "rejected", &err));
	/* replay of a directory that does not exist */
	snprintf(path, sizeof(path), "%s/nowhere", base);
	db_init(&db);
	ck_assert_int_eq(atsm_journal_replay(path, apply, &db, &sum, &err), -1);
	ck_assert_msg(strstr(err.msg, path) != NULL, "%s", err.msg);
	db_free(&db);
}
END_TEST

START_TEST(test_append_validates_arguments)
{
	struct atsm_journal *j = jopen("milter");
	struct atsm_err err = { .msg = "" };
	json_t *arr = json_array();
	char longkey[ATSM_JOURNAL_KEY_MAX + 2];

	ck_assert_int_eq(atsm_journal_append(j, "", "k", NULL, &err), -1);
	ck_assert_int_eq(atsm_journal_append(j, "test", "", NULL, &err), -1);
	ck_assert_int_eq(atsm_journal_append(j, "test", NULL, NULL, &err), -1);
	ck_assert_int_eq(atsm_journal_append(j, "test", "k", arr, &err), -1);
	ck_assert_msg(strstr(err.msg, "not a JSON object") != NULL, "%s",
	    err.msg);
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	ck_assert_int_eq(atsm_journal_append(j, "test", longkey, NULL, &err),
	    -1);
	ck_assert_int_eq(atsm_journal_append(j, "test", "k\xff", NULL, &err),
	    -1);
	ck_assert_int_eq(atsm_journal_append(j, "test", "good", NULL, &err), 0);
	json_decref(arr);
	atsm_journal_close(j);
	arr = read_lines(file_in_dir("milter.jsonl"));
	ck_assert_uint_eq(json_array_size(arr), 1);
	json_decref(arr);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("journal");
	TCase *tc = tcase_create("append");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_append_replay_round_trip);
	tcase_add_test(tc, test_lines_are_compact_json_entries);
	tcase_add_test(tc, test_modes_file_0600_dir_0700);
	tcase_add_test(tc, test_concurrent_appends_do_not_interleave);
	tcase_add_test(tc, test_line_limit);
	tcase_add_test(tc, test_make_key);
	tcase_add_test(tc, test_errors_name_directory_and_file);
	tcase_add_test(tc, test_append_validates_arguments);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, journal_replay_tcase());
	return s;
}

ATSM_CHECK_MAIN()

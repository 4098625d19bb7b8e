/* test-jlog.c -- unit tests of atsmaild's journal (lib/store/jlog.c,
 * jlog-read.c): group commit, the durable position, segments, the
 * checkpoint, a torn last line, failed writes, the lock, rejected lines,
 * and that `atsmailctl replay` reads its segments.  No server: each test
 * works in its own mkdtemp directory, in its own process (Check's fork
 * mode), so a resource limit set by one test stays there.
 *
 * Run as `test-jlog fill DIR FILLER`, it is the probe of
 * tests/e2e/jlog-disk-full.sh instead: it appends to a journal in DIR
 * until the file system is full, checks what was acknowledged against
 * what can be read, removes FILLER and appends again (TAP on stdout).
 * The probe itself is test-jlog-fill.c; what the two share is test-jlog.h.
 */
#include "atsm-check.h"
#include "test-jlog.h"
#include "base/conf.h"
#include "store/jlog.h"
#include "store/journal-line.h"
#include "store/journal.h"
#include "store/recorder.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];     /* mkdtemp */

static void
setup(void)
{
	strcpy(dir, "/tmp/atsm-jlog-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static struct atsm_jlog *
jopen(size_t segment_max)
{
	struct atsm_jlog *j = NULL;
	struct atsm_err err;

	ck_assert_msg(atsm_jlog_open(dir, COMPONENT, segment_max, &j, &err) == 0, "%s",
	    err.msg);
	return j;
}

/* Append {"key": key, "n": n, "pad": pad bytes} under key. */
int
put(struct atsm_jlog *j, const char *key, int n, size_t pad, struct atsm_jlog_pos *pos,
    struct atsm_err *err)
{
	char *s = malloc(pad + 1);
	json_t *d;
	int rc;

	if (s == NULL)      /* no ck_assert: a test may hold RLIMIT_FSIZE low */
		abort();
	memset(s, 'x', pad);
	s[pad] = '\0';
	d = json_pack("{s:s, s:i, s:s}", "key", key, "n", n, "pad", s);
	rc = atsm_jlog_append(j, "test.entry", key, d, pos, err);
	json_decref(d);
	free(s);
	return rc;
}

static void
put_ok(struct atsm_jlog *j, const char *key, int n, size_t pad)
{
	struct atsm_err err;

	ck_assert_msg(put(j, key, n, pad, NULL, &err) == 0, "%s", err.msg);
}

/* Every durable entry after the cursor (reads until none is left). */
static size_t
read_all(struct atsm_jlog *j, struct atsm_jlog_entry *out, size_t max)
{
	struct atsm_err err;
	size_t n, total = 0;

	do {
		ck_assert_msg(atsm_jlog_read(j, max - total, 0, out + total, &n, &err) == 0,
		    "%s", err.msg);
		total += n;
	} while (n > 0 && total < max);
	return total;
}

/* Files of the directory whose names end with suffix. */
static unsigned
count_files(const char *suffix, const char *but)
{
	struct dirent *de;
	unsigned n = 0;
	size_t l, m = strlen(suffix);
	DIR *d = opendir(dir);

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		l = strlen(de->d_name);
		if (l > m && strcmp(de->d_name + l - m, suffix) == 0 &&
		    (but == NULL || strstr(de->d_name, but) == NULL))
			n++;
	}
	closedir(d);
	return n;
}

static unsigned
segments(void)
{
	return count_files(".jsonl", "rejected");
}

/* The bytes of a file, to compare before and after. */
static char *
slurp(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static void
seg_path(unsigned long long seg, char *out, size_t size)
{
	snprintf(out, size, "%s/%s.%016llx.jsonl", dir, COMPONENT, seg);
}

START_TEST(test_append_read_commit_in_order)
{
	struct atsm_jlog_entry e[8];
	struct atsm_jlog_pos p[3], none = { 0, 0 };
	struct atsm_jlog_stats st;
	struct atsm_jlog *j = jopen(0);
	struct atsm_err err;
	size_t n;

	ck_assert_int_eq(put(j, "k1", 1, 10, &p[0], &err), 0);
	ck_assert_int_eq(put(j, "k2", 2, 10, &p[1], &err), 0);
	ck_assert_int_eq(put(j, "k3", 3, 10, &p[2], &err), 0);
	ck_assert_int_lt(atsm_jlog_pos_cmp(&p[0], &p[1]), 0);
	ck_assert_int_lt(atsm_jlog_pos_cmp(&p[1], &p[2]), 0);
	ck_assert(atsm_jlog_pos_pack(&p[1]) < atsm_jlog_pos_pack(&p[2]));
	ck_assert(atsm_jlog_pos_pack(&none) < atsm_jlog_pos_pack(&p[0]));

	ck_assert_int_eq(atsm_jlog_read(j, 2, 0, e, &n, &err), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(e[0].key, "k1");
	ck_assert_str_eq(e[0].kind, "test.entry");
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(e[1].doc,
	    "data"), "n")), 2);
	ck_assert_int_eq(atsm_jlog_pos_cmp(&e[1].end, &p[1]), 0);
	/* the rest, not the same again, until committed or rewound */
	ck_assert_int_eq(atsm_jlog_read(j, 8, 0, e + 2, &n, &err), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(e[2].key, "k3");
	atsm_jlog_rewind(j);
	ck_assert_uint_eq(read_all(j, e + 3, 5), 3);
	ck_assert_str_eq(e[3].key, "k1");
	ck_assert_int_eq(atsm_jlog_commit(j, &e[4].end, &err), 0);
	atsm_jlog_stats(j, &st);
	ck_assert_uint_eq(st.appended, 3);
	ck_assert_uint_eq(st.backlog_bytes, p[2].offset - p[1].offset);
	ck_assert_uint_eq(read_all(j, e + 6, 2), 1);
	ck_assert_str_eq(e[6].key, "k3");
	ck_assert_int_eq(atsm_jlog_commit(j, &e[6].end, &err), 0);
	atsm_jlog_stats(j, &st);
	ck_assert_uint_eq(st.backlog_bytes, 0);
	/* a commit before the checkpoint is refused */
	ck_assert_int_eq(atsm_jlog_commit(j, &p[0], &err), -1);
	ck_assert_int_eq(err.cls, ATSM_ERR_INPUT);
	atsm_jlog_entries_free(e, 7);
	atsm_jlog_close(j);
}
END_TEST

#define THREADS 8
#define PER_THREAD 300

struct appender {
	struct atsm_jlog *j;
	int id;
	int failures;
};

static void *
append_many(void *arg)
{
	struct appender *a = arg;
	struct atsm_err err;
	char key[32];
	int i;

	for (i = 0; i < PER_THREAD; i++) {
		snprintf(key, sizeof(key), "t%d-%d", a->id, i);
		if (put(a->j, key, i, 40, NULL, &err) != 0)
			a->failures++;
	}
	return NULL;
}

START_TEST(test_concurrent_appenders_share_fsyncs)
{
	static struct atsm_jlog_entry e[THREADS * PER_THREAD + 1];
	struct appender a[THREADS];
	pthread_t t[THREADS];
	int next[THREADS] = { 0 }, tid, n, i;
	struct atsm_jlog_stats st;
	struct atsm_jlog *j = jopen(64 * 1024);
	size_t got;

	for (i = 0; i < THREADS; i++) {
		a[i].j = j;
		a[i].id = i;
		a[i].failures = 0;
		ck_assert_int_eq(pthread_create(&t[i], NULL, append_many, &a[i]), 0);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(a[i].failures, 0);
	}
	atsm_jlog_stats(j, &st);
	ck_assert_uint_eq(st.appended, THREADS * PER_THREAD);
	ck_assert_msg(st.batches < st.appended, "%llu fdatasyncs for %llu appends",
	    st.batches, st.appended);
	ck_assert_uint_eq(st.failed, 0);
	ck_assert_uint_gt(segments(), 1);

	/* every entry exactly once, each thread's in the order it appended */
	got = read_all(j, e, THREADS * PER_THREAD + 1);
	ck_assert_uint_eq(got, THREADS * PER_THREAD);
	for (i = 0; i < (int)got; i++) {
		ck_assert_int_eq(sscanf(e[i].key, "t%d-%d", &tid, &n), 2);
		ck_assert_int_eq(n, next[tid]);
		next[tid]++;
	}
	atsm_jlog_entries_free(e, got);
	atsm_jlog_close(j);
}
END_TEST

START_TEST(test_rotation_and_removal_of_consumed_segments)
{
	struct atsm_jlog_entry e[64];
	struct atsm_jlog *j = jopen(1024);
	struct atsm_err err;
	struct stat st;
	char key[16], path[256];
	unsigned nseg;
	size_t got;
	int i;

	for (i = 0; i < 40; i++) {
		snprintf(key, sizeof(key), "r%d", i);
		put_ok(j, key, i, 150);
	}
	ck_assert_uint_ge(nseg = segments(), 6);
	/* no segment grows past segment_max: a batch that would goes to the next */
	for (i = 1; i <= 6; i++) {
		seg_path((unsigned long long)i, path, sizeof(path));
		ck_assert_int_eq(stat(path, &st), 0);
		ck_assert_int_le(st.st_size, 1024);
		ck_assert_int_eq(st.st_mode & 0777, 0600);
	}
	got = read_all(j, e, 64);
	ck_assert_uint_eq(got, 40);
	ck_assert_int_eq(atsm_jlog_commit(j, &e[19].end, &err), 0);
	/* the segments before the checkpoint's are gone, the rest stay */
	ck_assert_uint_eq(segments(), nseg - (e[19].end.segment - 1));
	seg_path(1, path, sizeof(path));
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(atsm_jlog_commit(j, &e[39].end, &err), 0);
	ck_assert_uint_eq(segments(), 1);     /* the one being written stays */
	atsm_jlog_entries_free(e, got);
	put_ok(j, "after", 0, 10);
	got = read_all(j, e, 64);
	ck_assert_uint_eq(got, 1);
	ck_assert_str_eq(e[0].key, "after");
	atsm_jlog_entries_free(e, got);
	atsm_jlog_close(j);
}
END_TEST

START_TEST(test_reopen_resumes_at_checkpoint)
{
	struct atsm_jlog_entry e[8];
	struct atsm_jlog *j = jopen(300);
	struct atsm_err err;
	char key[16];
	size_t got;
	int i;

	for (i = 0; i < 6; i++) {
		snprintf(key, sizeof(key), "c%d", i);
		put_ok(j, key, i, 100);
	}
	got = read_all(j, e, 4);
	ck_assert_uint_eq(got, 4);
	ck_assert_int_eq(atsm_jlog_commit(j, &e[2].end, &err), 0);
	atsm_jlog_entries_free(e, got);
	atsm_jlog_close(j);

	j = jopen(300);
	got = read_all(j, e, 8);
	ck_assert_uint_eq(got, 3);
	ck_assert_str_eq(e[0].key, "c3");
	ck_assert_str_eq(e[2].key, "c5");
	atsm_jlog_entries_free(e, got);
	/* appends go on after the old ones */
	put_ok(j, "c6", 6, 10);
	got = read_all(j, e, 8);
	ck_assert_uint_eq(got, 1);
	ck_assert_str_eq(e[0].key, "c6");
	atsm_jlog_entries_free(e, got);
	atsm_jlog_close(j);
}
END_TEST

START_TEST(test_torn_last_line_is_cut_off_at_open)
{
	static const char torn[] = "{\"v\":1,\"key\":\"torn\",\"kind\":\"test.en";
	struct atsm_jlog_entry e[8];
	struct atsm_jlog *j = jopen(0);
	char path[256], *before, *after;
	size_t blen, alen, got;
	int fd;

	put_ok(j, "t1", 1, 10);
	put_ok(j, "t2", 2, 10);
	atsm_jlog_close(j);
	seg_path(1, path, sizeof(path));
	before = slurp(path, &blen);
	fd = open(path, O_WRONLY | O_APPEND);
	ck_assert_int_eq(write(fd, torn, sizeof(torn) - 1), (ssize_t)sizeof(torn) - 1);
	close(fd);

	j = jopen(0);
	after = slurp(path, &alen);
	ck_assert_uint_eq(alen, blen);
	ck_assert_mem_eq(after, before, blen);
	put_ok(j, "t3", 3, 10);
	got = read_all(j, e, 8);
	ck_assert_uint_eq(got, 3);
	ck_assert_str_eq(e[2].key, "t3");
	ck_assert_uint_eq(count_files("rejected.jsonl", NULL), 0);
	atsm_jlog_entries_free(e, got);
	atsm_jlog_close(j);
	free(before);
	free(after);
}
END_TEST

/* Bytes past the durable position (a batch written, its fdatasync not
 * returned) are not read: here they are put there behind jlog's back. */
START_TEST(test_reader_stops_at_durable_position)
{
	static const char pending[] =
	    "{\"v\":1,\"key\":\"pending\",\"kind\":\"test.entry\",\"at\":\"x\",\"host\":\"h\","
	    "\"data\":{}}\n";
	struct atsm_jlog_entry e[8];
	struct atsm_jlog *j = jopen(0);
	struct atsm_jlog_pos pos;
	struct atsm_err err;
	char path[256];
	size_t got;
	int fd;

	ck_assert_int_eq(put(j, "d1", 1, 10, &pos, &err), 0);
	seg_path(1, path, sizeof(path));
	fd = open(path, O_WRONLY);
	ck_assert_int_eq(pwrite(fd, pending, sizeof(pending) - 1, (off_t)pos.offset),
	    (ssize_t)sizeof(pending) - 1);
	close(fd);
	got = read_all(j, e, 8);
	ck_assert_uint_eq(got, 1);
	ck_assert_str_eq(e[0].key, "d1");
	atsm_jlog_entries_free(e, got);
	/* and a reader waiting for more gives up after wait_ms with nothing */
	ck_assert_int_eq(atsm_jlog_read(j, 8, 50, e, &got, &err), 0);
	ck_assert_uint_eq(got, 0);
	atsm_jlog_close(j);
}
END_TEST

struct waiting_reader {
	struct atsm_jlog *j;
	size_t got;
	char key[16];
};

static void *
read_waiting(void *arg)
{
	struct waiting_reader *r = arg;
	struct atsm_jlog_entry e[4];
	struct atsm_err err;

	if (atsm_jlog_read(r->j, 4, 5000, e, &r->got, &err) == 0 && r->got > 0) {
		snprintf(r->key, sizeof(r->key), "%s", e[0].key);
		atsm_jlog_entries_free(e, r->got);
	}
	return NULL;
}

START_TEST(test_waiting_reader_wakes_on_append)
{
	struct waiting_reader r = { .j = jopen(0) };
	pthread_t t;

	ck_assert_int_eq(pthread_create(&t, NULL, read_waiting, &r), 0);
	usleep(100000);
	put_ok(r.j, "w1", 1, 10);
	pthread_join(t, NULL);
	ck_assert_uint_eq(r.got, 1);
	ck_assert_str_eq(r.key, "w1");
	atsm_jlog_close(r.j);
}
END_TEST

struct limited {
	struct atsm_jlog *j;
	int rc;
	struct atsm_err err;
	int id;
};

static void *
append_limited(void *arg)
{
	struct limited *l = arg;
	char key[16];

	snprintf(key, sizeof(key), "big%d", l->id);
	l->rc = put(l->j, key, l->id, 2000, NULL, &l->err);
	return NULL;
}

/* RLIMIT_FSIZE makes the write fail part-way (EFBIG): every append of the
 * batch fails, class IO, and the segment is left as it was. */
START_TEST(test_failed_write_fails_batch_and_cuts_back)
{
	struct atsm_jlog_entry e[8];
	struct atsm_jlog *j = jopen(0);
	struct atsm_jlog_stats st;
	struct limited l[4];
	struct rlimit rl, old;
	pthread_t t[4];
	char path[256], *before, *after;
	size_t blen, alen, got;
	int i, nt;

	signal(SIGXFSZ, SIG_IGN);
	put_ok(j, "ok1", 1, 10);
	seg_path(1, path, sizeof(path));
	before = slurp(path, &blen);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	rl = old;
	rl.rlim_cur = blen + 500;    /* part of the first line fits */
	/* no ck_assert while the limit holds: Check writes its own files */
	for (i = 0; i < 4; i++) {
		l[i].j = j;
		l[i].id = i;
		l[i].rc = 0;
	}
	nt = 0;
	if (setrlimit(RLIMIT_FSIZE, &rl) == 0)
		while (nt < 4 && pthread_create(&t[nt], NULL, append_limited, &l[nt]) == 0)
			nt++;
	for (i = 0; i < nt; i++)
		pthread_join(t[i], NULL);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	ck_assert_int_eq(nt, 4);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(l[i].rc, -1);
		ck_assert_int_eq(l[i].err.cls, ATSM_ERR_IO);
		ck_assert_msg(strstr(l[i].err.msg, "File too large") != NULL, "%s",
		    l[i].err.msg);
		ck_assert_msg(strstr(l[i].err.msg, path) != NULL, "%s", l[i].err.msg);
	}
	after = slurp(path, &alen);
	ck_assert_uint_eq(alen, blen);
	ck_assert_mem_eq(after, before, blen);
	atsm_jlog_stats(j, &st);
	ck_assert_uint_eq(st.failed, 4);
	ck_assert_uint_eq(st.appended, 1);

	put_ok(j, "ok2", 2, 10);
	got = read_all(j, e, 8);
	ck_assert_uint_eq(got, 2);
	ck_assert_str_eq(e[0].key, "ok1");
	ck_assert_str_eq(e[1].key, "ok2");
	atsm_jlog_entries_free(e, got);
	atsm_jlog_close(j);
	free(before);
	free(after);
}
END_TEST

START_TEST(test_lock_refuses_second_open)
{
	struct atsm_jlog *j = jopen(0), *k = NULL;
	struct atsm_err err;

	ck_assert_int_eq(atsm_jlog_open(dir, COMPONENT, 0, &k, &err), -1);
	ck_assert_ptr_null(k);
	ck_assert_int_eq(err.cls, ATSM_ERR_UNAVAILABLE);
	ck_assert_msg(strstr(err.msg, COMPONENT ".lock") != NULL, "%s", err.msg);
	/* another component in the same directory is another journal */
	ck_assert_int_eq(atsm_jlog_open(dir, "other", 0, &k, &err), 0);
	atsm_jlog_close(k);
	atsm_jlog_close(j);
	ck_assert_int_eq(atsm_jlog_open(dir, COMPONENT, 0, &k, &err), 0);
	atsm_jlog_close(k);
	ck_assert_int_eq(atsm_jlog_open(dir, "../x", 0, &k, &err), -1);
	ck_assert_int_eq(err.cls, ATSM_ERR_INPUT);
}
END_TEST

START_TEST(test_bad_lines_and_rejects_set_aside)
{
	static const char bad[] = "this is not json\n";
	struct atsm_jlog_entry e[8];
	struct atsm_jlog *j = jopen(0);
	struct atsm_jlog_pos pos;
	struct atsm_err err;
	char path[256], *text;
	size_t got, len;
	int fd;

	ck_assert_int_eq(put(j, "b1", 1, 10, &pos, &err), 0);
	atsm_jlog_close(j);
	seg_path(1, path, sizeof(path));
	fd = open(path, O_WRONLY | O_APPEND);
	ck_assert_int_eq(write(fd, bad, sizeof(bad) - 1), (ssize_t)sizeof(bad) - 1);
	close(fd);
	j = jopen(0);
	put_ok(j, "b2", 2, 10);
	got = read_all(j, e, 8);
	ck_assert_uint_eq(got, 2);
	ck_assert_str_eq(e[1].key, "b2");
	ck_assert_int_eq(atsm_jlog_reject(j, e[1].doc, "refused by the test", &err), 0);
	atsm_jlog_entries_free(e, got);
	atsm_jlog_close(j);

	snprintf(path, sizeof(path), "%s/%s.rejected.jsonl", dir, COMPONENT);
	text = slurp(path, &len);
	text[len] = '\0';
	ck_assert_ptr_nonnull(strstr(text, "\"raw\":\"this is not json\""));
	ck_assert_ptr_nonnull(strstr(text, "bad JSON"));
	ck_assert_ptr_nonnull(strstr(text, "\"reason\":\"refused by the test\""));
	ck_assert_ptr_nonnull(strstr(text, "\"key\":\"b2\""));
	free(text);
}
END_TEST

/* ---- `atsmailctl replay` reads a segment moved from another host ---- */

static enum atsm_journal_verdict
collect(const char *kind, const char *key, json_t *entry, void *ctx)
{
	(void)entry;
	ck_assert_str_eq(kind, "test.entry");
	json_array_append_new(ctx, json_string(key));
	return ATSM_JOURNAL_APPLIED;
}

START_TEST(test_replay_reads_moved_segments_in_order)
{
	struct atsm_journal_summary sum;
	struct atsm_jlog *j = jopen(400);
	json_t *keys = json_array(), *rej;
	struct atsm_err err;
	char key[16];
	int i;

	for (i = 0; i < 12; i++) {
		snprintf(key, sizeof(key), "m%02d", i);
		put_ok(j, key, i, 100);
	}
	rej = json_object();
	ck_assert_int_eq(atsm_jlog_reject(j, rej, "x", &err), 0);
	json_decref(rej);
	ck_assert_uint_gt(segments(), 2);
	/* held by a running journal: refused */
	ck_assert_int_eq(atsm_journal_replay(dir, collect, keys, &sum, &err), -1);
	ck_assert_int_eq(err.cls, ATSM_ERR_UNAVAILABLE);
	ck_assert_msg(strstr(err.msg, "in use by a running atsmaild") != NULL, "%s", err.msg);
	ck_assert_uint_eq(json_array_size(keys), 0);
	atsm_jlog_close(j);

	ck_assert_int_eq(atsm_journal_replay(dir, collect, keys, &sum, &err), 0);
	ck_assert_uint_eq(sum.applied, 12);
	ck_assert_uint_eq(sum.malformed, 0);
	for (i = 0; i < 12; i++) {
		snprintf(key, sizeof(key), "m%02d", i);
		ck_assert_str_eq(json_string_value(json_array_get(keys, (size_t)i)), key);
	}
	/* the rejected entries are not replayed */
	snprintf(key, sizeof(key), "%s", COMPONENT);
	ck_assert_uint_eq(count_files(".rejected.jsonl", NULL), 1);
	json_decref(keys);
}
END_TEST

START_TEST(test_settings_match_the_limits)
{
	const struct atsm_conf_setting *s;
	struct atsm_conf c;
	struct atsm_err err;

	ck_assert_int_eq(atsm_conf_init(&c, &err), 0);
	ck_assert_uint_eq(c.journal_segment_size, ATSM_JLOG_SEGMENT_DEFAULT);
	ck_assert_uint_eq(c.recorder_batch_max, 200);
	ck_assert_ptr_nonnull(s = atsm_conf_find("recorder_batch_max"));
	ck_assert_uint_eq(s->max, ATSM_RECORDER_BATCH_MAX);
	ck_assert_int_eq(atsm_conf_set(&c, "journal_segment_size", "16m", &err), 0);
	ck_assert_uint_eq(c.journal_segment_size, 16u * 1024 * 1024);
	ck_assert_int_eq(atsm_conf_set(&c, "recorder_batch_max", "1001", &err), -1);
	atsm_conf_free(&c);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("jlog");
	TCase *tc = tcase_create("jlog");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_append_read_commit_in_order);
	tcase_add_test(tc, test_concurrent_appenders_share_fsyncs);
	tcase_add_test(tc, test_rotation_and_removal_of_consumed_segments);
	tcase_add_test(tc, test_reopen_resumes_at_checkpoint);
	tcase_add_test(tc, test_torn_last_line_is_cut_off_at_open);
	tcase_add_test(tc, test_reader_stops_at_durable_position);
	tcase_add_test(tc, test_waiting_reader_wakes_on_append);
	tcase_add_test(tc, test_failed_write_fails_batch_and_cuts_back);
	tcase_add_test(tc, test_lock_refuses_second_open);
	tcase_add_test(tc, test_bad_lines_and_rejects_set_aside);
	tcase_add_test(tc, test_replay_reads_moved_segments_in_order);
	tcase_add_test(tc, test_settings_match_the_limits);
	suite_add_tcase(s, tc);
	return s;
}

int
main(int argc, char **argv)
{
	SRunner *sr;
	int nfailed;

	if (argc == 4 && strcmp(argv[1], "fill") == 0)
		return fill(argv[2], argv[3]);
	sr = srunner_create(suite());
	srunner_set_tap(sr, "-");
	srunner_run_all(sr, CK_SILENT);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

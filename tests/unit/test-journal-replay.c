/* test-journal-replay.c -- unit tests of the journal's replay
 * (lib/store/journal.c): exactly-once delivery by key, retries and rejects,
 * damaged and truncated files, writers that race the replay, the replay
 * lock.  Part of the test-journal program (fixture in test-journal.h). */
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

START_TEST(test_append_during_replay_goes_to_new_file)
{
	struct atsm_journal *j = jopen("milter"), *j2 = jopen("milter");
	struct atsm_journal_summary sum;
	struct db db;

	append_n(j, "old", 3);
	db_init(&db);
	/* while the file is renamed away, j2 finds no file at the path and
	 * creates one; j then finds a different file there */
	db.append_first = j2;
	db.append_during = j;
	replay(&db, &sum);
	ck_assert_uint_eq(sum.applied, 3);
	ck_assert_ptr_null(json_object_get(db.applied, "late-first"));
	ck_assert_ptr_null(json_object_get(db.applied, "late-key"));
	/* the late entries are in a fresh milter.jsonl, not in the replayed
	 * file */
	ck_assert_int_eq(access(file_in_dir("milter.jsonl"), F_OK), 0);
	ck_assert_int_eq(count_suffix(".replaying"), 0);
	replay(&db, &sum);
	ck_assert_uint_eq(sum.applied, 2);
	ck_assert_ptr_nonnull(json_object_get(db.applied, "late-first"));
	ck_assert_ptr_nonnull(json_object_get(db.applied, "late-key"));
	/* and the writer keeps using the new file afterwards */
	append_n(j, "after", 2);
	replay(&db, &sum);
	ck_assert_uint_eq(sum.applied, 2);
	atsm_journal_close(j);
	atsm_journal_close(j2);
	db_free(&db);
}
END_TEST

START_TEST(test_stale_writer_reopens_after_replay_deleted_file)
{
	struct atsm_journal *j = jopen("dovecot"), *j2 = jopen("dovecot");
	struct atsm_journal_summary sum;
	struct db db;

	append_n(j, "a", 2);
	db_init(&db);
	replay(&db, &sum);
	ck_assert_uint_eq(sum.applied, 2);
	ck_assert_int_eq(access(file_in_dir("dovecot.jsonl"), F_OK), -1);
	/* both handles still hold the replayed, now deleted, file */
	append_n(j, "b", 1);
	append_n(j2, "c", 1);
	replay(&db, &sum);
	ck_assert_uint_eq(sum.applied, 2);
	ck_assert_ptr_nonnull(json_object_get(db.applied, "b-0"));
	ck_assert_ptr_nonnull(json_object_get(db.applied, "c-0"));
	atsm_journal_close(j);
	atsm_journal_close(j2);
	db_free(&db);
}
END_TEST

/* Writers in 4 processes (as Dovecot's delivery processes are) while
 * replays run: every entry is applied exactly once, none is torn. */
START_TEST(test_replay_races_writer_processes)
{
	struct atsm_journal_summary sum;
	struct atsm_journal *j;
	struct db db;
	pid_t pids[4];
	int p, i, status, running;
	unsigned applied = 0, malformed = 0;
	json_t *n;
	const char *k;
	char key[32];
	struct atsm_err cerr = { .msg = "" };

	j = jopen("dovecot");   /* creates the directory */
	atsm_journal_close(j);
	for (p = 0; p < 4; p++) {
		pids[p] = fork();
		ck_assert_int_ne(pids[p], -1);
		if (pids[p] == 0) {
			j = atsm_journal_open(dir, "dovecot", &cerr);
			for (i = 0; j != NULL && i < 150; i++) {
				snprintf(key, sizeof(key), "p%d-%d", p, i);
				if (atsm_journal_append(j, "test.proc", key,
				    NULL, &cerr) == -1) {
					fprintf(stderr, "%s\n", cerr.msg);
					_exit(1);
				}
			}
			if (j == NULL) {
				fprintf(stderr, "%s\n", cerr.msg);
				_exit(1);
			}
			atsm_journal_close(j);
			_exit(0);
		}
	}
	db_init(&db);
	do {
		running = 0;
		for (p = 0; p < 4; p++) {
			if (pids[p] == 0)
				continue;
			if (waitpid(pids[p], &status, WNOHANG) == pids[p]) {
				ck_assert(WIFEXITED(status) &&
				    WEXITSTATUS(status) == 0);
				pids[p] = 0;
			} else {
				running++;
			}
		}
		replay(&db, &sum);
		applied += sum.applied;
		malformed += sum.malformed;
		ck_assert_uint_eq(sum.duplicate, 0);
	} while (running > 0);
	replay(&db, &sum);
	applied += sum.applied;
	ck_assert_uint_eq(malformed, 0);
	ck_assert_uint_eq(applied, 600);
	ck_assert_uint_eq(json_object_size(db.applied), 600);
	json_object_foreach(db.applied, k, n)
		ck_assert_msg(json_integer_value(n) == 1, "%s applied twice", k);
	db_free(&db);
}
END_TEST

START_TEST(test_second_replay_of_same_keys_is_duplicate)
{
	struct atsm_journal *j = jopen("milter");
	struct atsm_journal_summary sum;
	struct db db;

	append_n(j, "k", 5);
	db_init(&db);
	replay(&db, &sum);
	ck_assert_uint_eq(sum.applied, 5);
	/* the same mails journaled again (a retry): same keys */
	append_n(j, "k", 5);
	replay(&db, &sum);
	ck_assert_uint_eq(sum.applied, 0);
	ck_assert_uint_eq(sum.duplicate, 5);
	ck_assert_uint_eq(json_object_size(db.applied), 5);
	atsm_journal_close(j);
	db_free(&db);
}
END_TEST

START_TEST(test_same_key_twice_in_one_run_delivered_once)
{
	struct atsm_journal *j = jopen("milter");
	struct atsm_journal *j2 = jopen("dovecot");
	struct atsm_journal_summary sum;
	struct db db;

	append_n(j, "same", 3);
	append_n(j, "same", 3);
	append_n(j2, "same", 3);
	db_init(&db);
	replay(&db, &sum);
	ck_assert_uint_eq(sum.applied, 3);
	ck_assert_uint_eq(sum.duplicate, 6);
	ck_assert_uint_eq(db.calls, 3);   /* the callback saw each key once */
	atsm_journal_close(j);
	atsm_journal_close(j2);
	db_free(&db);
}
END_TEST

START_TEST(test_retry_keeps_the_rest)
{
	struct atsm_journal *j = jopen("milter");
	struct atsm_journal_summary sum;
	struct db db;
	json_t *n;
	const char *k;

	append_n(j, "r", 10);
	db_init(&db);
	db.retry_after = 4;
	replay(&db, &sum);
	ck_assert(sum.stopped);
	ck_assert_uint_eq(sum.applied, 4);
	ck_assert_uint_eq(sum.remaining, 6);
	ck_assert_int_eq(count_suffix(".replaying"), 1);
	ck_assert_int_eq(count_suffix(".offset"), 1);
	/* still down: nothing more applied, nothing lost */
	db.retry_after = 0;
	replay(&db, &sum);
	ck_assert_uint_eq(sum.applied, 0);
	ck_assert_uint_eq(sum.remaining, 6);
	/* back up, and meanwhile more mail was journaled */
	append_n(j, "s", 2);
	db.retry_after = -1;
	replay(&db, &sum);
	ck_assert(!sum.stopped);
	ck_assert_uint_eq(sum.applied, 8);
	ck_assert_uint_eq(sum.duplicate, 0);
	ck_assert_uint_eq(sum.remaining, 0);
	ck_assert_uint_eq(sum.files, 2);
	ck_assert_uint_eq(json_object_size(db.applied), 12);
	json_object_foreach(db.applied, k, n)
		ck_assert_msg(json_integer_value(n) == 1, "%s applied twice", k);
	/* the older file's rest came first */
	ck_assert_str_eq(json_string_value(json_array_get(db.order, 4)), "r-4");
	ck_assert_str_eq(json_string_value(json_array_get(db.order, 10)), "s-0");
	ck_assert_int_eq(count_suffix(".replaying") + count_suffix(".offset") +
	    count_suffix(".jsonl"), 0);
	atsm_journal_close(j);
	db_free(&db);
}
END_TEST

START_TEST(test_retry_counts_untouched_files)
{
	struct atsm_journal *a = jopen("milter"), *b = jopen("dovecot");
	struct atsm_journal_summary sum;
	struct db db;

	append_n(a, "a", 5);
	append_n(b, "b", 5);
	db_init(&db);
	db.retry_after = 3;
	replay(&db, &sum);
	ck_assert(sum.stopped);
	ck_assert_uint_eq(sum.applied, 3);
	ck_assert_uint_eq(sum.remaining, 7);
	db.retry_after = -1;
	replay(&db, &sum);
	ck_assert_uint_eq(sum.applied, 7);
	ck_assert_uint_eq(json_object_size(db.applied), 10);
	atsm_journal_close(a);
	atsm_journal_close(b);
	db_free(&db);
}
END_TEST

/* An offset side-file that does not fit its file makes the replay start
 * the file over: the keys turn the repeats into duplicates, nothing is
 * skipped. */
START_TEST(test_damaged_offset_starts_over)
{
	struct atsm_journal *j = jopen("milter");
	struct atsm_journal_summary sum;
	struct dirent *de;
	struct db db;
	char path[512] = "";
	DIR *d;
	FILE *f;

	append_n(j, "o", 6);
	atsm_journal_close(j);
	db_init(&db);
	db.retry_after = 2;
	replay(&db, &sum);
	ck_assert_uint_eq(sum.remaining, 4);
	ck_assert_ptr_nonnull(d = opendir(dir));
	while ((de = readdir(d)) != NULL)
		if (strstr(de->d_name, ".offset") != NULL)
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
	closedir(d);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs("99999999\n", f);
	fclose(f);
	db.retry_after = -1;
	replay(&db, &sum);
	ck_assert_uint_eq(sum.applied, 4);
	ck_assert_uint_eq(sum.duplicate, 2);
	ck_assert_uint_eq(json_object_size(db.applied), 6);
	ck_assert_int_eq(count_suffix(".replaying") + count_suffix(".offset"), 0);
	db_free(&db);
}
END_TEST

START_TEST(test_truncated_last_line_is_set_aside)
{
	struct atsm_journal *j = jopen("milter");
	struct atsm_journal_summary sum;
	struct db db;
	json_t *rej, *r;
	const char *half = "{\"v\":1,\"key\":\"cut\",\"kind\":\"test.entry\",\"da";
	int fd;

	append_n(j, "t", 3);
	atsm_journal_close(j);
	/* a crash in the middle of a write leaves half a line */
	fd = open(file_in_dir("milter.jsonl"), O_WRONLY | O_APPEND);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, half, strlen(half)), (ssize_t)strlen(half));
	close(fd);
	db_init(&db);
	replay(&db, &sum);
	ck_assert_uint_eq(sum.applied, 3);
	ck_assert_uint_eq(sum.malformed, 1);
	ck_assert_int_eq(count_suffix(".replaying"), 0);
	rej = read_lines(file_in_dir("rejected.jsonl"));
	ck_assert_uint_eq(json_array_size(rej), 1);
	r = json_array_get(rej, 0);
	ck_assert_str_eq(json_string_value(json_object_get(r, "raw")), half);
	ck_assert(strstr(json_string_value(json_object_get(r, "reason")),
	    "bad JSON") != NULL);
	ck_assert(strstr(json_string_value(json_object_get(r, "file")),
	    "milter.") != NULL);
	json_decref(rej);
	db_free(&db);
}
END_TEST

START_TEST(test_malformed_lines_counted_not_lost)
{
	struct atsm_journal *j = jopen("milter");
	struct atsm_journal_summary sum;
	struct db db;
	json_t *rej;
	FILE *f;

	append_n(j, "g", 2);
	atsm_journal_close(j);
	f = fopen(file_in_dir("milter.jsonl"), "a");
	ck_assert_ptr_nonnull(f);
	fputs("not json at all\n", f);
	fputs("{\"v\":1,\"kind\":\"test.entry\"}\n", f);            /* no key */
	fputs("[1,2,3]\n", f);
	fputs("{\"v\":99,\"key\":\"x\",\"kind\":\"test.entry\"}\n", f);
	fputs("\n   \n", f);                                         /* blank */
	fputs("{\"v\":1,\"key\":\"bin\",\"kind\":\"test\xff\"}\n", f);
	fputs("{\"v\":1,\"key\":\"ok\",\"kind\":\"test.entry\"}\n", f);
	fclose(f);
	db_init(&db);
	replay(&db, &sum);
	ck_assert_uint_eq(sum.applied, 3);
	ck_assert_uint_eq(sum.malformed, 5);
	rej = read_lines(file_in_dir("rejected.jsonl"));
	ck_assert_uint_eq(json_array_size(rej), 5);
	/* the line that is not UTF-8 is kept byte for byte, as hex */
	ck_assert_ptr_nonnull(json_object_get(json_array_get(rej, 4),
	    "raw_hex"));
	json_decref(rej);
	db_free(&db);
}
END_TEST

START_TEST(test_reject_verdict_goes_to_rejected_file)
{
	struct atsm_journal *j = jopen("milter");
	struct atsm_journal_summary sum;
	struct db db;
	json_t *rej, *e;

	append_n(j, "ok", 2);
	ck_assert_int_eq(atsm_journal_append(j, "test.bad", "bad-1", NULL,
	    NULL), 0);
	append_n(j, "ok2", 1);
	atsm_journal_close(j);
	db_init(&db);
	db.reject_kind = "test.bad";
	replay(&db, &sum);
	ck_assert_uint_eq(sum.applied, 3);
	ck_assert_uint_eq(sum.rejected, 1);
	rej = read_lines(file_in_dir("rejected.jsonl"));
	ck_assert_uint_eq(json_array_size(rej), 1);
	e = json_object_get(json_array_get(rej, 0), "entry");
	ck_assert_str_eq(json_string_value(json_object_get(e, "key")), "bad-1");
	ck_assert(json_is_object(json_object_get(e, "data")));
	ck_assert_int_eq(count_suffix(".replaying"), 0);
	/* rejected.jsonl itself is never replayed */
	db.reject_kind = NULL;
	replay(&db, &sum);
	ck_assert_uint_eq(sum.applied + sum.files, 0);
	json_decref(rej);
	db_free(&db);
}
END_TEST

START_TEST(test_leftover_replaying_file_goes_first)
{
	struct atsm_journal *j = jopen("milter");
	struct atsm_journal_summary sum;
	struct db db;
	FILE *f;

	append_n(j, "new", 1);
	/* left by a replay that was killed: older stamp */
	f = fopen(file_in_dir("milter.20200101T000000000000Z-0000.replaying"),
	    "w");
	ck_assert_ptr_nonnull(f);
	fputs("{\"v\":1,\"key\":\"old-0\",\"kind\":\"test.entry\",\"data\":{}}\n"
	    "{\"v\":1,\"key\":\"old-1\",\"kind\":\"test.entry\",\"data\":{}}\n",
	    f);
	fclose(f);
	db_init(&db);
	replay(&db, &sum);
	ck_assert_uint_eq(sum.applied, 3);
	ck_assert_uint_eq(sum.files, 2);
	ck_assert_str_eq(json_string_value(json_array_get(db.order, 0)), "old-0");
	ck_assert_str_eq(json_string_value(json_array_get(db.order, 2)), "new-0");
	atsm_journal_close(j);
	db_free(&db);
}
END_TEST

START_TEST(test_replay_lock_excludes_second_replay)
{
	struct atsm_journal *j = jopen("milter");
	struct atsm_journal_summary sum;
	struct atsm_err err = { .msg = "" };
	struct db db;
	int fd;

	append_n(j, "l", 1);
	fd = open(file_in_dir(".replay.lock"), O_RDWR | O_CREAT, 0600);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(flock(fd, LOCK_EX), 0);
	db_init(&db);
	ck_assert_int_eq(atsm_journal_replay(dir, apply, &db, &sum, &err), -1);
	ck_assert_msg(strstr(err.msg, "another replay") != NULL, "%s", err.msg);
	ck_assert_uint_eq(db.calls, 0);
	ck_assert_int_eq(access(file_in_dir("milter.jsonl"), F_OK), 0);
	close(fd);
	replay(&db, &sum);
	ck_assert_uint_eq(sum.applied, 1);
	atsm_journal_close(j);
	db_free(&db);
}
END_TEST

TCase *
journal_replay_tcase(void)
{
	TCase *tc = tcase_create("replay");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_append_during_replay_goes_to_new_file);
	tcase_add_test(tc, test_stale_writer_reopens_after_replay_deleted_file);
	tcase_add_test(tc, test_replay_races_writer_processes);
	tcase_add_test(tc, test_second_replay_of_same_keys_is_duplicate);
	tcase_add_test(tc, test_same_key_twice_in_one_run_delivered_once);
	tcase_add_test(tc, test_retry_keeps_the_rest);
	tcase_add_test(tc, test_retry_counts_untouched_files);
	tcase_add_test(tc, test_damaged_offset_starts_over);
	tcase_add_test(tc, test_truncated_last_line_is_set_aside);
	tcase_add_test(tc, test_malformed_lines_counted_not_lost);
	tcase_add_test(tc, test_reject_verdict_goes_to_rejected_file);
	tcase_add_test(tc, test_leftover_replaying_file_goes_first);
	tcase_add_test(tc, test_replay_lock_excludes_second_replay);
	return tc;
}

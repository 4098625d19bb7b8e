/* test-journal.h -- what the unit tests of the local journal
 * (lib/store/journal.c) share: a fresh directory per test, a fake database
 * that keeps the keys it applied (as the real callback keeps them in a
 * table within the same transaction), and helpers that append, replay and
 * read the files back.  test-journal.c tests writing, test-journal-replay.c
 * replaying; they are one program.
 */
#ifndef ATSM_TEST_JOURNAL_H
#define ATSM_TEST_JOURNAL_H

#include "atsm-check.h"
#include "store/journal.h"

extern char base[64];     /* mkdtemp */
extern char dir[128];     /* base/journal, created by atsm_journal_open */

void setup(void);
void teardown(void);

/* ---- a fake database: a set of applied keys ---- */

struct db {
	json_t *applied;          /* key -> number of times applied */
	json_t *order;            /* keys in the order they were applied */
	unsigned calls;
	int retry_after;          /* RETRY once this many were applied in a run; -1 never */
	unsigned run_applied;
	const char *reject_kind;
	struct atsm_journal *append_during;   /* append one entry on first call */
	struct atsm_journal *append_first;    /* ... after one through this one */
};

void db_init(struct db *db);
void db_free(struct db *db);
/* The replay callback over a struct db. */
enum atsm_journal_verdict apply(const char *kind, const char *key,
    json_t *entry, void *ctx);
/* Replay dir into db; fails the test when the replay fails. */
int replay(struct db *db, struct atsm_journal_summary *sum);

/* ---- files ---- */

struct atsm_journal *jopen(const char *component);
/* Append n entries "PREFIX-i" of kind test.entry. */
void append_n(struct atsm_journal *j, const char *prefix, int n);
/* Files of dir whose name ends with suffix. */
int count_suffix(const char *suffix);
/* Lines of a file as parsed JSON (NULL entries for lines that are not). */
json_t *read_lines(const char *path);
/* dir/name, in a static buffer. */
char *file_in_dir(const char *name);

/* test-journal-replay.c */
TCase *journal_replay_tcase(void);

#endif

/* store/journal.h -- the local journal that keeps the facts of mail while
 * the database is down, and its replay.
 *
 * Writers (milter, Dovecot plugin) append one compact JSON document per
 * line to <dir>/<component>.jsonl:
 *
 *	{"v":1,"key":"<idempotency key>","kind":"outbound.message",
 *	 "at":"2026-11-21T05:00:00Z","host":"mx1","data":{...}}
 *
 * and each append is on disk (fdatasync) before it returns.  Replay
 * (atsmailctl replay, or a daemon when the database is back) renames each
 * file away, feeds its entries to a callback, keeps what the callback could
 * not take for the next run, and sets aside in <dir>/rejected.jsonl what
 * can never be applied.  Exactly-once is the callback's job: it records
 * the key of every applied entry in the same database transaction.  The
 * lines are those of atsmaild's journal too (store/journal-line.h builds
 * them for both), so its segments can be replayed here.  See
 * docs/journal.md for the layout and the locking protocol.
 */
#ifndef ATSM_JOURNAL_H
#define ATSM_JOURNAL_H

#include <stdbool.h>
#include <jansson.h>

#include "base/err.h"

#define ATSM_JOURNAL_VERSION 1
#define ATSM_JOURNAL_LINE_MAX (1024u * 1024u)   /* bytes of one entry, '\n' included */
#define ATSM_JOURNAL_KEY_MAX 255                /* bytes of an idempotency key */
#define ATSM_JOURNAL_KIND_MAX 64                /* bytes of a kind */
#define ATSM_JOURNAL_COMPONENT_MAX 64           /* [A-Za-z0-9_-], names the file */
#define ATSM_JOURNAL_SEEN_MAX 65536             /* keys remembered by one replay run */
#define ATSM_JOURNAL_REJECTED "rejected.jsonl"
#define ATSM_JOURNAL_LOCK ".replay.lock"

struct atsm_journal;

/* Create dir (mode 0700) if it is missing -- its parent must exist -- and
 * open <dir>/<component>.jsonl for appending (mode 0600).  component is a
 * name of [A-Za-z0-9_-] ("milter", "dovecot"), not "rejected". */
struct atsm_journal *atsm_journal_open(const char *dir, const char *component,
    struct atsm_err *err);

/* Append one entry: kind ("outbound.message"), key (its idempotency key,
 * see atsm_journal_make_key) and data (borrowed, may be NULL for {}).
 * Thread-safe and safe across processes; returns 0 only once the line is
 * on disk.  An entry longer than ATSM_JOURNAL_LINE_MAX is refused. */
int atsm_journal_append(struct atsm_journal *j, const char *kind,
    const char *key, json_t *data, struct atsm_err *err);

void atsm_journal_close(struct atsm_journal *j);

/* The path of the file currently appended to (for messages). */
const char *atsm_journal_path(const struct atsm_journal *j);

/* Deterministic idempotency key: hex SHA-256 of component, a NUL byte and
 * unique_part (e.g. Message-ID and queue id), so that the same mail
 * journaled twice has the same key.  0, or -1 on NULL input. */
int atsm_journal_make_key(const char *component, const char *unique_part,
    char out[65]);

enum atsm_journal_verdict {
	ATSM_JOURNAL_APPLIED,     /* done, and its key recorded */
	ATSM_JOURNAL_DUPLICATE,   /* its key was already recorded */
	ATSM_JOURNAL_RETRY,       /* database down again: stop, keep the rest */
	ATSM_JOURNAL_REJECT       /* can never be applied: set it aside */
};

/* entry is the whole document (v, key, kind, at, host, data), valid for
 * the duration of the call only. */
typedef enum atsm_journal_verdict (*atsm_journal_apply_fn)(const char *kind,
    const char *key, json_t *entry, void *ctx);

struct atsm_journal_summary {
	unsigned applied;     /* APPLIED by the callback */
	unsigned duplicate;   /* DUPLICATE, or a key already applied in this run */
	unsigned rejected;    /* REJECT: copied to rejected.jsonl */
	unsigned malformed;   /* not a journal entry: copied to rejected.jsonl */
	unsigned remaining;   /* lines kept for the next replay */
	unsigned files;       /* journal files opened */
	bool stopped;         /* the callback said RETRY */
};

/* Replay every *.jsonl of dir (and *.replaying left by an interrupted
 * replay), oldest first; the segments of atsmaild's journal (store/jlog.h)
 * moved from another host are such files, taken in the order of their
 * numbers, and its *.rejected.jsonl are left alone.  Takes an exclusive
 * lock on <dir>/.replay.lock; fails at once, saying so, when another
 * replay holds it, or when a running atsmaild holds the directory (a
 * locked <component>.lock; class ATSM_ERR_UNAVAILABLE).  Returns 0 when
 * every file was processed or the callback asked to stop (sum->stopped),
 * -1 on an error (a file that cannot be read, renamed or written), which
 * leaves every unprocessed entry in place.  sum may be NULL. */
int atsm_journal_replay(const char *dir, atsm_journal_apply_fn fn, void *ctx,
    struct atsm_journal_summary *sum, struct atsm_err *err);

#endif

/* store/jlog.h -- atsmaild's journal: every decided mail is appended here,
 * on disk, before Postfix or Dovecot gets its answer; the recorder drains
 * it into PostgreSQL.  The outage path and the normal path are one path.
 *
 * Layout (docs/journal.md): in journal_dir, segments named
 * <component>.<16 hex digits>.jsonl, one entry per line in the format of
 * store/journal.h (so that `atsmailctl replay` can read a segment moved
 * from another host), and <component>.checkpoint, the position up to
 * which the recorder has recorded, replaced atomically (rename).  A
 * segment is closed when the next batch would take it past segment_max
 * bytes (a single batch larger than that has a segment of its own);
 * segments wholly before the checkpoint are deleted.  <component>.lock is held (flock)
 * while a process has the journal open: a second atsmaild, or an
 * `atsmailctl replay` of the live directory, is refused.
 *
 * Appends are group-committed: concurrent callers queue their lines, one
 * of them writes the whole queue with one write and one fdatasync, and
 * all return together.  An append returns 0 only once its line is on
 * disk.  When the write or the sync fails (disk full, permissions, I/O
 * error), every append of that batch fails with err (class ATSM_ERR_IO,
 * the message names the file and the errno text) and the segment is cut
 * back to its length before the batch, so that no half line is left and
 * nothing the caller was told failed is later recorded.
 *
 * The reader (one recorder) sees only durable entries, in order.
 */
#ifndef ATSM_STORE_JLOG_H
#define ATSM_STORE_JLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "base/err.h"

#define ATSM_JLOG_SEGMENT_DEFAULT (64u * 1024u * 1024u)

struct atsm_jlog;

/* A position: the segment number and the byte offset in it.  Positions
 * grow with every append; pack() gives one number that orders the same
 * way (segment * 2^40 + offset), for the snapshot's pending marks. */
struct atsm_jlog_pos {
	unsigned long long segment;
	unsigned long long offset;
};
unsigned long long atsm_jlog_pos_pack(const struct atsm_jlog_pos *p);
int atsm_jlog_pos_cmp(const struct atsm_jlog_pos *a, const struct atsm_jlog_pos *b);

/* Open (creating dir 0700 and the first segment 0600 when missing) and
 * lock the journal of component ([A-Za-z0-9_-]) in dir. */
int atsm_jlog_open(const char *dir, const char *component, size_t segment_max,
    struct atsm_jlog **out, struct atsm_err *err);
void atsm_jlog_close(struct atsm_jlog *j);

/* Append one entry (kind, idempotency key, data borrowed) and wait until
 * it is on disk.  *pos (may be NULL) receives the position just after
 * the entry.  Thread-safe. */
int atsm_jlog_append(struct atsm_jlog *j, const char *kind, const char *key, json_t *data,
    struct atsm_jlog_pos *pos, struct atsm_err *err);

/* ---- the reader ----------------------------------------------------- */

struct atsm_jlog_entry {
	json_t *doc;                  /* the whole line: v, key, kind, at, host, data */
	const char *kind;             /* inside doc */
	const char *key;              /* inside doc */
	struct atsm_jlog_pos end;     /* position just after this entry */
};

/* Up to max durable entries after the checkpoint (or after the last
 * entry read and not yet committed), waiting at most wait_ms for the
 * first one.  *n = 0 when none came.  A line that is not a journal entry
 * is set aside (rejected file) and skipped, with a warning logged.
 * Release with atsm_jlog_entries_free(). */
int atsm_jlog_read(struct atsm_jlog *j, size_t max, unsigned wait_ms,
    struct atsm_jlog_entry *out, size_t *n, struct atsm_err *err);
void atsm_jlog_entries_free(struct atsm_jlog_entry *v, size_t n);
/* The recorder has recorded everything up to pos: move the checkpoint
 * there and delete the segments before it.  The next read starts there
 * too (after a failure the recorder reads the same entries again). */
int atsm_jlog_commit(struct atsm_jlog *j, const struct atsm_jlog_pos *pos,
    struct atsm_err *err);
/* Entries read but not committed are read again by the next read. */
void atsm_jlog_rewind(struct atsm_jlog *j);
/* Copy doc into <component>.rejected.jsonl with the reason. */
int atsm_jlog_reject(struct atsm_jlog *j, const json_t *doc, const char *why,
    struct atsm_err *err);

struct atsm_jlog_stats {
	unsigned long long appended;  /* entries appended since open */
	unsigned long long batches;   /* fdatasync calls for them */
	unsigned long long failed;    /* appends that failed */
	unsigned long long backlog_bytes;  /* durable bytes after the checkpoint */
};
void atsm_jlog_stats(struct atsm_jlog *j, struct atsm_jlog_stats *st);

#endif

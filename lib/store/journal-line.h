/* store/journal-line.h -- what the two journals share: the text of one
 * entry, the text of one set-aside (rejected) entry, component names and
 * the journal directory.
 *
 * The format-1 journal of the milter and the plugin (store/journal.h) and
 * atsmaild's segmented journal (store/jlog.h) write the same lines,
 *
 *	{"v":1,"key":"...","kind":"...","at":"2026-11-21T05:00:00Z","host":"mx1","data":{...}}
 *
 * so that a segment moved from another host is replayed by `atsmailctl
 * replay` like any other journal file, and both set entries aside in the
 * same form.  The format is in docs/journal.md.
 */
#ifndef ATSM_JOURNAL_LINE_H
#define ATSM_JOURNAL_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "base/err.h"
#include "store/journal.h"

#define ATSM_JOURNAL_HOST_MAX 255
#define ATSM_JOURNAL_RAW_KEEP 4096   /* bytes of an over-long line kept when set aside */

/* The line of one entry, '\n' included (*len counts it), malloc'd; NULL
 * with err when kind or key is empty or too long (class INPUT), data is
 * not an object (INPUT), a string is not UTF-8 (INPUT), the line would be
 * longer than ATSM_JOURNAL_LINE_MAX (INPUT) or memory ran out (NOMEM).
 * where (a file or directory) starts every message.  data is borrowed;
 * NULL means {}. */
char *atsm_journal_line(const char *where, const char *host, const char *kind,
    const char *key, json_t *data, size_t *len, struct atsm_err *err);

/* Parse one line (without its '\n') into an entry: the document, or NULL
 * with why (a sentence, for the rejected file and the log) when it is not
 * valid JSON or not an entry of a known format version. */
json_t *atsm_journal_line_parse(const char *text, size_t len, char *why, size_t whysize);

/* The line that sets an entry aside ('\n' included, malloc'd), NULL when
 * memory ran out.  entry is the parsed entry, or NULL and raw[0..rawlen)
 * the text of a line that is not one (fullen: its whole length, when only
 * its beginning is kept).  file (NULL = not said) and offset (< 0 = not
 * said) say where it was. */
char *atsm_journal_reject_line(const char *reason, const char *file, long long offset,
    json_t *entry, const char *raw, size_t rawlen, size_t fullen, size_t *len);

/* A component name: 1-ATSM_JOURNAL_COMPONENT_MAX of [A-Za-z0-9_-], not
 * "rejected". */
bool atsm_journal_component_ok(const char *component);

/* Create dir (mode 0700; its parent must exist) when missing, making its
 * name durable, and check that it is a directory.  0, or -1 (class IO). */
int atsm_journal_mkdir(const char *dir, struct atsm_err *err);

/* fsync(2) of a directory, so that names created, renamed or removed in it
 * survive a crash.  0, or -1 with errno. */
int atsm_journal_fsync_dir(const char *dir);

/* write(2) all of p, retrying short writes and EINTR.  0, or -1 with errno. */
int atsm_journal_write_all(int fd, const void *p, size_t n);

/* flock(2), retried on EINTR. */
int atsm_journal_flock(int fd, int op);

/* The host name written into entries ("" when unknown). */
void atsm_journal_host(char out[ATSM_JOURNAL_HOST_MAX + 1]);

#endif

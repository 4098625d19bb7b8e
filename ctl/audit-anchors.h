/* audit-anchors.h -- the auditor's anchor file of `atsmailctl audit
 * anchor` and `audit verify --anchor` (cmd-audit.c).
 *
 * One line per anchor, appended, never rewritten:
 *
 *	2026-12-03T20:15:00Z id=1234 hash=<64 hex digits> rows=1200
 *
 * (the time is when it was anchored, UTC; rows is informative).  Blank
 * lines and lines starting with '#' are skipped, so an auditor may
 * annotate the file.  Implemented in audit-anchors.c.
 */
#ifndef ATSM_CTL_AUDIT_ANCHORS_H
#define ATSM_CTL_AUDIT_ANCHORS_H

#include <stddef.h>

#define CTL_ANCHORS_MAX 1000000u     /* anchor lines read (hourly for a century) */
#define CTL_ANCHOR_LINE_MAX 512      /* bytes of one line */

struct ctl_anchors {
	size_t n;
	char *ids;          /* "{id,id,...}": a bigint[] literal, in file order */
	char *hashes;       /* "{hex,hex,...}": a text[] literal, in file order */
	unsigned *lines;    /* the line of each anchor */
	char **times;       /* the time written on each */
};

/* Read every anchor of file: 0, or -1 after a message naming the file
 * (and line) that cannot be read or is not an anchor line. */
int ctl_anchors_read(const char *file, struct ctl_anchors *an);
void ctl_anchors_free(struct ctl_anchors *an);

/* Append line and a newline to file (created 0640), synced to disk: 0,
 * or -1 after a message. */
int ctl_anchors_append(const char *file, const char *line);

#endif

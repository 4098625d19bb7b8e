/* store/jlog-int.h -- the state of atsmaild's journal shared by its writer
 * (jlog.c: open, group commit, rotation), its reader (jlog-read.c: read,
 * checkpoint, rejected entries) and the segments on disk (jlog-seg.c).
 * Not an interface: only these files include it.
 *
 * Who touches what:
 *  - mu guards the queue of appends, `leading`, `durable`, the stats and
 *    `checkpoint` (the backlog is computed from both);
 *  - the segment being written (wfd, wseg, wlen, cut_pending) belongs to
 *    the one appender that leads a batch (leading = true), which works
 *    on it without holding mu, so that appenders keep queueing meanwhile;
 *  - the reader's state (cursor, rfd, rbuf, rejfd) belongs to the one
 *    thread that reads (the recorder).
 * The reader never reads past `durable`: the end of the last batch whose
 * fdatasync returned.
 */
#ifndef ATSM_STORE_JLOG_INT_H
#define ATSM_STORE_JLOG_INT_H

#include <pthread.h>
#include <stdbool.h>

#include "store/jlog.h"
#include "store/journal-line.h"

#define JLOG_SEG_NAME_MAX (ATSM_JOURNAL_COMPONENT_MAX + 32)
#define JLOG_POS_SHIFT 40            /* atsm_jlog_pos_pack(): offsets below 1 TiB */

struct jlog_waiter;

struct atsm_jlog {
	pthread_mutex_t mu;
	pthread_cond_t turn;            /* appenders: a batch ended */
	pthread_cond_t grown;           /* the reader: durable moved */
	char *dir;
	char component[ATSM_JOURNAL_COMPONENT_MAX + 1];
	char host[ATSM_JOURNAL_HOST_MAX + 1];
	int dirfd;
	int lockfd;
	size_t segment_max;

	/* writer */
	bool leading;
	struct jlog_waiter *head, *tail;
	int wfd;
	unsigned long long wseg, wlen;
	bool cut_pending;               /* a failed batch is not cut back yet */
	struct atsm_jlog_pos durable;
	struct atsm_jlog_stats st;      /* backlog_bytes kept up to date */

	/* reader */
	struct atsm_jlog_pos checkpoint;
	struct atsm_jlog_pos cursor;
	int rfd;
	unsigned long long rseg;
	char *rbuf;
	size_t rbuf_len;                /* bytes in rbuf ... */
	unsigned long long rbuf_off;    /* ... read from this offset of rseg */
	int rejfd;
	pthread_mutex_t rejmu;
};

/* jlog-seg.c: "<component>.<16 hex digits>.jsonl" */
void atsm_jlog_seg_name(const struct atsm_jlog *j, unsigned long long seg,
    char name[JLOG_SEG_NAME_MAX]);
/* The size of a segment, or -1 (errno) when it cannot be seen. */
long long atsm_jlog_seg_size(const struct atsm_jlog *j, unsigned long long seg);
/* Remove the segments wholly before the checkpoint (from j->checkpoint
 * back to the oldest); errors are logged, not fatal: they only cost
 * space, and the next commit tries again. */
void atsm_jlog_drop_consumed(struct atsm_jlog *j);

#endif

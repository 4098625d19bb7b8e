/* store/jlog-read.c -- the reading side of atsmaild's journal: durable
 * entries in order for the recorder, the checkpoint it commits, the
 * removal of consumed segments and the file of rejected entries (see
 * store/jlog.h and docs/journal.md).
 *
 * One thread reads (the recorder).  It reads a closed segment to its end
 * and the segment being written up to `durable`, the end of the last
 * batch whose fdatasync returned, so an entry is seen only once its
 * appender may be told it is on disk.  Lines are read into one buffer of
 * ATSM_JOURNAL_LINE_MAX bytes, the longest line a writer makes: the
 * reader's memory is bounded whatever the backlog.
 *
 * The checkpoint is written to <component>.checkpoint.tmp, synced and
 * renamed over <component>.checkpoint, then the directory is synced: a
 * crash leaves the old checkpoint or the new one, never a torn one.
 */
#include "store/jlog-int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"

#define JLOG_WHY_MAX 320

/* ---- segments ------------------------------------------------------ */

static void
reader_close(struct atsm_jlog *j)
{
	if (j->rfd != -1)
		close(j->rfd);
	j->rfd = -1;
	j->rbuf_len = 0;
}

/* Open the cursor's segment: 1, 0 when it is missing, -1. */
static int
reader_open(struct atsm_jlog *j, struct atsm_err *err)
{
	char name[JLOG_SEG_NAME_MAX];

	if (j->rfd != -1 && j->rseg == j->cursor.segment)
		return 1;
	reader_close(j);
	atsm_jlog_seg_name(j, j->cursor.segment, name);
	j->rfd = openat(j->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (j->rfd == -1) {
		if (errno == ENOENT)
			return 0;
		return atsm_err_setc(err, ATSM_ERR_IO, "journal %s/%s: cannot open: %s",
		    j->dir, name, strerror(errno));
	}
	j->rseg = j->cursor.segment;
	return 1;
}

/* ---- rejected entries ---------------------------------------------- */

static int
reject_write(struct atsm_jlog *j, const char *line, size_t len, struct atsm_err *err)
{
	char name[ATSM_JOURNAL_COMPONENT_MAX + 24];
	struct stat st;
	int rc = 0;

	snprintf(name, sizeof(name), "%s.rejected.jsonl", j->component);
	pthread_mutex_lock(&j->rejmu);
	if (j->rejfd == -1) {
		j->rejfd = openat(j->dirfd, name, O_WRONLY | O_APPEND | O_CREAT |
		    O_CLOEXEC | O_NOFOLLOW, 0600);
		if (j->rejfd == -1 || fsync(j->dirfd) == -1) {
			rc = atsm_err_setc(err, ATSM_ERR_IO, "journal %s/%s: cannot "
			    "open: %s", j->dir, name, strerror(errno));
			goto out;
		}
	}
	if (fstat(j->rejfd, &st) == -1 ||
	    atsm_journal_write_all(j->rejfd, line, len) == -1 || fdatasync(j->rejfd) == -1) {
		rc = atsm_err_setc(err, ATSM_ERR_IO, "journal %s/%s: cannot write: %s",
		    j->dir, name, strerror(errno));
		/* a half line would glue itself to the next one */
		if (ftruncate(j->rejfd, st.st_size) == -1)
			(void)0;
	}
out:
	pthread_mutex_unlock(&j->rejmu);
	return rc;
}

int
atsm_jlog_reject(struct atsm_jlog *j, const json_t *doc, const char *why,
    struct atsm_err *err)
{
	char *line;
	size_t len;
	int rc;

	line = atsm_journal_reject_line(why != NULL ? why : "rejected", NULL, -1,
	    (json_t *)doc, NULL, 0, 0, &len);
	if (line == NULL)
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "journal %s: out of memory "
		    "setting an entry aside", j->dir);
	rc = reject_write(j, line, len, err);
	free(line);
	return rc;
}

/* A line of the segment that is not an entry: set aside, logged. */
static int
reject_raw(struct atsm_jlog *j, unsigned long long start, const char *why,
    const char *raw, size_t rawlen, size_t fullen, struct atsm_err *err)
{
	char name[JLOG_SEG_NAME_MAX], *line;
	size_t len;
	int rc;

	atsm_jlog_seg_name(j, j->cursor.segment, name);
	atsm_log(LOG_WARNING, "journal %s/%s: the line at offset %llu is not an "
	    "entry (%s): set aside in %s.rejected.jsonl", j->dir, name, start, why,
	    j->component);
	line = atsm_journal_reject_line(why, name, (long long)start, NULL, raw,
	    rawlen, fullen, &len);
	if (line == NULL)
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "journal %s/%s: out of "
		    "memory setting a line aside", j->dir, name);
	rc = reject_write(j, line, len, err);
	free(line);
	return rc;
}

/* ---- lines --------------------------------------------------------- */

/* Fill the buffer from the cursor, at most up to limit. */
static int
refill(struct atsm_jlog *j, unsigned long long limit, struct atsm_err *err)
{
	size_t want = ATSM_JOURNAL_LINE_MAX;
	ssize_t got;

	if (j->rbuf == NULL && (j->rbuf = malloc(ATSM_JOURNAL_LINE_MAX)) == NULL)
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "journal %s: out of memory "
		    "for the reader", j->dir);
	if (limit - j->cursor.offset < want)
		want = (size_t)(limit - j->cursor.offset);
	do
		got = pread(j->rfd, j->rbuf, want, (off_t)j->cursor.offset);
	while (got == -1 && errno == EINTR);
	if (got == -1)
		return atsm_err_setc(err, ATSM_ERR_IO, "journal %s: cannot read segment "
		    "%016llx: %s", j->dir, j->cursor.segment, strerror(errno));
	j->rbuf_off = j->cursor.offset;
	j->rbuf_len = (size_t)got;
	return 0;
}

/* Step over a line longer than the buffer (not written by jlog: damage,
 * or a segment edited by hand), setting its beginning aside. */
static int
skip_long_line(struct atsm_jlog *j, unsigned long long limit, struct atsm_err *err)
{
	unsigned long long start = j->cursor.offset;
	char why[JLOG_WHY_MAX], head[ATSM_JOURNAL_RAW_KEEP], *nl;

	memcpy(head, j->rbuf, sizeof(head));
	for (;;) {
		j->cursor.offset += j->rbuf_len;
		if (j->cursor.offset >= limit) {
			j->cursor.offset = limit;
			break;
		}
		if (refill(j, limit, err) == -1)
			return -1;
		if (j->rbuf_len == 0)
			break;      /* shorter than it was: nothing more to skip */
		if ((nl = memchr(j->rbuf, '\n', j->rbuf_len)) != NULL) {
			j->cursor.offset += (unsigned long long)(nl - j->rbuf) + 1;
			break;
		}
	}
	j->rbuf_len = 0;
	snprintf(why, sizeof(why), "line of %llu bytes or more, longer than the "
	    "limit of %u", j->cursor.offset - start, ATSM_JOURNAL_LINE_MAX);
	return reject_raw(j, start, why, head, sizeof(head),
	    (size_t)(j->cursor.offset - start), err);
}

/* The next line up to dur: 1 (text, len without its '\n', *start), 0 when
 * none is durable yet, -1. */
static int
next_line(struct atsm_jlog *j, const struct atsm_jlog_pos *dur, const char **text,
    size_t *len, unsigned long long *start, struct atsm_err *err)
{
	unsigned long long limit, bufend;
	const char *p, *nl;
	struct stat st;
	bool fresh;
	int r;

	for (;;) {
		if (atsm_jlog_pos_cmp(&j->cursor, dur) >= 0)
			return 0;
		if ((r = reader_open(j, err)) == -1)
			return -1;
		if (r == 0 && j->cursor.segment < dur->segment) {
			/* a gap (removed by hand): on to the next */
			j->cursor.segment++;
			j->cursor.offset = 0;
			continue;
		}
		if (r == 0)
			return atsm_err_setc(err, ATSM_ERR_IO, "journal %s: segment %016llx "
			    "is missing", j->dir, j->cursor.segment);
		if (j->cursor.segment < dur->segment) {
			if (fstat(j->rfd, &st) == -1)
				return atsm_err_setc(err, ATSM_ERR_IO, "journal %s: cannot "
				    "stat segment %016llx: %s", j->dir, j->cursor.segment,
				    strerror(errno));
			limit = (unsigned long long)st.st_size;
		} else {
			limit = dur->offset;
		}
		if (j->cursor.offset >= limit) {
			/* a closed segment read to its end */
			reader_close(j);
			j->cursor.segment++;
			j->cursor.offset = 0;
			continue;
		}
		fresh = false;
		bufend = j->rbuf_off + j->rbuf_len;
		if (j->rbuf_len == 0 || j->cursor.offset < j->rbuf_off ||
		    j->cursor.offset >= bufend) {
			if (refill(j, limit, err) == -1)
				return -1;
			fresh = true;
			bufend = j->rbuf_off + j->rbuf_len;
		}
		if (bufend > limit)
			bufend = limit;
		p = j->rbuf + (j->cursor.offset - j->rbuf_off);
		if ((nl = memchr(p, '\n', (size_t)(bufend - j->cursor.offset))) != NULL) {
			*text = p;
			*len = (size_t)(nl - p);
			*start = j->cursor.offset;
			j->cursor.offset += *len + 1;
			return 1;
		}
		if (!fresh && bufend < limit) {
			/* read before the line was whole: again, from its start */
			j->rbuf_len = 0;
			continue;
		}
		if (j->rbuf_len == ATSM_JOURNAL_LINE_MAX) {
			if (skip_long_line(j, limit, err) == -1)
				return -1;
			continue;
		}
		/* bytes up to the limit (or the file's end) without '\n': the
		 * end of a closed segment torn by a crash (jlog cuts only the
		 * newest at open), or a segment cut short by hand */
		*start = j->cursor.offset;
		j->cursor.offset = limit;
		j->rbuf_len = 0;
		*len = (size_t)(bufend - *start);
		if (reject_raw(j, *start, "a line without its end (a crash?)", p,
		    *len < ATSM_JOURNAL_RAW_KEEP ? *len : ATSM_JOURNAL_RAW_KEEP, *len,
		    err) == -1)
			return -1;
	}
}

/* ---- the reader's interface ---------------------------------------- */

static void
deadline_after(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Wait until durable moves past *dur, at most until deadline: true when
 * it did. */
static bool
wait_grown(struct atsm_jlog *j, struct atsm_jlog_pos *dur, const struct timespec *deadline)
{
	bool grown;

	pthread_mutex_lock(&j->mu);
	while (atsm_jlog_pos_cmp(&j->durable, dur) == 0)
		if (pthread_cond_timedwait(&j->grown, &j->mu, deadline) == ETIMEDOUT)
			break;
	grown = atsm_jlog_pos_cmp(&j->durable, dur) != 0;
	*dur = j->durable;
	pthread_mutex_unlock(&j->mu);
	return grown;
}

int
atsm_jlog_read(struct atsm_jlog *j, size_t max, unsigned wait_ms,
    struct atsm_jlog_entry *out, size_t *n, struct atsm_err *err)
{
	char why[JLOG_WHY_MAX];
	struct atsm_jlog_pos dur;
	struct timespec deadline;
	unsigned long long start = 0;
	const char *text = NULL;
	json_t *doc;
	size_t len = 0;
	int r;

	*n = 0;
	deadline_after(&deadline, wait_ms);
	pthread_mutex_lock(&j->mu);
	dur = j->durable;
	pthread_mutex_unlock(&j->mu);
	while (*n < max) {
		if ((r = next_line(j, &dur, &text, &len, &start, err)) == -1)
			goto fail;
		if (r == 0) {
			if (*n > 0 || wait_ms == 0 || !wait_grown(j, &dur, &deadline))
				break;
			continue;
		}
		if ((doc = atsm_journal_line_parse(text, len, why, sizeof(why))) == NULL) {
			if (reject_raw(j, start, why, text, len < ATSM_JOURNAL_RAW_KEEP ? len :
			    ATSM_JOURNAL_RAW_KEEP, len, err) == -1)
				goto fail;
			continue;
		}
		out[*n].doc = doc;
		out[*n].kind = json_string_value(json_object_get(doc, "kind"));
		out[*n].key = json_string_value(json_object_get(doc, "key"));
		out[*n].end = j->cursor;
		(*n)++;
	}
	return 0;
fail:
	/* the caller gets nothing: what was read is read again next time */
	atsm_jlog_entries_free(out, *n);
	*n = 0;
	atsm_jlog_rewind(j);
	return -1;
}

void
atsm_jlog_entries_free(struct atsm_jlog_entry *v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++) {
		json_decref(v[i].doc);
		v[i].doc = NULL;
	}
}

void
atsm_jlog_rewind(struct atsm_jlog *j)
{
	pthread_mutex_lock(&j->mu);
	j->cursor = j->checkpoint;
	pthread_mutex_unlock(&j->mu);
	j->rbuf_len = 0;
}

/* Durable bytes from a to b (a <= b): segments between them are closed,
 * so their sizes no longer change. */
static unsigned long long
distance(struct atsm_jlog *j, const struct atsm_jlog_pos *a, const struct atsm_jlog_pos *b)
{
	unsigned long long s, total;
	long long size;

	if (a->segment == b->segment)
		return b->offset - a->offset;
	size = atsm_jlog_seg_size(j, a->segment);
	total = size > 0 && (unsigned long long)size > a->offset ?
	    (unsigned long long)size - a->offset : 0;
	for (s = a->segment + 1; s < b->segment; s++)
		if ((size = atsm_jlog_seg_size(j, s)) > 0)
			total += (unsigned long long)size;
	return total + b->offset;
}

static int
checkpoint_store(struct atsm_jlog *j, const struct atsm_jlog_pos *pos, struct atsm_err *err)
{
	char name[ATSM_JOURNAL_COMPONENT_MAX + 16], tmp[ATSM_JOURNAL_COMPONENT_MAX + 24];
	char buf[64];
	int fd, n, e;

	snprintf(name, sizeof(name), "%s.checkpoint", j->component);
	snprintf(tmp, sizeof(tmp), "%s.checkpoint.tmp", j->component);
	n = snprintf(buf, sizeof(buf), "%016llx %llu\n", pos->segment, pos->offset);
	fd = openat(j->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1 || atsm_journal_write_all(fd, buf, (size_t)n) == -1 || fsync(fd) == -1) {
		e = errno;
		if (fd != -1)
			close(fd);
		unlinkat(j->dirfd, tmp, 0);
		return atsm_err_setc(err, ATSM_ERR_IO, "journal %s/%s: cannot write: %s",
		    j->dir, tmp, strerror(e));
	}
	close(fd);
	if (renameat(j->dirfd, tmp, j->dirfd, name) == -1 || fsync(j->dirfd) == -1)
		return atsm_err_setc(err, ATSM_ERR_IO, "journal %s/%s: cannot replace "
		    "it with %s: %s", j->dir, name, tmp, strerror(errno));
	return 0;
}

int
atsm_jlog_commit(struct atsm_jlog *j, const struct atsm_jlog_pos *pos,
    struct atsm_err *err)
{
	struct atsm_jlog_pos cp, dur;
	unsigned long long d;

	pthread_mutex_lock(&j->mu);
	cp = j->checkpoint;
	dur = j->durable;
	pthread_mutex_unlock(&j->mu);
	if (atsm_jlog_pos_cmp(pos, &dur) > 0 || atsm_jlog_pos_cmp(pos, &cp) < 0)
		return atsm_err_setc(err, ATSM_ERR_INPUT, "journal %s: cannot commit "
		    "position %016llx:%llu: it is not between the checkpoint "
		    "%016llx:%llu and the durable end %016llx:%llu", j->dir,
		    pos->segment, pos->offset, cp.segment, cp.offset, dur.segment,
		    dur.offset);
	d = distance(j, &cp, pos);
	if (checkpoint_store(j, pos, err) == -1)
		return -1;
	pthread_mutex_lock(&j->mu);
	j->checkpoint = *pos;
	j->cursor = *pos;
	j->st.backlog_bytes = j->st.backlog_bytes > d ? j->st.backlog_bytes - d : 0;
	pthread_mutex_unlock(&j->mu);
	j->rbuf_len = 0;
	atsm_jlog_drop_consumed(j);
	return 0;
}

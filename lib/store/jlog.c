/* store/jlog.c -- atsmaild's journal: opening it (lock, segments,
 * checkpoint, a torn last line cut off) and appending to it with group
 * commit (see store/jlog.h and docs/journal.md).  The reader, the
 * checkpoint and the rejected entries are jlog-read.c.
 *
 * Group commit: an appender builds its line, queues it under mu and, when
 * no other appender is writing, becomes the leader: it takes the whole
 * queue (at most JLOG_BATCH_MAX lines), lets go of mu, writes the lines
 * with one pwritev at the segment's end and makes them durable with one
 * fdatasync, then takes mu again, tells every appender of the batch how
 * it went and wakes them.  Appenders that queued meanwhile form the next
 * batch, led by the first of them to wake.  So one fdatasync serves every
 * mail that arrived while the previous one ran, and a lone mail pays one
 * fdatasync as before.
 *
 * A batch writes at wlen, the length of the segment before it, with
 * pwrite rather than O_APPEND: when the write or the sync fails, the
 * segment is cut back to wlen (ftruncate, then fdatasync so that the cut
 * survives a crash too) and every append of the batch fails.  Should even
 * the cut fail, the next batch tries it again before writing anything,
 * and fails while it cannot.  Nothing a caller was told failed stays
 * where the reader, or a replay after a crash, could find it.
 */
#include "store/jlog-int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"

#define JLOG_BATCH_MAX 1024          /* lines of one batch: IOV_MAX */
#define JLOG_TAIL_CHUNK 4096         /* bytes read back to find the last '\n' */

struct jlog_waiter {
	struct jlog_waiter *next;
	const char *line;
	size_t len;
	bool done;
	int rc;
	struct atsm_jlog_pos end;
	struct atsm_err *err;           /* the appender's, written under mu */
};

/* The number of a segment's name, or 0 when name is not one of ours. */
static unsigned long long
seg_number(const struct atsm_jlog *j, const char *name)
{
	size_t c = strlen(j->component), i;
	unsigned long long v = 0;
	const char *p;

	if (strncmp(name, j->component, c) != 0 || name[c] != '.')
		return 0;
	p = name + c + 1;
	for (i = 0; i < 16; i++) {
		if (p[i] >= '0' && p[i] <= '9')
			v = v * 16 + (unsigned)(p[i] - '0');
		else if (p[i] >= 'a' && p[i] <= 'f')
			v = v * 16 + (unsigned)(p[i] - 'a' + 10);
		else
			return 0;
	}
	return strcmp(p + 16, ".jsonl") == 0 ? v : 0;
}

/* The oldest and newest segment in the directory (0, 0 when none). */
static int
scan_segments(struct atsm_jlog *j, unsigned long long *lo, unsigned long long *hi,
    struct atsm_err *err)
{
	struct dirent *de;
	unsigned long long s;
	DIR *d;
	int fd;

	*lo = *hi = 0;
	if ((fd = dup(j->dirfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return atsm_err_setc(err, ATSM_ERR_IO, "journal directory %s: cannot "
		    "read: %s", j->dir, strerror(errno));
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if ((s = seg_number(j, de->d_name)) == 0)
			continue;
		if (*lo == 0 || s < *lo)
			*lo = s;
		if (s > *hi)
			*hi = s;
	}
	closedir(d);
	return 0;
}

/* The checkpoint file: "<segment, 16 hex digits> <offset>\n".  1 when
 * read, 0 when there is none, -1 when it cannot be read or makes no sense
 * (then the reader starts over at the oldest segment: keys make repeats
 * harmless). */
static int
checkpoint_load(struct atsm_jlog *j, struct atsm_jlog_pos *cp)
{
	char name[ATSM_JOURNAL_COMPONENT_MAX + 16], buf[64];
	ssize_t n;
	int fd;

	snprintf(name, sizeof(name), "%s.checkpoint", j->component);
	if ((fd = openat(j->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return errno == ENOENT ? 0 : -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (sscanf(buf, "%16llx %llu", &cp->segment, &cp->offset) != 2 || cp->segment == 0)
		return -1;
	return 1;
}

/* Cut a torn last line (no '\n': its append never returned) off the
 * segment open at fd, whose size is *len, and make what stays durable. */
static int
cut_torn_tail(struct atsm_jlog *j, int fd, const char *name, unsigned long long *len,
    struct atsm_err *err)
{
	char buf[JLOG_TAIL_CHUNK];
	unsigned long long end = *len, keep = 0, from;
	ssize_t got, i;

	while (end > 0) {
		from = end > sizeof(buf) ? end - sizeof(buf) : 0;
		got = pread(fd, buf, (size_t)(end - from), (off_t)from);
		if (got != (ssize_t)(end - from))
			return atsm_err_setc(err, ATSM_ERR_IO, "journal %s/%s: cannot "
			    "read: %s", j->dir, name, got == -1 ? strerror(errno) :
			    "short read");
		for (i = got - 1; i >= 0 && buf[i] != '\n'; i--)
			;
		if (i >= 0) {
			keep = from + (unsigned long long)i + 1;
			break;
		}
		end = from;
	}
	if (keep != *len) {
		atsm_log(LOG_WARNING, "journal %s/%s: cut off a torn last line of %llu "
		    "bytes (a crash during its append: it was never acknowledged)",
		    j->dir, name, *len - keep);
		if (ftruncate(fd, (off_t)keep) == -1)
			return atsm_err_setc(err, ATSM_ERR_IO, "journal %s/%s: cannot cut "
			    "off a torn last line: %s", j->dir, name, strerror(errno));
		*len = keep;
	}
	/* lines written before a crash of the process may still sit in the
	 * page cache: durable before the reader may see them */
	if (fdatasync(fd) == -1)
		return atsm_err_setc(err, ATSM_ERR_IO, "journal %s/%s: cannot sync to "
		    "disk: %s", j->dir, name, strerror(errno));
	return 0;
}

static int
seg_create(struct atsm_jlog *j, unsigned long long seg, int *fd, struct atsm_err *err)
{
	char name[JLOG_SEG_NAME_MAX];

	atsm_jlog_seg_name(j, seg, name);
	*fd = openat(j->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (*fd == -1)
		return atsm_err_setc(err, ATSM_ERR_IO, "journal %s/%s: cannot create: %s",
		    j->dir, name, strerror(errno));
	/* the name must survive a crash as well as the lines in it */
	if (fsync(j->dirfd) == -1) {
		atsm_err_setc(err, ATSM_ERR_IO, "journal directory %s: cannot sync "
		    "(creating %s): %s", j->dir, name, strerror(errno));
		close(*fd);
		*fd = -1;
		unlinkat(j->dirfd, name, 0);
		return -1;
	}
	return 0;
}

/* The segment to append to: the newest one (its torn tail cut off), or a
 * new one after the checkpoint's when there is none. */
static int
open_write_segment(struct atsm_jlog *j, unsigned long long hi, struct atsm_err *err)
{
	char name[JLOG_SEG_NAME_MAX];
	struct stat st;

	if (hi == 0) {
		j->wseg = j->checkpoint.segment + (j->checkpoint.offset > 0 ? 1 : 0);
		if (j->wseg == 0)
			j->wseg = 1;
		j->wlen = 0;
		j->checkpoint.segment = j->wseg;
		j->checkpoint.offset = 0;
		return seg_create(j, j->wseg, &j->wfd, err);
	}
	atsm_jlog_seg_name(j, hi, name);
	j->wfd = openat(j->dirfd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (j->wfd == -1 || fstat(j->wfd, &st) == -1)
		return atsm_err_setc(err, ATSM_ERR_IO, "journal %s/%s: cannot open: %s",
		    j->dir, name, strerror(errno));
	j->wseg = hi;
	j->wlen = (unsigned long long)st.st_size;
	return cut_torn_tail(j, j->wfd, name, &j->wlen, err);
}

/* Where the reader starts: the checkpoint, unless it is missing or does
 * not fit the segments found (then the oldest segment, from its start). */
static void
place_checkpoint(struct atsm_jlog *j, unsigned long long lo, unsigned long long hi)
{
	struct atsm_jlog_pos cp = { 0, 0 };
	long long size;
	int r;

	r = checkpoint_load(j, &cp);
	if (r == 1 && hi != 0 && cp.segment < lo) {
		cp.segment = lo;    /* its segments were consumed and removed */
		cp.offset = 0;
	} else if (r == 1 && hi != 0 && (cp.segment > hi ||
	    (size = atsm_jlog_seg_size(j, cp.segment)) < 0 ||
	    (unsigned long long)size < cp.offset)) {
		r = -1;
	}
	if (r == -1)
		atsm_log(LOG_WARNING, "journal %s: the checkpoint %s.checkpoint is "
		    "damaged or does not fit the segments: recording starts over at "
		    "the oldest segment (entries already recorded count as "
		    "duplicates)", j->dir, j->component);
	if (r != 1 && hi != 0) {
		cp.segment = lo;
		cp.offset = 0;
	}
	j->checkpoint = cp;
}

/* Durable bytes from the checkpoint to the end (at open). */
static unsigned long long
backlog_at_open(struct atsm_jlog *j)
{
	unsigned long long s, total = 0;
	long long size;

	for (s = j->checkpoint.segment; s < j->wseg; s++)
		if ((size = atsm_jlog_seg_size(j, s)) > 0)
			total += (unsigned long long)size;
	total += j->wlen;
	return total > j->checkpoint.offset ? total - j->checkpoint.offset : 0;
}

static int
take_lock(struct atsm_jlog *j, struct atsm_err *err)
{
	char name[ATSM_JOURNAL_COMPONENT_MAX + 8];

	snprintf(name, sizeof(name), "%s.lock", j->component);
	j->lockfd = openat(j->dirfd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (j->lockfd == -1)
		return atsm_err_setc(err, ATSM_ERR_IO, "journal lock %s/%s: cannot open: "
		    "%s", j->dir, name, strerror(errno));
	if (atsm_journal_flock(j->lockfd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			return atsm_err_setc(err, ATSM_ERR_UNAVAILABLE, "journal %s: "
			    "the journal of %s is open in another process (it holds "
			    "%s/%s): is another atsmaild, or atsmailctl replay, "
			    "running?", j->dir, j->component, j->dir, name);
		return atsm_err_setc(err, ATSM_ERR_IO, "journal lock %s/%s: cannot "
		    "lock: %s", j->dir, name, strerror(errno));
	}
	return 0;
}

int
atsm_jlog_open(const char *dir, const char *component, size_t segment_max,
    struct atsm_jlog **out, struct atsm_err *err)
{
	struct atsm_jlog *j;
	pthread_condattr_t ca;
	unsigned long long lo, hi;

	*out = NULL;
	if (!atsm_journal_component_ok(component))
		return atsm_err_setc(err, ATSM_ERR_INPUT, "journal in %s: component "
		    "name '%s' is not 1-%d characters of A-Z a-z 0-9 - _ (or is "
		    "'rejected')", dir != NULL ? dir : "", component != NULL ?
		    component : "", ATSM_JOURNAL_COMPONENT_MAX);
	if (atsm_journal_mkdir(dir, err) == -1)
		return -1;
	if ((j = calloc(1, sizeof(*j))) == NULL || (j->dir = strdup(dir)) == NULL) {
		free(j);
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "journal %s: out of memory", dir);
	}
	snprintf(j->component, sizeof(j->component), "%s", component);
	atsm_journal_host(j->host);
	j->segment_max = segment_max > 0 ? segment_max : ATSM_JLOG_SEGMENT_DEFAULT;
	j->lockfd = j->wfd = j->rfd = j->rejfd = -1;
	pthread_mutex_init(&j->mu, NULL);
	pthread_mutex_init(&j->rejmu, NULL);
	pthread_cond_init(&j->turn, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&j->grown, &ca);
	pthread_condattr_destroy(&ca);

	j->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (j->dirfd == -1) {
		atsm_err_setc(err, ATSM_ERR_IO, "journal directory %s: cannot open: %s",
		    dir, strerror(errno));
		goto fail;
	}
	if (take_lock(j, err) == -1 || scan_segments(j, &lo, &hi, err) == -1)
		goto fail;
	place_checkpoint(j, lo, hi);
	if (open_write_segment(j, hi, err) == -1)
		goto fail;
	j->durable.segment = j->wseg;
	j->durable.offset = j->wlen;
	j->cursor = j->checkpoint;
	j->st.backlog_bytes = backlog_at_open(j);
	atsm_jlog_drop_consumed(j);
	*out = j;
	return 0;
fail:
	atsm_jlog_close(j);
	return -1;
}

void
atsm_jlog_close(struct atsm_jlog *j)
{
	if (j == NULL)
		return;
	if (j->wfd != -1)
		close(j->wfd);
	if (j->rfd != -1)
		close(j->rfd);
	if (j->rejfd != -1)
		close(j->rejfd);
	/* the lock goes with its descriptor; the file stays, so that two
	 * openers never lock two different files of the same name */
	if (j->lockfd != -1)
		close(j->lockfd);
	if (j->dirfd != -1)
		close(j->dirfd);
	pthread_cond_destroy(&j->grown);
	pthread_cond_destroy(&j->turn);
	pthread_mutex_destroy(&j->rejmu);
	pthread_mutex_destroy(&j->mu);
	free(j->rbuf);
	free(j->dir);
	free(j);
}

/* ---- the leader's side: one batch ---------------------------------- */

/* Cut the segment back to wlen after a failed batch, durably. */
static int
cut_back(struct atsm_jlog *j)
{
	if (ftruncate(j->wfd, (off_t)j->wlen) == -1 || fdatasync(j->wfd) == -1) {
		j->cut_pending = true;
		return -1;
	}
	j->cut_pending = false;
	return 0;
}

static int
rotate(struct atsm_jlog *j, struct atsm_err *err)
{
	int fd;

	if (seg_create(j, j->wseg + 1, &fd, err) == -1)
		return -1;
	close(j->wfd);
	j->wfd = fd;
	j->wseg++;
	j->wlen = 0;
	return 0;
}

static int
write_all_at(int fd, struct iovec *iov, int cnt, off_t off)
{
	ssize_t w;
	size_t left;

	while (cnt > 0) {
		w = pwritev(fd, iov, cnt, off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return -1;
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		off += w;
		/* a short write: skip what went out, write the rest */
		for (left = (size_t)w; cnt > 0 && left >= iov->iov_len; iov++, cnt--)
			left -= iov->iov_len;
		if (cnt > 0) {
			iov->iov_base = (char *)iov->iov_base + left;
			iov->iov_len -= left;
		}
	}
	return 0;
}

/* Write the n lines from first on (bytes in all) and sync them: 0 with
 * each waiter's end set, or -1 with err and the segment as it was. */
static int
write_batch(struct atsm_jlog *j, struct jlog_waiter *first, size_t n, size_t bytes,
    struct atsm_err *err)
{
	struct iovec iov[JLOG_BATCH_MAX];
	char name[JLOG_SEG_NAME_MAX];
	unsigned long long at;
	struct jlog_waiter *w;
	const char *what;
	size_t i;
	int e;

	atsm_jlog_seg_name(j, j->wseg, name);
	if (j->cut_pending && cut_back(j) == -1)
		return atsm_err_setc(err, ATSM_ERR_IO, "journal %s/%s: cannot cut back "
		    "a failed write, so nothing more is written to it: %s", j->dir,
		    name, strerror(errno));
	if (j->wlen > 0 && j->wlen + bytes > j->segment_max) {
		if (rotate(j, err) == -1)
			return -1;
		atsm_jlog_seg_name(j, j->wseg, name);
	}
	at = j->wlen;
	for (w = first, i = 0; i < n; w = w->next, i++) {
		iov[i].iov_base = (void *)w->line;
		iov[i].iov_len = w->len;
		at += w->len;
		w->end.segment = j->wseg;
		w->end.offset = at;
	}
	what = "write";
	if (write_all_at(j->wfd, iov, (int)n, (off_t)j->wlen) == 0) {
		what = "sync to disk";
		if (fdatasync(j->wfd) == 0) {
			j->wlen += bytes;
			return 0;
		}
	}
	e = errno;
	cut_back(j);
	return atsm_err_setc(err, ATSM_ERR_IO, "journal %s/%s: cannot %s %zu %s: %s",
	    j->dir, name, what, n, n == 1 ? "entry" : "entries", strerror(e));
}

/* With mu held and j->leading set: write the head of the queue as one
 * batch and hand each of its appenders the outcome. */
static void
lead(struct atsm_jlog *j)
{
	struct jlog_waiter *first = j->head, *last = NULL, *w, *next;
	struct atsm_err berr;
	size_t n = 0, bytes = 0;
	int rc;

	for (w = first; w != NULL && n < JLOG_BATCH_MAX; w = w->next) {
		n++;
		bytes += w->len;
		last = w;
	}
	j->head = last->next;
	if (j->head == NULL)
		j->tail = NULL;
	last->next = NULL;

	pthread_mutex_unlock(&j->mu);
	rc = write_batch(j, first, n, bytes, &berr);
	pthread_mutex_lock(&j->mu);

	j->st.batches++;
	if (rc == 0) {
		j->st.appended += n;
		j->st.backlog_bytes += bytes;
	} else {
		j->st.failed += n;
		atsm_log(LOG_ERR, "%s", berr.msg);
	}
	for (w = first; w != NULL; w = next) {
		next = w->next;   /* w may be gone once done is seen */
		w->rc = rc;
		if (rc != 0 && w->err != NULL)
			*w->err = berr;
		w->done = true;
	}
	j->durable.segment = j->wseg;
	j->durable.offset = j->wlen;
	pthread_cond_broadcast(&j->grown);
}

int
atsm_jlog_append(struct atsm_jlog *j, const char *kind, const char *key, json_t *data,
    struct atsm_jlog_pos *pos, struct atsm_err *err)
{
	struct jlog_waiter w;
	char where[PATH_MAX], *line;
	size_t len;

	snprintf(where, sizeof(where), "%s/%s", j->dir, j->component);
	if ((line = atsm_journal_line(where, j->host, kind, key, data, &len, err)) == NULL) {
		pthread_mutex_lock(&j->mu);
		j->st.failed++;
		pthread_mutex_unlock(&j->mu);
		return -1;
	}
	memset(&w, 0, sizeof(w));
	w.line = line;
	w.len = len;
	w.err = err;

	pthread_mutex_lock(&j->mu);
	if (j->tail != NULL)
		j->tail->next = &w;
	else
		j->head = &w;
	j->tail = &w;
	while (!w.done) {
		if (!j->leading) {
			j->leading = true;
			lead(j);
			j->leading = false;
			pthread_cond_broadcast(&j->turn);
		} else {
			pthread_cond_wait(&j->turn, &j->mu);
		}
	}
	pthread_mutex_unlock(&j->mu);
	free(line);
	if (w.rc == 0 && pos != NULL)
		*pos = w.end;
	return w.rc;
}

void
atsm_jlog_stats(struct atsm_jlog *j, struct atsm_jlog_stats *st)
{
	pthread_mutex_lock(&j->mu);
	*st = j->st;
	pthread_mutex_unlock(&j->mu);
}

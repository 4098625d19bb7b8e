/* store/journal-replay.c -- atsm_journal_replay(): every journal file of a
 * directory through a callback, exactly once with the callback's help (see
 * store/journal.h and docs/journal.md, "Replay").
 *
 * It reads the files of the format-1 writers (journal.c: milter.jsonl,
 * dovecot.jsonl) and the segments of atsmaild's journal (jlog.c:
 * <component>.<16 hex digits>.jsonl) moved here from another host: their
 * lines are the same (journal-line.c).  A directory that a running
 * atsmaild holds (its <component>.lock is locked) is refused: its segments
 * belong to its recorder, which keeps its own checkpoint.
 *
 * Locking protocol with the format-1 writers: see journal.c.  The replay
 * renames each file first, then takes and drops flock(LOCK_EX) on it, so
 * that a writer that checked the path just before the rename finishes
 * first.  Entries the callback could not take (RETRY) stay in the renamed
 * file; the offset of the first of them is kept in "<file>.offset".
 */
#include "store/journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "store/journal-line.h"

#define JOURNAL_SUFFIX ".jsonl"
#define REJECTED_SUFFIX ".rejected.jsonl"   /* atsmaild's rejected entries */
#define LOCK_SUFFIX ".lock"                  /* held by a running atsmaild */
#define REPLAYING_SUFFIX ".replaying"
#define OFFSET_SUFFIX ".offset"
#define REPLAY_FILES_MAX 10000       /* files taken by one replay run */
#define LOCKS_MAX 64                 /* atsmaild lock files looked at */
#define READ_CHUNK 65536

static char *
path_join(const char *dir, const char *name, const char *suffix)
{
	size_t n = strlen(dir) + strlen(name) + strlen(suffix) + 2;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s/%s%s", dir, name, suffix);
	return p;
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && strcmp(s + n - m, suffix) == 0;
}

struct reader {
	int fd;
	char *buf;
	size_t pos, len;
	off_t off;              /* file offset of buf[pos] */
	bool eof;
};

/* One line into line (without '\n'); *start its offset, *toolong when it
 * passed the limit (line then holds its beginning).  1, 0 at EOF, -1. */
static int
reader_line(struct reader *r, struct atsm_buf *line, off_t *start,
    bool *toolong, size_t *total)
{
	char *nl;
	size_t n;
	ssize_t got;
	bool any = false;

	atsm_buf_reset(line);
	*toolong = false;
	*total = 0;
	*start = r->off;
	for (;;) {
		if (r->pos == r->len) {
			if (r->eof)
				return any ? 1 : 0;
			got = read(r->fd, r->buf, READ_CHUNK);
			if (got == -1 && errno == EINTR)
				continue;
			if (got == -1)
				return -1;
			r->pos = 0;
			r->len = (size_t)got;
			if (got == 0) {
				r->eof = true;
				continue;
			}
		}
		any = true;
		nl = memchr(r->buf + r->pos, '\n', r->len - r->pos);
		n = nl != NULL ? (size_t)(nl - (r->buf + r->pos)) :
		    r->len - r->pos;
		if (!*toolong && atsm_buf_append(line, r->buf + r->pos, n) == -1)
			*toolong = true;
		*total += n;
		r->pos += n;
		r->off += (off_t)n;
		if (nl != NULL) {
			r->pos++;
			r->off++;
			return 1;
		}
	}
}

struct replay {
	const char *dir;
	atsm_journal_apply_fn fn;
	void *ctx;
	struct atsm_journal_summary *sum;
	struct atsm_err *err;
	json_t *seen;           /* keys applied in this run, as a set */
	int rejfd;              /* rejected.jsonl, opened on first use */
	char *rejpath;
};

static int
reject_write(struct replay *rp, const char *file, off_t off,
    const char *reason, json_t *entry, const char *raw, size_t rawlen,
    size_t fullen)
{
	char *line;
	size_t len;
	int rc;

	if (rp->rejfd == -1) {
		rp->rejfd = open(rp->rejpath, O_WRONLY | O_APPEND | O_CREAT |
		    O_CLOEXEC | O_NOFOLLOW, 0600);
		if (rp->rejfd == -1)
			return atsm_err_setc(rp->err, ATSM_ERR_IO, "%s: cannot open: %s",
			    rp->rejpath, strerror(errno));
		if (atsm_journal_fsync_dir(rp->dir) == -1)
			return atsm_err_setc(rp->err, ATSM_ERR_IO, "journal directory "
			    "%s: cannot sync: %s", rp->dir, strerror(errno));
	}
	line = atsm_journal_reject_line(reason, file, (long long)off, entry, raw, rawlen,
	    fullen, &len);
	if (line == NULL)
		return atsm_err_setc(rp->err, ATSM_ERR_NOMEM, "%s: cannot encode the "
		    "entry at offset %lld of %s", rp->rejpath, (long long)off, file);
	rc = atsm_journal_write_all(rp->rejfd, line, len);
	free(line);
	if (rc == -1 || fdatasync(rp->rejfd) == -1)
		return atsm_err_setc(rp->err, ATSM_ERR_IO, "%s: cannot write: %s",
		    rp->rejpath, strerror(errno));
	return 0;
}

static int
offset_read(const char *opath, off_t *off)
{
	char buf[32], *end;
	long long v;
	ssize_t n;
	int fd;

	*off = 0;
	if ((fd = open(opath, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	errno = 0;
	v = strtoll(buf, &end, 10);
	/* a damaged side-file means starting over: the keys make that safe */
	if (errno == 0 && end != buf && v >= 0)
		*off = (off_t)v;
	return 0;
}

static int
offset_write(struct replay *rp, const char *opath, off_t off)
{
	char buf[32], tmp[PATH_MAX];
	int fd, n;

	snprintf(tmp, sizeof(tmp), "%s.tmp", opath);
	n = snprintf(buf, sizeof(buf), "%lld\n", (long long)off);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1 || atsm_journal_write_all(fd, buf, (size_t)n) == -1 ||
	    fsync(fd) == -1) {
		atsm_err_set(rp->err, "%s: cannot write: %s", tmp,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	close(fd);
	if (rename(tmp, opath) == -1 || atsm_journal_fsync_dir(rp->dir) == -1)
		return atsm_err_set(rp->err, "%s: cannot rename to %s: %s",
		    tmp, opath, strerror(errno));
	return 0;
}

/* Lines (complete or not) from off to the end of path. */
static unsigned
count_lines(const char *path, off_t off)
{
	char buf[READ_CHUNK];
	unsigned n = 0;
	bool partial = false;
	ssize_t got, i;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	if (lseek(fd, off, SEEK_SET) == off) {
		while ((got = read(fd, buf, sizeof(buf))) > 0) {
			for (i = 0; i < got; i++)
				if (buf[i] == '\n')
					n++;
			partial = buf[got - 1] != '\n';
		}
	}
	close(fd);
	return n + (partial ? 1 : 0);
}

enum line_result { LINE_DONE, LINE_STOP, LINE_ERROR };

static enum line_result
replay_entry(struct replay *rp, const char *file, off_t start,
    const char *text, size_t len, bool toolong, size_t total)
{
	char reason[320];
	const char *key, *kind;
	enum atsm_journal_verdict v;
	json_t *doc = NULL;
	enum line_result res = LINE_DONE;

	if (toolong) {
		snprintf(reason, sizeof(reason), "line of %zu bytes, longer "
		    "than the limit of %u", total, ATSM_JOURNAL_LINE_MAX);
		goto malformed;
	}
	if ((doc = atsm_journal_line_parse(text, len, reason, sizeof(reason))) == NULL)
		goto malformed;
	key = json_string_value(json_object_get(doc, "key"));
	kind = json_string_value(json_object_get(doc, "kind"));
	if (json_object_get(rp->seen, key) != NULL) {
		rp->sum->duplicate++;
		goto out;
	}
	v = rp->fn(kind, key, doc, rp->ctx);
	switch (v) {
	case ATSM_JOURNAL_APPLIED:
	case ATSM_JOURNAL_DUPLICATE:
		if (v == ATSM_JOURNAL_APPLIED)
			rp->sum->applied++;
		else
			rp->sum->duplicate++;
		if (json_object_size(rp->seen) < ATSM_JOURNAL_SEEN_MAX)
			json_object_set_new(rp->seen, key, json_true());
		break;
	case ATSM_JOURNAL_RETRY:
		res = LINE_STOP;
		break;
	case ATSM_JOURNAL_REJECT:
	default:
		if (reject_write(rp, file, start, "rejected by the database",
		    doc, NULL, 0, 0) == -1)
			res = LINE_ERROR;
		else
			rp->sum->rejected++;
		break;
	}
	goto out;
malformed:
	if (reject_write(rp, file, start, reason, NULL, text,
	    len < ATSM_JOURNAL_RAW_KEEP || !toolong ? len : ATSM_JOURNAL_RAW_KEEP, total) == -1)
		res = LINE_ERROR;
	else
		rp->sum->malformed++;
out:
	json_decref(doc);
	return res;
}

static bool
blank(const char *s, size_t n)
{
	while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\r'))
		s++, n--;
	return n == 0;
}

/* Replay one renamed file: 0 done (deleted), 1 stopped (rest kept), -1. */
static int
replay_file(struct replay *rp, const char *name)
{
	struct reader r = { .fd = -1 };
	struct atsm_buf line;
	enum line_result res = LINE_DONE;
	char *path, *opath;
	off_t start, begin;
	struct stat st;
	bool toolong;
	size_t total;
	int rc = -1, got;

	path = path_join(rp->dir, name, "");
	opath = path_join(rp->dir, name, OFFSET_SUFFIX);
	r.buf = malloc(READ_CHUNK);
	atsm_buf_init(&line, ATSM_JOURNAL_LINE_MAX);
	if (path == NULL || opath == NULL || r.buf == NULL) {
		atsm_err_set(rp->err, "journal %s/%s: out of memory", rp->dir,
		    name);
		goto out;
	}
	if ((r.fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		atsm_err_set(rp->err, "journal %s: cannot open: %s", path,
		    strerror(errno));
		goto out;
	}
	/* barrier: an append that began before the rename ends first */
	if (atsm_journal_flock(r.fd, LOCK_EX) == -1 || atsm_journal_flock(r.fd, LOCK_UN) ==
	    -1) {
		atsm_err_set(rp->err, "journal %s: cannot lock: %s", path,
		    strerror(errno));
		goto out;
	}
	if (offset_read(opath, &r.off) == -1 || fstat(r.fd, &st) == -1) {
		atsm_err_set(rp->err, "journal %s: cannot read the offset kept "
		    "in %s: %s", path, opath, strerror(errno));
		goto out;
	}
	/* a damaged side-file past the end must not make us skip the file */
	if (r.off > st.st_size)
		r.off = 0;
	if (lseek(r.fd, r.off, SEEK_SET) != r.off) {
		atsm_err_set(rp->err, "journal %s: cannot resume at the offset "
		    "kept in %s: %s", path, opath, strerror(errno));
		goto out;
	}
	begin = r.off;
	start = r.off;
	rp->sum->files++;
	while ((got = reader_line(&r, &line, &start, &toolong, &total)) == 1) {
		if (!toolong && blank(atsm_buf_str(&line), line.len))
			continue;
		res = replay_entry(rp, name, start, atsm_buf_str(&line),
		    line.len, toolong, total);
		if (res != LINE_DONE)
			break;
	}
	if (got == -1) {
		atsm_err_set(rp->err, "journal %s: cannot read: %s", path,
		    strerror(errno));
		res = LINE_ERROR;
	}
	if (res != LINE_DONE) {
		/* keep the entry at start and all after it for the next run */
		if (start != begin && offset_write(rp, opath, start) == -1)
			res = LINE_ERROR;
		rp->sum->remaining += count_lines(path, start);
		if (res == LINE_STOP) {
			rp->sum->stopped = true;
			rc = 1;
		}
		goto out;
	}
	if (unlink(path) == -1 || (unlink(opath) == -1 && errno != ENOENT)) {
		atsm_err_set(rp->err, "journal %s: replayed, but cannot remove "
		    "it: %s", path, strerror(errno));
		goto out;
	}
	atsm_journal_fsync_dir(rp->dir);
	rc = 0;
out:
	if (r.fd != -1)
		close(r.fd);
	atsm_buf_free(&line);
	free(r.buf);
	free(path);
	free(opath);
	return rc;
}

/* Sort key of "<base>.<stamp>.replaying": the stamp, so older runs' files
 * come first. */
static const char *
stamp_of(const char *name, size_t *n)
{
	size_t len = strlen(name) - strlen(REPLAYING_SUFFIX);
	const char *p = name + len;

	while (p > name && p[-1] != '.')
		p--;
	*n = (size_t)(name + len - p);
	return p;
}

static int
name_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	size_t nx, ny;
	const char *sx = stamp_of(x, &nx), *sy = stamp_of(y, &ny);
	int c = strncmp(sx, sy, nx < ny ? nx : ny);

	if (c == 0 && nx != ny)
		c = nx < ny ? -1 : 1;
	return c != 0 ? c : strcmp(x, y);
}

static void
free_names(char **names, size_t n)
{
	while (n > 0)
		free(names[--n]);
	free(names);
}

static int
name_strcmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A journal file to take: <base>.jsonl, not a file of rejected entries. */
static bool
takes(const char *name)
{
	return name[0] != '.' && ends_with(name, JOURNAL_SUFFIX) &&
	    strcmp(name, ATSM_JOURNAL_REJECTED) != 0 && !ends_with(name, REJECTED_SUFFIX);
}

/* Rename every <base>.jsonl to <base>.<stamp>-<n>.replaying, in name order,
 * so that the segments of a moved atsmaild journal (numbered, fixed
 * width) are replayed in the order they were written. */
static int
take_files(struct replay *rp)
{
	struct timespec ts;
	struct tm tm;
	struct dirent *de;
	char stamp[64], from[PATH_MAX], to[PATH_MAX], **names;
	size_t n = 0, i, len;
	DIR *d;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
	if ((d = opendir(rp->dir)) == NULL)
		return atsm_err_setc(rp->err, ATSM_ERR_IO, "journal directory %s: "
		    "cannot read: %s", rp->dir, strerror(errno));
	if ((names = calloc(REPLAY_FILES_MAX, sizeof(*names))) == NULL) {
		closedir(d);
		return atsm_err_setc(rp->err, ATSM_ERR_NOMEM, "journal %s: out of "
		    "memory", rp->dir);
	}
	/* past the limit, the rest waits for the next run */
	while ((de = readdir(d)) != NULL && n < REPLAY_FILES_MAX) {
		if (!takes(de->d_name))
			continue;
		if ((names[n] = strdup(de->d_name)) == NULL) {
			rc = atsm_err_setc(rp->err, ATSM_ERR_NOMEM, "journal %s: out "
			    "of memory", rp->dir);
			break;
		}
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_strcmp);
	for (i = 0; rc == 0 && i < n; i++) {
		len = strlen(names[i]) - strlen(JOURNAL_SUFFIX);
		snprintf(from, sizeof(from), "%s/%s", rp->dir, names[i]);
		if ((size_t)snprintf(to, sizeof(to), "%s/%.*s.%s%06ldZ-%04zu%s",
		    rp->dir, (int)len, names[i], stamp, ts.tv_nsec / 1000,
		    i, REPLAYING_SUFFIX) >= sizeof(to)) {
			rc = atsm_err_set(rp->err, "journal %s: name too long "
			    "to rename for replay", from);
			break;
		}
		if (rename(from, to) == -1) {
			rc = atsm_err_setc(rp->err, ATSM_ERR_IO, "journal %s: cannot "
			    "rename to %s for replay: %s", from, to, strerror(errno));
			break;
		}
	}
	free_names(names, n);
	atsm_journal_fsync_dir(rp->dir);
	return rc;
}

static int
list_files(struct replay *rp, char ***out, size_t *count)
{
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	DIR *d;

	*out = NULL;
	*count = 0;
	if ((d = opendir(rp->dir)) == NULL)
		return atsm_err_set(rp->err, "journal directory %s: cannot "
		    "read: %s", rp->dir, strerror(errno));
	if ((names = calloc(REPLAY_FILES_MAX, sizeof(*names))) == NULL) {
		closedir(d);
		return atsm_err_set(rp->err, "journal %s: out of memory",
		    rp->dir);
	}
	while ((de = readdir(d)) != NULL && n < REPLAY_FILES_MAX) {
		if (de->d_name[0] == '.' || !ends_with(de->d_name,
		    REPLAYING_SUFFIX))
			continue;
		if ((names[n] = strdup(de->d_name)) == NULL) {
			closedir(d);
			free_names(names, n);
			return atsm_err_set(rp->err, "journal %s: out of "
			    "memory", rp->dir);
		}
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	*out = names;
	*count = n;
	return 0;
}

/* Lock every <component>.lock of atsmaild's journal (store/jlog.h) that
 * is in dir, and keep them locked until the replay ends (fds[], *n): -1
 * with err when a running atsmaild holds one. */
static int
hold_service_locks(const char *dir, int fds[LOCKS_MAX], size_t *n, struct atsm_err *err)
{
	struct dirent *de;
	char path[PATH_MAX];
	DIR *d;
	int fd, rc = 0;

	*n = 0;
	if ((d = opendir(dir)) == NULL)
		return atsm_err_setc(err, ATSM_ERR_IO, "journal directory %s: cannot "
		    "read: %s", dir, strerror(errno));
	while (rc == 0 && (de = readdir(d)) != NULL && *n < LOCKS_MAX) {
		if (de->d_name[0] == '.' || !ends_with(de->d_name, LOCK_SUFFIX))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
			continue;   /* gone meanwhile, or not a file of ours */
		if (atsm_journal_flock(fd, LOCK_EX | LOCK_NB) == -1) {
			rc = atsm_err_setc(err, ATSM_ERR_UNAVAILABLE, "journal %s is "
			    "in use by a running atsmaild (it holds %s): its recorder "
			    "records it; replay only a journal moved from another host, "
			    "or stop atsmaild first", dir, path);
			close(fd);
			break;
		}
		fds[(*n)++] = fd;
	}
	closedir(d);
	return rc;
}

int
atsm_journal_replay(const char *dir, atsm_journal_apply_fn fn, void *ctx,
    struct atsm_journal_summary *sum, struct atsm_err *err)
{
	struct atsm_journal_summary local;
	struct replay rp = { .dir = dir, .fn = fn, .ctx = ctx,
	    .sum = sum != NULL ? sum : &local, .err = err, .rejfd = -1 };
	char *lockpath = NULL, **names = NULL, *path, *opath;
	struct stat st;
	int lockfd = -1, rc = -1, r, svcfds[LOCKS_MAX];
	size_t n = 0, i, nsvc = 0;
	off_t off;

	sum = rp.sum;
	memset(sum, 0, sizeof(*sum));
	if (dir == NULL || fn == NULL)
		return atsm_err_set(err, "journal replay: no directory or "
		    "callback given");
	if (stat(dir, &st) == -1)
		return atsm_err_set(err, "journal directory %s: %s", dir,
		    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return atsm_err_set(err, "journal directory %s is not a "
		    "directory", dir);
	lockpath = path_join(dir, ATSM_JOURNAL_LOCK, "");
	rp.rejpath = path_join(dir, ATSM_JOURNAL_REJECTED, "");
	rp.seen = json_object();
	if (lockpath == NULL || rp.rejpath == NULL || rp.seen == NULL) {
		atsm_err_set(err, "journal %s: out of memory", dir);
		goto out;
	}
	lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lockfd == -1) {
		atsm_err_set(err, "journal lock %s: cannot open: %s", lockpath,
		    strerror(errno));
		goto out;
	}
	if (atsm_journal_flock(lockfd, LOCK_EX | LOCK_NB) == -1) {
		atsm_err_set(err, "journal %s: another replay is running (it "
		    "holds %s)", dir, lockpath);
		goto out;
	}
	if (hold_service_locks(dir, svcfds, &nsvc, err) == -1)
		goto out;
	if (take_files(&rp) == -1 || list_files(&rp, &names, &n) == -1)
		goto out;
	r = 0;
	for (i = 0; i < n && r == 0; i++)
		r = replay_file(&rp, names[i]);
	/* files a stop or an error left untouched wait for the next run */
	for (; i < n; i++) {
		path = path_join(dir, names[i], "");
		opath = path_join(dir, names[i], OFFSET_SUFFIX);
		if (path != NULL && opath != NULL &&
		    offset_read(opath, &off) == 0)
			sum->remaining += count_lines(path, off);
		free(opath);
		free(path);
	}
	rc = r == -1 ? -1 : 0;
out:
	if (rp.rejfd != -1)
		close(rp.rejfd);
	while (nsvc > 0)
		close(svcfds[--nsvc]);
	if (lockfd != -1)
		close(lockfd);
	free_names(names, n);
	json_decref(rp.seen);
	free(rp.rejpath);
	free(lockpath);
	return rc;
}

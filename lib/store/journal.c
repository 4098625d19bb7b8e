/* store/journal.c -- append-only local journal and its replay (see store/journal.h
 * and docs/journal.md).
 *
 * Locking protocol between writers and a replay:
 *  - a writer takes flock(LOCK_EX) on its open file, then checks that the
 *    path still names that file (st_dev/st_ino); if not, a replay renamed
 *    it away, and the writer reopens the path (a new file) before writing;
 *  - a replay renames the file first, then takes and drops flock(LOCK_EX)
 *    on it: this waits for a writer that checked the path just before the
 *    rename, and every later writer sees the rename.  So the renamed file
 *    is complete once the replay reads it, and writers are never held up
 *    for longer than one append while a replay works.
 * Entries the callback could not take (RETRY) stay in the renamed file;
 * the offset of the first of them is kept in "<file>.offset".
 */
#include "store/journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "base/buf.h"

#define JOURNAL_SUFFIX ".jsonl"
#define REPLAYING_SUFFIX ".replaying"
#define OFFSET_SUFFIX ".offset"
#define REPLAY_FILES_MAX 10000       /* files taken by one replay run */
#define REOPEN_TRIES 1000            /* renames raced in one append */
#define RAW_KEEP 4096                /* bytes of an over-long line kept */
#define READ_CHUNK 65536

struct atsm_journal {
	pthread_mutex_t mu;
	int fd;                 /* -1 after a failed reopen */
	bool dir_synced;        /* the name of the file at fd is on disk */
	char *dir;
	char *path;
	char host[256];
};

/* ---- small helpers ---- */

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

static void
now_iso(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
fsync_dir(const char *dir)
{
	int fd, rc;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Make the entry of a new directory durable in its parent. */
static void
fsync_parent(const char *dir)
{
	char parent[PATH_MAX];
	size_t n = strlen(dir);
	char *slash;

	if (n >= sizeof(parent))
		return;
	memcpy(parent, dir, n + 1);
	while (n > 1 && parent[n - 1] == '/')
		parent[--n] = '\0';
	if ((slash = strrchr(parent, '/')) == NULL)
		strcpy(parent, ".");
	else if (slash == parent)
		parent[1] = '\0';
	else
		*slash = '\0';
	fsync_dir(parent);
}

static int
flock_retry(int fd, int op)
{
	int rc;

	while ((rc = flock(fd, op)) == -1 && errno == EINTR)
		;
	return rc;
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return -1;
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static bool
component_ok(const char *c)
{
	size_t n = strlen(c), i;

	if (n == 0 || n > ATSM_JOURNAL_COMPONENT_MAX ||
	    strcmp(c, "rejected") == 0)
		return false;
	for (i = 0; i < n; i++)
		if (!((c[i] >= 'a' && c[i] <= 'z') || (c[i] >= 'A' &&
		    c[i] <= 'Z') || (c[i] >= '0' && c[i] <= '9') ||
		    c[i] == '-' || c[i] == '_'))
			return false;
	return true;
}

/* ---- writer ---- */

static int
journal_reopen(struct atsm_journal *j, struct atsm_err *err)
{
	if (j->fd != -1)
		close(j->fd);
	j->fd = open(j->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (j->fd == -1)
		return atsm_err_setc(err, ATSM_ERR_IO,
		    "journal %s: cannot open: %s",
		    j->path, strerror(errno));
	j->dir_synced = false;
	return 0;
}

struct atsm_journal *
atsm_journal_open(const char *dir, const char *component, struct atsm_err *err)
{
	struct atsm_journal *j;
	struct stat st;

	if (dir == NULL || *dir == '\0') {
		atsm_err_set(err, "journal: no directory given");
		return NULL;
	}
	if (component == NULL || !component_ok(component)) {
		atsm_err_set(err, "journal in %s: component name '%s' is not "
		    "1-%d characters of A-Z a-z 0-9 - _ (or is 'rejected')",
		    dir, component != NULL ? component : "",
		    ATSM_JOURNAL_COMPONENT_MAX);
		return NULL;
	}
	if (mkdir(dir, 0700) == 0) {
		fsync_parent(dir);
	} else if (errno != EEXIST) {
		atsm_err_setc(err, ATSM_ERR_IO,
		    "journal directory %s: cannot create: %s",
		    dir, strerror(errno));
		return NULL;
	}
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		atsm_err_setc(err, ATSM_ERR_IO,
		    "journal directory %s is not a directory",
		    dir);
		return NULL;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		atsm_err_setc(err, ATSM_ERR_NOMEM,
		    "journal %s: out of memory", dir);
		return NULL;
	}
	j->fd = -1;
	j->dir = strdup(dir);
	j->path = path_join(dir, component, JOURNAL_SUFFIX);
	if (j->dir == NULL || j->path == NULL) {
		atsm_err_setc(err, ATSM_ERR_NOMEM,
		    "journal %s: out of memory", dir);
		goto fail;
	}
	if (gethostname(j->host, sizeof(j->host) - 1) == -1)
		j->host[0] = '\0';
	pthread_mutex_init(&j->mu, NULL);
	if (journal_reopen(j, err) == -1) {
		pthread_mutex_destroy(&j->mu);
		goto fail;
	}
	return j;
fail:
	if (j->fd != -1)
		close(j->fd);
	free(j->dir);
	free(j->path);
	free(j);
	return NULL;
}

void
atsm_journal_close(struct atsm_journal *j)
{
	if (j == NULL)
		return;
	if (j->fd != -1)
		close(j->fd);
	pthread_mutex_destroy(&j->mu);
	free(j->dir);
	free(j->path);
	free(j);
}

const char *
atsm_journal_path(const struct atsm_journal *j)
{
	return j->path;
}

/* 1 when the path still names the open file, 0 when a replay renamed it. */
static int
journal_current(struct atsm_journal *j)
{
	struct stat sp, sf;

	if (fstat(j->fd, &sf) == -1)
		return -1;
	if (stat(j->path, &sp) == -1)
		return errno == ENOENT ? 0 : -1;
	return sp.st_dev == sf.st_dev && sp.st_ino == sf.st_ino;
}

/* Under j->mu: lock the file, reopening it while a replay renames it. */
static int
journal_lock(struct atsm_journal *j, struct atsm_err *err)
{
	int tries, cur;

	for (tries = 0; tries < REOPEN_TRIES; tries++) {
		if (j->fd == -1 && journal_reopen(j, err) == -1)
			return -1;
		if (flock_retry(j->fd, LOCK_EX) == -1)
			return atsm_err_setc(err, ATSM_ERR_IO,
			    "journal %s: cannot lock: %s",
			    j->path, strerror(errno));
		if ((cur = journal_current(j)) == 1)
			return 0;
		flock_retry(j->fd, LOCK_UN);
		if (cur == -1)
			return atsm_err_setc(err, ATSM_ERR_IO,
			    "journal %s: cannot stat: %s",
			    j->path, strerror(errno));
		if (journal_reopen(j, err) == -1)
			return -1;
	}
	return atsm_err_setc(err, ATSM_ERR_IO,
	    "journal %s: renamed away %d times while "
	    "appending", j->path, REOPEN_TRIES);
}

static char *
journal_line(struct atsm_journal *j, const char *kind, const char *key,
    json_t *data, struct atsm_err *err)
{
	char at[32], *line;
	json_t *doc;

	now_iso(at);
	doc = json_object();
	if (doc == NULL ||
	    json_object_set_new(doc, "v", json_integer(ATSM_JOURNAL_VERSION)) ||
	    json_object_set_new(doc, "key", json_string(key)) ||
	    json_object_set_new(doc, "kind", json_string(kind)) ||
	    json_object_set_new(doc, "at", json_string(at)) ||
	    json_object_set_new(doc, "host", json_string(j->host)) ||
	    json_object_set_new(doc, "data", data != NULL ? json_incref(data) :
	    json_object())) {
		json_decref(doc);
		atsm_err_set(err, "journal %s: cannot build the entry for key "
		    "%s (not UTF-8, or out of memory)", j->path, key);
		return NULL;
	}
	/* compact: jansson escapes control characters, so no '\n' inside */
	line = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (line == NULL)
		atsm_err_setc(err, ATSM_ERR_NOMEM,
		    "journal %s: cannot encode the entry for key "
		    "%s", j->path, key);
	return line;
}

int
atsm_journal_append(struct atsm_journal *j, const char *kind, const char *key,
    json_t *data, struct atsm_err *err)
{
	struct stat st;
	char *line;
	size_t len;
	int rc = -1;

	if (kind == NULL || *kind == '\0' || strlen(kind) > ATSM_JOURNAL_KIND_MAX)
		return atsm_err_set(err, "journal %s: kind must be 1-%d bytes",
		    j->path, ATSM_JOURNAL_KIND_MAX);
	if (key == NULL || *key == '\0' || strlen(key) > ATSM_JOURNAL_KEY_MAX)
		return atsm_err_set(err, "journal %s: key must be 1-%d bytes",
		    j->path, ATSM_JOURNAL_KEY_MAX);
	if (data != NULL && !json_is_object(data))
		return atsm_err_set(err, "journal %s: data of key %s is not a "
		    "JSON object", j->path, key);
	if ((line = journal_line(j, kind, key, data, err)) == NULL)
		return -1;
	len = strlen(line);
	if (len + 1 > ATSM_JOURNAL_LINE_MAX) {
		free(line);
		return atsm_err_set(err, "journal %s: entry of key %s is %zu "
		    "bytes, more than the limit of %u", j->path, key, len + 1,
		    ATSM_JOURNAL_LINE_MAX);
	}
	line[len] = '\n';   /* json_dumps left room: its NUL */

	pthread_mutex_lock(&j->mu);
	if (journal_lock(j, err) == -1)
		goto out;
	if (fstat(j->fd, &st) == -1) {
		atsm_err_setc(err, ATSM_ERR_IO,
		    "journal %s: cannot stat: %s", j->path,
		    strerror(errno));
		goto unlock;
	}
	if (write_all(j->fd, line, len + 1) == -1) {
		atsm_err_setc(err, ATSM_ERR_IO,
		    "journal %s: cannot write: %s", j->path,
		    strerror(errno));
		/* a half line would glue itself to the next entry */
		if (ftruncate(j->fd, st.st_size) == -1)
			(void)0;
		goto unlock;
	}
	if (fdatasync(j->fd) == -1) {
		atsm_err_setc(err, ATSM_ERR_IO,
		    "journal %s: cannot sync to disk: %s",
		    j->path, strerror(errno));
		goto unlock;
	}
	/* a new file's name must survive a crash as well as its lines; done
	 * here, not at open, to keep the window for a racing rename short */
	if (!j->dir_synced) {
		if (fsync_dir(j->dir) == -1) {
			atsm_err_setc(err, ATSM_ERR_IO,
			    "journal directory %s: cannot sync: "
			    "%s", j->dir, strerror(errno));
			goto unlock;
		}
		j->dir_synced = true;
	}
	rc = 0;
unlock:
	flock_retry(j->fd, LOCK_UN);
out:
	pthread_mutex_unlock(&j->mu);
	free(line);
	return rc;
}

int
atsm_journal_make_key(const char *component, const char *unique_part,
    char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	EVP_MD_CTX *c;
	int ok;

	out[0] = '\0';
	if (component == NULL || unique_part == NULL ||
	    (c = EVP_MD_CTX_new()) == NULL)
		return -1;
	/* the NUL keeps ("ab","c") and ("a","bc") apart */
	ok = EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(c, component, strlen(component) + 1) == 1 &&
	    EVP_DigestUpdate(c, unique_part, strlen(unique_part)) == 1 &&
	    EVP_DigestFinal_ex(c, md, &mdlen) == 1 && mdlen == 32;
	EVP_MD_CTX_free(c);
	if (!ok)
		return -1;
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
	return 0;
}

/* ---- replay ---- */

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
	char at[32], *line, *hexraw = NULL;
	json_t *doc, *rawv;
	size_t i;
	int rc;

	if (rp->rejfd == -1) {
		rp->rejfd = open(rp->rejpath, O_WRONLY | O_APPEND | O_CREAT |
		    O_CLOEXEC | O_NOFOLLOW, 0600);
		if (rp->rejfd == -1)
			return atsm_err_setc(rp->err, ATSM_ERR_IO,
			    "%s: cannot open: %s",
			    rp->rejpath, strerror(errno));
		if (fsync_dir(rp->dir) == -1)
			return atsm_err_setc(rp->err, ATSM_ERR_IO,
			    "journal directory %s: "
			    "cannot sync: %s", rp->dir, strerror(errno));
	}
	now_iso(at);
	doc = json_pack("{s:i, s:s, s:s, s:s, s:I}", "v", ATSM_JOURNAL_VERSION,
	    "rejected_at", at, "reason", reason, "file", file, "offset",
	    (json_int_t)off);
	if (doc == NULL)
		return atsm_err_setc(rp->err, ATSM_ERR_NOMEM,
		    "%s: out of memory", rp->rejpath);
	if (entry != NULL) {
		json_object_set(doc, "entry", entry);
	} else {
		rawv = json_stringn(raw, rawlen);
		if (rawv != NULL) {
			json_object_set_new(doc, "raw", rawv);
		} else if ((hexraw = malloc(2 * rawlen + 1)) == NULL) {
			json_decref(doc);
			return atsm_err_setc(rp->err, ATSM_ERR_NOMEM,
			    "%s: out of memory",
			    rp->rejpath);
		} else {
			/* not UTF-8: kept byte for byte as hex */
			for (i = 0; i < rawlen; i++)
				snprintf(hexraw + 2 * i, 3, "%02x",
				    (unsigned char)raw[i]);
			hexraw[2 * rawlen] = '\0';
			json_object_set_new(doc, "raw_hex", json_string(hexraw));
			free(hexraw);
		}
		if (fullen > rawlen)
			json_object_set_new(doc, "raw_length",
			    json_integer((json_int_t)fullen));
	}
	line = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (line == NULL)
		return atsm_err_setc(rp->err, ATSM_ERR_NOMEM,
		    "%s: cannot encode the entry at "
		    "offset %lld of %s", rp->rejpath, (long long)off, file);
	i = strlen(line);
	line[i] = '\n';
	rc = write_all(rp->rejfd, line, i + 1);
	free(line);
	if (rc == -1 || fdatasync(rp->rejfd) == -1)
		return atsm_err_setc(rp->err, ATSM_ERR_IO, "%s: cannot write: %s",
		    rp->rejpath, strerror(errno));
	return 0;
}

/* Why a parsed line is not a journal entry, or NULL when it is one. */
static const char *
entry_invalid(json_t *doc)
{
	json_t *v = json_object_get(doc, "v"), *key = json_object_get(doc, "key"),
	    *kind = json_object_get(doc, "kind");

	if (!json_is_object(doc))
		return "not a JSON object";
	if (!json_is_integer(v) || json_integer_value(v) != ATSM_JOURNAL_VERSION)
		return "missing or unsupported version \"v\"";
	if (!json_is_string(key) || json_string_length(key) == 0 ||
	    json_string_length(key) > ATSM_JOURNAL_KEY_MAX ||
	    strlen(json_string_value(key)) != json_string_length(key))
		return "missing or bad \"key\"";
	if (!json_is_string(kind) || json_string_length(kind) == 0 ||
	    strlen(json_string_value(kind)) != json_string_length(kind))
		return "missing or bad \"kind\"";
	return NULL;
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
	if (fd == -1 || write_all(fd, buf, (size_t)n) == -1 ||
	    fsync(fd) == -1) {
		atsm_err_setc(rp->err, ATSM_ERR_IO, "%s: cannot write: %s", tmp,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	close(fd);
	if (rename(tmp, opath) == -1 || fsync_dir(rp->dir) == -1)
		return atsm_err_setc(rp->err, ATSM_ERR_IO,
		    "%s: cannot rename to %s: %s",
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
	const char *why, *key, *kind;
	enum atsm_journal_verdict v;
	json_error_t jerr;
	json_t *doc = NULL;
	enum line_result res = LINE_DONE;

	if (toolong) {
		snprintf(reason, sizeof(reason), "line of %zu bytes, longer "
		    "than the limit of %u", total, ATSM_JOURNAL_LINE_MAX);
		goto malformed;
	}
	if ((doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		snprintf(reason, sizeof(reason), "bad JSON (a line cut short "
		    "by a crash?): %s", jerr.text);
		goto malformed;
	}
	if ((why = entry_invalid(doc)) != NULL) {
		snprintf(reason, sizeof(reason), "%s", why);
		goto malformed;
	}
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
	    len < RAW_KEEP || !toolong ? len : RAW_KEEP, total) == -1)
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
		atsm_err_setc(rp->err, ATSM_ERR_NOMEM,
		    "journal %s/%s: out of memory", rp->dir,
		    name);
		goto out;
	}
	if ((r.fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		atsm_err_setc(rp->err, ATSM_ERR_IO,
		    "journal %s: cannot open: %s", path,
		    strerror(errno));
		goto out;
	}
	/* barrier: an append that began before the rename ends first */
	if (flock_retry(r.fd, LOCK_EX) == -1 || flock_retry(r.fd, LOCK_UN) ==
	    -1) {
		atsm_err_setc(rp->err, ATSM_ERR_IO,
		    "journal %s: cannot lock: %s", path,
		    strerror(errno));
		goto out;
	}
	if (offset_read(opath, &r.off) == -1 || fstat(r.fd, &st) == -1) {
		atsm_err_setc(rp->err, ATSM_ERR_IO,
		    "journal %s: cannot read the offset kept "
		    "in %s: %s", path, opath, strerror(errno));
		goto out;
	}
	/* a damaged side-file past the end must not make us skip the file */
	if (r.off > st.st_size)
		r.off = 0;
	if (lseek(r.fd, r.off, SEEK_SET) != r.off) {
		atsm_err_setc(rp->err, ATSM_ERR_IO,
		    "journal %s: cannot resume at the offset "
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
		atsm_err_setc(rp->err, ATSM_ERR_IO,
		    "journal %s: cannot read: %s", path,
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
		atsm_err_setc(rp->err, ATSM_ERR_IO,
		    "journal %s: replayed, but cannot remove "
		    "it: %s", path, strerror(errno));
		goto out;
	}
	fsync_dir(rp->dir);
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

/* Rename every <base>.jsonl to <base>.<stamp>.replaying. */
static int
take_files(struct replay *rp)
{
	struct timespec ts;
	struct tm tm;
	struct dirent *de;
	char stamp[64], from[PATH_MAX], to[PATH_MAX];
	unsigned seq = 0;
	size_t n;
	DIR *d;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
	if ((d = opendir(rp->dir)) == NULL)
		return atsm_err_setc(rp->err, ATSM_ERR_IO,
		    "journal directory %s: cannot "
		    "read: %s", rp->dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || !ends_with(de->d_name,
		    JOURNAL_SUFFIX) || strcmp(de->d_name,
		    ATSM_JOURNAL_REJECTED) == 0)
			continue;
		n = strlen(de->d_name) - strlen(JOURNAL_SUFFIX);
		snprintf(from, sizeof(from), "%s/%s", rp->dir, de->d_name);
		if ((size_t)snprintf(to, sizeof(to), "%s/%.*s.%s%06ldZ-%04u%s",
		    rp->dir, (int)n, de->d_name, stamp, ts.tv_nsec / 1000,
		    seq++, REPLAYING_SUFFIX) >= sizeof(to)) {
			rc = atsm_err_set(rp->err, "journal %s: name too long "
			    "to rename for replay", from);
			break;
		}
		if (rename(from, to) == -1) {
			rc = atsm_err_setc(rp->err, ATSM_ERR_IO,
			    "journal %s: cannot rename "
			    "to %s for replay: %s", from, to, strerror(errno));
			break;
		}
	}
	closedir(d);
	fsync_dir(rp->dir);
	return rc;
}

static void
free_names(char **names, size_t n)
{
	while (n > 0)
		free(names[--n]);
	free(names);
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
		return atsm_err_setc(rp->err, ATSM_ERR_IO,
		    "journal directory %s: cannot "
		    "read: %s", rp->dir, strerror(errno));
	if ((names = calloc(REPLAY_FILES_MAX, sizeof(*names))) == NULL) {
		closedir(d);
		return atsm_err_setc(rp->err, ATSM_ERR_NOMEM,
		    "journal %s: out of memory",
		    rp->dir);
	}
	while ((de = readdir(d)) != NULL && n < REPLAY_FILES_MAX) {
		if (de->d_name[0] == '.' || !ends_with(de->d_name,
		    REPLAYING_SUFFIX))
			continue;
		if ((names[n] = strdup(de->d_name)) == NULL) {
			closedir(d);
			free_names(names, n);
			return atsm_err_setc(rp->err, ATSM_ERR_NOMEM,
			    "journal %s: out of "
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

int
atsm_journal_replay(const char *dir, atsm_journal_apply_fn fn, void *ctx,
    struct atsm_journal_summary *sum, struct atsm_err *err)
{
	struct atsm_journal_summary local;
	struct replay rp = { .dir = dir, .fn = fn, .ctx = ctx,
	    .sum = sum != NULL ? sum : &local, .err = err, .rejfd = -1 };
	char *lockpath = NULL, **names = NULL, *path, *opath;
	struct stat st;
	size_t n = 0, i;
	off_t off;
	int lockfd = -1, rc = -1, r;

	sum = rp.sum;
	memset(sum, 0, sizeof(*sum));
	if (dir == NULL || fn == NULL)
		return atsm_err_set(err, "journal replay: no directory or "
		    "callback given");
	if (stat(dir, &st) == -1)
		return atsm_err_setc(err, ATSM_ERR_IO,
		    "journal directory %s: %s", dir,
		    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return atsm_err_setc(err, ATSM_ERR_IO,
		    "journal directory %s is not a "
		    "directory", dir);
	lockpath = path_join(dir, ATSM_JOURNAL_LOCK, "");
	rp.rejpath = path_join(dir, ATSM_JOURNAL_REJECTED, "");
	rp.seen = json_object();
	if (lockpath == NULL || rp.rejpath == NULL || rp.seen == NULL) {
		atsm_err_setc(err, ATSM_ERR_NOMEM,
		    "journal %s: out of memory", dir);
		goto out;
	}
	lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lockfd == -1) {
		atsm_err_setc(err, ATSM_ERR_IO,
		    "journal lock %s: cannot open: %s", lockpath,
		    strerror(errno));
		goto out;
	}
	if (flock_retry(lockfd, LOCK_EX | LOCK_NB) == -1) {
		atsm_err_setc(err, ATSM_ERR_UNAVAILABLE,
		    "journal %s: another replay is running (it "
		    "holds %s)", dir, lockpath);
		goto out;
	}
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
	if (lockfd != -1)
		close(lockfd);
	free_names(names, n);
	json_decref(rp.seen);
	free(rp.rejpath);
	free(lockpath);
	return rc;
}

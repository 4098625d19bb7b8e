/* store/journal.c -- the format-1 journal of the milter and the Dovecot
 * plugin: appending (see store/journal.h and docs/journal.md).  The line
 * is built by journal-line.c, shared with atsmaild's journal (jlog.c);
 * the replay is journal-replay.c.
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

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "store/journal-line.h"

#define JOURNAL_SUFFIX ".jsonl"
#define REOPEN_TRIES 1000            /* renames raced in one append */

struct atsm_journal {
	pthread_mutex_t mu;
	int fd;                 /* -1 after a failed reopen */
	bool dir_synced;        /* the name of the file at fd is on disk */
	char *dir;
	char *path;
	char host[ATSM_JOURNAL_HOST_MAX + 1];
};

static char *
path_join(const char *dir, const char *name, const char *suffix)
{
	size_t n = strlen(dir) + strlen(name) + strlen(suffix) + 2;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s/%s%s", dir, name, suffix);
	return p;
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
		return atsm_err_setc(err, ATSM_ERR_IO, "journal %s: cannot open: %s",
		    j->path, strerror(errno));
	j->dir_synced = false;
	return 0;
}

struct atsm_journal *
atsm_journal_open(const char *dir, const char *component, struct atsm_err *err)
{
	struct atsm_journal *j;

	if (dir == NULL || *dir == '\0') {
		atsm_err_set(err, "journal: no directory given");
		return NULL;
	}
	if (!atsm_journal_component_ok(component)) {
		atsm_err_set(err, "journal in %s: component name '%s' is not "
		    "1-%d characters of A-Z a-z 0-9 - _ (or is 'rejected')",
		    dir, component != NULL ? component : "",
		    ATSM_JOURNAL_COMPONENT_MAX);
		return NULL;
	}
	if (atsm_journal_mkdir(dir, err) == -1)
		return NULL;
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		atsm_err_set(err, "journal %s: out of memory", dir);
		return NULL;
	}
	j->fd = -1;
	j->dir = strdup(dir);
	j->path = path_join(dir, component, JOURNAL_SUFFIX);
	if (j->dir == NULL || j->path == NULL) {
		atsm_err_set(err, "journal %s: out of memory", dir);
		goto fail;
	}
	atsm_journal_host(j->host);
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
		if (atsm_journal_flock(j->fd, LOCK_EX) == -1)
			return atsm_err_setc(err, ATSM_ERR_IO, "journal %s: cannot lock: %s",
			    j->path, strerror(errno));
		if ((cur = journal_current(j)) == 1)
			return 0;
		atsm_journal_flock(j->fd, LOCK_UN);
		if (cur == -1)
			return atsm_err_set(err, "journal %s: cannot stat: %s",
			    j->path, strerror(errno));
		if (journal_reopen(j, err) == -1)
			return -1;
	}
	return atsm_err_set(err, "journal %s: renamed away %d times while "
	    "appending", j->path, REOPEN_TRIES);
}

int
atsm_journal_append(struct atsm_journal *j, const char *kind, const char *key,
    json_t *data, struct atsm_err *err)
{
	struct stat st;
	char *line;
	size_t len;
	int rc = -1;

	if ((line = atsm_journal_line(j->path, j->host, kind, key, data, &len,
	    err)) == NULL)
		return -1;
	pthread_mutex_lock(&j->mu);
	if (journal_lock(j, err) == -1)
		goto out;
	if (fstat(j->fd, &st) == -1) {
		atsm_err_setc(err, ATSM_ERR_IO, "journal %s: cannot stat: %s",
		    j->path, strerror(errno));
		goto unlock;
	}
	if (atsm_journal_write_all(j->fd, line, len) == -1) {
		atsm_err_setc(err, ATSM_ERR_IO, "journal %s: cannot write: %s",
		    j->path, strerror(errno));
		/* a half line would glue itself to the next entry */
		if (ftruncate(j->fd, st.st_size) == -1)
			(void)0;
		goto unlock;
	}
	if (fdatasync(j->fd) == -1) {
		atsm_err_setc(err, ATSM_ERR_IO, "journal %s: cannot sync to disk: "
		    "%s", j->path, strerror(errno));
		goto unlock;
	}
	/* a new file's name must survive a crash as well as its lines; done
	 * here, not at open, to keep the window for a racing rename short */
	if (!j->dir_synced) {
		if (atsm_journal_fsync_dir(j->dir) == -1) {
			atsm_err_setc(err, ATSM_ERR_IO, "journal directory %s: "
			    "cannot sync: %s", j->dir, strerror(errno));
			goto unlock;
		}
		j->dir_synced = true;
	}
	rc = 0;
unlock:
	atsm_journal_flock(j->fd, LOCK_UN);
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


/* store/journal-line.c -- the entry line, the rejected line, component
 * names and the journal directory, shared by journal.c (format-1 journal
 * and replay) and jlog.c (atsmaild's journal): see store/journal-line.h.
 * Writing the line in one place is what lets `atsmailctl replay` read a
 * segment of atsmaild moved from another host.
 */
#include "store/journal-line.h"

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

static void
now_iso(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

char *
atsm_journal_line(const char *where, const char *host, const char *kind,
    const char *key, json_t *data, size_t *len, struct atsm_err *err)
{
	char at[32], *line;
	json_t *doc;
	size_t n;

	if (kind == NULL || *kind == '\0' || strlen(kind) > ATSM_JOURNAL_KIND_MAX) {
		atsm_err_setc(err, ATSM_ERR_INPUT, "journal %s: kind must be 1-%d bytes",
		    where, ATSM_JOURNAL_KIND_MAX);
		return NULL;
	}
	if (key == NULL || *key == '\0' || strlen(key) > ATSM_JOURNAL_KEY_MAX) {
		atsm_err_setc(err, ATSM_ERR_INPUT, "journal %s: key must be 1-%d bytes",
		    where, ATSM_JOURNAL_KEY_MAX);
		return NULL;
	}
	if (data != NULL && !json_is_object(data)) {
		atsm_err_setc(err, ATSM_ERR_INPUT, "journal %s: data of key %s is not a "
		    "JSON object", where, key);
		return NULL;
	}
	now_iso(at);
	doc = json_object();
	if (doc == NULL ||
	    json_object_set_new(doc, "v", json_integer(ATSM_JOURNAL_VERSION)) ||
	    json_object_set_new(doc, "key", json_string(key)) ||
	    json_object_set_new(doc, "kind", json_string(kind)) ||
	    json_object_set_new(doc, "at", json_string(at)) ||
	    json_object_set_new(doc, "host", json_string(host != NULL ? host : "")) ||
	    json_object_set_new(doc, "data", data != NULL ? json_incref(data) :
	    json_object())) {
		json_decref(doc);
		atsm_err_setc(err, ATSM_ERR_INPUT, "journal %s: cannot build the entry "
		    "for key %s (not UTF-8, or out of memory)", where, key);
		return NULL;
	}
	/* compact: jansson escapes control characters, so no '\n' inside */
	line = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (line == NULL) {
		atsm_err_setc(err, ATSM_ERR_NOMEM, "journal %s: cannot encode the entry "
		    "for key %s", where, key);
		return NULL;
	}
	n = strlen(line);
	if (n + 1 > ATSM_JOURNAL_LINE_MAX) {
		free(line);
		atsm_err_setc(err, ATSM_ERR_INPUT, "journal %s: entry of key %s is %zu "
		    "bytes, more than the limit of %u", where, key, n + 1,
		    ATSM_JOURNAL_LINE_MAX);
		return NULL;
	}
	line[n] = '\n';   /* json_dumps left room: its NUL */
	*len = n + 1;
	return line;
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

json_t *
atsm_journal_line_parse(const char *text, size_t len, char *why, size_t whysize)
{
	json_error_t jerr;
	const char *bad;
	json_t *doc;

	if ((doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		snprintf(why, whysize, "bad JSON (a line cut short by a crash?): %s",
		    jerr.text);
		return NULL;
	}
	if ((bad = entry_invalid(doc)) != NULL) {
		snprintf(why, whysize, "%s", bad);
		json_decref(doc);
		return NULL;
	}
	return doc;
}

char *
atsm_journal_reject_line(const char *reason, const char *file, long long offset,
    json_t *entry, const char *raw, size_t rawlen, size_t fullen, size_t *len)
{
	char at[32], *line, *hexraw;
	json_t *doc, *rawv;
	size_t i;

	now_iso(at);
	doc = json_pack("{s:i, s:s, s:s}", "v", ATSM_JOURNAL_VERSION, "rejected_at", at,
	    "reason", reason);
	if (doc == NULL)
		return NULL;
	if (file != NULL)
		json_object_set_new(doc, "file", json_string(file));
	if (offset >= 0)
		json_object_set_new(doc, "offset", json_integer((json_int_t)offset));
	if (entry != NULL) {
		json_object_set(doc, "entry", entry);
	} else if ((rawv = json_stringn(raw, rawlen)) != NULL) {
		json_object_set_new(doc, "raw", rawv);
	} else if ((hexraw = malloc(2 * rawlen + 1)) != NULL) {
		/* not UTF-8: kept byte for byte as hex */
		for (i = 0; i < rawlen; i++)
			snprintf(hexraw + 2 * i, 3, "%02x", (unsigned char)raw[i]);
		hexraw[2 * rawlen] = '\0';
		json_object_set_new(doc, "raw_hex", json_string(hexraw));
		free(hexraw);
	} else {
		json_decref(doc);
		return NULL;
	}
	if (entry == NULL && fullen > rawlen)
		json_object_set_new(doc, "raw_length", json_integer((json_int_t)fullen));
	line = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (line == NULL)
		return NULL;
	i = strlen(line);
	line[i] = '\n';
	*len = i + 1;
	return line;
}

bool
atsm_journal_component_ok(const char *c)
{
	size_t n = c != NULL ? strlen(c) : 0, i;

	if (n == 0 || n > ATSM_JOURNAL_COMPONENT_MAX || strcmp(c, "rejected") == 0)
		return false;
	for (i = 0; i < n; i++)
		if (!((c[i] >= 'a' && c[i] <= 'z') || (c[i] >= 'A' && c[i] <= 'Z') ||
		    (c[i] >= '0' && c[i] <= '9') || c[i] == '-' || c[i] == '_'))
			return false;
	return true;
}

int
atsm_journal_fsync_dir(const char *dir)
{
	int fd, rc, e;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	e = errno;
	close(fd);
	errno = e;
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
	atsm_journal_fsync_dir(parent);
}

int
atsm_journal_mkdir(const char *dir, struct atsm_err *err)
{
	struct stat st;

	if (dir == NULL || *dir == '\0')
		return atsm_err_setc(err, ATSM_ERR_INPUT, "journal: no directory given");
	if (mkdir(dir, 0700) == 0)
		fsync_parent(dir);
	else if (errno != EEXIST)
		return atsm_err_setc(err, ATSM_ERR_IO, "journal directory %s: cannot "
		    "create: %s", dir, strerror(errno));
	if (stat(dir, &st) == -1)
		return atsm_err_setc(err, ATSM_ERR_IO, "journal directory %s: %s", dir,
		    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return atsm_err_setc(err, ATSM_ERR_IO, "journal directory %s is not a "
		    "directory", dir);
	return 0;
}

int
atsm_journal_write_all(int fd, const void *p, size_t n)
{
	const char *s = p;
	ssize_t w;

	while (n > 0) {
		w = write(fd, s, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return -1;
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

int
atsm_journal_flock(int fd, int op)
{
	int rc;

	while ((rc = flock(fd, op)) == -1 && errno == EINTR)
		;
	return rc;
}

void
atsm_journal_host(char out[ATSM_JOURNAL_HOST_MAX + 1])
{
	if (gethostname(out, ATSM_JOURNAL_HOST_MAX) == -1)
		out[0] = '\0';
	out[ATSM_JOURNAL_HOST_MAX] = '\0';
}

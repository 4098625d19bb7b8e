/* audit-anchors.c -- read and append the auditor's anchor file (see
 * audit-anchors.h).  The file is the auditor's: it is opened for
 * appending only, and read line by line with a bound on its lines. */
#include "audit-anchors.h"
#include "ctl.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"

void
ctl_anchors_free(struct ctl_anchors *an)
{
	size_t i;

	for (i = 0; i < an->n; i++)
		free(an->times[i]);
	free(an->times);
	free(an->lines);
	free(an->ids);
	free(an->hashes);
	memset(an, 0, sizeof(*an));
}

/* The value after "name=" in line, up to white space; its length in *len. */
static const char *
field(const char *line, const char *name, size_t *len)
{
	size_t n = strlen(name);
	const char *s;

	for (s = line; (s = strstr(s, name)) != NULL; s += n)
		if ((s == line || isspace((unsigned char)s[-1])) && s[n] == '=') {
			s += n + 1;
			*len = strcspn(s, " \t\r\n");
			return s;
		}
	return NULL;
}

static bool
all_of(const char *s, size_t n, const char *set)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strchr(set, s[i]) == NULL)
			return false;
	return n > 0;
}

static int
grow(struct ctl_anchors *an, size_t *cap)
{
	size_t c = *cap != 0 ? *cap * 2 : 64;
	unsigned *l;
	char **t;

	if ((l = realloc(an->lines, c * sizeof(*l))) == NULL)
		return -1;
	an->lines = l;
	if ((t = realloc(an->times, c * sizeof(*t))) == NULL)
		return -1;
	an->times = t;
	*cap = c;
	return 0;
}

int
ctl_anchors_read(const char *file, struct ctl_anchors *an)
{
	char line[CTL_ANCHOR_LINE_MAX + 2];
	struct atsm_buf ids, hashes;
	unsigned lineno = 0;
	size_t cap = 0;
	bool bad;
	FILE *fp;
	int rc = -1;

	memset(an, 0, sizeof(*an));
	if ((fp = fopen(file, "r")) == NULL) {
		ctl_error("cannot read the anchor file %s: %s", file, strerror(errno));
		return -1;
	}
	atsm_buf_init(&ids, CTL_ANCHORS_MAX * 20u + 2);
	atsm_buf_init(&hashes, CTL_ANCHORS_MAX * 66u + 2);
	bad = atsm_buf_puts(&ids, "{") < 0 || atsm_buf_puts(&hashes, "{") < 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		const char *id, *hash, *s = line;
		size_t idlen, hashlen, tlen;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			ctl_error("%s line %u: longer than %d bytes: not an anchor line", file, lineno,
			    CTL_ANCHOR_LINE_MAX);
			goto out;
		}
		while (isspace((unsigned char)*s))
			s++;
		if (*s == '\0' || *s == '#')
			continue;
		id = field(s, "id", &idlen);
		hash = field(s, "hash", &hashlen);
		if (id == NULL || hash == NULL || !all_of(id, idlen, "0123456789") || idlen > 18 ||
		    hashlen != 64 || !all_of(hash, hashlen, "0123456789abcdef")) {
			ctl_error("%s line %u: not an anchor line (TIME id=ID hash=64 hex digits)",
			    file, lineno);
			goto out;
		}
		if (an->n == CTL_ANCHORS_MAX) {
			ctl_error("%s: more than %u anchor lines: start a new file", file,
			    CTL_ANCHORS_MAX);
			goto out;
		}
		if (an->n == cap && grow(an, &cap) < 0)
			goto nomem;
		tlen = strcspn(s, " \t\r\n");
		if ((an->times[an->n] = strndup(s, tlen)) == NULL)
			goto nomem;
		an->lines[an->n++] = lineno;
		bad |= atsm_buf_printf(&ids, "%s%.*s", an->n > 1 ? "," : "", (int)idlen, id) < 0;
		bad |= atsm_buf_printf(&hashes, "%s%.*s", an->n > 1 ? "," : "", (int)hashlen,
		    hash) < 0;
	}
	if (ferror(fp)) {
		ctl_error("cannot read the anchor file %s: %s", file, strerror(errno));
		goto out;
	}
	bad |= atsm_buf_puts(&ids, "}") < 0;
	bad |= atsm_buf_puts(&hashes, "}") < 0;
	if (bad || (an->ids = atsm_buf_steal(&ids)) == NULL ||
	    (an->hashes = atsm_buf_steal(&hashes)) == NULL)
		goto nomem;
	rc = 0;
	goto out;
nomem:
	ctl_error("%s: out of memory reading %zu anchors", file, an->n);
out:
	fclose(fp);
	atsm_buf_free(&ids);
	atsm_buf_free(&hashes);
	if (rc < 0)
		ctl_anchors_free(an);
	return rc;
}

int
ctl_anchors_append(const char *file, const char *line)
{
	size_t len = strlen(line), off = 0;
	char buf[CTL_ANCHOR_LINE_MAX + 2];
	int fd;

	if (len > CTL_ANCHOR_LINE_MAX) {
		ctl_error("audit anchor: the line for %s is too long", file);
		return -1;
	}
	memcpy(buf, line, len);
	buf[len++] = '\n';
	if ((fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640)) < 0) {
		ctl_error("audit anchor: cannot open %s for appending: %s", file, strerror(errno));
		return -1;
	}
	while (off < len) {
		ssize_t w = write(fd, buf + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			ctl_error("audit anchor: cannot write to %s: %s", file,
			    w < 0 ? strerror(errno) : "nothing written");
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		ctl_error("audit anchor: cannot sync %s: %s", file, strerror(errno));
		return -1;
	}
	return 0;
}

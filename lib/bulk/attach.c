/* bulk/attach.c -- files attached to a bulk job's mail (see bulk/attach.h). */
#include "bulk/attach.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

static const struct {
	const char *ext, *type;
} types[] = {
	{ "pdf", "application/pdf" }, { "txt", "text/plain" }, { "csv", "text/csv" },
	{ "doc", "application/msword" },
	{ "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document" },
	{ "xls", "application/vnd.ms-excel" },
	{ "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" },
	{ "png", "image/png" }, { "jpg", "image/jpeg" }, { "jpeg", "image/jpeg" },
	{ "zip", "application/zip" }, { NULL, NULL }
};

const char *
atsm_bulk_attach_type(const char *name)
{
	const char *dot = strrchr(name, '.');
	size_t i;

	if (dot != NULL)
		for (i = 0; types[i].ext != NULL; i++)
			if (strcasecmp(dot + 1, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}

static bool
contains(const char *h, size_t n, const char *needle)
{
	size_t k = strlen(needle), i;

	for (i = 0; k > 0 && i + k <= n; i++)
		if (h[i] == needle[0] && memcmp(h + i, needle, k) == 0)
			return true;
	return false;
}

/* One line of msg from *i: its start and length without the line end. */
static bool
next_line(const char *msg, size_t len, size_t *i, const char **line, size_t *n)
{
	size_t e;

	if (*i >= len)
		return false;
	for (e = *i; e < len && msg[e] != '\n'; e++)
		;
	*line = msg + *i;
	*n = e - *i;
	if (*n > 0 && (*line)[*n - 1] == '\r')
		(*n)--;
	*i = e < len ? e + 1 : len;
	return true;
}

static bool
content_field(const char *line, size_t n)
{
	return (n > 13 && strncasecmp(line, "Content-Type:", 13) == 0) ||
	    (n > 26 && strncasecmp(line, "Content-Transfer-Encoding:", 26) == 0) ||
	    (n > 20 && strncasecmp(line, "Content-Disposition:", 20) == 0) ||
	    (n > 17 && strncasecmp(line, "Content-Language:", 17) == 0);
}

/* filename="x" when plain, else filename*=UTF-8''%xx (RFC 2231). */
static int
put_filename(struct atsm_buf *out, const char *key, const char *name)
{
	const unsigned char *p;
	bool plain = true;

	for (p = (const unsigned char *)name; *p != '\0'; p++)
		if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
			plain = false;
	if (plain)
		return atsm_buf_printf(out, "; %s=\"%s\"", key, name);
	if (atsm_buf_printf(out, "; %s*=UTF-8''", key) < 0)
		return -1;
	for (p = (const unsigned char *)name; *p != '\0'; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL) {
			if (atsm_buf_putc(out, (char)*p) < 0)
				return -1;
		} else if (atsm_buf_printf(out, "%%%02X", *p) < 0)
			return -1;
	}
	return 0;
}

static int
put_base64(struct atsm_buf *out, const char *p, size_t n)
{
	unsigned char line[77];
	size_t i;

	for (i = 0; i < n; i += 57) {
		size_t k = n - i < 57 ? n - i : 57;

		EVP_EncodeBlock(line, (const unsigned char *)p + i, (int)k);
		if (atsm_buf_puts(out, (const char *)line) < 0 || atsm_buf_puts(out, "\r\n") < 0)
			return -1;
	}
	return 0;
}

int
atsm_bulk_attach(const char *msg, size_t len, const struct atsm_bulk_file *files,
    size_t n, const char *boundary, struct atsm_buf *out, struct atsm_err *err)
{
	struct atsm_buf inner;
	const char *line;
	size_t i = 0, k, ln, body_at = len;
	bool in_content = false, mime = false, have_type = false;
	int rc = -1;

	atsm_buf_reset(out);
	if (n > ATSM_BULK_ATTACH_FILES_MAX)
		return atsm_err_set(err, "more than %d attachments", ATSM_BULK_ATTACH_FILES_MAX);
	if (boundary == NULL || strpbrk(boundary, "\"\r\n") != NULL ||
	    contains(msg, len, boundary))
		return atsm_err_set(err, "attachments: a bad boundary");
	atsm_buf_init(&inner, 0);
	/* the header: Content-* fields go to the first part */
	while (next_line(msg, len, &i, &line, &ln)) {
		if (ln == 0) {
			body_at = i;
			break;
		}
		if (line[0] != ' ' && line[0] != '\t') {
			in_content = content_field(line, ln);
			if (ln > 13 && strncasecmp(line, "Content-Type:", 13) == 0)
				have_type = true;
			if (ln > 13 && strncasecmp(line, "MIME-Version:", 13) == 0)
				mime = true;
		}
		if (atsm_buf_append(in_content ? &inner : out, line, ln) < 0 ||
		    atsm_buf_puts(in_content ? &inner : out, "\r\n") < 0)
			goto full;
	}
	if ((!mime && atsm_buf_puts(out, "MIME-Version: 1.0\r\n") < 0) ||
	    atsm_buf_printf(out, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n"
	    "This is a MIME message.\r\n\r\n--%s\r\n", boundary, boundary) < 0 ||
	    (!have_type && atsm_buf_puts(out, "Content-Type: text/plain; charset=us-ascii\r\n") < 0) ||
	    atsm_buf_append(out, atsm_buf_str(&inner), inner.len) < 0 ||
	    atsm_buf_puts(out, "\r\n") < 0)
		goto full;
	i = body_at;
	while (next_line(msg, len, &i, &line, &ln))
		if (atsm_buf_append(out, line, ln) < 0 || atsm_buf_puts(out, "\r\n") < 0)
			goto full;
	for (k = 0; k < n; k++) {
		const char *type = atsm_bulk_attach_type(files[k].name);

		if (strpbrk(files[k].name, "\r\n") != NULL) {
			atsm_err_set(err, "attachment %zu: a line break in its name", k + 1);
			goto out;
		}
		if (atsm_buf_printf(out, "--%s\r\nContent-Type: %s", boundary, type) < 0 ||
		    put_filename(out, "name", files[k].name) < 0 ||
		    atsm_buf_puts(out, "\r\nContent-Disposition: attachment") < 0 ||
		    put_filename(out, "filename", files[k].name) < 0 ||
		    atsm_buf_puts(out, "\r\nContent-Transfer-Encoding: base64\r\n\r\n") < 0 ||
		    put_base64(out, files[k].data, files[k].len) < 0)
			goto full;
	}
	if (atsm_buf_printf(out, "--%s--\r\n", boundary) < 0)
		goto full;
	rc = 0;
	goto out;
full:
	atsm_err_setc(err, out->overflow ? ATSM_ERR_INPUT : ATSM_ERR_NOMEM,
	    "attachments: %s", out->overflow ? "the mail is larger than its limit" :
	    "out of memory");
out:
	atsm_buf_free(&inner);
	return rc;
}

/* bulk/attach.h -- files attached to every mail of a bulk job made by
 * atsmailctl bulk send --attach (docs/bulk.md): the template's draft
 * becomes the first part of a multipart/mixed message, the files the
 * others (base64).  Pure. */
#ifndef ATSM_BULK_ATTACH_H
#define ATSM_BULK_ATTACH_H

#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

#define ATSM_BULK_ATTACH_FILES_MAX 20

struct atsm_bulk_file {
	const char *name;                 /* the file name shown (UTF-8) */
	const char *data;
	size_t len;
};

/* msg (a whole message, CRLF or LF) with files attached into out (reset
 * first), CRLF; boundary must not occur in msg.  0, or -1 with err. */
int atsm_bulk_attach(const char *msg, size_t len, const struct atsm_bulk_file *files,
    size_t n, const char *boundary, struct atsm_buf *out, struct atsm_err *err);

/* A MIME type for a file name, by its extension. */
const char *atsm_bulk_attach_type(const char *name);

#endif

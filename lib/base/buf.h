/* base/buf.h -- a growable byte buffer with a hard size limit.
 *
 * Every parser that builds output of input-dependent size writes into an
 * atsm_buf, whose limit is fixed by the caller (usually from a named
 * setting), so that no input can grow memory without bound.  Appends past
 * the limit fail and set buf->overflow; the contents stay NUL-terminated.
 */
#ifndef ATSM_BUF_H
#define ATSM_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct atsm_buf {
	char *data;      /* NUL-terminated; NULL until the first append */
	size_t len;      /* bytes used, without the terminating NUL */
	size_t cap;      /* bytes allocated */
	size_t limit;    /* maximum len; 0 means ATSM_BUF_DEFAULT_LIMIT */
	bool overflow;   /* an append was refused because of the limit */
};

#define ATSM_BUF_DEFAULT_LIMIT (1024u * 1024u)

void atsm_buf_init(struct atsm_buf *b, size_t limit);
void atsm_buf_free(struct atsm_buf *b);
void atsm_buf_reset(struct atsm_buf *b);

/* Append n bytes / a string / one byte / formatted text.
 * 0 on success, -1 when the limit would be passed or memory is short. */
int atsm_buf_append(struct atsm_buf *b, const void *p, size_t n);
int atsm_buf_puts(struct atsm_buf *b, const char *s);
int atsm_buf_putc(struct atsm_buf *b, char c);
int atsm_buf_printf(struct atsm_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The contents as a C string ("" when empty); valid until the next append. */
const char *atsm_buf_str(const struct atsm_buf *b);

/* Hand the contents over to the caller (free() it); the buffer is reset. */
char *atsm_buf_steal(struct atsm_buf *b);

/* Append formatted text to the C string in the fixed array dst of size
 * bytes, after sep when dst is not empty (a list of notes: "a; b; c").
 * Text that does not fit is cut; nothing is appended once dst is full. */
void atsm_str_vjoin(char *dst, size_t size, const char *sep, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

#endif

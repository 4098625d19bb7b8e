/* base/buf.c -- growable byte buffer with a hard limit (see base/buf.h). */
#include "base/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
atsm_buf_init(struct atsm_buf *b, size_t limit)
{
	memset(b, 0, sizeof(*b));
	b->limit = limit ? limit : ATSM_BUF_DEFAULT_LIMIT;
}

void
atsm_buf_free(struct atsm_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->overflow = false;
}

void
atsm_buf_reset(struct atsm_buf *b)
{
	b->len = 0;
	b->overflow = false;
	if (b->data != NULL)
		b->data[0] = '\0';
}

static int
buf_reserve(struct atsm_buf *b, size_t extra)
{
	size_t need, ncap;
	char *p;

	if (b->limit == 0)
		b->limit = ATSM_BUF_DEFAULT_LIMIT;
	if (extra > b->limit || b->len > b->limit - extra) {
		b->overflow = true;
		return -1;
	}
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap *= 2;
	if (ncap > b->limit + 1)
		ncap = b->limit + 1;
	p = realloc(b->data, ncap);
	if (p == NULL)
		return -1;
	b->data = p;
	b->cap = ncap;
	return 0;
}

int
atsm_buf_append(struct atsm_buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
atsm_buf_puts(struct atsm_buf *b, const char *s)
{
	return atsm_buf_append(b, s, strlen(s));
}

int
atsm_buf_putc(struct atsm_buf *b, char c)
{
	return atsm_buf_append(b, &c, 1);
}

int
atsm_buf_printf(struct atsm_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_reserve(b, (size_t)n) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

const char *
atsm_buf_str(const struct atsm_buf *b)
{
	return b->data != NULL ? b->data : "";
}

char *
atsm_buf_steal(struct atsm_buf *b)
{
	char *p = b->data;

	if (p == NULL)
		p = strdup("");
	b->data = NULL;
	b->len = b->cap = 0;
	b->overflow = false;
	return p;
}

void
atsm_str_vjoin(char *dst, size_t size, const char *sep, const char *fmt, va_list ap)
{
	size_t len = strnlen(dst, size), slen = strlen(sep);

	if (len + slen + 1 >= size)
		return;
	if (len > 0) {
		memcpy(dst + len, sep, slen + 1);
		len += slen;
	}
	vsnprintf(dst + len, size - len, fmt, ap);
}

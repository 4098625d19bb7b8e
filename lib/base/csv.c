/* base/csv.c -- decoding and reading of CSV files (base/csv.h).
 *
 * Decoding picks the encoding once for the whole file (a file mixing
 * encodings is broken beyond guessing per field); reading is a small state
 * machine over the decoded text that never fails on odd quoting: a quote
 * inside an unquoted field, or text after a closing quote, is kept as
 * written, the way spreadsheet programs read such files.  Only a quote
 * still open at the end of the text is an error, because everything after
 * it would otherwise be silently swallowed into one field.
 */
#include "base/csv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/charset.h"

int
atsm_csv_encoding_parse(const char *name, enum atsm_csv_encoding *enc, struct atsm_err *err)
{
	static const struct {
		const char *name;
		enum atsm_csv_encoding enc;
	} names[] = {
		{ "auto", ATSM_CSV_AUTO }, { "utf-8", ATSM_CSV_UTF8 }, { "utf8", ATSM_CSV_UTF8 },
		{ "shift_jis", ATSM_CSV_CP932 }, { "shift-jis", ATSM_CSV_CP932 },
		{ "sjis", ATSM_CSV_CP932 }, { "cp932", ATSM_CSV_CP932 },
		{ "windows-31j", ATSM_CSV_CP932 }, { "ms932", ATSM_CSV_CP932 },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(name, names[i].name) == 0) {
			*enc = names[i].enc;
			return 0;
		}
	return atsm_err_set(err, "unknown encoding '%s' (known: auto, utf-8, shift_jis/cp932)",
	    name);
}

const char *
atsm_csv_encoding_name(enum atsm_csv_encoding enc)
{
	switch (enc) {
	case ATSM_CSV_UTF8:
		return "UTF-8";
	case ATSM_CSV_CP932:
		return "CP932";
	default:
		return "auto";
	}
}

int
atsm_csv_decode(const char *in, size_t len, enum atsm_csv_encoding enc,
    struct atsm_buf *out, enum atsm_csv_encoding *used, size_t *nbad, struct atsm_err *err)
{
	size_t bad = 0;
	int r;

	if (len >= 3 && memcmp(in, "\xEF\xBB\xBF", 3) == 0 && enc != ATSM_CSV_CP932) {
		in += 3;
		len -= 3;
		enc = ATSM_CSV_UTF8;
	}
	if (enc == ATSM_CSV_AUTO)
		enc = atsm_utf8_valid(in, len) ? ATSM_CSV_UTF8 : ATSM_CSV_CP932;
	if (used != NULL)
		*used = enc;
	/* Both go through the converter, which turns NUL and invalid
	 * sequences into U+FFFD and counts them. */
	r = atsm_charset_convert(enc == ATSM_CSV_UTF8 ? "UTF-8" : "CP932", in, len, out,
	    &bad, err);
	if (nbad != NULL)
		*nbad = bad;
	if (r < 0 && out->overflow)
		return atsm_err_set(err, "the decoded text is longer than %zu bytes",
		    out->limit);
	return r;
}

void
atsm_csv_reader_init(struct atsm_csv_reader *r, const char *text, size_t len)
{
	r->text = text;
	r->len = len;
	r->pos = 0;
	r->line = 1;
}

/* Length of the line break at text[pos] (CRLF, LF or a lone CR), or 0. */
static size_t
line_break(const struct atsm_csv_reader *r, size_t pos)
{
	if (pos >= r->len)
		return 0;
	if (r->text[pos] == '\n')
		return 1;
	if (r->text[pos] == '\r')
		return pos + 1 < r->len && r->text[pos + 1] == '\n' ? 2 : 1;
	return 0;
}

void
atsm_csv_record_free(struct atsm_csv_record *rec)
{
	free(rec->fields);
	free(rec->storage);
	memset(rec, 0, sizeof(*rec));
}

/* Remember where field number n starts (offset into the record's buffer). */
static int
push_field(size_t **offs, size_t *cap, size_t n, size_t off)
{
	if (n >= *cap) {
		size_t ncap = *cap == 0 ? 16 : *cap * 2;
		size_t *p;

		if (ncap > ATSM_CSV_FIELDS_MAX + 1)
			ncap = ATSM_CSV_FIELDS_MAX + 1;
		if ((p = realloc(*offs, ncap * sizeof(*p))) == NULL)
			return -1;
		*offs = p;
		*cap = ncap;
	}
	(*offs)[n] = off;
	return 0;
}

int
atsm_csv_next(struct atsm_csv_reader *r, struct atsm_csv_record *rec, struct atsm_err *err)
{
	struct atsm_buf b;
	size_t *offs = NULL, cap = 0, n = 0, lb, i;
	bool too_many = false, quoted_open = false;
	unsigned quote_line = 0;
	char c;

	/* blank lines */
	while ((lb = line_break(r, r->pos)) > 0) {
		r->pos += lb;
		r->line++;
	}
	if (r->pos >= r->len)
		return 0;

	atsm_buf_init(&b, ATSM_CSV_RECORD_MAX);
	rec->line = r->line;
	if (push_field(&offs, &cap, n++, 0) < 0)
		goto nomem;
	for (;;) {
		/* one field */
		if (r->pos < r->len && r->text[r->pos] == '"') {
			quote_line = r->line;
			quoted_open = true;
			r->pos++;
			while (r->pos < r->len) {
				c = r->text[r->pos];
				if (c == '"') {
					if (r->pos + 1 < r->len && r->text[r->pos + 1] == '"') {
						atsm_buf_putc(&b, '"');
						r->pos += 2;
						continue;
					}
					r->pos++;
					quoted_open = false;
					break;
				}
				if ((lb = line_break(r, r->pos)) > 0) {
					/* a line break inside a field is stored as LF */
					atsm_buf_putc(&b, '\n');
					r->pos += lb;
					r->line++;
					continue;
				}
				atsm_buf_putc(&b, c);
				r->pos++;
			}
			if (quoted_open) {
				atsm_buf_free(&b);
				free(offs);
				return atsm_err_set(err, "line %u: a quoted field is not closed "
				    "before the end of the file", quote_line);
			}
		}
		/* unquoted text, or what follows a closing quote */
		while (r->pos < r->len && r->text[r->pos] != ',' &&
		    line_break(r, r->pos) == 0) {
			atsm_buf_putc(&b, r->text[r->pos]);
			r->pos++;
		}
		atsm_buf_putc(&b, '\0');
		if (r->pos < r->len && r->text[r->pos] == ',') {
			r->pos++;
			if (n >= ATSM_CSV_FIELDS_MAX)
				too_many = true;
			else if (push_field(&offs, &cap, n++, b.len) < 0)
				goto nomem;
			continue;
		}
		break;
	}
	rec->last_line = r->line;
	if ((lb = line_break(r, r->pos)) > 0) {
		r->pos += lb;
		r->line++;
	}
	if (too_many || b.overflow) {
		atsm_buf_free(&b);
		free(offs);
		if (too_many)
			return atsm_err_set(err, "line %u: more than %d fields", rec->line,
			    ATSM_CSV_FIELDS_MAX);
		return atsm_err_set(err, "line %u: the record is longer than %u bytes",
		    rec->line, ATSM_CSV_RECORD_MAX);
	}
	if (n > rec->cap_fields) {
		char **f = realloc(rec->fields, n * sizeof(*f));

		if (f == NULL)
			goto nomem;
		rec->fields = f;
		rec->cap_fields = n;
	}
	free(rec->storage);
	rec->storage = atsm_buf_steal(&b);
	if (rec->storage == NULL) {
		/* nothing was appended at all cannot happen: each field ends
		 * with its NUL; but stay safe */
		free(offs);
		return atsm_err_set(err, "line %u: out of memory", rec->line);
	}
	for (i = 0; i < n; i++)
		rec->fields[i] = rec->storage + offs[i];
	rec->n = n;
	free(offs);
	return 1;
nomem:
	atsm_buf_free(&b);
	free(offs);
	return atsm_err_set(err, "line %u: out of memory", r->line);
}

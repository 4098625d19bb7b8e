/* base/csv.h -- CSV files as Japanese ATS products and spreadsheets export
 * them.
 *
 * atsm_csv_decode() turns the bytes of a file into UTF-8: a UTF-8 byte
 * order mark means UTF-8 (the mark is dropped); bytes that are valid UTF-8
 * are UTF-8; anything else is Shift_JIS as Windows writes it (CP932).  The
 * caller may force either encoding.  atsm_csv_next() then reads one record
 * at a time from the decoded text, as RFC 4180 says and as Excel writes:
 * fields separated by commas, optionally quoted with '"', a doubled quote
 * inside quotes standing for one, commas and line breaks allowed inside
 * quotes, records ended by CRLF, LF or the end of the text.  Blank lines
 * are skipped.  Each record carries the line number where it starts, so
 * that errors can name it.  Memory is bounded by ATSM_CSV_FIELDS_MAX and
 * ATSM_CSV_RECORD_MAX; a record past them is an error naming its line.
 */
#ifndef ATSM_CSV_H
#define ATSM_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

#define ATSM_CSV_FIELDS_MAX 1000              /* fields in one record */
#define ATSM_CSV_RECORD_MAX (4u * 1024u * 1024u) /* bytes of one record's fields */

enum atsm_csv_encoding {
	ATSM_CSV_AUTO = 0,   /* BOM, else valid UTF-8, else CP932 */
	ATSM_CSV_UTF8,
	ATSM_CSV_CP932       /* Shift_JIS with the Microsoft extensions */
};

/* "auto", "utf-8"/"utf8", "shift_jis"/"sjis"/"cp932"/"windows-31j"
 * (ASCII case ignored): 0, or -1 with err naming the name. */
int atsm_csv_encoding_parse(const char *name, enum atsm_csv_encoding *enc,
    struct atsm_err *err);
const char *atsm_csv_encoding_name(enum atsm_csv_encoding enc);

/* Decode len bytes into out (UTF-8, BOM removed, never a NUL byte: a NUL
 * becomes U+FFFD).  *used (may be NULL) receives the encoding applied and
 * *nbad (may be NULL) the number of bytes sequences that were invalid in
 * it and were replaced by U+FFFD.  -1 with err when out's limit is
 * reached. */
int atsm_csv_decode(const char *in, size_t len, enum atsm_csv_encoding enc,
    struct atsm_buf *out, enum atsm_csv_encoding *used, size_t *nbad,
    struct atsm_err *err);

struct atsm_csv_reader {
	const char *text;     /* decoded text; not owned */
	size_t len;
	size_t pos;           /* offset of the next unread byte */
	unsigned line;        /* line number of text[pos] (1-based) */
};

struct atsm_csv_record {
	size_t n;             /* fields */
	char **fields;        /* n NUL-terminated strings, pointing into storage */
	unsigned line;        /* line where the record starts */
	unsigned last_line;   /* line where it ends (quoted line breaks) */
	/* private */
	char *storage;
	size_t cap_fields;
};

void atsm_csv_reader_init(struct atsm_csv_reader *r, const char *text, size_t len);

/* Read the next record into rec (initialise it with {0} once; it is reused
 * from call to call).  1 = a record, 0 = end of text, -1 = error with err
 * naming the line: a quote left open at the end of the text, or a record
 * over the limits (the reader then stands after that record, so reading
 * may go on).  Free rec with atsm_csv_record_free(). */
int atsm_csv_next(struct atsm_csv_reader *r, struct atsm_csv_record *rec,
    struct atsm_err *err);
void atsm_csv_record_free(struct atsm_csv_record *rec);

#endif

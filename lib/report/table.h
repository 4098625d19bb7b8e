/* report/table.h -- atsmailctl report as an aligned terminal table and as
 * CSV (docs/reports.md "Output").  Pure: the report in, text in a bounded
 * buffer out.
 */
#ifndef ATSM_REPORT_TABLE_H
#define ATSM_REPORT_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/lang.h"
#include "report/report.h"

/* which tables of rows (--by) */
#define ATSM_REPORT_BY_RECRUITER 1u
#define ATSM_REPORT_BY_MAILBOX   2u
#define ATSM_REPORT_BY_JOB       4u
#define ATSM_REPORT_BY_ALL       7u

/* which parts (--part) */
#define ATSM_REPORT_PART_ROWS    1u
#define ATSM_REPORT_PART_DAYS    2u
#define ATSM_REPORT_PART_FUNNEL  4u
#define ATSM_REPORT_PART_AGING   8u
#define ATSM_REPORT_PART_ALL     15u

/* Columns on a terminal taken by the UTF-8 text s: East Asian wide and
 * fullwidth characters (kanji, kana, hangul, fullwidth forms, most emoji)
 * count 2, combining marks and zero-width characters 0, anything else 1
 * (a byte that is not UTF-8 counts 1).  Independent of the locale. */
size_t atsm_report_width(const char *s);

/* A duration for people: "-" (s < 0), "45m", "3h 05m", "2d 04h". */
void atsm_report_fmt_duration(long long s, char *buf, size_t size);
/* A duration in lang: in English as above, in Japanese "45分",
 * "3時間05分", "2日04時間"; -1: "-". */
void atsm_report_fmt_duration_in(long long s, enum atsm_lang lang, char *buf, size_t size);
/* A rate as "50.0%", or "-". */
void atsm_report_fmt_rate(double rate, char *buf, size_t size);

/* The terminal table in lang (report/words.h): a title line, then each
 * part asked for, columns aligned by display width (text left, figures
 * right).  Also the text part of the report mail, in its reader's
 * language.  0, or -1 when out is full. */
int atsm_report_table(const struct atsm_report *r, unsigned by, unsigned parts,
    enum atsm_lang lang, struct atsm_buf *out);

/* One part as CSV (RFC 4180: fields separated by commas, quoted when they
 * hold a comma, a quote, CR or LF, quotes doubled, records ended by CRLF),
 * UTF-8, preceded by the byte order mark EF BB BF when bom.  part is one
 * ATSM_REPORT_PART_*; rows carry a "section" column (recruiter, mailbox,
 * job).  A text cell that starts with = + - @, a tab or CR is written with
 * a leading apostrophe, so that a spreadsheet shows it and does not run
 * it as a formula.  Durations in seconds, the rate as a fraction, no
 * data as an empty field.  0, or -1 when out is full. */
int atsm_report_csv(const struct atsm_report *r, unsigned by, unsigned part, bool bom,
    struct atsm_buf *out);

#endif

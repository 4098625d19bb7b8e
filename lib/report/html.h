/* report/html.h -- the report as one self-contained HTML page
 * (docs/reports.md, "HTML page"): the period, the charts (gnuplot's SVG,
 * inline), the tables per recruiter, per shared mailbox and per job, the
 * funnel and the open shared-mailbox mail by age.  Pure.
 *
 * Self-contained: one file, UTF-8 (<meta charset="utf-8">), the style
 * inline, no script, no external font, image or style sheet and no http(s)
 * reference, so that it opens in any browser without the network, and as
 * an attachment of the report mail.  Every value of the data is HTML
 * escaped (& < > " ').  An SVG is put in without its XML prolog and its
 * namespace attributes (the HTML parser gives inline svg its namespace);
 * one that holds a script, a foreignObject, an event handler or a
 * reference other than "#..." is refused.
 */
#ifndef ATSM_REPORT_HTML_H
#define ATSM_REPORT_HTML_H

#include "base/buf.h"
#include "base/err.h"
#include "base/lang.h"
#include "report/plot.h"
#include "report/report.h"

#define ATSM_REPORT_HTML_MAX (16u * 1024u * 1024u)

struct atsm_report_page {
	const struct atsm_report *r;
	enum atsm_lang lang;
	const char *period;           /* the period as shown ("2026-11-30 - 2026-12-06") */
	const char *generated;        /* when it was made, as shown; NULL: not shown */
	const char *svg[ATSM_CHART_N];  /* the charts; NULL: not drawn */
	const char *chart_error;      /* why charts are missing; NULL */
};

/* The page into out (reset first).  0, or -1 with err: an SVG refused, or
 * out's limit. */
int atsm_report_html(const struct atsm_report_page *p, struct atsm_buf *out,
    struct atsm_err *err);

/* s HTML-escaped (& < > " ' as entities; control characters but tab and
 * line feed dropped; bytes that are no UTF-8 as U+FFFD), appended to out.
 * 0, or -1 when out is full. */
int atsm_html_escape(struct atsm_buf *out, const char *s);

/* svg (gnuplot's output) appended to out as inline SVG: from "<svg" on,
 * the xmlns attributes of its root removed.  0, or -1 with err when it is
 * no SVG or holds what the page must not (see above). */
int atsm_report_svg_inline(struct atsm_buf *out, const char *svg, struct atsm_err *err);

#endif

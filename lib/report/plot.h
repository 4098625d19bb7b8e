/* report/plot.h -- the charts of the report page (docs/reports.md) as
 * gnuplot scripts: bars per recruiter (sent, replies), a line over the
 * days of the period (sent, replies) and the funnel per job (horizontal
 * bars, one per phase).  Pure: the script is text; ctl/report-html.c runs
 * gnuplot on it (the script on standard input, the chart on standard
 * output) and puts the SVG into the page.
 *
 * The figures go into a datablock ($data << EOD) as numbers only.  Every
 * text that comes from the data (a recruiter's name, a job, a phase) is
 * written as a gnuplot single-quoted string: no backslash escape, no
 * backquote command and no @macro is expanded inside one, a quote is
 * doubled, and control characters (a line break would end the command)
 * and bytes that are no UTF-8 become spaces and U+FFFD.  So no name can
 * add a gnuplot command, whatever it holds.  The terminal is noenhanced:
 * a name is drawn as written (enhanced mode would read "_" and "^" as
 * markup).
 */
#ifndef ATSM_REPORT_PLOT_H
#define ATSM_REPORT_PLOT_H

#include "base/buf.h"
#include "base/err.h"
#include "base/lang.h"
#include "report/report.h"

enum atsm_report_chart {
	ATSM_CHART_RECRUITERS = 0,    /* bars per recruiter */
	ATSM_CHART_DAYS,              /* a line over time */
	ATSM_CHART_FUNNEL,            /* the funnel per job */
	ATSM_CHART_N
};

enum atsm_plot_term {
	ATSM_PLOT_SVG,                /* text stays text: the browser draws it */
	ATSM_PLOT_PNG                 /* pngcairo: the picture inside the report mail */
};

/* Bars, days on the line and steps of the funnel drawn at most; the page's
 * tables hold them all. */
#define ATSM_PLOT_BARS_MAX 40
#define ATSM_PLOT_DAYS_MAX 400
#define ATSM_PLOT_STEPS_MAX 60
/* Characters of a label on an axis (cut with "..."). */
#define ATSM_PLOT_LABEL_MAX 24

/* The gnuplot script of chart `which` of r, titles in lang, into out
 * (reset first).  A chart without data says so ("No data").  0, or -1
 * with err when out is full. */
int atsm_report_plot(const struct atsm_report *r, enum atsm_report_chart which,
    enum atsm_lang lang, enum atsm_plot_term term, struct atsm_buf *out, struct atsm_err *err);

/* s as a gnuplot single-quoted string ('...') appended to out, cut at max
 * characters (0: not cut).  0, or -1 when out is full. */
int atsm_plot_quote(struct atsm_buf *out, const char *s, size_t max);

/* "recruiters", "days", "funnel". */
const char *atsm_report_chart_name(enum atsm_report_chart which);

/* The chart's title in lang (UTF-8). */
const char *atsm_report_chart_title(enum atsm_report_chart which, enum atsm_lang lang);

#endif

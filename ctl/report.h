/* report.h -- atsmailctl report: fetching the figures (report-fetch.c),
 * the HTML page (report-html.c) and the report mail (cmd-report-mail.c).
 * docs/reports.md. */
#ifndef ATSM_CTL_REPORT_H
#define ATSM_CTL_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "ctl.h"
#include "report/report.h"

struct ctl_report_opts {
	long long from, to;           /* [from, to), unix seconds */
	const char *as_login;         /* --as LOGIN, or NULL */
	bool office_hours;            /* --office-hours */
	const char *zone;             /* --tz, else the session's (PGTZ) */
};

/* Read the period's figures into r (initialised by the caller) on
 * ctx->conn, under RLS as the options say.  0, or -1 with err. */
int ctl_report_fetch(struct ctl *ctx, const struct ctl_report_opts *o,
    struct atsm_report *r, struct atsm_err *err);

/* Write r as a self-contained HTML page with its charts (gnuplot, SVG) to
 * out.  0, or -1 with err (gnuplot missing or failing names it). */
int ctl_report_html(const struct atsm_report *r, const char *gnuplot, FILE *out,
    struct atsm_err *err);

#endif

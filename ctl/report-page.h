/* report-page.h -- the report's page and charts made by running gnuplot
 * (report-html.c), for `atsmailctl report --html` (ctl_report_html in
 * report.h) and the report mail (cmd-report-mail.c).  docs/reports.md.
 */
#ifndef ATSM_CTL_REPORT_PAGE_H
#define ATSM_CTL_REPORT_PAGE_H

#include <stdbool.h>
#include <stdio.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/lang.h"
#include "report/report.h"
#include "ctl.h"

/* How long one run of gnuplot may take before it is killed. */
#define CTL_GNUPLOT_TIMEOUT_S 30
/* The most one chart may be (SVG or PNG). */
#define CTL_GNUPLOT_OUT_MAX (4u * 1024u * 1024u)

/* Run gnuplot (the program; NULL or "": "gnuplot", looked up in PATH) with
 * -d (no init file) and script on its standard input; what it writes on
 * its standard output into out (reset first).  0, or -1 with err naming
 * the program and what it wrote on standard error: it cannot be started,
 * it failed, or it ran longer than CTL_GNUPLOT_TIMEOUT_S (then killed). */
int ctl_report_gnuplot(const char *gnuplot, const char *script, struct atsm_buf *out,
    struct atsm_err *err);

/* The page of r in lang, the three charts drawn as SVG, into html (reset
 * first); with png not NULL also the recruiters' chart as a PNG.  0, or -1
 * with err. */
int ctl_report_page(const struct atsm_report *r, enum atsm_lang lang, const char *gnuplot,
    struct atsm_buf *html, struct atsm_buf *png, struct atsm_err *err);

/* The period of r as shown: "2026-11-30 - 2026-12-06 (Asia/Tokyo)", the
 * dates in r->zone (the local zone when empty), the end the last day
 * counted. */
void ctl_report_period(const struct atsm_report *r, char *out, size_t size);

/* The language of the person at the terminal: LC_ALL, LC_MESSAGES or
 * LANG starting with "ja" is Japanese, anything else English. */
enum atsm_lang ctl_report_env_lang(void);

/* atsmailctl report mail (cmd-report-mail.c); argv[0] is "mail". */
int ctl_cmd_report_mail(struct ctl *ctx, int argc, char **argv);
void ctl_cmd_report_mail_usage(FILE *fp);

#endif

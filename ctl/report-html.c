/* report-html.c -- a stand-in for the HTML page of atsmailctl report
 * until helper "rpage"'s ctl_report_html() replaces this file. */
#include "report.h"

int
ctl_report_html(const struct atsm_report *r, const char *gnuplot, FILE *out,
    struct atsm_err *err)
{
	return atsm_err_setc(err, ATSM_ERR_INTERNAL, "the HTML page is not built yet");
}

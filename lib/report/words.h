/* report/words.h -- the words of the report in English and Japanese, one
 * place for the terminal table, the mail's text part (report/table.c) and
 * the HTML page (report/html.c), so that the table in a Japanese report
 * mail says what its attached page says.  Chart titles are with the
 * charts (report/plot.c).
 */
#ifndef ATSM_REPORT_WORDS_H
#define ATSM_REPORT_WORDS_H

#include "base/lang.h"
#include "report/report.h"

/* the columns of a table of rows, in order (ATSM_COL_N of them) */
enum atsm_report_col {
	ATSM_COL_NAME, ATSM_COL_ID, ATSM_COL_SENT, ATSM_COL_REPLIES, ATSM_COL_RATE,
	ATSM_COL_HARD, ATSM_COL_SOFT, ATSM_COL_IN_MEDIAN, ATSM_COL_IN_P90,
	ATSM_COL_OUT_MEDIAN, ATSM_COL_OUT_P90, ATSM_COL_HELD, ATSM_COL_OPEN,
	ATSM_COL_N
};

struct atsm_report_words {
	/* the page */
	const char *title, *period, *generated, *view, *office_hours, *charts_missing;
	const char *recruiters, *mailboxes, *jobs, *funnel, *aging;
	const char *recruiter, *mailbox, *job, *phase, *count;
	const char *sent, *replies, *rate, *hard, *soft;
	const char *in_median, *in_p90, *out_median, *out_p90, *held, *open;
	const char *age[ATSM_AGE_N];
	const char *none;
	/* the terminal table: shorter, a column fits a line */
	const char *t_by[3];              /* recruiter, shared mailbox, job */
	const char *t_col[ATSM_COL_N];
	const char *t_days, *t_date;
	const char *t_funnel, *t_fun_col[5];  /* job, id, phase, code, processes */
	const char *t_mailbox;
	const char *t_times, *t_office_only, *t_as, *t_none;
};

/* The words in lang (English for anything but Japanese). */
const struct atsm_report_words *atsm_report_words(enum atsm_lang lang);

#endif

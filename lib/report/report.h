/* report/report.h -- the figures of `atsmailctl report` (docs/reports.md):
 * what a period's mail did, per recruiter, per shared mailbox and per job.
 * Pure data and pure functions: the figures are read from PostgreSQL by
 * ctl/report-fetch.c (row-level security decides what is counted) and
 * drawn by the renderers (report/table.c: terminal and CSV; report/html.c
 * and report/plot.c: the HTML page and its charts).
 *
 * Times are unix seconds (UTC); dates shown are in the report's zone.
 * A duration or a rate that has no data is -1 ("-" when shown).
 */
#ifndef ATSM_REPORT_H
#define ATSM_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

/* One row of a table: a recruiter, a shared mailbox or a job. */
struct atsm_report_row {
	char *key;                    /* login, mailbox address, job id */
	char *label;                  /* display name (UTF-8, Japanese allowed) */
	long long sent;               /* ATS mails sent (released held mail counts when released) */
	long long replies;            /* replies received to them */
	double reply_rate;            /* sent threads answered / sent threads, 0..1; -1 */
	long long bounces_hard, bounces_soft;
	/* seconds to the first reply: the candidate's to our mail (in) and
	 * ours to the candidate's mail (out); office hours when asked */
	long long in_median, in_p90;
	long long out_median, out_p90;
	long long held;               /* mail held for approval now */
	long long open;               /* shared mailbox: items not done now */
};

/* Sent and replies per day (a line over time). */
struct atsm_report_day {
	char date[11];                /* YYYY-MM-DD in the report's zone */
	long long sent, replies;
};

/* One step of a job's funnel: processes that reached a phase by mail. */
struct atsm_report_step {
	char *job_key, *job_label;
	char *phase, *phase_label;    /* code and label (UTF-8) */
	int order;                    /* the phase's place in the funnel */
	long long count;
};

/* Open shared mailbox mail by age. */
enum atsm_report_age { ATSM_AGE_1D = 0, ATSM_AGE_3D, ATSM_AGE_7D, ATSM_AGE_OLDER, ATSM_AGE_N };
struct atsm_report_aging {
	char *mailbox;
	long long n[ATSM_AGE_N];      /* < 1 day, 1-3 days, 3-7 days, older */
};

struct atsm_report_rows {
	struct atsm_report_row *v;
	size_t n, cap;
};

struct atsm_report {
	long long from, to;           /* [from, to) */
	char zone[64];                /* the time zone of dates ("Asia/Tokyo") */
	char as_login[256];           /* whose view ("" = the connecting login's) */
	bool office_hours;            /* durations count office hours only */
	struct atsm_report_rows recruiters, mailboxes, jobs;
	struct atsm_report_day *days;
	size_t ndays;
	struct atsm_report_step *funnel;
	size_t nfunnel;
	struct atsm_report_aging *aging;
	size_t naging;
};

void atsm_report_init(struct atsm_report *r);
void atsm_report_free(struct atsm_report *r);

#endif

/* report/report.c -- a report's lifetime: empty at init, every string and
 * array freed at once (report/report.h). */
#include "report/report.h"

#include <stdlib.h>
#include <string.h>

void
atsm_report_init(struct atsm_report *r)
{
	memset(r, 0, sizeof(*r));
}

static void
rows_free(struct atsm_report_rows *rows)
{
	size_t i;

	for (i = 0; i < rows->n; i++) {
		free(rows->v[i].key);
		free(rows->v[i].label);
	}
	free(rows->v);
	memset(rows, 0, sizeof(*rows));
}

void
atsm_report_free(struct atsm_report *r)
{
	size_t i;

	rows_free(&r->recruiters);
	rows_free(&r->mailboxes);
	rows_free(&r->jobs);
	free(r->days);
	for (i = 0; i < r->nfunnel; i++) {
		free(r->funnel[i].job_key);
		free(r->funnel[i].job_label);
		free(r->funnel[i].phase);
		free(r->funnel[i].phase_label);
	}
	free(r->funnel);
	for (i = 0; i < r->naging; i++)
		free(r->aging[i].mailbox);
	free(r->aging);
	atsm_report_init(r);
}

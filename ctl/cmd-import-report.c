/* cmd-import-report.c -- atsmailctl import: what the user sees while a
 * file is read: the progress bar of a long file on a terminal, and each
 * row's error, written after the bar, not on top of it.  The row readers
 * and the run both report through here.
 */
#include "cmd-import.h"

#include <stdarg.h>
#include <stdio.h>

void
ctl_imp_progress_clear(struct imp *im)
{
	if (im->progress_on && im->progress_pct >= 0) {
		fputs("\r\033[K", stderr);
		im->progress_pct = -1;
	}
}

void
ctl_imp_progress(struct imp *im, size_t pos, unsigned rows)
{
	int pct, i;

	if (!im->progress_on || im->total == 0)
		return;
	pct = (int)((double)pos * 100.0 / (double)im->total);
	if (pct == im->progress_pct)
		return;
	im->progress_pct = pct;
	fputs("\r[", stderr);
	for (i = 0; i < 40; i++)
		fputc(i < pct * 40 / 100 ? '#' : ' ', stderr);
	fprintf(stderr, "] %3d%%  %u rows", pct, rows);
	fflush(stderr);
}

/* Report a row; after the progress bar, not on top of it. */
void
ctl_imp_error(struct imp *im, const char *fmt, ...)
{
	va_list ap;

	ctl_imp_progress_clear(im);
	fprintf(stderr, CTL_PROGNAME ": %s line %u: ", im->path, im->line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}


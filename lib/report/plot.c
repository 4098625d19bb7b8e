/* report/plot.c -- the gnuplot scripts of the report's charts (see
 * report/plot.h; docs/reports.md).
 *
 * Each script sets UTF-8, the terminal (svg or pngcairo, noenhanced, font
 * "sans": the browser, or fontconfig for the PNG, falls back to a CJK font
 * for Japanese), the titles, the axis labels of the data as quoted strings
 * (set xtics/ytics (...)), then the datablock of numbers and the plot.
 * Positions on the axes are indices (0, 1, ...), so no text of the data is
 * ever read by gnuplot as data either.
 */
#include "report/plot.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/charset.h"

#define COLOR_SENT "#4e79a7"
#define COLOR_REPLIES "#f28e2b"

struct words {
	const char *title[ATSM_CHART_N];
	const char *sent, *replies, *mails, *processes, *no_data;
};

static const struct words words_en = {
	{ "Sent and replies per recruiter", "Sent and replies per day",
	  "Funnel per job: processes that reached a phase by mail" },
	"Sent", "Replies", "Mails", "Processes", "No data in this period",
};

static const struct words words_ja = {
	{ "担当者別の送信数と返信数", "日別の送信数と返信数",
	  "求人別ファネル: メールでフェーズに進んだ選考" },
	"送信", "返信", "通数", "選考数", "この期間のデータはありません",
};

static const struct words *
words(enum atsm_lang lang)
{
	return lang == ATSM_LANG_JA ? &words_ja : &words_en;
}

const char *
atsm_report_chart_name(enum atsm_report_chart which)
{
	switch (which) {
	case ATSM_CHART_RECRUITERS: return "recruiters";
	case ATSM_CHART_DAYS: return "days";
	case ATSM_CHART_FUNNEL: return "funnel";
	default: return "?";
	}
}

const char *
atsm_report_chart_title(enum atsm_report_chart which, enum atsm_lang lang)
{
	if ((unsigned)which >= ATSM_CHART_N)
		return "";
	return words(lang)->title[which];
}

int
atsm_plot_quote(struct atsm_buf *out, const char *s, size_t max)
{
	size_t n, len = s != NULL ? strlen(s) : 0, chars = 0, i = 0;

	if (atsm_buf_putc(out, '\'') < 0)
		return -1;
	while (i < len) {
		unsigned char c = (unsigned char)s[i];

		if (max > 0 && chars == max) {
			if (atsm_buf_puts(out, "...") < 0)
				return -1;
			break;
		}
		if (c < 0x20 || c == 0x7f) {
			if (atsm_buf_putc(out, ' ') < 0)
				return -1;
			n = 1;
		} else if (c == '\'') {
			if (atsm_buf_puts(out, "''") < 0)
				return -1;
			n = 1;
		} else if ((n = atsm_utf8_char_len(s + i, len - i)) == 0) {
			if (atsm_buf_puts(out, "\xef\xbf\xbd") < 0)        /* U+FFFD */
				return -1;
			n = 1;
		} else if (atsm_buf_append(out, s + i, n) < 0) {
			return -1;
		}
		i += n;
		chars++;
	}
	return atsm_buf_putc(out, '\'');
}

/* The head of every script: encoding, terminal, title. */
static int
put_head(struct atsm_buf *out, enum atsm_plot_term term, int w, int h, const char *title)
{
	if (atsm_buf_puts(out, "set encoding utf8\n") < 0)
		return -1;
	if (term == ATSM_PLOT_PNG) {
		if (atsm_buf_printf(out, "set terminal pngcairo size %d,%d noenhanced "
		    "font 'sans,10' background '#ffffff'\n", w, h) < 0)
			return -1;
	} else if (atsm_buf_printf(out, "set terminal svg size %d,%d noenhanced "
	    "font 'sans,11' background '#ffffff'\n", w, h) < 0) {
		return -1;
	}
	if (atsm_buf_puts(out, "set title ") < 0 || atsm_plot_quote(out, title, 0) < 0 ||
	    atsm_buf_puts(out, "\nset grid\nset border 3\nset tics nomirror\n") < 0)
		return -1;
	return 0;
}

/* A chart that says there is nothing to draw. */
static int
put_empty(struct atsm_buf *out, const struct words *wd)
{
	if (atsm_buf_puts(out, "unset key\nunset xtics\nunset ytics\nunset grid\n"
	    "set xrange [0:1]\nset yrange [0:1]\nset label 1 ") < 0 ||
	    atsm_plot_quote(out, wd->no_data, 0) < 0 ||
	    atsm_buf_puts(out, " at graph 0.5,0.5 center\nplot 2 notitle\n") < 0)
		return -1;
	return 0;
}

/* A list of tics: ( 'label' pos, ... ), labels from the caller. */
static int
put_tic(struct atsm_buf *out, bool first, const char *label, double pos)
{
	if (atsm_buf_puts(out, first ? "(" : ", ") < 0 ||
	    atsm_plot_quote(out, label, ATSM_PLOT_LABEL_MAX) < 0 ||
	    atsm_buf_printf(out, " %g", pos) < 0)
		return -1;
	return 0;
}

static const char *
row_name(const struct atsm_report_row *row)
{
	if (row->label != NULL && row->label[0] != '\0')
		return row->label;
	return row->key != NULL ? row->key : "";
}

static int
plot_recruiters(const struct atsm_report *r, const struct words *wd,
    enum atsm_plot_term term, struct atsm_buf *out)
{
	size_t n = r->recruiters.n < ATSM_PLOT_BARS_MAX ? r->recruiters.n : ATSM_PLOT_BARS_MAX;
	size_t i;
	int w = 200 + 40 * (int)n;

	if (w < 720)
		w = 720;
	if (put_head(out, term, w, 420, wd->title[ATSM_CHART_RECRUITERS]) < 0)
		return -1;
	if (n == 0)
		return put_empty(out, wd);
	if (atsm_buf_puts(out, "set style data histograms\n"
	    "set style histogram clustered gap 1\n"
	    "set style fill solid 0.9 border -1\n"
	    "set boxwidth 0.9\nset key top right\nset grid noxtics ytics\n"
	    "set yrange [0:*]\nset ylabel ") < 0 ||
	    atsm_plot_quote(out, wd->mails, 0) < 0 ||
	    atsm_buf_puts(out, "\nset xtics ") < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (put_tic(out, i == 0, row_name(&r->recruiters.v[i]), (double)i) < 0)
			return -1;
	if (atsm_buf_printf(out, ")%s\n$data << EOD\n",
	    n > 6 ? " rotate by -35 right" : "") < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (atsm_buf_printf(out, "%zu %lld %lld\n", i, r->recruiters.v[i].sent,
		    r->recruiters.v[i].replies) < 0)
			return -1;
	if (atsm_buf_puts(out, "EOD\nplot $data using 2 title ") < 0 ||
	    atsm_plot_quote(out, wd->sent, 0) < 0 ||
	    atsm_buf_puts(out, " lc rgb '" COLOR_SENT "', '' using 3 title ") < 0 ||
	    atsm_plot_quote(out, wd->replies, 0) < 0 ||
	    atsm_buf_puts(out, " lc rgb '" COLOR_REPLIES "'\n") < 0)
		return -1;
	return 0;
}

/* "YYYY-MM-DD" -> "MM-DD"; anything else -> "" (the date is not drawn). */
static void
short_date(const char *d, char out[6])
{
	static const char shape[] = "dddd-dd-dd";
	size_t i;

	out[0] = '\0';
	for (i = 0; i < 10; i++) {
		if (shape[i] == 'd' ? (d[i] < '0' || d[i] > '9') : d[i] != '-')
			return;
	}
	if (d[10] != '\0')
		return;
	memcpy(out, d + 5, 5);
	out[5] = '\0';
}

static int
plot_days(const struct atsm_report *r, const struct words *wd, enum atsm_plot_term term,
    struct atsm_buf *out)
{
	size_t n = r->ndays < ATSM_PLOT_DAYS_MAX ? r->ndays : ATSM_PLOT_DAYS_MAX;
	size_t i, step = n / 12 + 1;
	char d[6];

	if (put_head(out, term, 800, 380, wd->title[ATSM_CHART_DAYS]) < 0)
		return -1;
	if (n == 0)
		return put_empty(out, wd);
	if (atsm_buf_puts(out, "set key top right\nset yrange [0:*]\nset ylabel ") < 0 ||
	    atsm_plot_quote(out, wd->mails, 0) < 0 ||
	    atsm_buf_printf(out, "\nset xrange [%g:%g]\nset xtics ", n == 1 ? -1.0 : 0.0,
	    n == 1 ? 1.0 : (double)(n - 1)) < 0)
		return -1;
	for (i = 0; i < n; i += step) {
		short_date(r->days[i].date, d);
		if (put_tic(out, i == 0, d, (double)i) < 0)
			return -1;
	}
	if (atsm_buf_puts(out, ")\n$data << EOD\n") < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (atsm_buf_printf(out, "%zu %lld %lld\n", i, r->days[i].sent,
		    r->days[i].replies) < 0)
			return -1;
	if (atsm_buf_puts(out, "EOD\nplot $data using 1:2 with linespoints lw 2 pt 7 ps 0.6 "
	    "lc rgb '" COLOR_SENT "' title ") < 0 ||
	    atsm_plot_quote(out, wd->sent, 0) < 0 ||
	    atsm_buf_puts(out, ", '' using 1:3 with linespoints lw 2 pt 7 ps 0.6 "
	    "lc rgb '" COLOR_REPLIES "' title ") < 0 ||
	    atsm_plot_quote(out, wd->replies, 0) < 0 ||
	    atsm_buf_putc(out, '\n') < 0)
		return -1;
	return 0;
}

static int
nz_strcmp(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "");
}

static int
step_cmp(const void *pa, const void *pb)
{
	const struct atsm_report_step *a = *(const struct atsm_report_step *const *)pa;
	const struct atsm_report_step *b = *(const struct atsm_report_step *const *)pb;
	int c = nz_strcmp(a->job_key, b->job_key);

	if (c != 0)
		return c;
	if (a->order != b->order)
		return a->order < b->order ? -1 : 1;
	return nz_strcmp(a->phase, b->phase);
}

static const char *
nonempty(const char *a, const char *b)
{
	return a != NULL && a[0] != '\0' ? a : b != NULL ? b : "";
}

/* The funnel: one row per step, jobs one after another from the top, a
 * blank row between jobs; a bar's colour is its job's. */
static int
plot_funnel(const struct atsm_report *r, const struct words *wd, enum atsm_plot_term term,
    struct atsm_buf *out)
{
	size_t n = r->nfunnel < ATSM_PLOT_STEPS_MAX ? r->nfunnel : ATSM_PLOT_STEPS_MAX;
	const struct atsm_report_step **s = NULL;
	struct atsm_buf label;
	size_t i, rows, job;
	double y;
	int rc = -1;

	if (n > 0 && (s = calloc(r->nfunnel, sizeof(*s))) == NULL)
		return -1;
	for (i = 0; i < r->nfunnel; i++)
		s[i] = &r->funnel[i];
	if (n > 0)
		qsort(s, r->nfunnel, sizeof(*s), step_cmp);
	for (i = 0, rows = n; i + 1 < n; i++)
		if (nz_strcmp(s[i]->job_key, s[i + 1]->job_key) != 0)
			rows++;
	atsm_buf_init(&label, 4096);
	if (put_head(out, term, 800, 140 + 24 * (int)(rows < 8 ? 8 : rows),
	    wd->title[ATSM_CHART_FUNNEL]) < 0)
		goto done;
	if (n == 0) {
		rc = put_empty(out, wd);
		goto done;
	}
	if (atsm_buf_printf(out, "unset key\nset style fill solid 0.9 border -1\n"
	    "set grid xtics noytics\nset xrange [0:*]\nset offsets 0, graph 0.12, 0, 0\n"
	    "set yrange [0.2:%zu.8]\nset xlabel ", rows) < 0 ||
	    atsm_plot_quote(out, wd->processes, 0) < 0 ||
	    atsm_buf_puts(out, "\nset ytics ") < 0)
		goto done;
	for (i = 0, job = 0, y = (double)rows; i < n; i++, y--) {
		if (i > 0 && nz_strcmp(s[i - 1]->job_key, s[i]->job_key) != 0)
			y--, job++;
		atsm_buf_reset(&label);
		if (atsm_buf_printf(&label, "%s: %s", nonempty(s[i]->job_label, s[i]->job_key),
		    nonempty(s[i]->phase_label, s[i]->phase)) < 0 ||
		    put_tic(out, i == 0, atsm_buf_str(&label), y) < 0)
			goto done;
	}
	if (atsm_buf_puts(out, ")\n$data << EOD\n") < 0)
		goto done;
	for (i = 0, job = 0, y = (double)rows; i < n; i++, y--) {
		if (i > 0 && nz_strcmp(s[i - 1]->job_key, s[i]->job_key) != 0)
			y--, job++;
		if (atsm_buf_printf(out, "%g %lld %zu\n", y, s[i]->count, job % 8 + 1) < 0)
			goto done;
	}
	/* boxxyerror: x y xlow xhigh ylow yhigh colour */
	if (atsm_buf_puts(out, "EOD\nplot $data using (0):1:(0):2:($1-0.38):($1+0.38):3 "
	    "with boxxyerror lc variable, '' using 2:1:(sprintf('%d', $2)) with labels "
	    "left offset 0.6,0\n") < 0)
		goto done;
	rc = 0;
done:
	atsm_buf_free(&label);
	free(s);
	return rc;
}

int
atsm_report_plot(const struct atsm_report *r, enum atsm_report_chart which,
    enum atsm_lang lang, enum atsm_plot_term term, struct atsm_buf *out, struct atsm_err *err)
{
	const struct words *wd = words(lang);
	int rc;

	atsm_buf_reset(out);
	switch (which) {
	case ATSM_CHART_RECRUITERS: rc = plot_recruiters(r, wd, term, out); break;
	case ATSM_CHART_DAYS: rc = plot_days(r, wd, term, out); break;
	case ATSM_CHART_FUNNEL: rc = plot_funnel(r, wd, term, out); break;
	default:
		return atsm_err_setc(err, ATSM_ERR_INPUT, "report: no chart %d", (int)which);
	}
	if (rc < 0)
		return atsm_err_setc(err, ATSM_ERR_INPUT, "report: the %s chart's script is "
		    "larger than its limit", atsm_report_chart_name(which));
	return 0;
}

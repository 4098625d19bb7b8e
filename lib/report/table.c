/* report/table.c -- the report as an aligned terminal table and as CSV
 * (report/table.h, docs/reports.md "Output").
 *
 * Both are drawn from one grid of cells per part: the terminal pads each
 * cell to its column's display width (a Japanese name takes two columns a
 * character, so counting bytes or code points would push the figures out
 * of line); CSV writes the same cells, raw figures rather than the forms
 * made for people.  Display width comes from a table of the East Asian
 * Wide and Fullwidth ranges of Unicode (EastAsianWidth.txt, W and F,
 * gathered into blocks) rather than wcwidth(3): the result must not depend
 * on the locale atsmailctl happens to run in (cron has "C").
 */
#include "report/table.h"
#include "report/words.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct range { uint32_t lo, hi; };

static const struct range wide[] = {
	{ 0x1100, 0x115F }, { 0x231A, 0x231B }, { 0x2329, 0x232A }, { 0x23E9, 0x23EC },
	{ 0x23F0, 0x23F0 }, { 0x23F3, 0x23F3 }, { 0x25FD, 0x25FE }, { 0x2614, 0x2615 },
	{ 0x2648, 0x2653 }, { 0x267F, 0x267F }, { 0x2693, 0x2693 }, { 0x26A1, 0x26A1 },
	{ 0x26AA, 0x26AB }, { 0x26BD, 0x26BE }, { 0x26C4, 0x26C5 }, { 0x26CE, 0x26CE },
	{ 0x26D4, 0x26D4 }, { 0x26EA, 0x26EA }, { 0x26F2, 0x26F3 }, { 0x26F5, 0x26F5 },
	{ 0x26FA, 0x26FA }, { 0x26FD, 0x26FD }, { 0x2705, 0x2705 }, { 0x270A, 0x270B },
	{ 0x2728, 0x2728 }, { 0x274C, 0x274C }, { 0x274E, 0x274E }, { 0x2753, 0x2755 },
	{ 0x2757, 0x2757 }, { 0x2795, 0x2797 }, { 0x27B0, 0x27B0 }, { 0x27BF, 0x27BF },
	{ 0x2B1B, 0x2B1C }, { 0x2B50, 0x2B50 }, { 0x2B55, 0x2B55 },
	{ 0x2E80, 0x303E },                     /* CJK radicals, punctuation 、。「」 */
	{ 0x3041, 0x33FF },                     /* kana, CJK compatibility */
	{ 0x3400, 0x4DBF }, { 0x4E00, 0x9FFF }, /* kanji */
	{ 0xA000, 0xA4CF }, { 0xA960, 0xA97F },
	{ 0xAC00, 0xD7A3 },                     /* hangul */
	{ 0xF900, 0xFAFF }, { 0xFE10, 0xFE19 }, { 0xFE30, 0xFE6F },
	{ 0xFF00, 0xFF60 }, { 0xFFE0, 0xFFE6 }, /* fullwidth forms (not halfwidth kana) */
	{ 0x16FE0, 0x16FE4 }, { 0x17000, 0x18CFF }, { 0x1B000, 0x1B2FF },
	{ 0x1F004, 0x1F004 }, { 0x1F0CF, 0x1F0CF }, { 0x1F18E, 0x1F18E }, { 0x1F191, 0x1F19A },
	{ 0x1F200, 0x1F202 }, { 0x1F210, 0x1F23B }, { 0x1F240, 0x1F248 }, { 0x1F250, 0x1F251 },
	{ 0x1F260, 0x1F265 }, { 0x1F300, 0x1F64F }, { 0x1F680, 0x1F6FF }, { 0x1F7E0, 0x1F7EB },
	{ 0x1F90C, 0x1F9FF }, { 0x1FA70, 0x1FAFF },
	{ 0x20000, 0x2FFFD }, { 0x30000, 0x3FFFD },
};

static const struct range zero[] = {
	{ 0x0300, 0x036F }, { 0x1AB0, 0x1AFF }, { 0x1DC0, 0x1DFF }, { 0x200B, 0x200F },
	{ 0x20D0, 0x20FF }, { 0x3099, 0x309A }, { 0xFE00, 0xFE0F }, { 0xFE20, 0xFE2F },
	{ 0xE0100, 0xE01EF },
};

static bool
in_ranges(uint32_t c, const struct range *t, size_t n)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (c < t[mid].lo)
			hi = mid;
		else if (c > t[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/* One UTF-8 sequence at s: its code point, or (uint32_t)-1 for a byte
 * that does not start a valid sequence; *len its length (1 when invalid). */
static uint32_t
utf8_next(const unsigned char *s, size_t *len)
{
	uint32_t c;
	size_t n, i;

	if (s[0] < 0x80) {
		*len = 1;
		return s[0];
	}
	if ((s[0] & 0xE0) == 0xC0) {
		n = 2;
		c = s[0] & 0x1F;
	} else if ((s[0] & 0xF0) == 0xE0) {
		n = 3;
		c = s[0] & 0x0F;
	} else if ((s[0] & 0xF8) == 0xF0) {
		n = 4;
		c = s[0] & 0x07;
	} else {
		*len = 1;
		return (uint32_t)-1;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			*len = 1;
			return (uint32_t)-1;
		}
		c = (c << 6) | (s[i] & 0x3F);
	}
	*len = n;
	return c;
}

size_t
atsm_report_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0, len;
	uint32_t c;

	while (*p != '\0') {
		c = utf8_next(p, &len);
		p += len;
		if (c == (uint32_t)-1)
			w += 1;
		else if (in_ranges(c, zero, sizeof(zero) / sizeof(zero[0])))
			;
		else if (in_ranges(c, wide, sizeof(wide) / sizeof(wide[0])))
			w += 2;
		else
			w += 1;
	}
	return w;
}

void
atsm_report_fmt_duration(long long s, char *buf, size_t size)
{
	if (s < 0)
		snprintf(buf, size, "-");
	else if (s < 3600)
		snprintf(buf, size, "%lldm", (s + 30) / 60);
	else if (s < 86400)
		snprintf(buf, size, "%lldh %02lldm", s / 3600, (s % 3600) / 60);
	else
		snprintf(buf, size, "%lldd %02lldh", s / 86400, (s % 86400) / 3600);
}

void
atsm_report_fmt_duration_in(long long s, enum atsm_lang lang, char *buf, size_t size)
{
	if (lang != ATSM_LANG_JA)
		atsm_report_fmt_duration(s, buf, size);
	else if (s < 0)
		snprintf(buf, size, "-");
	else if (s < 3600)
		snprintf(buf, size, "%lld分", (s + 30) / 60);
	else if (s < 86400)
		snprintf(buf, size, "%lld時間%02lld分", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, size, "%lld日%02lld時間", s / 86400, s % 86400 / 3600);
}

void
atsm_report_fmt_rate(double rate, char *buf, size_t size)
{
	if (rate < 0)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.1f%%", rate * 100.0);
}

/* ------------------------------------------------------------------ grid */

#define GRID_COLS 16

struct grid {
	size_t ncols;
	const char *head[GRID_COLS];
	bool right[GRID_COLS];        /* figures: aligned right */
	char **cell;                  /* nrows * ncols, malloc'd strings */
	size_t nrows, cap;
	bool nomem;
};

static void
grid_init(struct grid *g, size_t ncols, const char *const *head, const char *align)
{
	size_t i;

	memset(g, 0, sizeof(*g));
	g->ncols = ncols;
	for (i = 0; i < ncols; i++) {
		g->head[i] = head[i];
		g->right[i] = align[i] == 'r';
	}
}

static void
grid_free(struct grid *g)
{
	size_t i;

	for (i = 0; i < g->nrows * g->ncols; i++)
		free(g->cell[i]);
	free(g->cell);
}

/* append a row of ncols strings (copied; NULL = "") */
static void
grid_row(struct grid *g, const char *const *v)
{
	size_t i;
	char **c;

	if (g->nomem)
		return;
	if (g->nrows == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 16;

		if ((c = realloc(g->cell, cap * g->ncols * sizeof(*c))) == NULL) {
			g->nomem = true;
			return;
		}
		g->cell = c;
		g->cap = cap;
	}
	c = g->cell + g->nrows * g->ncols;
	for (i = 0; i < g->ncols; i++)
		if ((c[i] = strdup(v[i] != NULL ? v[i] : "")) == NULL)
			g->nomem = true;
	g->nrows++;
}

static int
pad(struct atsm_buf *out, size_t n)
{
	while (n-- > 0)
		if (atsm_buf_putc(out, ' ') < 0)
			return -1;
	return 0;
}

static int
grid_text(const struct grid *g, const char *title, const char *none, struct atsm_buf *out)
{
	size_t w[GRID_COLS], i, j, cw;
	int rc = 0;

	if (g->nomem)
		return -1;
	for (j = 0; j < g->ncols; j++)
		w[j] = atsm_report_width(g->head[j]);
	for (i = 0; i < g->nrows; i++)
		for (j = 0; j < g->ncols; j++)
			if ((cw = atsm_report_width(g->cell[i * g->ncols + j])) > w[j])
				w[j] = cw;
	rc |= atsm_buf_printf(out, "\n%s\n", title);
	for (i = 0; i <= g->nrows; i++) {
		for (j = 0; j < g->ncols; j++) {
			const char *s = i == 0 ? g->head[j] : g->cell[(i - 1) * g->ncols + j];
			size_t sw = atsm_report_width(s);
			bool last = j + 1 == g->ncols;

			if (j > 0)
				rc |= atsm_buf_puts(out, "  ");
			if (g->right[j])
				rc |= pad(out, w[j] - sw);
			rc |= atsm_buf_puts(out, s);
			if (!g->right[j] && !last)
				rc |= pad(out, w[j] - sw);
		}
		rc |= atsm_buf_putc(out, '\n');
	}
	if (g->nrows == 0)
		rc |= atsm_buf_printf(out, "%s\n", none);
	return rc < 0 ? -1 : 0;
}

/* A text cell that a spreadsheet would take for a formula (it starts
 * with = + - @, or a tab or CR that some strip first) gets a leading
 * apostrophe, which Excel and LibreOffice show as text: a job title or a
 * display name such as "=HYPERLINK(...)" must not run when a manager
 * opens the export.  Figures are never text cells. */
static bool
csv_formula_like(const char *s)
{
	return s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' ||
	    s[0] == '\t' || s[0] == '\r';
}

static int
csv_field(struct atsm_buf *out, const char *s, bool text)
{
	bool guard = text && csv_formula_like(s);
	int rc = 0;

	if (strpbrk(s, ",\"\r\n") == NULL)
		return (guard ? atsm_buf_putc(out, '\'') : 0) | atsm_buf_puts(out, s);
	rc |= atsm_buf_putc(out, '"');
	if (guard)
		rc |= atsm_buf_putc(out, '\'');
	for (; *s != '\0'; s++) {
		if (*s == '"')
			rc |= atsm_buf_putc(out, '"');
		rc |= atsm_buf_putc(out, *s);
	}
	rc |= atsm_buf_putc(out, '"');
	return rc;
}

static int
grid_csv(const struct grid *g, const char *const *csv_head, struct atsm_buf *out)
{
	size_t i, j;
	int rc = 0;

	if (g->nomem)
		return -1;
	for (i = 0; i <= g->nrows; i++) {
		for (j = 0; j < g->ncols; j++) {
			if (j > 0)
				rc |= atsm_buf_putc(out, ',');
			rc |= csv_field(out, i == 0 ? csv_head[j] : g->cell[(i - 1) * g->ncols + j],
			    i > 0 && !g->right[j]);
		}
		rc |= atsm_buf_puts(out, "\r\n");
	}
	return rc < 0 ? -1 : 0;
}

/* ------------------------------------------------------------ the parts */

static const char *const row_csv[] = {
	"section", "label", "key", "sent", "replies", "reply_rate", "bounces_hard",
	"bounces_soft", "in_median_s", "in_p90_s", "out_median_s", "out_p90_s", "held", "open"
};
#define ROW_COLS (sizeof(row_csv) / sizeof(row_csv[0]))   /* section + ATSM_COL_N */

static const struct {
	unsigned by;
	const char *section;
	size_t off;
} groups[] = {      /* in the order of atsm_report_words' t_by */
	{ ATSM_REPORT_BY_RECRUITER, "recruiter", offsetof(struct atsm_report, recruiters) },
	{ ATSM_REPORT_BY_MAILBOX, "mailbox", offsetof(struct atsm_report, mailboxes) },
	{ ATSM_REPORT_BY_JOB, "job", offsetof(struct atsm_report, jobs) },
};

static void
num(char *b, size_t n, long long v)
{
	if (v < 0)
		b[0] = '\0';
	else
		snprintf(b, n, "%lld", v);
}

/* the cells of one row: for people (csv false) or raw (csv true) */
static void
row_cells(const char *section, const struct atsm_report_row *w, bool csv,
    enum atsm_lang lang, char c[][32], const char **v)
{
	long long d[4] = { w->in_median, w->in_p90, w->out_median, w->out_p90 };
	int i;

	v[0] = section;
	v[1] = w->label != NULL && w->label[0] != '\0' ? w->label : w->key;
	v[2] = w->key;
	num(c[0], 32, w->sent);
	num(c[1], 32, w->replies);
	if (csv) {
		if (w->reply_rate < 0)
			c[2][0] = '\0';
		else
			snprintf(c[2], 32, "%.4f", w->reply_rate);
	} else {
		atsm_report_fmt_rate(w->reply_rate, c[2], 32);
	}
	num(c[3], 32, w->bounces_hard);
	num(c[4], 32, w->bounces_soft);
	for (i = 0; i < 4; i++) {
		if (csv)
			num(c[5 + i], 32, d[i]);
		else
			atsm_report_fmt_duration_in(d[i], lang, c[5 + i], 32);
	}
	num(c[9], 32, w->held);
	num(c[10], 32, w->open);
	if (!csv) {
		if (w->held < 0)
			strcpy(c[9], "-");
		if (w->open < 0)
			strcpy(c[10], "-");
	}
	for (i = 0; i < 11; i++)
		v[3 + i] = c[i];
}

static void
rows_grid(const struct atsm_report *r, size_t gi, bool csv, struct grid *g)
{
	const struct atsm_report_rows *rows =
	    (const struct atsm_report_rows *)((const char *)r + groups[gi].off);
	const char *v[ROW_COLS];
	char c[11][32];
	size_t i;

	for (i = 0; i < rows->n; i++) {
		row_cells(groups[gi].section, &rows->v[i], csv, ATSM_LANG_EN, c, v);
		grid_row(g, v);
	}
}

static const char *const day_csv[] = { "date", "sent", "replies" };

static void
days_grid(const struct atsm_report *r, struct grid *g)
{
	char a[32], b[32];
	const char *v[3] = { NULL, a, b };
	size_t i;

	for (i = 0; i < r->ndays; i++) {
		v[0] = r->days[i].date;
		num(a, sizeof(a), r->days[i].sent);
		num(b, sizeof(b), r->days[i].replies);
		grid_row(g, v);
	}
}

static const char *const funnel_csv[] = { "job", "job_key", "phase", "phase_code", "processes" };

static void
funnel_grid(const struct atsm_report *r, struct grid *g)
{
	char n[32];
	const char *v[5];
	size_t i;

	for (i = 0; i < r->nfunnel; i++) {
		const struct atsm_report_step *s = &r->funnel[i];

		v[0] = s->job_label != NULL ? s->job_label : s->job_key;
		v[1] = s->job_key;
		v[2] = s->phase_label != NULL ? s->phase_label : s->phase;
		v[3] = s->phase;
		num(n, sizeof(n), s->count);
		v[4] = n;
		grid_row(g, v);
	}
}

static const char *const aging_csv[] = { "mailbox", "under_1d", "1d_3d", "3d_7d", "over_7d" };

static void
aging_grid(const struct atsm_report *r, struct grid *g)
{
	char n[ATSM_AGE_N][32];
	const char *v[1 + ATSM_AGE_N];
	size_t i;
	int k;

	for (i = 0; i < r->naging; i++) {
		v[0] = r->aging[i].mailbox;
		for (k = 0; k < ATSM_AGE_N; k++) {
			num(n[k], 32, r->aging[i].n[k]);
			v[1 + k] = n[k];
		}
		grid_row(g, v);
	}
}

int
atsm_report_table(const struct atsm_report *r, unsigned by, unsigned parts,
    enum atsm_lang lang, struct atsm_buf *out)
{
	const struct atsm_report_words *w = atsm_report_words(lang);
	const char *head[GRID_COLS];
	struct grid g;
	size_t gi, i;
	int rc = 0;

	rc |= atsm_buf_printf(out, "%s %s .. %s%s%s%s%s%s\n", w->title,
	    r->ndays > 0 ? r->days[0].date : "?", r->ndays > 0 ? r->days[r->ndays - 1].date : "?",
	    r->zone[0] != '\0' ? " (" : "", r->zone, r->zone[0] != '\0' ? ")" : "",
	    r->as_login[0] != '\0' ? w->t_as : "", r->as_login);
	rc |= atsm_buf_printf(out, "%s%s\n", w->t_times, r->office_hours ? w->t_office_only : "");
	if (parts & ATSM_REPORT_PART_ROWS)
		for (gi = 0; gi < sizeof(groups) / sizeof(groups[0]); gi++) {
			const struct atsm_report_rows *rows = (const struct atsm_report_rows *)
			    ((const char *)r + groups[gi].off);
			const char *v[ROW_COLS];
			char c[11][32];

			if (!(by & groups[gi].by))
				continue;
			grid_init(&g, ATSM_COL_N, w->t_col, "llrrrrrrrrrrr");
			/* the terminal has no section column: drop it */
			for (i = 0; i < rows->n; i++) {
				row_cells("", &rows->v[i], false, lang, c, v);
				grid_row(&g, v + 1);
			}
			rc |= grid_text(&g, w->t_by[gi], w->t_none, out);
			grid_free(&g);
		}
	if (parts & ATSM_REPORT_PART_DAYS) {
		head[0] = w->t_date, head[1] = w->t_col[ATSM_COL_SENT];
		head[2] = w->t_col[ATSM_COL_REPLIES];
		grid_init(&g, 3, head, "lrr");
		days_grid(r, &g);
		rc |= grid_text(&g, w->t_days, w->t_none, out);
		grid_free(&g);
	}
	if (parts & ATSM_REPORT_PART_FUNNEL) {
		grid_init(&g, 5, w->t_fun_col, "llllr");
		funnel_grid(r, &g);
		rc |= grid_text(&g, w->t_funnel, w->t_none, out);
		grid_free(&g);
	}
	if (parts & ATSM_REPORT_PART_AGING) {
		head[0] = w->t_mailbox;
		for (i = 0; i < ATSM_AGE_N; i++)
			head[1 + i] = w->age[i];
		grid_init(&g, 5, head, "lrrrr");
		aging_grid(r, &g);
		rc |= grid_text(&g, w->aging, w->t_none, out);
		grid_free(&g);
	}
	return rc < 0 || out->overflow ? -1 : 0;
}

int
atsm_report_csv(const struct atsm_report *r, unsigned by, unsigned part, bool bom,
    struct atsm_buf *out)
{
	struct grid g;
	size_t gi;
	int rc = 0;

	if (bom)
		rc |= atsm_buf_puts(out, "\xEF\xBB\xBF");
	switch (part) {
	case ATSM_REPORT_PART_DAYS:
		grid_init(&g, 3, day_csv, "lrr");
		days_grid(r, &g);
		rc |= grid_csv(&g, day_csv, out);
		break;
	case ATSM_REPORT_PART_FUNNEL:
		grid_init(&g, 5, funnel_csv, "llllr");
		funnel_grid(r, &g);
		rc |= grid_csv(&g, funnel_csv, out);
		break;
	case ATSM_REPORT_PART_AGING:
		grid_init(&g, 5, aging_csv, "lrrrr");
		aging_grid(r, &g);
		rc |= grid_csv(&g, aging_csv, out);
		break;
	default:
		grid_init(&g, ROW_COLS, row_csv, "lllrrrrrrrrrrr");
		for (gi = 0; gi < sizeof(groups) / sizeof(groups[0]); gi++)
			if (by & groups[gi].by)
				rows_grid(r, gi, true, &g);
		rc |= grid_csv(&g, row_csv, out);
		break;
	}
	grid_free(&g);
	return rc < 0 || out->overflow ? -1 : 0;
}

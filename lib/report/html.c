/* report/html.c -- the report as one self-contained HTML page (see
 * report/html.h; docs/reports.md).
 *
 * The page is written top to bottom: head (charset, title, inline style),
 * the period and whose view it is, the three charts as figures, then the
 * tables.  Words in English or Japanese; numbers as the terminal table
 * shows them ("-" where there is no data).  The SVGs are checked tag by
 * tag before they are put in (svg_check), so that the page can be shown
 * by a mail client or a browser with scripts and the network off and
 * still show everything.
 */
#include "report/html.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/charset.h"
#include "report/table.h"
#include "report/words.h"

#define STYLE \
	"body{font-family:sans-serif;margin:1.5em;color:#222;background:#fff}" \
	"h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em}" \
	"p.meta{color:#555;margin:0.2em 0}" \
	"figure{margin:1em 0}figcaption{font-weight:bold;margin-bottom:0.3em}" \
	"figure svg{max-width:100%;height:auto}" \
	"table{border-collapse:collapse;margin:0.4em 0}" \
	"th,td{border:1px solid #ccc;padding:0.25em 0.6em}" \
	"th{background:#f2f2f2;text-align:left}td.n{text-align:right}" \
	"p.warn{color:#a00}"

/* ---- escaping ------------------------------------------------------------- */

int
atsm_html_escape(struct atsm_buf *out, const char *s)
{
	size_t len = s != NULL ? strlen(s) : 0, i = 0, n;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		const char *rep = NULL;

		switch (c) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: break;
		}
		n = 1;
		if (rep != NULL) {
			if (atsm_buf_puts(out, rep) < 0)
				return -1;
		} else if (c < 0x20 || c == 0x7f) {
			if ((c == '\t' || c == '\n') && atsm_buf_putc(out, (char)c) < 0)
				return -1;
		} else if ((n = atsm_utf8_char_len(s + i, len - i)) == 0) {
			if (atsm_buf_puts(out, "\xef\xbf\xbd") < 0)
				return -1;
			n = 1;
		} else if (atsm_buf_append(out, s + i, n) < 0) {
			return -1;
		}
		i += n;
	}
	return 0;
}

/* ---- the SVG -------------------------------------------------------------- */

static bool
name_is(const char *p, size_t n, const char *name)
{
	return strlen(name) == n && strncasecmp(p, name, n) == 0;
}

/* One tag's attributes (p .. end, after the name): no event handler, no
 * reference but "#...", no url() but url(#...). */
static int
attrs_check(const char *p, const char *end, struct atsm_err *err)
{
	while (p < end) {
		const char *name, *val;
		size_t nlen, vlen;

		while (p < end && (isspace((unsigned char)*p) || *p == '/'))
			p++;
		name = p;
		while (p < end && !isspace((unsigned char)*p) && *p != '=' && *p != '/')
			p++;
		nlen = (size_t)(p - name);
		if (nlen == 0)
			break;
		val = "";
		vlen = 0;
		if (p < end && *p == '=') {
			char q = *++p;

			if (q == '"' || q == '\'') {
				val = ++p;
				while (p < end && *p != q)
					p++;
				vlen = (size_t)(p - val);
				if (p < end)
					p++;
			} else {
				val = p;
				while (p < end && !isspace((unsigned char)*p))
					p++;
				vlen = (size_t)(p - val);
			}
		}
		if (nlen >= 2 && strncasecmp(name, "on", 2) == 0)
			return atsm_err_setc(err, ATSM_ERR_INPUT, "report: a chart has an event "
			    "handler (%.*s)", (int)nlen, name);
		if (nlen >= 4 && strncasecmp(name + nlen - 4, "href", 4) == 0 &&
		    (vlen == 0 || val[0] != '#'))
			return atsm_err_setc(err, ATSM_ERR_INPUT, "report: a chart refers to "
			    "something outside the page");
		for (size_t i = 0; i + 4 <= vlen; i++)
			if (strncasecmp(val + i, "url(", 4) == 0 &&
			    (i + 4 >= vlen || val[i + 4] != '#'))
				return atsm_err_setc(err, ATSM_ERR_INPUT, "report: a chart refers "
				    "to something outside the page (url)");
	}
	return 0;
}

/* Every tag of svg (from "<svg" on) checked: no script, foreignObject,
 * style, iframe, object, embed, image; attributes by attrs_check. */
static int
svg_check(const char *svg, struct atsm_err *err)
{
	static const char *const banned[] = { "script", "foreignObject", "style", "iframe",
		"object", "embed", "image", "a", NULL };
	const char *p = svg, *end, *name;
	size_t nlen, i;

	while ((p = strchr(p, '<')) != NULL) {
		p++;
		if (strncmp(p, "!--", 3) == 0) {
			if ((end = strstr(p, "-->")) == NULL)
				return atsm_err_setc(err, ATSM_ERR_INPUT, "report: a chart's SVG is cut");
			p = end + 3;
			continue;
		}
		if ((end = strchr(p, '>')) == NULL)
			return atsm_err_setc(err, ATSM_ERR_INPUT, "report: a chart's SVG is cut");
		if (*p == '/') {
			p = end + 1;
			continue;
		}
		name = p;
		while (p < end && !isspace((unsigned char)*p) && *p != '/')
			p++;
		nlen = (size_t)(p - name);
		if (nlen > 0 && (name[0] == '!' || name[0] == '?'))
			return atsm_err_setc(err, ATSM_ERR_INPUT, "report: a chart's SVG has a "
			    "declaration inside");
		for (i = 0; banned[i] != NULL; i++)
			if (name_is(name, nlen, banned[i]))
				return atsm_err_setc(err, ATSM_ERR_INPUT, "report: a chart's SVG "
				    "holds <%s>", banned[i]);
		if (attrs_check(p, end, err) < 0)
			return -1;
		p = end + 1;
	}
	return 0;
}

int
atsm_report_svg_inline(struct atsm_buf *out, const char *svg, struct atsm_err *err)
{
	const char *start, *tag_end, *p;

	if (svg == NULL || (start = strstr(svg, "<svg")) == NULL ||
	    (tag_end = strchr(start, '>')) == NULL)
		return atsm_err_setc(err, ATSM_ERR_INPUT, "report: a chart is no SVG");
	if (svg_check(start, err) < 0)
		return -1;
	/* the root tag without its xmlns attributes */
	p = start;
	while (p < tag_end) {
		const char *a = p;

		/* copy up to the next attribute that is an xmlns one */
		while (p < tag_end && !(isspace((unsigned char)p[0]) &&
		    strncmp(p + 1 + strspn(p + 1, " \t\r\n"), "xmlns", 5) == 0))
			p++;
		if (atsm_buf_append(out, a, (size_t)(p - a)) < 0)
			goto full;
		if (p < tag_end) {
			char q;

			p += strspn(p, " \t\r\n");
			p = strchr(p, '=');
			if (p == NULL || p > tag_end)
				return atsm_err_setc(err, ATSM_ERR_INPUT, "report: a chart's SVG "
				    "root is malformed");
			p++;
			q = *p;
			if (q != '"' && q != '\'')
				return atsm_err_setc(err, ATSM_ERR_INPUT, "report: a chart's SVG "
				    "root is malformed");
			p = strchr(p + 1, q);
			if (p == NULL || p > tag_end)
				return atsm_err_setc(err, ATSM_ERR_INPUT, "report: a chart's SVG "
				    "root is malformed");
			p++;
		}
	}
	if (atsm_buf_puts(out, tag_end) < 0)
		goto full;
	return 0;
full:
	return atsm_err_setc(err, ATSM_ERR_INPUT, "report: the page is larger than its limit");
}

/* ---- numbers -------------------------------------------------------------- */

static int
td_num(struct atsm_buf *out, long long v)
{
	if (v < 0)
		return atsm_buf_puts(out, "<td class=\"n\">-</td>");
	return atsm_buf_printf(out, "<td class=\"n\">%lld</td>", v);
}

static int
td_dur(struct atsm_buf *out, long long v, enum atsm_lang lang)
{
	char s[64];

	atsm_report_fmt_duration_in(v, lang, s, sizeof(s));
	if (atsm_buf_puts(out, "<td class=\"n\">") < 0 || atsm_html_escape(out, s) < 0 ||
	    atsm_buf_puts(out, "</td>") < 0)
		return -1;
	return 0;
}

static int
td_rate(struct atsm_buf *out, double v)
{
	char s[32];

	atsm_report_fmt_rate(v, s, sizeof(s));
	return atsm_buf_printf(out, "<td class=\"n\">%s</td>", s);
}

static int
td_text(struct atsm_buf *out, const char *s)
{
	if (atsm_buf_puts(out, "<td>") < 0 || atsm_html_escape(out, s) < 0 ||
	    atsm_buf_puts(out, "</td>") < 0)
		return -1;
	return 0;
}

static int
th(struct atsm_buf *out, const char *s)
{
	if (atsm_buf_puts(out, "<th>") < 0 || atsm_html_escape(out, s) < 0 ||
	    atsm_buf_puts(out, "</th>") < 0)
		return -1;
	return 0;
}

static int
h2(struct atsm_buf *out, const char *s)
{
	if (atsm_buf_puts(out, "<h2>") < 0 || atsm_html_escape(out, s) < 0 ||
	    atsm_buf_puts(out, "</h2>\n") < 0)
		return -1;
	return 0;
}

static int
no_data(struct atsm_buf *out, const struct atsm_report_words *w)
{
	if (atsm_buf_puts(out, "<p>") < 0 || atsm_html_escape(out, w->none) < 0 ||
	    atsm_buf_puts(out, "</p>\n") < 0)
		return -1;
	return 0;
}

/* ---- the sections --------------------------------------------------------- */

enum rows_kind { ROWS_RECRUITERS, ROWS_MAILBOXES, ROWS_JOBS };

static int
rows_table(struct atsm_buf *out, const struct atsm_report_rows *rows, enum rows_kind kind,
    const struct atsm_report_words *w, enum atsm_lang lang)
{
	const char *title = kind == ROWS_RECRUITERS ? w->recruiters :
	    kind == ROWS_MAILBOXES ? w->mailboxes : w->jobs;
	const char *first = kind == ROWS_RECRUITERS ? w->recruiter :
	    kind == ROWS_MAILBOXES ? w->mailbox : w->job;
	size_t i;

	if (h2(out, title) < 0)
		return -1;
	if (rows->n == 0)
		return no_data(out, w);
	if (atsm_buf_puts(out, "<table>\n<tr>") < 0 || th(out, first) < 0 ||
	    th(out, w->sent) < 0 || th(out, w->replies) < 0 || th(out, w->rate) < 0 ||
	    th(out, w->hard) < 0 || th(out, w->soft) < 0 || th(out, w->in_median) < 0 ||
	    th(out, w->in_p90) < 0 || th(out, w->out_median) < 0 || th(out, w->out_p90) < 0 ||
	    (kind == ROWS_RECRUITERS && th(out, w->held) < 0) ||
	    (kind == ROWS_MAILBOXES && th(out, w->open) < 0) ||
	    atsm_buf_puts(out, "</tr>\n") < 0)
		return -1;
	for (i = 0; i < rows->n; i++) {
		const struct atsm_report_row *r = &rows->v[i];
		const char *name = r->label != NULL && r->label[0] != '\0' ? r->label : r->key;

		if (atsm_buf_puts(out, "<tr>") < 0 || td_text(out, name) < 0 ||
		    td_num(out, r->sent) < 0 || td_num(out, r->replies) < 0 ||
		    td_rate(out, r->reply_rate) < 0 || td_num(out, r->bounces_hard) < 0 ||
		    td_num(out, r->bounces_soft) < 0 || td_dur(out, r->in_median, lang) < 0 ||
		    td_dur(out, r->in_p90, lang) < 0 || td_dur(out, r->out_median, lang) < 0 ||
		    td_dur(out, r->out_p90, lang) < 0 ||
		    (kind == ROWS_RECRUITERS && td_num(out, r->held) < 0) ||
		    (kind == ROWS_MAILBOXES && td_num(out, r->open) < 0) ||
		    atsm_buf_puts(out, "</tr>\n") < 0)
			return -1;
	}
	return atsm_buf_puts(out, "</table>\n");
}

static const char *
either(const char *a, const char *b)
{
	return a != NULL && a[0] != '\0' ? a : b != NULL ? b : "";
}

static int
funnel_table(struct atsm_buf *out, const struct atsm_report *r, const struct atsm_report_words *w)
{
	size_t i;

	if (h2(out, w->funnel) < 0)
		return -1;
	if (r->nfunnel == 0)
		return no_data(out, w);
	if (atsm_buf_puts(out, "<table>\n<tr>") < 0 || th(out, w->job) < 0 ||
	    th(out, w->phase) < 0 || th(out, w->count) < 0 || atsm_buf_puts(out, "</tr>\n") < 0)
		return -1;
	for (i = 0; i < r->nfunnel; i++) {
		const struct atsm_report_step *s = &r->funnel[i];

		if (atsm_buf_puts(out, "<tr>") < 0 || td_text(out, either(s->job_label, s->job_key)) < 0 ||
		    td_text(out, either(s->phase_label, s->phase)) < 0 || td_num(out, s->count) < 0 ||
		    atsm_buf_puts(out, "</tr>\n") < 0)
			return -1;
	}
	return atsm_buf_puts(out, "</table>\n");
}

static int
aging_table(struct atsm_buf *out, const struct atsm_report *r, const struct atsm_report_words *w)
{
	size_t i, a;

	if (h2(out, w->aging) < 0)
		return -1;
	if (r->naging == 0)
		return no_data(out, w);
	if (atsm_buf_puts(out, "<table>\n<tr>") < 0 || th(out, w->mailbox) < 0)
		return -1;
	for (a = 0; a < ATSM_AGE_N; a++)
		if (th(out, w->age[a]) < 0)
			return -1;
	if (atsm_buf_puts(out, "</tr>\n") < 0)
		return -1;
	for (i = 0; i < r->naging; i++) {
		if (atsm_buf_puts(out, "<tr>") < 0 || td_text(out, r->aging[i].mailbox) < 0)
			return -1;
		for (a = 0; a < ATSM_AGE_N; a++)
			if (td_num(out, r->aging[i].n[a]) < 0)
				return -1;
		if (atsm_buf_puts(out, "</tr>\n") < 0)
			return -1;
	}
	return atsm_buf_puts(out, "</table>\n");
}

static int
meta(struct atsm_buf *out, const char *label, const char *value)
{
	if (atsm_buf_puts(out, "<p class=\"meta\">") < 0 || atsm_html_escape(out, label) < 0 ||
	    atsm_buf_puts(out, ": ") < 0 || atsm_html_escape(out, value) < 0 ||
	    atsm_buf_puts(out, "</p>\n") < 0)
		return -1;
	return 0;
}

static int
charts(struct atsm_buf *out, const struct atsm_report_page *p, const struct atsm_report_words *w,
    struct atsm_err *err)
{
	int i;

	if (p->chart_error != NULL) {
		if (atsm_buf_puts(out, "<p class=\"warn\">") < 0 ||
		    atsm_html_escape(out, w->charts_missing) < 0 || atsm_buf_puts(out, ": ") < 0 ||
		    atsm_html_escape(out, p->chart_error) < 0 || atsm_buf_puts(out, "</p>\n") < 0)
			goto full;
	}
	for (i = 0; i < ATSM_CHART_N; i++) {
		if (p->svg[i] == NULL)
			continue;
		if (atsm_buf_printf(out, "<figure id=\"chart-%s\"><figcaption>",
		    atsm_report_chart_name((enum atsm_report_chart)i)) < 0 ||
		    atsm_html_escape(out, atsm_report_chart_title((enum atsm_report_chart)i,
		    p->lang)) < 0 || atsm_buf_puts(out, "</figcaption>\n") < 0)
			goto full;
		if (atsm_report_svg_inline(out, p->svg[i], err) < 0)
			return -1;
		if (atsm_buf_puts(out, "</figure>\n") < 0)
			goto full;
	}
	return 0;
full:
	return atsm_err_setc(err, ATSM_ERR_INPUT, "report: the page is larger than its limit");
}

int
atsm_report_html(const struct atsm_report_page *p, struct atsm_buf *out, struct atsm_err *err)
{
	const struct atsm_report_words *w = atsm_report_words(p->lang);
	const struct atsm_report *r = p->r;

	atsm_buf_reset(out);
	if (atsm_buf_printf(out, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width\">\n"
	    "<title>", atsm_lang_name(p->lang)) < 0 ||
	    atsm_html_escape(out, w->title) < 0 ||
	    (p->period != NULL && (atsm_buf_puts(out, " ") < 0 ||
	    atsm_html_escape(out, p->period) < 0)) ||
	    atsm_buf_puts(out, "</title>\n<style>" STYLE "</style>\n</head>\n<body>\n<h1>") < 0 ||
	    atsm_html_escape(out, w->title) < 0 || atsm_buf_puts(out, "</h1>\n") < 0 ||
	    (p->period != NULL && meta(out, w->period, p->period) < 0) ||
	    (r->as_login[0] != '\0' && meta(out, w->view, r->as_login) < 0) ||
	    (p->generated != NULL && meta(out, w->generated, p->generated) < 0) ||
	    (r->office_hours && (atsm_buf_puts(out, "<p class=\"meta\">") < 0 ||
	    atsm_html_escape(out, w->office_hours) < 0 || atsm_buf_puts(out, "</p>\n") < 0)))
		goto full;
	if (charts(out, p, w, err) < 0) {
		atsm_buf_reset(out);
		return -1;
	}
	if (rows_table(out, &r->recruiters, ROWS_RECRUITERS, w, p->lang) < 0 ||
	    rows_table(out, &r->mailboxes, ROWS_MAILBOXES, w, p->lang) < 0 ||
	    rows_table(out, &r->jobs, ROWS_JOBS, w, p->lang) < 0 ||
	    funnel_table(out, r, w) < 0 || aging_table(out, r, w) < 0 ||
	    atsm_buf_puts(out, "</body>\n</html>\n") < 0)
		goto full;
	return 0;
full:
	atsm_buf_reset(out);
	return atsm_err_setc(err, ATSM_ERR_INPUT, "report: the page is larger than its limit");
}

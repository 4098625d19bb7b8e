/* template/merge.c -- the merge tags (one table, docs/templates.md), the
 * values of one recipient, and the merge of one text.
 *
 * A tag is "{{name}}" or "{{name|fallback}}"; blanks inside the braces
 * are allowed and ignored around the name and the fallback.  The scan is
 * linear: a "{{" whose "}}" does not follow within ATSM_TPL_TAG_SPAN bytes
 * is a syntax fault, so no input makes the search quadratic.  A value that
 * is NULL or empty counts as missing: an empty name must not pass for a
 * name in a mail to a candidate.
 *
 * {{job.block}} is not a column: it is composed here from the job.* values
 * (title, company, id, status), with labels in the language of the fields
 * (f->lang, set by the caller from the template; "" reads as Japanese).
 * In HTML, values are escaped and the lines of a block joined with <br>.
 *
 * {{notify.<param>}} is known in every template, so that a notification's
 * own text (notify/own-text.h, codes notify-...) passes the same checks;
 * a recruiter's mail has no such values, so there it is missing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template/template.h"

static const struct atsm_tpl_tag tags[] = {
	{ "resume.id",		"the resume's number" },
	{ "resume.name",	"the candidate's name (氏名)" },
	{ "resume.kana",	"the candidate's name in kana (フリガナ)" },
	{ "resume.email",	"the candidate's primary address" },
	{ "resume.phase",	"the resume's phase (code)" },
	{ "contact.id",		"the contact's number" },
	{ "contact.name",	"the contact's name (担当者名)" },
	{ "contact.kana",	"the contact's name in kana" },
	{ "contact.email",	"the contact's primary address" },
	{ "contact.phase",	"the contact's phase (code)" },
	{ "company.name",	"the contact's company; for a resume, the job's company" },
	{ "job.id",		"the job's number" },
	{ "job.title",		"the job's title (求人名)" },
	{ "job.company",	"the company of the job" },
	{ "job.status",		"the job's status (open, on_hold, closed, filled)" },
	{ "job.block",		"the job's details on several lines: title, company, number, status" },
	{ "process.phase",	"the phase of the resume's process for the job (code)" },
	{ "process.phase_label", "the same phase as its label (一次面接)" },
	{ "recipient.name",	"the recipient's name, resume or contact" },
	{ "recipient.email",	"the recipient's address" },
	{ "user.name",		"the sender's display name, else the login" },
	{ "user.email",		"the sender's primary address" },
	{ "user.login",		"the sender's login" },
	{ "date",		"today, YYYY-MM-DD" },
	{ "date.ja",		"today in Japanese (2026年12月4日)" },
	{ NULL, NULL }
};

const struct atsm_tpl_tag *
atsm_tpl_tags(void)
{
	return tags;
}

bool
atsm_tpl_tag_is_notify(const char *name)
{
	size_t i;

	if (name == NULL || strncmp(name, "notify.", 7) != 0 || name[7] == '\0')
		return false;
	for (i = 7; name[i] != '\0'; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		    name[i] == '_'))
			return false;
	return true;
}

bool
atsm_tpl_tag_known(const char *name)
{
	size_t i;

	if (atsm_tpl_tag_is_notify(name))
		return true;
	for (i = 0; tags[i].name != NULL; i++)
		if (strcmp(tags[i].name, name) == 0)
			return true;
	return false;
}

bool
atsm_template_code_valid(const char *code)
{
	size_t i;

	if (code == NULL || !((code[0] >= 'a' && code[0] <= 'z') ||
	    (code[0] >= '0' && code[0] <= '9')))
		return false;
	for (i = 1; code[i] != '\0'; i++) {
		char ch = code[i];

		if (i >= ATSM_TPL_CODE_MAX - 1)
			return false;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

void
atsm_template_free(struct atsm_template *t)
{
	if (t == NULL)
		return;
	free(t->name);
	free(t->subject);
	free(t->body);
	free(t->body_html);
	t->name = t->subject = t->body = t->body_html = NULL;
}

void
atsm_tpl_fields_init(struct atsm_tpl_fields *f)
{
	memset(f, 0, sizeof(*f));
}

void
atsm_tpl_fields_free(struct atsm_tpl_fields *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		free(f->v[i].key);
		free(f->v[i].value);
	}
	free(f->v);
	memset(f, 0, sizeof(*f));
}

int
atsm_tpl_fields_set(struct atsm_tpl_fields *f, const char *key, const char *value)
{
	char *v = NULL;
	size_t i;

	if (value != NULL && (v = strdup(value)) == NULL)
		return -1;
	for (i = 0; i < f->n; i++)
		if (strcmp(f->v[i].key, key) == 0) {
			free(f->v[i].value);
			f->v[i].value = v;
			return 0;
		}
	if (f->n == f->cap) {
		size_t cap = f->cap == 0 ? 32 : f->cap * 2;
		struct atsm_tpl_field *nv = realloc(f->v, cap * sizeof(*nv));

		if (nv == NULL) {
			free(v);
			return -1;
		}
		f->v = nv;
		f->cap = cap;
	}
	if ((f->v[f->n].key = strdup(key)) == NULL) {
		free(v);
		return -1;
	}
	f->v[f->n++].value = v;
	return 0;
}

const char *
atsm_tpl_fields_get(const struct atsm_tpl_fields *f, const char *key, bool *known)
{
	size_t i;

	if (known != NULL)
		*known = false;
	if (f == NULL)
		return NULL;
	for (i = 0; i < f->n; i++)
		if (strcmp(f->v[i].key, key) == 0) {
			if (known != NULL)
				*known = true;
			return f->v[i].value;
		}
	return NULL;
}

static const char *
value_of(const struct atsm_tpl_fields *f, const char *key)
{
	const char *v = atsm_tpl_fields_get(f, key, NULL);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* Append s to out, escaped for HTML when html. */
static int
put_text(struct atsm_buf *out, const char *s, size_t n, bool html)
{
	size_t i, run = 0;

	if (!html)
		return atsm_buf_append(out, s, n);
	for (i = 0; i < n; i++) {
		const char *rep;

		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		case '\n': rep = "<br>\n"; break;
		default: continue;
		}
		if (atsm_buf_append(out, s + run, i - run) < 0 ||
		    atsm_buf_puts(out, rep) < 0)
			return -1;
		run = i + 1;
	}
	return atsm_buf_append(out, s + run, n - run);
}

static const char *
job_status_label(const char *st, bool en)
{
	static const char *const map[][3] = {
		{ "open", "募集中", "open" },
		{ "on_hold", "保留", "on hold" },
		{ "closed", "募集終了", "closed" },
		{ "filled", "充足", "filled" },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i][0], st) == 0)
			return map[i][en ? 2 : 1];
	return st;
}

/* {{job.block}}: the job's lines, or missing when there is no job. */
static int
put_job_block(const struct atsm_tpl_fields *f, struct atsm_buf *out, bool html,
    bool *missing)
{
	const char *title = value_of(f, "job.title"), *v;
	bool en = strcmp(f->lang, "en") == 0;
	struct atsm_buf b;
	int rc = 0;

	*missing = title == NULL;
	if (title == NULL)
		return 0;
	atsm_buf_init(&b, 0);
	(void)atsm_buf_printf(&b, "%s%s", en ? "Position: " : "求人：", title);
	if ((v = value_of(f, "job.company")) != NULL)
		(void)atsm_buf_printf(&b, "\n%s%s", en ? "Company: " : "企業：", v);
	if ((v = value_of(f, "job.id")) != NULL)
		(void)atsm_buf_printf(&b, "\n%s%s", en ? "Job ID: " : "求人番号：", v);
	if ((v = value_of(f, "job.status")) != NULL)
		(void)atsm_buf_printf(&b, "\n%s%s", en ? "Status: " : "状況：",
		    job_status_label(v, en));
	if (b.overflow || put_text(out, atsm_buf_str(&b), b.len, html) < 0)
		rc = -1;
	atsm_buf_free(&b);
	return rc;
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void
trim(const char **s, const char **e)
{
	while (*s < *e && is_blank(**s))
		(*s)++;
	while (*e > *s && is_blank((*e)[-1]))
		(*e)--;
}

static int
fault_set(struct atsm_tpl_fault *fault, enum atsm_tpl_fault_code code,
    const char *tag, size_t taglen)
{
	if (fault != NULL) {
		fault->code = code;
		if (taglen >= sizeof(fault->tag))
			taglen = sizeof(fault->tag) - 1;
		memcpy(fault->tag, tag, taglen);
		fault->tag[taglen] = '\0';
	}
	return -1;
}

/* The first "}}" in the n bytes at p, or NULL. */
static const char *
find_close(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i++)
		if (p[i] == '}' && p[i + 1] == '}')
			return p + i;
	return NULL;
}

static const char *
what_of(const struct atsm_tpl_fields *f)
{
	return f != NULL && f->what[0] != '\0' ? f->what : "this recipient";
}

int
atsm_tpl_merge(const char *text, size_t len, const struct atsm_tpl_fields *f,
    enum atsm_tpl_missing missing, bool html, struct atsm_buf *out,
    struct atsm_tpl_fault *fault, struct atsm_err *err)
{
	static const struct atsm_tpl_fields none;
	size_t i = 0, run = 0;

	if (fault != NULL)
		memset(fault, 0, sizeof(*fault));
	if (f == NULL)
		f = &none;
	while (i + 1 < len) {
		const char *open, *close, *ns, *ne, *fs = NULL, *fe = NULL, *bar;
		const char *v;
		char name[ATSM_TPL_TAG_MAX];
		size_t span;

		if (text[i] != '{' || text[i + 1] != '{') {
			i++;
			continue;
		}
		open = text + i;
		span = len - i - 2;
		if (span > ATSM_TPL_TAG_SPAN)
			span = ATSM_TPL_TAG_SPAN;
		close = find_close(open + 2, span);
		if (close == NULL) {
			fault_set(fault, ATSM_TPL_FAULT_SYNTAX, open,
			    len - i < 24 ? len - i : 24);
			return atsm_err_set(err, "template: \"{{\" at byte %zu "
			    "without \"}}\" within %d bytes", i,
			    ATSM_TPL_TAG_SPAN);
		}
		ns = open + 2;
		ne = close;
		if ((bar = memchr(ns, '|', (size_t)(ne - ns))) != NULL) {
			fs = bar + 1;
			fe = ne;
			ne = bar;
			trim(&fs, &fe);
		}
		trim(&ns, &ne);
		if (ne == ns || (size_t)(ne - ns) >= sizeof(name)) {
			fault_set(fault, ATSM_TPL_FAULT_SYNTAX, ns, (size_t)(ne - ns));
			return atsm_err_set(err, "template: %s tag at byte %zu",
			    ne == ns ? "an empty" : "a too long", i);
		}
		memcpy(name, ns, (size_t)(ne - ns));
		name[ne - ns] = '\0';
		if (!atsm_tpl_tag_known(name)) {
			fault_set(fault, ATSM_TPL_FAULT_UNKNOWN_TAG, name, strlen(name));
			return atsm_err_set(err, "template: unknown tag {{%s}}%s%s "
			    "(the tags: docs/templates.md)", name,
			    f->what[0] != '\0' ? " for " : "", f->what);
		}
		if (atsm_buf_append(out, text + run, i - run) < 0)
			goto full;
		if (strcmp(name, "job.block") == 0) {
			bool miss;

			if (put_job_block(f, out, html, &miss) < 0)
				goto full;
			v = miss ? NULL : "";
		} else if ((v = value_of(f, name)) != NULL &&
		    put_text(out, v, strlen(v), html) < 0)
			goto full;
		if (v == NULL && fs != NULL) {
			/* the fallback is the template's own text: no escaping */
			if (atsm_buf_append(out, fs, (size_t)(fe - fs)) < 0)
				goto full;
		} else if (v == NULL && missing == ATSM_TPL_MISSING_REFUSE) {
			fault_set(fault, ATSM_TPL_FAULT_MISSING, name, strlen(name));
			return atsm_err_set(err, "template tag {{%s}} has no value "
			    "for %s", name, what_of(f));
		}
		i = (size_t)(close - text) + 2;
		run = i;
	}
	if (atsm_buf_append(out, text + run, len - run) < 0)
		goto full;
	return 0;
full:
	fault_set(fault, ATSM_TPL_FAULT_LIMIT, "", 0);
	return atsm_err_setc(err, ATSM_ERR_INPUT, "template: the merged text "
	    "for %s is longer than %zu bytes", what_of(f),
	    out->limit != 0 ? out->limit : (size_t)ATSM_BUF_DEFAULT_LIMIT);
}

int
atsm_tpl_merge_text(const char *text, size_t len, const struct atsm_tpl_fields *f,
    enum atsm_tpl_missing missing, struct atsm_buf *out, struct atsm_tpl_fault *fault,
    struct atsm_err *err)
{
	return atsm_tpl_merge(text, len, f, missing, false, out, fault, err);
}

int
atsm_tpl_check(const char *text, size_t len, struct atsm_tpl_fault *fault,
    struct atsm_err *err)
{
	struct atsm_buf sink;
	int rc;

	/* merging with no values and "empty" finds every syntax fault and
	 * unknown tag and nothing else */
	atsm_buf_init(&sink, len * 2 + 4096 > len ? len * 2 + 4096 : 0);
	rc = atsm_tpl_merge(text, len, NULL, ATSM_TPL_MISSING_EMPTY, false,
	    &sink, fault, err);
	atsm_buf_free(&sink);
	return rc;
}

int
atsm_tpl_check_no_notify(const char *text, size_t len, struct atsm_tpl_fault *fault,
    struct atsm_err *err)
{
	size_t i, k;

	if (fault != NULL)
		memset(fault, 0, sizeof(*fault));
	/* each "{{" and the name after it (blanks skipped); a fallback does
	 * not excuse the tag: it would always be the fallback */
	for (i = 0; i + 1 < len; i++) {
		char name[ATSM_TPL_TAG_MAX];

		if (text[i] != '{' || text[i + 1] != '{')
			continue;
		for (i += 2; i < len && is_blank(text[i]); i++)
			;
		for (k = 0; i + k < len && k + 1 < sizeof(name) && !is_blank(text[i + k]) &&
		    text[i + k] != '|' && text[i + k] != '}'; k++)
			name[k] = text[i + k];
		name[k] = '\0';
		if (atsm_tpl_tag_is_notify(name)) {
			fault_set(fault, ATSM_TPL_FAULT_MISSING, name, k);
			return atsm_err_set(err, "template: {{%s}} is a param of a notification; "
			    "it has a value only in the text of a notification (codes notify-..., "
			    "docs/notifications.md)", name);
		}
		i = i + k - 1;            /* the loop's i++ goes past the name */
	}
	return 0;
}

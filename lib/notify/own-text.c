/* notify/own-text.c -- a notification's text from a site's template: the
 * codes that name a kind, the tags such a template may hold, and the
 * merge (see notify/own-text.h).
 *
 * The values are made safe before the merge, not after: each param goes
 * through the built-in text's own sanitiser (notify/text.h), once as a
 * line for the Subject and once as the body wants it, so the template's
 * merge (lib/template, which puts values in verbatim) cannot be told a
 * line break by a value.  What the template itself writes (its text, a
 * fallback) is the site's; only its Subject is forced onto one line,
 * since a header is not the place for the site's line breaks either.
 */
#include "notify/own-text.h"
#include "notify/compose.h"
#include "notify/text.h"

#include <stdio.h>
#include <string.h>

/* The tags beside notify.<param>, filled by the caller (atsmaild/notify.c). */
static const char *const extra_tags[] = {
	"user.name", "user.email", "user.login", "recipient.name", "recipient.email",
	"date", "date.ja", NULL
};

bool
atsm_notify_tpl_code_is(const char *code)
{
	return code != NULL && strncmp(code, ATSM_NOTIFY_TPL_PREFIX,
	    sizeof(ATSM_NOTIFY_TPL_PREFIX) - 1) == 0;
}

int
atsm_notify_tpl_code(const char *kind, const char *lang, char *out, size_t size)
{
	size_t i, n;
	int w;

	if (!atsm_notify_kind_known(kind))
		return -1;
	w = snprintf(out, size, ATSM_NOTIFY_TPL_PREFIX "%s%s%s", kind,
	    lang != NULL && lang[0] != '\0' ? "-" : "", lang != NULL ? lang : "");
	if (w < 0 || (size_t)w >= size || (size_t)w >= ATSM_TPL_CODE_MAX)
		return -1;
	for (i = 0, n = (size_t)w; i < n; i++)
		if (out[i] == '.')
			out[i] = '-';
	return atsm_template_code_valid(out) ? 0 : -1;
}

int
atsm_notify_tpl_kind(const char *code, const char **kind, char lang[3],
    struct atsm_err *err)
{
	static const char *const langs[] = { "", "en", "ja", NULL };
	const char *const *k;
	char c[ATSM_TPL_CODE_MAX];
	size_t l;

	for (k = atsm_notify_kinds(); *k != NULL; k++)
		for (l = 0; langs[l] != NULL; l++)
			if (atsm_notify_tpl_code(*k, langs[l], c, sizeof(c)) == 0 &&
			    code != NULL && strcmp(c, code) == 0) {
				*kind = *k;
				snprintf(lang, 3, "%s", langs[l]);
				return 0;
			}
	return atsm_err_setc(err, ATSM_ERR_INPUT, "template code %s names no kind of "
	    "notification: write notify-<kind with - for .>, optionally -en or -ja, e.g. "
	    "notify-intake-duplicate or notify-intake-duplicate-ja (the kinds: "
	    "docs/notifications.md)", code != NULL ? code : "(none)");
}

static int
set_tag(struct atsm_tpl_fields *f, const char *prefix, const char *name, const char *v)
{
	char key[ATSM_TPL_TAG_MAX];
	int w = snprintf(key, sizeof(key), "%s%s", prefix, name);

	if (w < 0 || (size_t)w >= sizeof(key))
		return 0;                     /* no tag can name it: nothing to set */
	return atsm_tpl_fields_set(f, key, v);
}

/* "a, b, c" of the kind's params, for a fault. */
static void
param_list(const char *kind, char *out, size_t size)
{
	const char *const *p = atsm_notify_kind_params(kind);

	size_t n = 0;
	int w;

	out[0] = '\0';
	for (; p != NULL && *p != NULL && n < size; p++) {
		w = snprintf(out + n, size - n, "%snotify.%s", n > 0 ? ", " : "", *p);
		if (w < 0)
			break;
		n += (size_t)w;
	}
}

int
atsm_notify_tpl_check(const char *kind, const char *text, struct atsm_err *err)
{
	const char *const *p = atsm_notify_kind_params(kind);
	struct atsm_tpl_fields f;
	struct atsm_tpl_fault fault;
	struct atsm_buf sink;
	char list[512];
	size_t i;
	int rc = 0;

	if (p == NULL)
		return atsm_err_setc(err, ATSM_ERR_INPUT, "notification: unknown kind \"%s\"",
		    kind != NULL ? kind : "(none)");
	if (text == NULL)
		return 0;
	/* every tag it may hold has a value: what faults is a tag it may not */
	atsm_tpl_fields_init(&f);
	for (; *p != NULL; p++)
		if (set_tag(&f, "notify.", *p, "x") < 0)
			rc = -1;
	for (i = 0; extra_tags[i] != NULL; i++)
		if (set_tag(&f, "", extra_tags[i], "x") < 0)
			rc = -1;
	if (rc < 0) {
		atsm_tpl_fields_free(&f);
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "out of memory");
	}
	atsm_buf_init(&sink, strlen(text) * 2 + 4096);
	if (atsm_tpl_merge_text(text, strlen(text), &f, ATSM_TPL_MISSING_REFUSE, &sink,
	    &fault, err) < 0) {
		rc = -1;
		param_list(kind, list, sizeof(list));
		if (fault.code == ATSM_TPL_FAULT_MISSING &&
		    strncmp(fault.tag, "notify.", 7) == 0)
			atsm_err_setc(err, ATSM_ERR_INPUT, "{{%s}} is no param of the notification "
			    "%s (its params: %s)", fault.tag, kind, list);
		else if (fault.code == ATSM_TPL_FAULT_MISSING)
			atsm_err_setc(err, ATSM_ERR_INPUT, "{{%s}} has no value in a notification "
			    "(the tags of %s: %s, user.name, user.email, user.login, "
			    "recipient.name, recipient.email, date, date.ja)", fault.tag, kind, list);
	}
	atsm_buf_free(&sink);
	atsm_tpl_fields_free(&f);
	return rc;
}

/* The values of t's tags: in subj, every value one line; in body, preview
 * and reason with their lines.  0, or -1 with err. */
static int
values(const char *kind, json_t *params, const struct atsm_notify_tpl *t,
    struct atsm_tpl_fields *subj, struct atsm_tpl_fields *body, struct atsm_err *err)
{
	const char *const *p = atsm_notify_kind_params(kind);
	struct atsm_buf line, block;
	char num[64];
	const char *v;
	size_t i;
	int rc = 0;

	atsm_buf_init(&line, ATSM_NOTIFY_VALUE_MAX + 8);
	atsm_buf_init(&block, ATSM_NOTIFY_PREVIEW_MAX + 8);
	for (; rc == 0 && p != NULL && *p != NULL; p++) {
		bool keep = atsm_notify_block_param(*p);
		size_t max = keep ? ATSM_NOTIFY_PREVIEW_MAX : ATSM_NOTIFY_VALUE_MAX;

		if (atsm_notify_param_text(json_object_get(params, *p), num, sizeof(num), &v) < 0)
			continue;               /* checked by the built-in text already */
		atsm_buf_reset(&line);
		atsm_buf_reset(&block);
		if (atsm_notify_put_text(&line, v, true, ATSM_NOTIFY_VALUE_MAX) < 0 ||
		    atsm_notify_put_text(&block, v, !keep, max) < 0 ||
		    set_tag(subj, "notify.", *p, atsm_buf_str(&line)) < 0 ||
		    set_tag(body, "notify.", *p, atsm_buf_str(&block)) < 0)
			rc = -1;
	}
	for (i = 0; rc == 0 && t->extra != NULL && i < t->extra->n; i++) {
		const struct atsm_tpl_field *x = &t->extra->v[i];

		atsm_buf_reset(&line);
		if (x->value != NULL &&
		    atsm_notify_put_text(&line, x->value, true, ATSM_NOTIFY_VALUE_MAX) < 0)
			rc = -1;
		else if (set_tag(subj, "", x->key, x->value != NULL ? atsm_buf_str(&line) : NULL) < 0 ||
		    set_tag(body, "", x->key, x->value != NULL ? atsm_buf_str(&line) : NULL) < 0)
			rc = -1;
	}
	atsm_buf_free(&line);
	atsm_buf_free(&block);
	if (rc < 0)
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "out of memory");
	snprintf(subj->what, sizeof(subj->what), "notification %s", kind);
	snprintf(body->what, sizeof(body->what), "notification %s", kind);
	return 0;
}

int
atsm_notify_tpl_merge(const char *kind, json_t *params, const struct atsm_notify_tpl *t,
    struct atsm_buf *subject, struct atsm_buf *body, struct atsm_err *err)
{
	struct atsm_tpl_fields fs, fb;
	struct atsm_tpl_fault fault;
	size_t i;
	int rc = -1;

	if (!atsm_notify_kind_known(kind) || !json_is_object(params) || t == NULL ||
	    t->subject == NULL || t->body == NULL)
		return atsm_err_setc(err, ATSM_ERR_INPUT, "notification template: no kind, "
		    "params or text");
	atsm_tpl_fields_init(&fs);
	atsm_tpl_fields_init(&fb);
	if (values(kind, params, t, &fs, &fb, err) < 0)
		goto done;
	if (atsm_tpl_merge_text(t->subject, strlen(t->subject), &fs, t->missing, subject,
	    &fault, err) < 0 ||
	    atsm_tpl_merge_text(t->body, strlen(t->body), &fb, t->missing, body,
	    &fault, err) < 0)
		goto done;
	/* the Subject is a header: the template's own line breaks go too */
	for (i = 0; i < subject->len; i++)
		if ((unsigned char)subject->data[i] < 0x20 || subject->data[i] == 0x7f)
			subject->data[i] = ' ';
	rc = 0;
done:
	atsm_tpl_fields_free(&fs);
	atsm_tpl_fields_free(&fb);
	return rc;
}

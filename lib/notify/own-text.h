/* notify/own-text.h -- a site's own words for a kind of notification: a
 * mail template (lib/template, atsmail.templates) whose code names the
 * kind (docs/notifications.md, "Your own words: templates").
 *
 * The code of a kind is "notify-" and the kind with '.' as '-'
 * (notify-intake-duplicate); "-en" or "-ja" after it makes a template for
 * the readers of that language (notify-intake-duplicate-ja).  For a
 * recipient who reads L, the text is the first of notify-K-L and notify-K
 * that exists, is shared and is written in L (its lang); with none, the
 * built-in text.  A person is never sent a language other than theirs.
 * The lookup itself is SQL in atsmaild/notify.c; the codes and the rule
 * are here.
 *
 * Tags: {{notify.<param>}} for each param of the kind, and the extra tags
 * the caller gives: the recipient's {{user.name}}, {{user.email}},
 * {{user.login}}, {{recipient.name}}, {{recipient.email}}, and {{date}},
 * {{date.ja}}.  Every value goes in as the built-in text puts it
 * (notify/text.h): one line, except preview and reason in the body; the
 * merged Subject is made one line whatever the template holds.
 */
#ifndef ATSM_NOTIFY_OWN_TEXT_H
#define ATSM_NOTIFY_OWN_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "base/buf.h"
#include "base/err.h"
#include "template/template.h"

#define ATSM_NOTIFY_TPL_PREFIX "notify-"

struct atsm_notify_tpl {
	const char *code;                      /* for faults: "notify-intake-duplicate" */
	const char *subject, *body;            /* unmerged, UTF-8 */
	enum atsm_tpl_missing missing;         /* the template's on_missing */
	const struct atsm_tpl_fields *extra;   /* user.*, recipient.*, date, date.ja; NULL: none */
};

/* Whether code is a notification template's code (starts with "notify-"):
 * such a template is no draft and no recruiter may send it. */
bool atsm_notify_tpl_code_is(const char *code);

/* The code of kind's template into out: lang NULL or "": the plain code,
 * else with "-<lang>".  0, or -1 (an unknown kind, or out too small). */
int atsm_notify_tpl_code(const char *kind, const char *lang, char *out, size_t size);

/* The kind a notification template's code names (*kind, a static string)
 * and the language of its suffix (lang: "en", "ja" or "").  0, or -1 with
 * err when the code names no kind. */
int atsm_notify_tpl_kind(const char *code, const char **kind, char lang[3],
    struct atsm_err *err);

/* Whether every tag of text (a template's subject or body) is one a
 * notification of kind fills: 0, or -1 with err naming the tag. */
int atsm_notify_tpl_check(const char *kind, const char *text, struct atsm_err *err);

/* The subject (one line) and body of t for kind with params (a JSON
 * object) merged.  0, or -1 with err: a tag without a value and no
 * fallback under "refuse", a syntax fault, an unknown tag, a limit. */
int atsm_notify_tpl_merge(const char *kind, json_t *params, const struct atsm_notify_tpl *t,
    struct atsm_buf *subject, struct atsm_buf *body, struct atsm_err *err);

#endif

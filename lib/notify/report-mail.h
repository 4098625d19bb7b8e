/* notify/report-mail.h -- the report mail (docs/reports.md, "Report
 * mail"): the notification of kind report.weekly, queued by atsmailctl
 * report mail and sent by atsmaild's notification sender like every
 * other notification (docs/notifications.md).  Pure.
 *
 * atsmaild never runs gnuplot and never reads the report's figures: the
 * notification's params carry the parts already made by atsmailctl,
 *
 *	period  the period as shown (the subject and the first sentence)
 *	text    the terminal table (report/table.h), UTF-8
 *	html    the self-contained page with its SVG charts (report/html.h)
 *	png     optional: the recruiters' chart as PNG, base64
 *	name    optional: the page's file name ([A-Za-z0-9._-], ending .html)
 *
 * and the mail is multipart/mixed: the text/plain part (the sentence of
 * notify/text.c, then the table), the PNG inline, the page as a text/html
 * attachment, each in base64.  Headers as every notification's
 * (notify/compose.h): null sender, Auto-Submitted, the signed
 * X-ATS-Notification marker.
 */
#ifndef ATSM_NOTIFY_REPORT_MAIL_H
#define ATSM_NOTIFY_REPORT_MAIL_H

#include <jansson.h>

#include "base/buf.h"
#include "base/err.h"
#include "notify/compose.h"

#define ATSM_NOTIFY_REPORT_KIND "report.weekly"
/* The most a report mail may be (the page, the PNG and the table in
 * base64): below Postfix's default message_size_limit (10240000). */
#define ATSM_NOTIFY_REPORT_MAIL_MAX (9u * 1024u * 1024u)
/* The most each part may be before base64 (atsmailctl checks them). */
#define ATSM_NOTIFY_REPORT_HTML_MAX (5u * 1024u * 1024u)
#define ATSM_NOTIFY_REPORT_PNG_MAX (1024u * 1024u)
#define ATSM_NOTIFY_REPORT_TEXT_MAX (512u * 1024u)

/* For notify/compose.c, which calls it for the kind report.weekly once it
 * has checked in (from, to, unique, token), found dom (the domain of the
 * Message-ID), parsed params and made the subject and the first sentence
 * (body: notify/text.c's, or the site's own text); the table is appended
 * to body.  The mail into out (its limit at least atsm_notify_mail_max()).
 * 0, or -1 with err (ATSM_ERR_INPUT): a part missing, not text or over its
 * limit, a png that is no base64 of a PNG, or out's limit. */
int atsm_notify_report_write(const struct atsm_notify_in *in, const char *dom,
    json_t *params, const char *subject, struct atsm_buf *body, struct atsm_buf *out,
    struct atsm_err *err);

/* The most a notification of kind may be composed into. */
size_t atsm_notify_mail_max(const char *kind);

#endif

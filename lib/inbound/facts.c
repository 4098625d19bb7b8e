/* inbound/facts.c -- the facts of one mail that reached a mailbox (struct
 * atsm_in_facts): init, free, the idempotency key of one copy, the facts
 * read from the raw message (headers, bounce, the kind of mail -- read
 * receipt, list mail, auto-reply -- and mailer-daemon),
 * and the format-1 JSON form ("inbound.message" journal entries of earlier
 * releases, read back by atsmailctl replay; see inbound/facts.h and
 * docs/inbound.md).
 *
 * The JSON form is an object with "v":1 and one member per field; absent
 * values are null.  A header that is not UTF-8 is written as
 * {"hex":"<its bytes>"}, so that replay decodes exactly the bytes the mail
 * carried.  Reading it back trusts nothing: every member is checked for
 * its type and bounds, and an error names the member.
 */
#include "inbound/facts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "base/buf.h"
#include "mail/addr.h"
#include "mail/autoreply.h"
#include "mail/dsn/dsn.h"
#include "mail/mailkind.h"
#include "mail/mime.h"
#include "store/facts-json.h"
#include "store/journal.h"

#define FACTS_VERSION 1

void
atsm_in_facts_init(struct atsm_in_facts *f)
{
	memset(f, 0, sizeof(*f));
}

static void
free_bounced(struct atsm_in_facts *f)
{
	size_t i;

	for (i = 0; i < f->n_bounced; i++) {
		free(f->bounced[i].addr);
		free(f->bounced[i].diagnostic);
	}
	free(f->bounced);
	f->bounced = NULL;
	f->n_bounced = 0;
}

void
atsm_in_facts_free(struct atsm_in_facts *f)
{
	char **s[] = { &f->mailbox_user, &f->mailbox, &f->env_from, &f->env_to,
	    &f->hdr_from, &f->hdr_to, &f->hdr_cc, &f->hdr_reply_to, &f->hdr_message_id,
	    &f->hdr_subject, &f->hdr_in_reply_to, &f->hdr_references, &f->hdr_date,
	    &f->hdr_ats_ref, &f->orig_message_id, &f->orig_env_from, &f->orig_ats_ref };
	size_t i;

	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		free(*s[i]);
	free_bounced(f);
	memset(f, 0, sizeof(*f));
}

int
atsm_in_facts_make_key(struct atsm_in_facts *f)
{
	struct atsm_buf b;
	const char *id = NULL;
	int rc;

	if (f->mailbox_user == NULL || f->mailbox_user[0] == '\0')
		return -1;
	if (f->hdr_message_id != NULL && strchr(f->hdr_message_id, '@') != NULL)
		id = f->hdr_message_id;
	else if (f->body_sha256[0] != '\0')
		id = f->body_sha256;
	if (id == NULL)
		return -1;
	atsm_buf_init(&b, 3 * ATSM_IN_FACT_MAX + 16);
	/* NUL-separated would end the string: a tab cannot occur in a
	 * Message-ID or a Dovecot user name, so it keeps the parts apart */
	if (atsm_buf_printf(&b, "%s\t%s\t%s", id, f->mailbox_user,
	    f->mailbox != NULL ? f->mailbox : "") < 0) {
		atsm_buf_free(&b);
		return -1;
	}
	rc = atsm_journal_make_key("inbound", atsm_buf_str(&b), f->idem_key);
	atsm_buf_free(&b);
	return rc;
}

/* ---------------------------------------------------- from the message */

/* The MIME and DSN readers fail only when memory runs out (malformed mail
 * is not an error to them) but say so with the default class INPUT: the
 * class is what a caller decides on (atsmaild answers a mail it could not
 * read for want of memory with a temporary failure, and one it cannot
 * read at all as not ATS mail), so it is made NOMEM here. */
static int
nomem(struct atsm_err *err)
{
	if (err != NULL)
		err->cls = ATSM_ERR_NOMEM;
	return -1;
}

static int
dup_into(char **dst, const char *v, size_t max)
{
	size_t n;

	if (*dst != NULL || v == NULL)
		return 0;
	n = strlen(v);
	if (n > max)
		n = max;
	return (*dst = strndup(v, n)) == NULL ? -1 : 0;
}

/* "<a@b>" or "a@b" or "<>" as the bare address ("" for the null sender). */
static int
path_into(char **dst, const char *v)
{
	const char *s, *e;

	if (*dst != NULL || v == NULL)
		return 0;
	s = v + strspn(v, " \t");
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (*s == '<') {
		s++;
		if (e > s && e[-1] == '>')
			e--;
	}
	if ((size_t)(e - s) > ATSM_ADDR_MAX)
		return 0;
	return (*dst = strndup(s, (size_t)(e - s))) == NULL ? -1 : 0;
}

static void
sha256_hex(const char *msg, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	out[0] = '\0';
	if (EVP_Digest(msg, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		return;
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

static void
reason_add(struct atsm_in_facts *f, const char *what)
{
	size_t len = strlen(f->classify_reason);

	snprintf(f->classify_reason + len, sizeof(f->classify_reason) - len, "%s%s",
	    len ? "; " : "", what);
}

/* The address the mail would be filed under (the first From address;
 * without one, the envelope sender) is a system sender.  A relay's
 * noreply@ envelope under a person's From is not. */
static bool
from_is_daemon(const char *from, const char *env_from)
{
	struct atsm_addr_list l;
	bool daemon;

	if (from != NULL) {
		(void)atsm_addr_parse_list(from, strlen(from), 16, &l, NULL);
		if (l.n > 0 && l.v[0].domain != NULL) {
			daemon = atsm_mailer_daemon(l.v[0].addr);
			atsm_addr_list_free(&l);
			return daemon;
		}
		atsm_addr_list_free(&l);
	}
	return env_from != NULL && atsm_mailer_daemon(env_from);
}

/* The kind of a mail that is neither a bounce nor a feedback report
 * (mail/mailkind.h).  An MDN is a multipart/report too, and a reader of
 * bounce notices may take its text for one: it is never a bounce.  An
 * MDN that names the message it is about only in its report
 * (Original-Message-ID) is taken as answering that message. */
static int
take_kind(struct atsm_in_facts *f, const struct atsm_mime_msg *m)
{
	struct atsm_buf why;
	enum atsm_mail_kind k;
	int rc = 0;

	if (f->is_feedback)
		return 0;
	atsm_buf_init(&why, 256);
	if (f->is_bounce && atsm_mdn_detect(m, NULL)) {
		f->is_bounce = false;
		free_bounced(f);
		f->classify_reason[0] = '\0';
	}
	if (!f->is_bounce) {
		k = atsm_mail_kind(m, f->env_from, &why);
		f->is_mdn = k == ATSM_MAIL_MDN;
		f->is_list = k == ATSM_MAIL_LIST;
		f->is_autoreply = k == ATSM_MAIL_AUTOREPLY;
		if (k != ATSM_MAIL_PERSONAL)
			reason_add(f, why.data != NULL ? why.data : atsm_mail_kind_name(k));
	}
	if (f->is_mdn && f->hdr_in_reply_to == NULL && f->hdr_references == NULL) {
		atsm_buf_reset(&why);
		if (atsm_mdn_original_id(m, &why) == 1 &&
		    dup_into(&f->hdr_in_reply_to, atsm_buf_str(&why), ATSM_IN_FACT_MAX) < 0)
			rc = -1;
	}
	atsm_buf_free(&why);
	return rc;
}

static int
take_dsn(struct atsm_in_facts *f, const char *msg, size_t len, struct atsm_err *err)
{
	struct atsm_dsn d;
	size_t i, n;
	int rc = -1;

	if (atsm_dsn_parse(msg, len, &d, err) < 0) {
		atsm_dsn_free(&d);
		return nomem(err);
	}
	f->is_bounce = d.is_bounce;
	f->is_feedback = d.is_feedback;
	if (d.is_bounce) {
		char what[64];

		snprintf(what, sizeof(what), "bounce (%s, %zu recipients)",
		    d.format != NULL ? d.format : "?", d.n);
		reason_add(f, what);
	} else if (d.is_feedback)
		reason_add(f, "feedback report");
	n = d.n < ATSM_IN_MAX_BOUNCED ? d.n : ATSM_IN_MAX_BOUNCED;
	if (n > 0 && f->bounced == NULL) {
		if ((f->bounced = calloc(n, sizeof(*f->bounced))) == NULL)
			goto out;
		for (i = 0; i < n; i++) {
			struct atsm_in_bounced *b = &f->bounced[f->n_bounced];

			if (d.v[i].addr == NULL || d.v[i].delayed)
				continue;
			f->n_bounced++;
			snprintf(b->status, sizeof(b->status), "%s", d.v[i].status);
			b->hard = d.v[i].hard;
			if ((b->addr = strdup(d.v[i].addr)) == NULL ||
			    (d.v[i].diagnostic != NULL &&
			    (b->diagnostic = strdup(d.v[i].diagnostic)) == NULL))
				goto out;
		}
	}
	if (dup_into(&f->orig_message_id, d.orig_message_id, ATSM_IN_FACT_MAX) < 0 ||
	    dup_into(&f->orig_env_from, d.orig_env_from, ATSM_IN_FACT_MAX) < 0 ||
	    dup_into(&f->orig_ats_ref, d.orig_ats_ref, ATSM_IN_FACT_MAX) < 0)
		goto out;
	rc = 0;
out:
	atsm_dsn_free(&d);
	if (rc < 0)
		atsm_err_setc(err, ATSM_ERR_NOMEM, "inbound facts: out of memory reading the bounce");
	return rc;
}

int
atsm_in_facts_from_message(struct atsm_in_facts *f, const char *msg, size_t len,
    const struct atsm_conf *conf, struct atsm_err *err)
{
	static const struct {
		const char *name;
		size_t off;
	} hdrs[] = {
		{ "From", offsetof(struct atsm_in_facts, hdr_from) },
		{ "To", offsetof(struct atsm_in_facts, hdr_to) },
		{ "Cc", offsetof(struct atsm_in_facts, hdr_cc) },
		{ "Reply-To", offsetof(struct atsm_in_facts, hdr_reply_to) },
		{ "Message-ID", offsetof(struct atsm_in_facts, hdr_message_id) },
		{ "Subject", offsetof(struct atsm_in_facts, hdr_subject) },
		{ "In-Reply-To", offsetof(struct atsm_in_facts, hdr_in_reply_to) },
		{ "References", offsetof(struct atsm_in_facts, hdr_references) },
		{ "Date", offsetof(struct atsm_in_facts, hdr_date) },
		{ "X-ATS-Ref", offsetof(struct atsm_in_facts, hdr_ats_ref) },
	};
	struct atsm_mime_msg m;
	const struct atsm_mime_headers *h;
	const char *v;
	size_t n = len, i;

	if (msg == NULL)
		return atsm_err_set(err, "inbound facts: no message given");
	if (conf != NULL && conf->inbound_parse_max_bytes > 0 && n > conf->inbound_parse_max_bytes)
		n = conf->inbound_parse_max_bytes;
	if (atsm_mime_parse(msg, n, NULL, &m, err) < 0) {
		atsm_mime_free(&m);
		return nomem(err);
	}
	h = &m.v[0].hdr;
	for (i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++)
		if (dup_into((char **)((char *)f + hdrs[i].off), atsm_mime_header(h, hdrs[i].name),
		    ATSM_IN_FACT_MAX) < 0)
			goto oom;
	if (path_into(&f->env_from, atsm_mime_header(h, "Return-Path")) < 0 ||
	    path_into(&f->env_to, atsm_mime_header(h, "Delivered-To")) < 0)
		goto oom;
	if (f->size == 0)
		f->size = len;
	if (f->body_sha256[0] == '\0')
		sha256_hex(msg, len, f->body_sha256);
	if (f->received_at == 0)
		f->received_at = (long long)time(NULL);
	if (take_dsn(f, msg, n, err) < 0) {
		atsm_mime_free(&m);
		return -1;
	}
	if (take_kind(f, &m) < 0)
		goto oom;
	v = atsm_mime_header(h, "Auto-Submitted");
	f->is_generated = (v != NULL && atsm_auto_submitted(v)) ||
	    atsm_mime_header(h, "X-ATS-Notification") != NULL ||
	    atsm_mime_header(h, "X-ATS-Explanation") != NULL;
	f->from_mailer_daemon = from_is_daemon(f->hdr_from, f->env_from);
	if (f->from_mailer_daemon)
		reason_add(f, "from a mailer-daemon or system sender");
	atsm_mime_free(&m);
	if (f->idem_key[0] == '\0')
		(void)atsm_in_facts_make_key(f);
	return 0;
oom:
	atsm_mime_free(&m);
	return atsm_err_setc(err, ATSM_ERR_NOMEM, "inbound facts: out of memory reading the headers");
}

/* ------------------------------------------------------------- to JSON */

static const struct atsm_fj fj = { "inbound facts", ATSM_IN_FACT_MAX };

static int
put(json_t *o, const char *name, json_t *v)
{
	return v == NULL ? -1 : json_object_set_new(o, name, v);
}

json_t *
atsm_in_facts_to_json(const struct atsm_in_facts *f)
{
	json_t *o, *b;
	size_t i;
	int bad = 0;

	if ((o = json_object()) == NULL || (b = json_array()) == NULL) {
		json_decref(o);
		return NULL;
	}
	for (i = 0; i < f->n_bounced; i++) {
		json_t *r = json_object();

		if (r == NULL) {
			bad = 1;
			break;
		}
		bad |= put(r, "addr", atsm_fj_text(f->bounced[i].addr));
		bad |= put(r, "status", atsm_fj_text(f->bounced[i].status));
		bad |= put(r, "hard", json_boolean(f->bounced[i].hard));
		bad |= put(r, "diagnostic", atsm_fj_text(f->bounced[i].diagnostic));
		bad |= json_array_append_new(b, r);
	}
	bad |= put(o, "bounced", b);
	bad |= put(o, "v", json_integer(FACTS_VERSION));
	bad |= put(o, "how", json_string(f->how == ATSM_IN_APPEND ? "append" : "delivery"));
	bad |= put(o, "mailbox_user", atsm_fj_text(f->mailbox_user));
	bad |= put(o, "mailbox", atsm_fj_text(f->mailbox));
	bad |= put(o, "imap_uid", json_integer((json_int_t)f->imap_uid));
	bad |= put(o, "env_from", atsm_fj_text(f->env_from));
	bad |= put(o, "env_to", atsm_fj_text(f->env_to));
	bad |= put(o, "hdr_from", atsm_fj_text(f->hdr_from));
	bad |= put(o, "hdr_to", atsm_fj_text(f->hdr_to));
	bad |= put(o, "hdr_cc", atsm_fj_text(f->hdr_cc));
	bad |= put(o, "hdr_reply_to", atsm_fj_text(f->hdr_reply_to));
	bad |= put(o, "hdr_message_id", atsm_fj_text(f->hdr_message_id));
	bad |= put(o, "hdr_subject", atsm_fj_text(f->hdr_subject));
	bad |= put(o, "hdr_in_reply_to", atsm_fj_text(f->hdr_in_reply_to));
	bad |= put(o, "hdr_references", atsm_fj_text(f->hdr_references));
	bad |= put(o, "hdr_date", atsm_fj_text(f->hdr_date));
	bad |= put(o, "hdr_ats_ref", atsm_fj_text(f->hdr_ats_ref));
	bad |= put(o, "size", json_integer((json_int_t)f->size));
	bad |= put(o, "body_sha256", json_string(f->body_sha256));
	bad |= put(o, "is_bounce", json_boolean(f->is_bounce));
	bad |= put(o, "is_feedback", json_boolean(f->is_feedback));
	bad |= put(o, "is_mdn", json_boolean(f->is_mdn));
	bad |= put(o, "is_list", json_boolean(f->is_list));
	bad |= put(o, "is_autoreply", json_boolean(f->is_autoreply));
	bad |= put(o, "is_generated", json_boolean(f->is_generated));
	bad |= put(o, "from_mailer_daemon", json_boolean(f->from_mailer_daemon));
	bad |= put(o, "classify_reason", atsm_fj_text(f->classify_reason));
	bad |= put(o, "orig_message_id", atsm_fj_text(f->orig_message_id));
	bad |= put(o, "orig_env_from", atsm_fj_text(f->orig_env_from));
	bad |= put(o, "orig_ats_ref", atsm_fj_text(f->orig_ats_ref));
	bad |= put(o, "idem_key", atsm_fj_text(f->idem_key));
	bad |= put(o, "received_at", json_integer(f->received_at));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* ----------------------------------------------------------- from JSON */

static int
get_bounced(const json_t *o, struct atsm_in_facts *f, struct atsm_err *err)
{
	json_t *a = json_object_get(o, "bounced"), *r;
	size_t i, n;

	if (a == NULL || json_is_null(a))
		return 0;
	if (!json_is_array(a))
		return atsm_err_set(err, "inbound facts: field 'bounced' must be an array of objects");
	n = json_array_size(a);
	if (n > ATSM_IN_MAX_BOUNCED)
		return atsm_err_set(err, "inbound facts: field 'bounced' has %zu recipients; at most %d",
		    n, ATSM_IN_MAX_BOUNCED);
	if (n == 0)
		return 0;
	if ((f->bounced = calloc(n, sizeof(*f->bounced))) == NULL)
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "inbound facts: out of memory reading 'bounced'");
	f->n_bounced = n;
	json_array_foreach(a, i, r) {
		struct atsm_in_bounced *b = &f->bounced[i];
		char what[64];

		snprintf(what, sizeof(what), "field 'bounced' item %zu", i);
		if (!json_is_object(r))
			return atsm_err_set(err, "inbound facts: %s must be an object", what);
		if (atsm_fj_get_text(&fj, r, "addr", false, &b->addr, err) < 0 ||
		    atsm_fj_get_fixed(&fj, r, "status", true, b->status, sizeof(b->status), "0123456789.", err) < 0 ||
		    atsm_fj_get_bool(&fj, r, "hard", &b->hard, err) < 0 ||
		    atsm_fj_get_text(&fj, r, "diagnostic", true, &b->diagnostic, err) < 0)
			return atsm_err_prefix(err, "%s", what);
	}
	return 0;
}

static int
facts_read(const json_t *j, struct atsm_in_facts *f, struct atsm_err *err)
{
	static const char hex[] = "0123456789abcdef";
	json_t *v, *how;
	long long n;

	if (!json_is_object(j))
		return atsm_err_set(err, "inbound facts: not a JSON object");
	v = json_object_get(j, "v");
	if (v == NULL || !json_is_integer(v) || json_integer_value(v) != FACTS_VERSION)
		return atsm_err_set(err, "inbound facts: field 'v' must be %d", FACTS_VERSION);
	how = json_object_get(j, "how");
	if (how == NULL || !json_is_string(how) ||
	    (strcmp(json_string_value(how), "delivery") != 0 &&
	    strcmp(json_string_value(how), "append") != 0))
		return atsm_err_set(err, "inbound facts: field 'how' must be \"delivery\" or \"append\"");
	f->how = strcmp(json_string_value(how), "append") == 0 ? ATSM_IN_APPEND : ATSM_IN_DELIVERY;
	if (atsm_fj_get_text(&fj, j, "mailbox_user", false, &f->mailbox_user, err) < 0 ||
	    atsm_fj_get_text(&fj, j, "mailbox", true, &f->mailbox, err) < 0 ||
	    atsm_fj_get_text(&fj, j, "env_from", true, &f->env_from, err) < 0 ||
	    atsm_fj_get_text(&fj, j, "env_to", true, &f->env_to, err) < 0 ||
	    atsm_fj_get_text(&fj, j, "hdr_from", true, &f->hdr_from, err) < 0 ||
	    atsm_fj_get_text(&fj, j, "hdr_to", true, &f->hdr_to, err) < 0 ||
	    atsm_fj_get_text(&fj, j, "hdr_cc", true, &f->hdr_cc, err) < 0 ||
	    atsm_fj_get_text(&fj, j, "hdr_reply_to", true, &f->hdr_reply_to, err) < 0 ||
	    atsm_fj_get_text(&fj, j, "hdr_message_id", true, &f->hdr_message_id, err) < 0 ||
	    atsm_fj_get_text(&fj, j, "hdr_subject", true, &f->hdr_subject, err) < 0 ||
	    atsm_fj_get_text(&fj, j, "hdr_in_reply_to", true, &f->hdr_in_reply_to, err) < 0 ||
	    atsm_fj_get_text(&fj, j, "hdr_references", true, &f->hdr_references, err) < 0 ||
	    atsm_fj_get_text(&fj, j, "hdr_date", true, &f->hdr_date, err) < 0 ||
	    atsm_fj_get_text(&fj, j, "hdr_ats_ref", true, &f->hdr_ats_ref, err) < 0 ||
	    atsm_fj_get_text(&fj, j, "orig_message_id", true, &f->orig_message_id, err) < 0 ||
	    atsm_fj_get_text(&fj, j, "orig_env_from", true, &f->orig_env_from, err) < 0 ||
	    atsm_fj_get_text(&fj, j, "orig_ats_ref", true, &f->orig_ats_ref, err) < 0)
		return -1;
	if (atsm_fj_get_int(&fj, j, "imap_uid", 0, &n, err) < 0)
		return -1;
	if (n > 4294967295LL)
		return atsm_err_set(err, "inbound facts: field 'imap_uid' is not a 32-bit UID");
	f->imap_uid = (unsigned long)n;
	if (atsm_fj_get_int(&fj, j, "size", 0, &n, err) < 0 ||
	    atsm_fj_get_int(&fj, j, "received_at", 0, &f->received_at, err) < 0)
		return -1;
	f->size = (size_t)n;
	if (atsm_fj_get_bool(&fj, j, "is_bounce", &f->is_bounce, err) < 0 ||
	    atsm_fj_get_bool(&fj, j, "is_feedback", &f->is_feedback, err) < 0 ||
	    atsm_fj_get_bool(&fj, j, "is_mdn", &f->is_mdn, err) < 0 ||
	    atsm_fj_get_bool(&fj, j, "is_list", &f->is_list, err) < 0 ||
	    atsm_fj_get_bool(&fj, j, "is_autoreply", &f->is_autoreply, err) < 0 ||
	    atsm_fj_get_bool(&fj, j, "is_generated", &f->is_generated, err) < 0 ||
	    atsm_fj_get_bool(&fj, j, "from_mailer_daemon", &f->from_mailer_daemon, err) < 0 ||
	    get_bounced(j, f, err) < 0)
		return -1;
	if (atsm_fj_get_fixed(&fj, j, "body_sha256", true, f->body_sha256, sizeof(f->body_sha256), hex, err) < 0 ||
	    atsm_fj_get_fixed(&fj, j, "idem_key", false, f->idem_key, sizeof(f->idem_key), NULL, err) < 0 ||
	    atsm_fj_get_fixed(&fj, j, "classify_reason", true, f->classify_reason,
	    sizeof(f->classify_reason), NULL, err) < 0)
		return -1;
	if (f->body_sha256[0] != '\0' && strlen(f->body_sha256) != 64)
		return atsm_err_set(err, "inbound facts: field 'body_sha256' must be 64 hex digits or empty");
	if (f->idem_key[0] == '\0')
		return atsm_err_set(err, "inbound facts: field 'idem_key' is empty");
	if (f->mailbox_user[0] == '\0')
		return atsm_err_set(err, "inbound facts: field 'mailbox_user' is empty");
	return 0;
}

int
atsm_in_facts_from_json(const json_t *j, struct atsm_in_facts *f, struct atsm_err *err)
{
	atsm_in_facts_init(f);
	if (facts_read(j, f, err) < 0) {
		atsm_in_facts_free(f);
		return -1;
	}
	return 0;
}

/* bulk/result.c -- the acknowledgement and result mails of a bulk job and
 * its CSV (see bulk/result.h).  Headers and text parts are written by
 * explain/parts.h, as the explanation of a refusal is. */
#include "bulk/result.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "explain/compose.h"
#include "explain/parts.h"

#define TEXT_MAX (1024u * 1024u)
#define LIST_MAX 50                      /* addresses named in the text */

static int
csv_field(struct atsm_buf *out, const char *v, bool last)
{
	const char *s;

	if (v == NULL)
		v = "";
	if (strpbrk(v, ",\"\r\n") == NULL) {
		if (atsm_buf_puts(out, v) < 0)
			return -1;
	} else {
		if (atsm_buf_putc(out, '"') < 0)
			return -1;
		for (s = v; *s != '\0'; s++) {
			if (*s == '"' && atsm_buf_putc(out, '"') < 0)
				return -1;
			if (atsm_buf_putc(out, *s) < 0)
				return -1;
		}
		if (atsm_buf_putc(out, '"') < 0)
			return -1;
	}
	return atsm_buf_puts(out, last ? "\r\n" : ",");
}

int
atsm_bulk_result_csv(const struct atsm_bulk_item *items, size_t n, bool deliveries,
    struct atsm_buf *out)
{
	char record[48];
	size_t i;

	if (atsm_buf_puts(out, deliveries ?
	    "recipient,record,message_id,queue_id,status,reason,delivery,status_code,"
	    "bounced_at,diagnostic\r\n" :
	    "recipient,record,message_id,queue_id,status,reason\r\n") < 0)
		return -1;
	for (i = 0; i < n; i++) {
		const struct atsm_bulk_item *it = &items[i];

		if (it->kind == 'r' || it->kind == 'c')
			snprintf(record, sizeof(record), "%s %lld",
			    it->kind == 'r' ? "resume" : "contact", it->record_id);
		else
			record[0] = '\0';
		if (csv_field(out, it->rcpt, false) < 0 || csv_field(out, record, false) < 0 ||
		    csv_field(out, it->message_id, false) < 0 ||
		    csv_field(out, it->queue_id, false) < 0 ||
		    csv_field(out, atsm_bulk_state_name(it->state), false) < 0 ||
		    csv_field(out, it->reason, !deliveries) < 0)
			return -1;
		if (deliveries && (csv_field(out, it->delivery, false) < 0 ||
		    csv_field(out, it->status_code, false) < 0 ||
		    csv_field(out, it->bounced_at, false) < 0 ||
		    csv_field(out, it->diagnostic, true) < 0))
			return -1;
	}
	return 0;
}

static bool
has_break(const char *s)
{
	return s != NULL && strpbrk(s, "\r\n") != NULL;
}

static int
put_head(const struct atsm_bulk_result_in *in, const char *subject, const char *boundary,
    struct atsm_buf *out)
{
	char dom[256];

	if (atsm_explain_from_domain(in->from, dom, sizeof(dom)) < 0)
		return -1;
	if (atsm_buf_printf(out, "From: %s\r\nTo: <%s>\r\n", in->from, in->to) < 0 ||
	    atsm_explain_put_subject(out, subject) < 0 || atsm_explain_put_date(out, in->now) < 0)
		return -1;
	return atsm_buf_printf(out, "Message-ID: <atsmail-bulk.%s@%s>\r\n"
	    "Auto-Submitted: auto-generated\r\n"
	    "X-Auto-Response-Suppress: All\r\n"
	    "%s: %s\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Language: %s\r\n"
	    "Content-Type: multipart/mixed; boundary=\"%s\"\r\n"
	    "\r\n"
	    "This is a MIME message.\r\n\r\n", in->unique, dom, ATSM_EXPLAIN_MARKER, in->marker,
	    atsm_lang_name(in->lang), boundary);
}

static int
check_in(const struct atsm_bulk_result_in *in, struct atsm_err *err)
{
	if (in->from == NULL || in->to == NULL || in->unique == NULL || in->marker == NULL)
		return atsm_err_setc(err, ATSM_ERR_INPUT, "bulk result: a field is missing");
	if (has_break(in->from) || has_break(in->to) || has_break(in->unique) ||
	    has_break(in->marker))
		return atsm_err_setc(err, ATSM_ERR_INPUT, "bulk result: a field holds a line break");
	return 0;
}

static void
counts(const struct atsm_bulk_result_in *in, int n[6])
{
	size_t i;

	memset(n, 0, 6 * sizeof(int));
	for (i = 0; i < in->n_items; i++)
		n[in->items[i].state]++;
}

static int
finish(struct atsm_buf *out, struct atsm_buf *text, int rc, struct atsm_err *err)
{
	if (rc < 0)
		atsm_err_setc(err, out->overflow || text->overflow ? ATSM_ERR_INPUT : ATSM_ERR_NOMEM,
		    "bulk result: %s", out->overflow || text->overflow ?
		    "the mail is larger than its limit" : "out of memory");
	atsm_buf_free(text);
	return rc;
}

/* Up to LIST_MAX unmatched addresses, one a line. */
static int
put_unmatched(const struct atsm_bulk_result_in *in, struct atsm_buf *t, bool ja)
{
	size_t i, shown = 0, all = 0;

	for (i = 0; i < in->n_items; i++) {
		if (in->items[i].state != ATSM_BULK_UNMATCHED)
			continue;
		all++;
		if (shown < LIST_MAX && atsm_buf_printf(t, "  %s\n", in->items[i].rcpt) == 0)
			shown++;
	}
	if (all > shown)
		return atsm_buf_printf(t, ja ? "  ほか %zu 件\n" : "  and %zu more\n", all - shown);
	return 0;
}

int
atsm_bulk_ack_compose(const struct atsm_bulk_result_in *in, struct atsm_buf *out,
    struct atsm_err *err)
{
	struct atsm_buf t;
	char subject[512], boundary[128];
	bool ja = in->lang == ATSM_LANG_JA;
	int n[6], rc = -1;

	atsm_buf_reset(out);
	if (check_in(in, err) < 0)
		return -1;
	counts(in, n);
	snprintf(boundary, sizeof(boundary), "=_atsmail_%s", in->unique);
	snprintf(subject, sizeof(subject), ja ? "一括送信 %lld を受け付けました: %d 通" :
	    "Bulk send %lld accepted: %d mails", in->job, n[ATSM_BULK_PENDING] +
	    n[ATSM_BULK_SENDING] + n[ATSM_BULK_ACCEPTED] + n[ATSM_BULK_REFUSED]);
	atsm_buf_init(&t, TEXT_MAX);
	if (ja)
		rc = atsm_buf_printf(&t, "一括送信 %lld（件名: %s）を受け付けました。\n\n"
		    "送信予定: %d 通（宛先ごとに 1 通ずつ、差し込みをして送ります）\n"
		    "該当する履歴書・担当者がなかったアドレス: %d 件（送りません）\n",
		    in->job, in->subject != NULL ? in->subject : "",
		    n[ATSM_BULK_PENDING] + n[ATSM_BULK_SENDING], n[ATSM_BULK_UNMATCHED]);
	else
		rc = atsm_buf_printf(&t, "atsmail has accepted bulk send %lld (subject: %s).\n\n"
		    "Mails to send: %d (one per recipient, merged for each)\n"
		    "Addresses that matched no resume or contact: %d (not sent)\n",
		    in->job, in->subject != NULL ? in->subject : "",
		    n[ATSM_BULK_PENDING] + n[ATSM_BULK_SENDING], n[ATSM_BULK_UNMATCHED]);
	if (rc == 0)
		rc = put_unmatched(in, &t, ja);
	if (rc == 0)
		rc = atsm_buf_puts(&t, ja ? "\n終わると結果（CSV 付き）をお知らせします。\n"
		    "取り消し: atsmailctl bulk cancel " : "\nYou will receive the result "
		    "(with a CSV) when it is done.\nTo cancel: atsmailctl bulk cancel ");
	if (rc == 0)
		rc = atsm_buf_printf(&t, "%lld\n", in->job);
	if (rc == 0)
		rc = put_head(in, subject, boundary, out);
	if (rc == 0)
		rc = atsm_explain_put_text_part(out, in->lang, atsm_buf_str(&t), t.len, boundary);
	if (rc == 0)
		rc = atsm_buf_printf(out, "--%s--\r\n", boundary);
	return finish(out, &t, rc, err);
}

/* base64 in lines of 76 */
static int
put_base64(struct atsm_buf *out, const char *p, size_t n)
{
	unsigned char line[77];
	size_t i;

	for (i = 0; i < n; i += 57) {
		size_t k = n - i < 57 ? n - i : 57;

		EVP_EncodeBlock(line, (const unsigned char *)p + i, (int)k);
		if (atsm_buf_puts(out, (const char *)line) < 0 || atsm_buf_puts(out, "\r\n") < 0)
			return -1;
	}
	return 0;
}

int
atsm_bulk_result_compose(const struct atsm_bulk_result_in *in, struct atsm_buf *out,
    struct atsm_err *err)
{
	struct atsm_buf t, csv;
	char subject[512], boundary[128];
	bool ja = in->lang == ATSM_LANG_JA, cancelled;
	int n[6], rc = -1;

	atsm_buf_reset(out);
	if (check_in(in, err) < 0)
		return -1;
	counts(in, n);
	cancelled = in->status != NULL && strcmp(in->status, "cancelled") == 0;
	snprintf(boundary, sizeof(boundary), "=_atsmail_%s", in->unique);
	if (ja)
		snprintf(subject, sizeof(subject), "一括送信 %lld の結果: 送信 %d 通、不可 %d 通%s",
		    in->job, n[ATSM_BULK_ACCEPTED], n[ATSM_BULK_REFUSED],
		    cancelled ? "（取り消し）" : "");
	else
		snprintf(subject, sizeof(subject), "Bulk send %lld %s: %d sent, %d refused",
		    in->job, cancelled ? "cancelled" : "done", n[ATSM_BULK_ACCEPTED],
		    n[ATSM_BULK_REFUSED]);
	atsm_buf_init(&t, TEXT_MAX);
	atsm_buf_init(&csv, ATSM_BULK_RESULT_MAX / 2);
	if (ja)
		rc = atsm_buf_printf(&t, "一括送信 %lld（件名: %s）が%s。\n\n"
		    "送信サーバーが受け付けた: %d 通\n送れなかった: %d 通\n"
		    "該当する記録なし（送らず）: %d 件\n取り消しで送らず: %d 件\n\n"
		    "宛先ごとの結果は添付の CSV にあります（recipient, record, message_id, "
		    "queue_id, status, reason）。\nあとで届いたエラーメールは "
		    "atsmailctl bulk status %lld --csv で確認できます。\n",
		    in->job, in->subject != NULL ? in->subject : "",
		    cancelled ? "取り消されました" : "終わりました", n[ATSM_BULK_ACCEPTED],
		    n[ATSM_BULK_REFUSED], n[ATSM_BULK_UNMATCHED], n[ATSM_BULK_CANCELLED] +
		    n[ATSM_BULK_PENDING], in->job);
	else
		rc = atsm_buf_printf(&t, "Bulk send %lld (subject: %s) is %s.\n\n"
		    "Accepted by the sending server: %d\nRefused: %d\n"
		    "Matched no record (not sent): %d\nNot sent because cancelled: %d\n\n"
		    "The attached CSV has one row per recipient (recipient, record, message_id, "
		    "queue_id, status, reason).\nBounces that arrive later are shown by "
		    "atsmailctl bulk status %lld --csv.\n",
		    in->job, in->subject != NULL ? in->subject : "",
		    cancelled ? "cancelled" : "done", n[ATSM_BULK_ACCEPTED], n[ATSM_BULK_REFUSED],
		    n[ATSM_BULK_UNMATCHED], n[ATSM_BULK_CANCELLED] + n[ATSM_BULK_PENDING], in->job);
	if (rc == 0)
		rc = atsm_bulk_result_csv(in->items, in->n_items, false, &csv);
	if (rc == 0)
		rc = put_head(in, subject, boundary, out);
	if (rc == 0)
		rc = atsm_explain_put_text_part(out, in->lang, atsm_buf_str(&t), t.len, boundary);
	if (rc == 0)
		rc = atsm_buf_printf(out, "--%s\r\nContent-Type: text/csv; charset=UTF-8\r\n"
		    "Content-Disposition: attachment; filename=\"bulk-%lld.csv\"\r\n"
		    "Content-Transfer-Encoding: base64\r\n\r\n", boundary, in->job);
	if (rc == 0)
		rc = put_base64(out, atsm_buf_str(&csv), csv.len);
	if (rc == 0)
		rc = atsm_buf_printf(out, "--%s--\r\n", boundary);
	atsm_buf_free(&csv);
	return finish(out, &t, rc, err);
}

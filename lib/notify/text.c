/* notify/text.c -- what each kind of notification says, in English and
 * Japanese, and how its params are put into it (see notify/compose.h).
 *
 * One table: per kind, the params it needs and its subject and body in
 * both languages, with {name} where a param goes.  A param the kind
 * needs is checked before anything is written, so a mistake in a caller
 * (an SQL function of another part of atsmail) is one clear error, not a
 * mail with a hole in it.
 */
#include "notify/text.h"
#include "notify/compose.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "base/charset.h"

#define PARAMS_MAX 12

struct kind {
	const char *name;
	const char *params[PARAMS_MAX];     /* NULL-terminated */
	const char *subject_en, *body_en;
	const char *subject_ja, *body_ja;
};

#define FOOTER_EN "\n-- \nThis mail was written automatically by atsmail; replies to it are not read" \
	"\n(except at a command address named above).  Kinds of notification are turned" \
	"\non and off by your administrator (notify_kinds in atsmail.conf).\n"
#define FOOTER_JA "\n-- \nこのメールは atsmail が自動で送信しています。このメールへの返信は読まれません" \
	"\n（上に示したコマンド用アドレスを除く）。通知の種類ごとの送信の有無は管理者が" \
	"\n設定します（atsmail.conf の notify_kinds）。\n"

#define APPROVAL_HOW_EN \
	"To approve it, reply to this mail or send any mail to\n" \
	"  {approve_addr}\n" \
	"To reject it, send a mail to\n" \
	"  {reject_addr}\n" \
	"with the reason as its text: the sender is told the reason.\n" \
	"Or, on the mail server:\n" \
	"  atsmailctl approval approve {held_id}\n" \
	"  atsmailctl approval reject {held_id} --reason TEXT\n" \
	"The mail leaves only when it is approved.\n"
#define APPROVAL_HOW_JA \
	"承認するには、このメールに返信するか、次のアドレスへメールを送ってください。\n" \
	"  {approve_addr}\n" \
	"却下するには、理由を本文に書いて次のアドレスへ送ってください（理由は送信者に伝えられます）。\n" \
	"  {reject_addr}\n" \
	"メールサーバ上では次のコマンドでも操作できます。\n" \
	"  atsmailctl approval approve {held_id}\n" \
	"  atsmailctl approval reject {held_id} --reason 理由\n" \
	"承認されるまで、このメールは送信されません。\n"
#define APPROVAL_MAIL_EN \
	"  From:    {sender_name} <{sender}>\n" \
	"  To:      {recipients}\n" \
	"  Subject: {subject}\n" \
	"  Held:    {held_at} (number {held_id})\n" \
	"\n--- the beginning of the mail ---\n{preview}\n---------------------------------\n\n"
#define APPROVAL_MAIL_JA \
	"  送信者: {sender_name} <{sender}>\n" \
	"  宛先:   {recipients}\n" \
	"  件名:   {subject}\n" \
	"  保留:   {held_at}（番号 {held_id}）\n" \
	"\n--- 本文の冒頭 ---\n{preview}\n------------------\n\n"
#define APPROVAL_PARAMS "held_id", "sender", "sender_name", "recipients", "subject", \
	"preview", "held_at", "approve_addr", "reject_addr"

static const struct kind kinds[] = {
	{ "shared.assigned",
	  { "mailbox", "folder", "from", "subject", "received", "item", "rule", NULL },
	  "[atsmail] Assigned to you: {subject}",
	  "A mail to the shared mailbox {mailbox} was assigned to you.\n\n"
	  "  From:     {from}\n"
	  "  Subject:  {subject}\n"
	  "  Received: {received}\n"
	  "  Rule:     {rule}\n\n"
	  "It is in the folder {folder} of the shared mailbox (under Shared/ in your\n"
	  "mail client).  Move it to the in-progress folder when you start on it; your\n"
	  "reply marks it answered for everyone.  Open mail of the mailbox:\n"
	  "  atsmailctl shared list --status open --mailbox {mailbox}\n"
	  "(item {item})\n" FOOTER_EN,
	  "[atsmail] 担当に割り当てられました: {subject}",
	  "共有メールボックス {mailbox} に届いたメールの担当者にあなたが割り当てられました。\n\n"
	  "  差出人:   {from}\n"
	  "  件名:     {subject}\n"
	  "  受信日時: {received}\n"
	  "  ルール:   {rule}\n\n"
	  "メールは共有メールボックスのフォルダ {folder} にあります（メールソフトの Shared/ の下）。\n"
	  "対応を始めたら対応中のフォルダへ移動してください。返信すると全員に対して対応済みになります。\n"
	  "このメールボックスの未完了のメール:\n"
	  "  atsmailctl shared list --status open --mailbox {mailbox}\n"
	  "（項目 {item}）\n" FOOTER_JA },
	{ "approval.request",
	  { APPROVAL_PARAMS, NULL },
	  "[atsmail] Approval requested: {subject}",
	  "A mail by {sender_name} waits for your approval.\n\n"
	  APPROVAL_MAIL_EN APPROVAL_HOW_EN FOOTER_EN,
	  "[atsmail] 承認依頼: {subject}",
	  "{sender_name} さんのメールがあなたの承認を待っています。\n\n"
	  APPROVAL_MAIL_JA APPROVAL_HOW_JA FOOTER_JA },
	{ "approval.reminder",
	  { APPROVAL_PARAMS, "waiting", NULL },
	  "[atsmail] Still waiting for your approval ({waiting}): {subject}",
	  "Reminder: a mail by {sender_name} has waited {waiting} for your approval.\n\n"
	  APPROVAL_MAIL_EN APPROVAL_HOW_EN FOOTER_EN,
	  "[atsmail] 承認待ちのままです（{waiting}）: {subject}",
	  "再通知: {sender_name} さんのメールが {waiting} の間、あなたの承認を待っています。\n\n"
	  APPROVAL_MAIL_JA APPROVAL_HOW_JA FOOTER_JA },
	{ "approval.rejected",
	  { "held_id", "subject", "recipients", "approver", "reason", NULL },
	  "[atsmail] Not approved, not sent: {subject}",
	  "Your mail was not approved by {approver}.  It was NOT sent and has been\n"
	  "removed from the mail queue.\n\n"
	  "  To:      {recipients}\n"
	  "  Subject: {subject}\n"
	  "  Held:    number {held_id}\n\n"
	  "The reason given:\n{reason}\n" FOOTER_EN,
	  "[atsmail] 承認されず、送信されませんでした: {subject}",
	  "あなたのメールは {approver} さんに承認されませんでした。メールは送信されず、\n"
	  "送信待ちの列から削除されました。\n\n"
	  "  宛先: {recipients}\n"
	  "  件名: {subject}\n"
	  "  保留: 番号 {held_id}\n\n"
	  "却下の理由:\n{reason}\n" FOOTER_JA },
	{ "approval.approved",
	  { "held_id", "subject", "recipients", "approver", NULL },
	  "[atsmail] Approved and sent: {subject}",
	  "Your mail was approved by {approver} and has been sent.\n\n"
	  "  To:      {recipients}\n"
	  "  Subject: {subject}\n"
	  "  Held:    number {held_id}\n" FOOTER_EN,
	  "[atsmail] 承認され、送信されました: {subject}",
	  "あなたのメールは {approver} さんに承認され、送信されました。\n\n"
	  "  宛先: {recipients}\n"
	  "  件名: {subject}\n"
	  "  保留: 番号 {held_id}\n" FOOTER_JA },
	{ "intake.duplicate",
	  { "resume_id", "resume_name", "from", "subject", NULL },
	  "[atsmail] Intake mail from an existing candidate: {resume_name}",
	  "A mail to an intake address came from {from}, who already has a record\n"
	  "that you own: resume {resume_id} ({resume_name}).  The mail was filed on that\n"
	  "record; no new record was made.  The candidate may have applied again\n"
	  "(another job, or through another agency).\n\n"
	  "  From:    {from}\n"
	  "  Subject: {subject}\n"
	  "  Record:  resume {resume_id} ({resume_name})\n" FOOTER_EN,
	  "[atsmail] 既存の候補者から応募メールが届きました: {resume_name}",
	  "応募受付アドレスに {from} からメールが届きました。この差出人には、あなたが担当する\n"
	  "既存のレコード（履歴書 {resume_id}：{resume_name}）があります。メールはそのレコードに\n"
	  "紐付けられ、新しいレコードは作成されていません。別の求人への応募や、別の紹介会社\n"
	  "経由の重複応募の可能性があります。\n\n"
	  "  差出人:   {from}\n"
	  "  件名:     {subject}\n"
	  "  レコード: 履歴書 {resume_id}（{resume_name}）\n" FOOTER_JA },
	{ "intake.created",
	  { "resume_id", "resume_name", "from", "subject", NULL },
	  "[atsmail] New candidate from intake mail: {resume_name}",
	  "A mail to an intake address came from {from}, who had no record: atsmail\n"
	  "made resume {resume_id} ({resume_name}), with you as its owner.\n\n"
	  "  From:    {from}\n"
	  "  Subject: {subject}\n"
	  "  Record:  resume {resume_id} ({resume_name})\n" FOOTER_EN,
	  "[atsmail] 応募メールから新しい候補者を登録しました: {resume_name}",
	  "応募受付アドレスに {from} からメールが届きました。この差出人のレコードはなかったため、\n"
	  "あなたを担当者として履歴書 {resume_id}（{resume_name}）を作成しました。\n\n"
	  "  差出人:   {from}\n"
	  "  件名:     {subject}\n"
	  "  レコード: 履歴書 {resume_id}（{resume_name}）\n" FOOTER_JA },
	{ "bounce.hard",
	  { "recipient", "subject", "reason", "sent_at", "message_id", NULL },
	  "[atsmail] Undeliverable: {recipient}",
	  "Your mail to {recipient} could not be delivered: the receiving mail server\n"
	  "refused it for good (a hard bounce).  atsmail has flagged the address.\n"
	  "Check the address with the candidate or contact by another means before\n"
	  "you write to it again.\n\n"
	  "  To:         {recipient}\n"
	  "  Subject:    {subject}\n"
	  "  Sent:       {sent_at}\n"
	  "  Message-ID: {message_id}\n\n"
	  "The receiving server said:\n{reason}\n" FOOTER_EN,
	  "[atsmail] 配信できませんでした: {recipient}",
	  "{recipient} 宛てのメールは配信できませんでした。受信側のメールサーバが恒久的に\n"
	  "受け取りを拒否しました（ハードバウンス）。atsmail はこのアドレスに印を付けました。\n"
	  "再度送る前に、別の手段で候補者にアドレスを確認してください。\n\n"
	  "  宛先:       {recipient}\n"
	  "  件名:       {subject}\n"
	  "  送信日時:   {sent_at}\n"
	  "  Message-ID: {message_id}\n\n"
	  "受信側サーバの応答:\n{reason}\n" FOOTER_JA },
	/* the table, the chart and the page follow the sentence: notify/report-mail.c */
	{ "report.weekly",
	  { "period", "text", "html", NULL },
	  "[atsmail] Report {period}",
	  "The report of atsmail for {period}: mail sent, replies, reply rate, bounces\n"
	  "and times to the first reply, per recruiter, per shared mailbox and per job.\n"
	  "The attached page (open it in any browser; it needs no network) has the\n"
	  "charts and every table; the picture shows mail per recruiter.\n",
	  "[atsmail] レポート {period}",
	  "{period} の atsmail レポートです。担当者別・共通アドレス別・求人別の送信数、\n"
	  "返信数、返信率、エラー、最初の返信までの時間をまとめています。グラフとすべての表は\n"
	  "添付のページにあります（どのブラウザでも開け、ネットワークは不要です）。画像は\n"
	  "担当者別のメール数です。\n" },
};

static const char *kind_names[sizeof(kinds) / sizeof(kinds[0]) + 1];

static const struct kind *
find_kind(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].name, name) == 0)
			return &kinds[i];
	return NULL;
}

bool
atsm_notify_kind_known(const char *kind)
{
	return find_kind(kind) != NULL;
}

const char *const *
atsm_notify_kinds(void)
{
	size_t i;

	/* filled on every call with the same pointers: safe between threads */
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		kind_names[i] = kinds[i].name;
	kind_names[i] = NULL;
	return kind_names;
}

const char *const *
atsm_notify_kind_params(const char *kind)
{
	const struct kind *k = find_kind(kind);

	return k != NULL ? k->params : NULL;
}

/* Params whose lines are kept: text quoted as a block in the body. */
bool
atsm_notify_block_param(const char *name)
{
	return strcmp(name, "preview") == 0 || strcmp(name, "reason") == 0;
}

/* A param's value as text into tmp: 0, or -1 when it is no text. */
int
atsm_notify_param_text(json_t *v, char *tmp, size_t size, const char **out)
{
	if (json_is_string(v))
		*out = json_string_value(v);
	else if (json_is_null(v))
		*out = "";
	else if (json_is_integer(v)) {
		snprintf(tmp, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		*out = tmp;
	} else if (json_is_real(v)) {
		snprintf(tmp, size, "%g", json_real_value(v));
		*out = tmp;
	} else if (json_is_boolean(v))
		*out = json_is_true(v) ? "true" : "false";
	else
		return -1;
	return 0;
}

/* v into out as a value of the built-in text (notify/text.h). */
int
atsm_notify_put_text(struct atsm_buf *out, const char *v, bool one_line, size_t max)
{
	size_t n = strlen(v), i = 0, len;

	while (i < n) {
		unsigned char c = (unsigned char)v[i];

		if ((len = atsm_utf8_char_len(v + i, n - i)) == 0)
			len = 1;
		if (i + len > max)
			return atsm_buf_puts(out, "...");
		if (c < 0x20 || c == 0x7f) {
			if (!one_line && (c == '\n' || c == '\t')) {
				if (atsm_buf_putc(out, (char)c) < 0)
					return -1;
			} else if (!one_line && c == '\r') {
				/* CRLF is a line break, written once */
			} else if (atsm_buf_putc(out, ' ') < 0)
				return -1;
		} else if (len == 1 ? atsm_buf_putc(out, (char)c) < 0 :
		    atsm_buf_append(out, v + i, len) < 0)
			return -1;
		i += len;
	}
	return 0;
}

/* tmpl with every {name} replaced by its param into out. */
static int
render(const char *tmpl, json_t *params, bool subject, struct atsm_buf *out,
    struct atsm_err *err)
{
	const char *p = tmpl, *open, *close, *v;
	char name[64], num[64];

	while ((open = strchr(p, '{')) != NULL) {
		if (atsm_buf_append(out, p, (size_t)(open - p)) < 0)
			return -1;
		close = strchr(open, '}');
		if (close == NULL || (size_t)(close - open - 1) >= sizeof(name))
			return atsm_err_setc(err, ATSM_ERR_INTERNAL, "notification text: bad {}");
		memcpy(name, open + 1, (size_t)(close - open - 1));
		name[close - open - 1] = '\0';
		if (atsm_notify_param_text(json_object_get(params, name), num, sizeof(num), &v) < 0)
			return atsm_err_setc(err, ATSM_ERR_INPUT, "param %s is not text", name);
		if (atsm_notify_put_text(out, v, subject || !atsm_notify_block_param(name),
		    atsm_notify_block_param(name) ? ATSM_NOTIFY_PREVIEW_MAX : ATSM_NOTIFY_VALUE_MAX) < 0)
			return -1;
		p = close + 1;
	}
	return atsm_buf_puts(out, p);
}

int
atsm_notify_text(const char *kind_name, enum atsm_lang lang, json_t *params,
    struct atsm_buf *subject, struct atsm_buf *body, struct atsm_err *err)
{
	const struct kind *k = find_kind(kind_name);
	const char *v;
	char num[64];
	size_t i;

	if (k == NULL)
		return atsm_err_setc(err, ATSM_ERR_INPUT, "notification: unknown kind \"%s\"",
		    kind_name != NULL ? kind_name : "(none)");
	if (!json_is_object(params))
		return atsm_err_setc(err, ATSM_ERR_INPUT, "notification %s: params are not a "
		    "JSON object", k->name);
	for (i = 0; k->params[i] != NULL; i++) {
		json_t *p = json_object_get(params, k->params[i]);

		if (p == NULL)
			return atsm_err_setc(err, ATSM_ERR_INPUT, "notification %s: param %s is "
			    "missing", k->name, k->params[i]);
		if (atsm_notify_param_text(p, num, sizeof(num), &v) < 0)
			return atsm_err_setc(err, ATSM_ERR_INPUT, "notification %s: param %s is "
			    "not text, a number or a boolean", k->name, k->params[i]);
	}
	if (render(lang == ATSM_LANG_JA ? k->subject_ja : k->subject_en, params, true,
	    subject, err) < 0 ||
	    render(lang == ATSM_LANG_JA ? k->body_ja : k->body_en, params, false, body, err) < 0) {
		if (err->cls == ATSM_ERR_NONE)
			atsm_err_setc(err, ATSM_ERR_INPUT, "notification %s: the text is larger "
			    "than its limit", k->name);
		else
			atsm_err_prefix(err, "notification %s: ", k->name);
		return -1;
	}
	return 0;
}

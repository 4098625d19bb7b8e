/* test-notify-compose.c -- unit tests of the notification mail
 * (lib/notify/compose.c, text.c): every kind in English and Japanese
 * (Subject decoded from RFC 2047, body decoded from base64), the headers
 * that prevent loops, Reply-To of the approval kinds, a missing or wrong
 * param, and params that try to add a header; a site's own text from a
 * template (lib/notify/own-text.c): its codes and tags, the merge, values
 * that try to add a header through it, and the built-in text when it does
 * not merge. */
#include "atsm-check.h"
#include "notify/compose.h"
#include "notify/own-text.h"
#include "mail/rfc2047.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define FROM "atsmail <postmaster@corp.test>"
#define APPROVAL "\"held_id\": 12, \"sender\": \"alice@corp.test\", \"sender_name\": \"Alice\", " \
	"\"recipients\": \"taro@cand.test\", \"subject\": \"面接のご案内\", " \
	"\"preview\": \"山田様\\n\\n面接の日程です。\", \"held_at\": \"2026-12-04 10:00\", " \
	"\"approve_addr\": \"ats+approve.12@ats.corp.test\", " \
	"\"reject_addr\": \"ats+reject.12@ats.corp.test\""

struct sample {
	const char *kind;
	const char *params;
	const char *subject_en, *body_en;     /* a piece each must hold */
	const char *subject_ja, *body_ja;
	const char *value;                    /* a param value the body must show */
};

static const struct sample samples[] = {
	{ "shared.assigned", "{\"mailbox\": \"recruit@corp.test\", \"folder\": \"未対応/alice\", "
	  "\"from\": \"taro@cand.test\", \"subject\": \"応募\", \"received\": \"2026-12-04 09:00\", "
	  "\"item\": 7, \"rule\": \"sender_domain cand.test\"}",
	  "Assigned to you: 応募", "was assigned to you",
	  "担当に割り当てられました: 応募", "担当者にあなたが割り当てられました", "未対応/alice" },
	{ "approval.request", "{" APPROVAL "}",
	  "Approval requested: 面接のご案内", "waits for your approval",
	  "承認依頼: 面接のご案内", "あなたの承認を待っています", "ats+reject.12@ats.corp.test" },
	{ "approval.reminder", "{" APPROVAL ", \"waiting\": \"3h\"}",
	  "Still waiting for your approval (3h)", "has waited 3h",
	  "承認待ちのままです（3h）", "3h の間", "atsmailctl approval approve 12" },
	{ "approval.rejected", "{\"held_id\": 12, \"subject\": \"面接\", \"recipients\": "
	  "\"taro@cand.test\", \"approver\": \"Boss\", \"reason\": \"日付が違います。\\n確認してください。\"}",
	  "Not approved, not sent: 面接", "was NOT sent",
	  "承認されず、送信されませんでした: 面接", "送信されず", "日付が違います。\r\n確認してください。" },
	{ "approval.approved", "{\"held_id\": 12, \"subject\": \"面接\", \"recipients\": "
	  "\"taro@cand.test\", \"approver\": \"Boss\"}",
	  "Approved and sent: 面接", "approved by Boss",
	  "承認され、送信されました: 面接", "Boss さんに承認され", "taro@cand.test" },
	{ "intake.duplicate", "{\"resume_id\": 42, \"resume_name\": \"山田 太郎\", "
	  "\"from\": \"taro@cand.test\", \"subject\": \"再応募\"}",
	  "Intake mail from an existing candidate: 山田 太郎", "no new record was made",
	  "既存の候補者から応募メールが届きました: 山田 太郎", "新しいレコードは作成されていません",
	  "taro@cand.test" },
	{ "intake.created", "{\"resume_id\": 43, \"resume_name\": \"Hanako\", "
	  "\"from\": \"hanako@cand.test\", \"subject\": \"Application\"}",
	  "New candidate from intake mail: Hanako", "made resume 43",
	  "応募メールから新しい候補者を登録しました: Hanako", "履歴書 43（Hanako）を作成しました",
	  "hanako@cand.test" },
	{ "bounce.hard", "{\"recipient\": \"gone@cand.test\", \"subject\": \"面接\", "
	  "\"reason\": \"550 5.1.1 user unknown\", \"sent_at\": \"2026-12-04 10:00\", "
	  "\"message_id\": \"<a.1@corp.test>\"}",
	  "Undeliverable: gone@cand.test", "could not be delivered",
	  "配信できませんでした: gone@cand.test", "配信できませんでした", "550 5.1.1 user unknown" },
};
#define N_SAMPLES (sizeof(samples) / sizeof(samples[0]))

static void
input(struct atsm_notify_in *in, const char *kind, enum atsm_lang lang, const char *params)
{
	memset(in, 0, sizeof(*in));
	in->kind = kind;
	in->lang = lang;
	in->params = params;
	in->from = FROM;
	in->to = "alice@corp.test";
	in->id = 5;
	in->now = 1796371200;     /* 2026-12-04 08:00:00 UTC, a Friday */
	in->unique = "a1b2c3";
	in->token = "TOKEN123";
}

/* The value of header name (unfolded), or NULL; malloc'd. */
static char *
header(const char *mail, const char *name)
{
	const char *end = strstr(mail, "\r\n\r\n"), *p = mail;
	size_t nl = strlen(name);
	char *v, *o;

	while (p != NULL && p < end) {
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *q = p + nl + 1, *e = q;

			while (e < end && !(e[0] == '\r' && e[1] == '\n' && e[2] != ' ' && e[2] != '\t'))
				e++;
			v = o = malloc((size_t)(e - q) + 1);
			for (; q < e; q++)
				if (*q != '\r' && *q != '\n')
					*o++ = *q;
			*o = '\0';
			while (*v == ' ')
				memmove(v, v + 1, strlen(v));
			return v;
		}
		p = strstr(p, "\r\n");
		if (p != NULL)
			p += 2;
	}
	return NULL;
}

static char *
subject(const char *mail)
{
	char *raw = header(mail, "Subject"), *d;

	ck_assert_ptr_nonnull(raw);
	d = atsm_rfc2047_decode_dup(raw, 64 * 1024);
	free(raw);
	ck_assert_ptr_nonnull(d);
	return d;
}

static char *
body(const char *mail)
{
	const char *p = strstr(mail, "\r\n\r\n");
	size_t n, i, k = 0;
	char *b64, *out;
	int len;

	ck_assert_ptr_nonnull(p);
	p += 4;
	n = strlen(p);
	b64 = malloc(n + 1);
	for (i = 0; i < n; i++) {
		ck_assert_msg(p[i] != '\r' || p[i + 1] == '\n', "a bare CR in the body");
		if (p[i] != '\r' && p[i] != '\n')
			b64[k++] = p[i];
	}
	out = malloc(k + 1);
	len = EVP_DecodeBlock((unsigned char *)out, (unsigned char *)b64, (int)k);
	ck_assert_int_ge(len, 0);
	while (k > 0 && b64[k - 1] == '=') {     /* EVP_DecodeBlock counts the padding */
		len--;
		k--;
	}
	out[len] = '\0';
	free(b64);
	return out;
}

static char *
compose_ok(const char *kind, enum atsm_lang lang, const char *params)
{
	struct atsm_notify_in in;
	struct atsm_buf out;
	struct atsm_err err;
	char *m;

	input(&in, kind, lang, params);
	atsm_buf_init(&out, ATSM_NOTIFY_MAIL_MAX);
	ck_assert_msg(atsm_notify_compose(&in, &out, &err) == 0, "%s: %s", kind, err.msg);
	m = atsm_buf_steal(&out);
	atsm_buf_free(&out);
	return m;
}

static const char *
compose_err(const char *kind, const char *params, const char *to, struct atsm_err *err)
{
	struct atsm_notify_in in;
	struct atsm_buf out;
	int rc;

	input(&in, kind, ATSM_LANG_EN, params);
	if (to != NULL)
		in.to = to;
	atsm_buf_init(&out, ATSM_NOTIFY_MAIL_MAX);
	rc = atsm_notify_compose(&in, &out, err);
	ck_assert_int_eq(rc, -1);
	ck_assert_uint_eq(out.len, 0);
	atsm_buf_free(&out);
	return err->msg;
}

START_TEST(every_kind_in_english)
{
	const struct sample *s = &samples[_i];
	char *m = compose_ok(s->kind, ATSM_LANG_EN, s->params), *sj = subject(m), *b = body(m);

	ck_assert_msg(strstr(sj, s->subject_en) != NULL, "%s: subject %s", s->kind, sj);
	ck_assert_msg(strstr(b, s->body_en) != NULL, "%s: body %s", s->kind, b);
	ck_assert_msg(strstr(b, s->value) != NULL, "%s: %s not in the body", s->kind, s->value);
	ck_assert_msg(strstr(b, "written automatically by atsmail") != NULL, "%s", s->kind);
	free(sj);
	free(b);
	free(m);
}
END_TEST

START_TEST(every_kind_in_japanese)
{
	const struct sample *s = &samples[_i];
	char *m = compose_ok(s->kind, ATSM_LANG_JA, s->params), *sj = subject(m), *b = body(m);
	char *lang = header(m, "Content-Language");

	ck_assert_msg(strstr(sj, s->subject_ja) != NULL, "%s: subject %s", s->kind, sj);
	ck_assert_msg(strstr(b, s->body_ja) != NULL, "%s: body %s", s->kind, b);
	ck_assert_msg(strstr(b, s->value) != NULL, "%s: %s not in the body", s->kind, s->value);
	ck_assert_msg(strstr(b, "atsmail が自動で送信しています") != NULL, "%s", s->kind);
	ck_assert_str_eq(lang, "ja");
	free(lang);
	free(sj);
	free(b);
	free(m);
}
END_TEST

START_TEST(headers_that_stop_loops)
{
	char *m = compose_ok("intake.duplicate", ATSM_LANG_EN, samples[5].params);
	char *v;

	ck_assert_str_eq(v = header(m, "Auto-Submitted"), "auto-generated");
	free(v);
	ck_assert_str_eq(v = header(m, "X-ATS-Notification"), "intake.duplicate; ref=TOKEN123");
	free(v);
	ck_assert_str_eq(v = header(m, "From"), FROM);
	free(v);
	ck_assert_str_eq(v = header(m, "To"), "<alice@corp.test>");
	free(v);
	ck_assert_str_eq(v = header(m, "Date"), "Fri, 04 Dec 2026 08:00:00 +0000");
	free(v);
	ck_assert_str_eq(v = header(m, "Message-ID"), "<atsmail-notify.5.a1b2c3@corp.test>");
	free(v);
	ck_assert_str_eq(v = header(m, "Content-Type"), "text/plain; charset=UTF-8");
	free(v);
	ck_assert_str_eq(v = header(m, "Content-Transfer-Encoding"), "base64");
	free(v);
	ck_assert_str_eq(v = header(m, "MIME-Version"), "1.0");
	free(v);
	ck_assert_ptr_null(header(m, "Reply-To"));
	/* a Japanese Subject is encoded words only: no raw 8-bit in the headers */
	ck_assert_msg(strstr(m, "=?UTF-8?B?") != NULL, "no encoded word");
	for (v = m; v < strstr(m, "\r\n\r\n"); v++)
		ck_assert_msg((unsigned char)*v < 0x80, "8-bit byte in the headers");
	free(m);
}
END_TEST

START_TEST(no_token_no_ref)
{
	struct atsm_notify_in in;
	struct atsm_buf out;
	struct atsm_err err;
	char *v;

	input(&in, "bounce.hard", ATSM_LANG_EN, samples[7].params);
	in.token = NULL;
	atsm_buf_init(&out, ATSM_NOTIFY_MAIL_MAX);
	ck_assert_int_eq(atsm_notify_compose(&in, &out, &err), 0);
	ck_assert_str_eq(v = header(atsm_buf_str(&out), "X-ATS-Notification"), "bounce.hard");
	free(v);
	atsm_buf_free(&out);
}
END_TEST

START_TEST(approval_replies_to_the_approve_address)
{
	char *m = compose_ok("approval.request", ATSM_LANG_EN, samples[1].params), *v;

	ck_assert_str_eq(v = header(m, "Reply-To"), "<ats+approve.12@ats.corp.test>");
	free(v);
	free(m);
}
END_TEST

START_TEST(missing_param_is_named)
{
	struct atsm_err err;

	ck_assert_str_eq(compose_err("intake.duplicate",
	    "{\"resume_id\": 1, \"from\": \"a@b.test\", \"subject\": \"x\"}", NULL, &err),
	    "notification intake.duplicate: param resume_name is missing");
	ck_assert_int_eq(err.cls, ATSM_ERR_INPUT);
	ck_assert_str_eq(compose_err("approval.reminder", "{" APPROVAL "}", NULL, &err),
	    "notification approval.reminder: param waiting is missing");
}
END_TEST

START_TEST(bad_input_is_refused)
{
	struct atsm_err err;

	ck_assert_str_eq(compose_err("intake.lost", "{}", NULL, &err),
	    "notification: unknown kind \"intake.lost\"");
	ck_assert_msg(strstr(compose_err("bounce.hard", "{\"recipient\": ", NULL, &err),
	    "notification bounce.hard: params are not JSON") != NULL, "%s", err.msg);
	ck_assert_str_eq(compose_err("bounce.hard", "[1, 2]", NULL, &err),
	    "notification bounce.hard: params are not a JSON object");
	ck_assert_str_eq(compose_err("approval.approved", "{\"held_id\": {\"x\": 1}, "
	    "\"subject\": \"s\", \"recipients\": \"r\", \"approver\": \"a\"}", NULL, &err),
	    "notification approval.approved: param held_id is not text, a number or a boolean");
	ck_assert_str_eq(compose_err("bounce.hard", samples[7].params,
	    "alice@corp.test\r\nBcc: eve@evil.test", &err),
	    "notification bounce.hard: the recipient \"alice@corp.test\r\nBcc: eve@evil.test\" "
	    "is not one bare address");
	ck_assert_msg(strstr(compose_err("bounce.hard", samples[7].params, "Alice <alice@corp.test>",
	    &err), "is not one bare address") != NULL, "%s", err.msg);
	ck_assert_str_eq(compose_err("approval.request", "{\"held_id\": 12, \"sender\": \"a\", "
	    "\"sender_name\": \"A\", \"recipients\": \"r\", \"subject\": \"s\", \"preview\": \"p\", "
	    "\"held_at\": \"t\", \"approve_addr\": \"x@y.test>\\r\\nBcc: <eve@evil.test\", "
	    "\"reject_addr\": \"z@y.test\"}", NULL, &err),
	    "notification approval.request: param approve_addr is not one bare address");
}
END_TEST

START_TEST(null_param_is_empty_text)
{
	char *m = compose_ok("shared.assigned", ATSM_LANG_EN, "{\"mailbox\": \"m@corp.test\", "
	    "\"folder\": \"f\", \"from\": \"a@b.test\", \"subject\": \"s\", \"received\": \"r\", "
	    "\"item\": 1, \"rule\": null}");
	char *b = body(m);

	ck_assert_msg(strstr(b, "  Rule:     \r\n") != NULL, "%s", b);
	free(b);
	free(m);
}
END_TEST

START_TEST(header_injection_in_params_is_neutralised)
{
	char *m = compose_ok("intake.duplicate", ATSM_LANG_EN, "{\"resume_id\": 1, "
	    "\"resume_name\": \"Taro\\r\\nBcc: eve@evil.test\", \"from\": \"a@b.test\\nX: y\", "
	    "\"subject\": \"Hi\\r\\n\\r\\nbody\"}");
	const char *end = strstr(m, "\r\n\r\n");
	char *sj = subject(m), *b = body(m);

	ck_assert_msg(strstr(m, "\r\nBcc:") == NULL || strstr(m, "\r\nBcc:") > end, "Bcc header");
	ck_assert_ptr_null(header(m, "Bcc"));
	ck_assert_ptr_null(header(m, "X"));
	ck_assert_str_eq(sj, "[atsmail] Intake mail from an existing candidate: Taro  Bcc: eve@evil.test");
	ck_assert_msg(strstr(b, "  From:    a@b.test X: y\r\n") != NULL, "%s", b);
	ck_assert_msg(strstr(b, "  Subject: Hi    body\r\n") != NULL, "%s", b);
	free(sj);
	free(b);
	free(m);
}
END_TEST

START_TEST(long_values_are_cut_at_a_character)
{
	char params[ATSM_NOTIFY_VALUE_MAX * 3 + 200], *p, *m, *b;
	size_t i;

	p = params + sprintf(params, "{\"recipient\": \"x@y.test\", \"sent_at\": \"t\", "
	    "\"message_id\": \"m\", \"reason\": \"r\", \"subject\": \"");
	for (i = 0; i < ATSM_NOTIFY_VALUE_MAX; i++)
		p += sprintf(p, "あ");   /* 3 bytes each: the cut falls inside one */
	sprintf(p, "\"}");
	m = compose_ok("bounce.hard", ATSM_LANG_EN, params);
	b = body(m);
	ck_assert_msg(strstr(b, "あ...\r\n") != NULL, "no cut mark");
	ck_assert_msg(strlen(b) < ATSM_NOTIFY_VALUE_MAX + 2048, "not cut: %zu", strlen(b));
	free(b);
	free(m);
}
END_TEST

START_TEST(kinds_listed)
{
	const char *const *k = atsm_notify_kinds();
	size_t n = 0;

	for (; k[n] != NULL; n++)
		ck_assert(atsm_notify_kind_known(k[n]));
	ck_assert_uint_eq(n, N_SAMPLES + 1);     /* and report.weekly: test-notify-report.c */
	ck_assert(!atsm_notify_kind_known("intake"));
	ck_assert(!atsm_notify_kind_known(NULL));
}
END_TEST


/* ---- a site's own text (notify/own-text.h) ---------------------------------- */

#define DUP_PARAMS "{\"resume_id\": 42, \"resume_name\": \"山田 太郎\", " \
	"\"from\": \"taro@cand.test\", \"subject\": \"再応募\"}"

/* compose kind in lang with the template (subject, body, missing) and the
 * extra tag user.name = "Alice A"; *fault gets the template's fault. */
static char *
compose_tpl(const char *kind, enum atsm_lang lang, const char *params, const char *tsubj,
    const char *tbody, enum atsm_tpl_missing missing, struct atsm_err *fault)
{
	struct atsm_notify_in in;
	struct atsm_notify_tpl t;
	struct atsm_tpl_fields extra;
	struct atsm_buf out;
	struct atsm_err err;
	char *m;

	atsm_tpl_fields_init(&extra);
	ck_assert_int_eq(atsm_tpl_fields_set(&extra, "user.name", "Alice A"), 0);
	ck_assert_int_eq(atsm_tpl_fields_set(&extra, "date", "2026-12-04"), 0);
	memset(&t, 0, sizeof(t));
	t.code = "notify-test";
	t.subject = tsubj;
	t.body = tbody;
	t.missing = missing;
	t.extra = &extra;
	input(&in, kind, lang, params);
	in.tpl = &t;
	atsm_buf_init(&out, ATSM_NOTIFY_MAIL_MAX);
	ck_assert_msg(atsm_notify_compose_tpl(&in, &out, fault, &err) == 0, "%s: %s", kind,
	    err.msg);
	m = atsm_buf_steal(&out);
	atsm_buf_free(&out);
	atsm_tpl_fields_free(&extra);
	return m;
}

START_TEST(own_text_codes)
{
	const char *const *k;
	const char *kind;
	char code[ATSM_TPL_CODE_MAX], lang[3];
	struct atsm_err err;

	ck_assert_int_eq(atsm_notify_tpl_code("intake.duplicate", NULL, code, sizeof(code)), 0);
	ck_assert_str_eq(code, "notify-intake-duplicate");
	ck_assert_int_eq(atsm_notify_tpl_code("approval.reminder", "ja", code, sizeof(code)), 0);
	ck_assert_str_eq(code, "notify-approval-reminder-ja");
	ck_assert_int_eq(atsm_notify_tpl_code("intake", NULL, code, sizeof(code)), -1);
	ck_assert_int_eq(atsm_notify_tpl_code("intake.duplicate", NULL, code, 10), -1);
	/* every kind in every form: a valid template code, read back */
	for (k = atsm_notify_kinds(); *k != NULL; k++) {
		ck_assert_int_eq(atsm_notify_tpl_code(*k, "en", code, sizeof(code)), 0);
		ck_assert(atsm_template_code_valid(code));
		ck_assert(atsm_notify_tpl_code_is(code));
		ck_assert_int_eq(atsm_notify_tpl_kind(code, &kind, lang, &err), 0);
		ck_assert_str_eq(kind, *k);
		ck_assert_str_eq(lang, "en");
	}
	ck_assert_int_eq(atsm_notify_tpl_kind("notify-intake-duplicate", &kind, lang, &err), 0);
	ck_assert_str_eq(kind, "intake.duplicate");
	ck_assert_str_eq(lang, "");
	ck_assert_int_eq(atsm_notify_tpl_kind("notify-intake-duplicate-fr", &kind, lang, &err), -1);
	ck_assert_msg(strstr(err.msg, "notify-intake-duplicate-fr names no kind") != NULL, "%s",
	    err.msg);
	ck_assert_int_eq(atsm_notify_tpl_kind("notify-intake", &kind, lang, &err), -1);
	ck_assert(!atsm_notify_tpl_code_is("interview-invite"));
	ck_assert(!atsm_notify_tpl_code_is("notify"));
}
END_TEST

START_TEST(own_text_tags)
{
	struct atsm_err err;

	ck_assert(atsm_tpl_tag_known("notify.resume_name"));
	ck_assert(!atsm_tpl_tag_known("notify."));
	ck_assert(!atsm_tpl_tag_known("notify.Resume"));
	ck_assert_int_eq(atsm_notify_tpl_check("intake.duplicate", "{{notify.resume_name}} "
	    "{{ notify.from }} {{user.name}} {{date.ja}} {{notify.subject|-}}", &err), 0);
	ck_assert_int_eq(atsm_notify_tpl_check("intake.duplicate", "{{notify.held_id}}", &err), -1);
	ck_assert_msg(strstr(err.msg, "{{notify.held_id}} is no param of the notification "
	    "intake.duplicate (its params: notify.resume_id, notify.resume_name, notify.from, "
	    "notify.subject)") != NULL, "%s", err.msg);
	ck_assert_int_eq(atsm_notify_tpl_check("intake.duplicate", "{{resume.name}}", &err), -1);
	ck_assert_msg(strstr(err.msg, "{{resume.name}} has no value in a notification") != NULL,
	    "%s", err.msg);
	ck_assert_int_eq(atsm_notify_tpl_check("intake.duplicate", "{{notify.nmae}}", &err), -1);
	ck_assert_int_eq(atsm_notify_tpl_check("intake.duplicate", "{{notify.from", &err), -1);
	ck_assert_int_eq(atsm_notify_tpl_check("nosuch.kind", "x", &err), -1);
}
END_TEST

START_TEST(own_text_is_merged)
{
	struct atsm_err fault;
	char *m = compose_tpl("intake.duplicate", ATSM_LANG_JA, DUP_PARAMS,
	    "【重複応募】{{notify.resume_name}} 様（{{notify.resume_id}}）",
	    "{{user.name}} さん\n{{notify.from}} から再応募がありました。\n件名: {{notify.subject}}\n"
	    "日付: {{date}} {{notify.nosuch|なし}}\n", ATSM_TPL_MISSING_REFUSE, &fault);
	char *sj = subject(m), *b = body(m), *cl = header(m, "Content-Language");

	ck_assert_int_eq(fault.cls, ATSM_ERR_NONE);
	ck_assert_str_eq(sj, "【重複応募】山田 太郎 様（42）");
	ck_assert_str_eq(b, "Alice A さん\r\ntaro@cand.test から再応募がありました。\r\n"
	    "件名: 再応募\r\n日付: 2026-12-04 なし\r\n");
	ck_assert_str_eq(cl, "ja");
	/* the headers are atsmail's, whatever the text */
	ck_assert_msg(strstr(m, "\r\nX-ATS-Notification: intake.duplicate; ref=TOKEN123\r\n") !=
	    NULL, "marker");
	ck_assert_msg(strstr(m, "\r\nAuto-Submitted: auto-generated\r\n") != NULL, "auto");
	free(cl);
	free(sj);
	free(b);
	free(m);
}
END_TEST

START_TEST(own_text_values_add_no_header)
{
	struct atsm_err fault;
	char *m = compose_tpl("intake.duplicate", ATSM_LANG_EN, "{\"resume_id\": 1, "
	    "\"resume_name\": \"Taro\\r\\nBcc: eve@evil.test\", \"from\": \"a@b.test\\nX: y\", "
	    "\"subject\": \"Hi\\r\\n\\r\\nbody\"}",
	    "{{notify.resume_name}} {{notify.subject}}\r\nReply-To: eve@evil.test",
	    "{{notify.from}}|{{notify.subject}}", ATSM_TPL_MISSING_REFUSE, &fault);
	const char *end = strstr(m, "\r\n\r\n");
	char *sj = subject(m), *b = body(m);

	ck_assert_int_eq(fault.cls, ATSM_ERR_NONE);
	ck_assert_ptr_null(header(m, "Bcc"));
	ck_assert_ptr_null(header(m, "X"));
	ck_assert_ptr_null(header(m, "Reply-To"));
	ck_assert_msg(strstr(m, "\r\nBcc:") == NULL || strstr(m, "\r\nBcc:") > end, "Bcc header");
	ck_assert_str_eq(sj, "Taro  Bcc: eve@evil.test Hi    body  Reply-To: eve@evil.test");
	ck_assert_str_eq(b, "a@b.test X: y|Hi    body");
	free(sj);
	free(b);
	free(m);
}
END_TEST

START_TEST(own_text_preview_keeps_lines_in_the_body_only)
{
	struct atsm_err fault;
	char *m = compose_tpl("approval.request", ATSM_LANG_JA, "{" APPROVAL "}",
	    "承認: {{notify.preview}}", "---\n{{notify.preview}}\n---\n{{notify.subject}}",
	    ATSM_TPL_MISSING_REFUSE, &fault);
	char *sj = subject(m), *b = body(m), *rt = header(m, "Reply-To");

	ck_assert_int_eq(fault.cls, ATSM_ERR_NONE);
	ck_assert_str_eq(sj, "承認: 山田様  面接の日程です。");
	ck_assert_str_eq(b, "---\r\n山田様\r\n\r\n面接の日程です。\r\n---\r\n面接のご案内");
	ck_assert_str_eq(rt, "<ats+approve.12@ats.corp.test>");
	free(rt);
	free(sj);
	free(b);
	free(m);
}
END_TEST

START_TEST(own_text_refused_sends_the_built_in_text)
{
	struct atsm_err fault;
	/* resume_name null: no value, and the template refuses a missing one */
	char *m = compose_tpl("intake.duplicate", ATSM_LANG_JA, "{\"resume_id\": 42, "
	    "\"resume_name\": null, \"from\": \"taro@cand.test\", \"subject\": \"再応募\"}",
	    "{{notify.resume_name}} 様", "本文", ATSM_TPL_MISSING_REFUSE, &fault);
	char *sj = subject(m), *b = body(m);

	ck_assert_int_ne(fault.cls, ATSM_ERR_NONE);
	ck_assert_msg(strstr(fault.msg, "template notify-test: ") == fault.msg, "%s", fault.msg);
	ck_assert_msg(strstr(fault.msg, "{{notify.resume_name}} has no value for notification "
	    "intake.duplicate") != NULL, "%s", fault.msg);
	ck_assert_str_eq(sj, "[atsmail] 既存の候補者から応募メールが届きました: ");
	ck_assert_msg(strstr(b, "新しいレコードは作成されていません") != NULL, "%s", b);
	free(sj);
	free(b);
	free(m);
	/* the same under "empty": the template is used, the tag left out */
	m = compose_tpl("intake.duplicate", ATSM_LANG_JA, "{\"resume_id\": 42, "
	    "\"resume_name\": null, \"from\": \"taro@cand.test\", \"subject\": \"再応募\"}",
	    "{{notify.resume_name}} 様", "本文", ATSM_TPL_MISSING_EMPTY, &fault);
	sj = subject(m);
	ck_assert_int_eq(fault.cls, ATSM_ERR_NONE);
	ck_assert_str_eq(sj, " 様");
	free(sj);
	free(m);
	/* a syntax fault: the built-in text, the fault said */
	m = compose_tpl("intake.duplicate", ATSM_LANG_EN, DUP_PARAMS, "{{notify.resume_name",
	    "x", ATSM_TPL_MISSING_REFUSE, &fault);
	sj = subject(m);
	ck_assert_int_ne(fault.cls, ATSM_ERR_NONE);
	ck_assert_str_eq(sj, "[atsmail] Intake mail from an existing candidate: 山田 太郎");
	free(sj);
	free(m);
}
END_TEST

START_TEST(own_text_does_not_hide_a_bad_notification)
{
	struct atsm_notify_in in;
	struct atsm_notify_tpl t;
	struct atsm_buf out;
	struct atsm_err err, fault;

	/* a param the kind needs is missing: the notification fails as
	 * without a template, whatever the template would have merged */
	memset(&t, 0, sizeof(t));
	t.code = "notify-test";
	t.subject = "s";
	t.body = "b";
	input(&in, "intake.duplicate", ATSM_LANG_EN, "{\"resume_id\": 1}");
	in.tpl = &t;
	atsm_buf_init(&out, ATSM_NOTIFY_MAIL_MAX);
	ck_assert_int_eq(atsm_notify_compose_tpl(&in, &out, &fault, &err), -1);
	ck_assert_msg(strstr(err.msg, "param resume_name is missing") != NULL, "%s", err.msg);
	atsm_buf_free(&out);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("notify-compose");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, every_kind_in_english, 0, N_SAMPLES);
	tcase_add_loop_test(tc, every_kind_in_japanese, 0, N_SAMPLES);
	tcase_add_test(tc, headers_that_stop_loops);
	tcase_add_test(tc, no_token_no_ref);
	tcase_add_test(tc, approval_replies_to_the_approve_address);
	tcase_add_test(tc, missing_param_is_named);
	tcase_add_test(tc, bad_input_is_refused);
	tcase_add_test(tc, null_param_is_empty_text);
	tcase_add_test(tc, header_injection_in_params_is_neutralised);
	tcase_add_test(tc, long_values_are_cut_at_a_character);
	tcase_add_test(tc, kinds_listed);
	suite_add_tcase(s, tc);
	tc = tcase_create("own-text");
	tcase_add_test(tc, own_text_codes);
	tcase_add_test(tc, own_text_tags);
	tcase_add_test(tc, own_text_is_merged);
	tcase_add_test(tc, own_text_values_add_no_header);
	tcase_add_test(tc, own_text_preview_keeps_lines_in_the_body_only);
	tcase_add_test(tc, own_text_refused_sends_the_built_in_text);
	tcase_add_test(tc, own_text_does_not_hide_a_bad_notification);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()

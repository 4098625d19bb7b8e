/* outbound/refusal.c -- the sentences of a refusal in each language (see
 * outbound/refusal.h): one table, a row per kind, what is wrong and how to
 * fix it in English and Japanese.
 *
 * A sentence is a template: {a} the command address, {0} and {1} the
 * kind's details, {K} the record kind of {0} in the language ("resume" ->
 * 履歴書), {l} the command local part, {d} ats_domain.  The English SMTP
 * sentence is "what; fix": what starts with the problem in a few words
 * before its first colon, because a client may show only the first 80
 * columns of "550 5.7.1 <sentence>" (NeoMutt prints "SMTP session failed:
 * 550 5.7.1 " before it).
 */
#include "outbound/refusal.h"

#include <stdio.h>
#include <string.h>

#define COMMANDS_EN "phase.<code>, job.<id>[.<id>...], private, share, resume.<id>, " \
	"contact.<id>, template.<code>, bulk, bulk.<list>, force"
#define COMMANDS_JA "phase.<コード>, job.<ID>[.<ID>...], private, share, resume.<ID>, " \
	"contact.<ID>, template.<コード>, bulk, bulk.<リスト名>, force"
#define CODE_RULE_EN "use 1 to 32 letters, digits, '_' or '-', starting with a letter or digit"
#define CODE_RULE_JA "英数字・「_」・「-」で1〜32文字、先頭は英数字にしてください"
#define ID_RULE_EN "write a positive number without leading zeros, at most 18 digits"
#define ID_RULE_JA "先頭が0でない、18桁以内の正の数を書いてください"
#define IN_PARTS_EN "send it in parts"
#define IN_PARTS_JA "メールを分けて送ってください"

struct row {
	const char *name;
	const char *what[2];            /* en, ja */
	const char *fix[2];
};

static const struct row rows[ATSM_REFUSAL_KIND_COUNT] = {
	[ATSM_REFUSAL_NONE] = { "none", { "", "" }, { "", "" } },
	[ATSM_REFUSAL_OTHER] = { "other", { "", "" }, { "", "" } },
	[ATSM_REFUSAL_NOT_COMMAND] = { "not-command",
	    { "not a command address: {a}; {d} is only for commands",
	      "コマンドのアドレスではありません: {a}（{d} はコマンド専用のドメインです）" },
	    { "write {l}+<command>@{d} with one of: " COMMANDS_EN,
	      "{l}+<コマンド>@{d} の形で、次のどれかを書いてください: " COMMANDS_JA } },
	[ATSM_REFUSAL_NO_COMMAND] = { "no-command",
	    { "no command given: {a}",
	      "コマンドが書かれていません: {a}" },
	    { "write {l}+<command>@{d} with one of: " COMMANDS_EN,
	      "{l}+<コマンド>@{d} の形で、次のどれかを書いてください: " COMMANDS_JA } },
	[ATSM_REFUSAL_TOO_LONG] = { "too-long",
	    { "command too long: {a} has over {0} characters",
	      "コマンドが長すぎます: {a} は {0} 文字を超えています" },
	    { "split it over several addresses",
	      "複数のアドレスに分けてください" } },
	[ATSM_REFUSAL_UNKNOWN_COMMAND] = { "unknown-command",
	    { "unknown command \"{0}\": {a}",
	      "不明なコマンド「{0}」: {a}" },
	    { "known commands: " COMMANDS_EN,
	      "使えるコマンド: " COMMANDS_JA } },
	[ATSM_REFUSAL_PHASE_MISSING] = { "phase-missing",
	    { "phase code missing: {a}",
	      "フェーズのコードがありません: {a}" },
	    { "write {l}+phase.<code>@{d} with 1 to 32 letters, digits, '_' or '-'",
	      "{l}+phase.<コード>@{d} の形で書いてください（英数字・「_」・「-」で1〜32文字）" } },
	[ATSM_REFUSAL_PHASE_INVALID] = { "phase-invalid",
	    { "invalid phase code \"{0}\": {a}",
	      "フェーズのコード「{0}」が正しくありません: {a}" },
	    { "use 1 to 32 letters, digits, '_' or '-', starting with a letter or digit",
	      "英数字・「_」・「-」で1〜32文字、先頭は英数字にしてください" } },
	[ATSM_REFUSAL_JOB_MISSING] = { "job-missing",
	    { "job id missing: {a}",
	      "求人IDがありません: {a}" },
	    { "write {l}+job.<id>@{d} with the job's number in the ATS",
	      "{l}+job.<ID>@{d} の形で、ATSの求人番号を書いてください" } },
	[ATSM_REFUSAL_JOB_INVALID] = { "job-invalid",
	    { "invalid job id \"{0}\": {a}",
	      "求人ID「{0}」が正しくありません: {a}" },
	    { ID_RULE_EN, ID_RULE_JA } },
	[ATSM_REFUSAL_TOO_MANY_JOBS] = { "too-many-jobs",
	    { "too many jobs: {a} makes {0}, at most {1} per mail",
	      "求人が多すぎます: {a} で {0} 件になります（1通につき {1} 件まで）" },
	    { IN_PARTS_EN, IN_PARTS_JA } },
	[ATSM_REFUSAL_ID_MISSING] = { "id-missing",
	    { "{0} id missing: {a}",
	      "{K}のIDがありません: {a}" },
	    { "write {l}+{0}.<id>@{d} with the {0}'s number in the ATS",
	      "{l}+{0}.<ID>@{d} の形で、ATSの{K}番号を書いてください" } },
	[ATSM_REFUSAL_ID_INVALID] = { "id-invalid",
	    { "invalid {0} id \"{1}\": {a}",
	      "{K}のID「{1}」が正しくありません: {a}" },
	    { ID_RULE_EN, ID_RULE_JA } },
	[ATSM_REFUSAL_TOO_MANY_IDS] = { "too-many-ids",
	    { "too many {0}s: {a} passes {1} per mail",
	      "{K}が多すぎます: {a}（1通につき {1} 件まで）" },
	    { IN_PARTS_EN, IN_PARTS_JA } },
	[ATSM_REFUSAL_NO_RECORD] = { "no-record",
	    { "no {0} {1}: {a} names a {0} that does not exist",
	      "{K} {1} は存在しません: {a}" },
	    { "check the id in the ATS",
	      "ATSで{K}のIDを確認してください" } },
	[ATSM_REFUSAL_NO_JOB] = { "no-job",
	    { "no job {0}: {a} names a job that does not exist",
	      "求人 {0} は存在しません: {a}" },
	    { "check the id in the ATS",
	      "ATSで求人のIDを確認してください" } },
	[ATSM_REFUSAL_NO_PHASE] = { "no-phase",
	    { "no phase \"{0}\": {a} names no active phase of resumes, contacts or "
	      "selection processes",
	      "フェーズ「{0}」はありません: {a} は履歴書・連絡先・選考プロセスのどの有効な"
	      "フェーズでもありません" },
	    { "check the phase code in the ATS",
	      "ATSでフェーズのコードを確認してください" } },
	[ATSM_REFUSAL_NOT_USER] = { "not-user",
	    { "not a recruiter: {0} is no registered user and may not use {a}",
	      "採用担当者ではありません: {0} は登録ユーザーではないため {a} は使えません" },
	    { "send it from your recruiter account, or remove the {l}+ addresses",
	      "採用担当者のアカウントから送るか、{l}+ のアドレスを外してください" } },
	[ATSM_REFUSAL_LOCAL_SENDER] = { "local-sender",
	    { "not a recruiter: {a} in mail submitted on the server by the local "
	      "account {0}, which is no recruiter's address",
	      "採用担当者ではありません: サーバー上のローカルアカウント {0} が出したメールに "
	      "{a} があります" },
	    { "{l}+ commands are only for recruiters: send it through the submission "
	      "service with your recruiter login",
	      "{l}+ コマンドは採用担当者専用です。採用担当者のログインでサブミッション"
	      "サービスから送ってください" } },
	[ATSM_REFUSAL_LOCAL_UNTRUSTED] = { "local-untrusted",
	    { "commands refused from sendmail: {a} in mail submitted on the server, "
	      "whose sender {0} is not verified (non_smtp_senders = untrusted)",
	      "sendmail からのコマンドは受け付けません: サーバー上で出されたメールの {a}"
	      "（送信者 {0} は確認できません。non_smtp_senders = untrusted）" },
	    { "send it through the submission service",
	      "サブミッションサービスから送ってください" } },
	[ATSM_REFUSAL_PHASE_CONFLICT] = { "phase-conflict",
	    { "two phases in one mail: {a} says \"{0}\", another address \"{1}\"",
	      "1通にフェーズが2つあります: {a} は「{0}」、別のアドレスは「{1}」です" },
	    { "give one phase per mail",
	      "フェーズは1通につき1つにしてください" } },
	[ATSM_REFUSAL_SHARE_CONFLICT] = { "share-conflict",
	    { "both \"{0}\" and \"{1}\" in one mail: {a}",
	      "「{0}」と「{1}」が同じメールにあります: {a}" },
	    { "give only one of them",
	      "どちらか一方だけにしてください" } },
	[ATSM_REFUSAL_NOT_RECORD_PHASE] = { "not-record-phase",
	    { "no resume or contact phase \"{0}\": {a} fits none of the records "
	      "the mail is linked to",
	      "履歴書・連絡先のフェーズ「{0}」はありません: {a} はこのメールの"
	      "どのレコードにも当てはまりません" },
	    { "check the phase code in the ATS",
	      "ATSでフェーズのコードを確認してください" } },
	[ATSM_REFUSAL_NOT_PROCESS_PHASE] = { "not-process-phase",
	    { "no selection-process phase \"{0}\": {a} with {l}+job sets the "
	      "process's phase",
	      "選考プロセスのフェーズ「{0}」はありません: {l}+job と一緒の {a} は"
	      "選考プロセスのフェーズを設定します" },
	    { "use a selection-process phase code, or set the resume's phase in "
	      "another mail",
	      "選考プロセスのフェーズのコードを使うか、履歴書のフェーズは別のメールで"
	      "設定してください" } },
	[ATSM_REFUSAL_PHASE_NEEDS_JOB] = { "phase-needs-job",
	    { "phase \"{0}\" needs a job: {a} is a selection-process phase, and the "
	      "mail names no job and replies in no process's thread",
	      "フェーズ「{0}」には求人の指定が必要です: {a} は選考プロセスのフェーズですが、"
	      "このメールには求人の指定がなく、選考のスレッドへの返信でもありません" },
	    { "add {l}+job.<id>@{d}",
	      "{l}+job.<ID>@{d} を宛先に追加してください" } },
	[ATSM_REFUSAL_AMBIGUOUS] = { "ambiguous",
	    { "ambiguous address: {0} belongs to several records, so {a} cannot "
	      "choose",
	      "宛先があいまいです: {0} は複数のレコードのアドレスのため、{a} の対象を"
	      "決められません" },
	    { "name the one meant with {l}+resume.<id>@{d} or {l}+contact.<id>@{d}",
	      "{l}+resume.<ID>@{d} または {l}+contact.<ID>@{d} で対象を指定してください" } },
	[ATSM_REFUSAL_NOTHING_TO_PHASE] = { "nothing-to-phase",
	    { "no record to set phase \"{0}\": {a}, but the mail is linked to no "
	      "resume or contact",
	      "フェーズ「{0}」を設定するレコードがありません: {a} がありますが、"
	      "このメールは履歴書にも連絡先にも紐づいていません" },
	    { "add the record's address or {l}+resume.<id>@{d}",
	      "宛先にレコードのアドレスを入れるか、{l}+resume.<ID>@{d} を追加してください" } },
	[ATSM_REFUSAL_NO_CANDIDATE] = { "no-candidate",
	    { "no candidate for job {0}: {a} needs one to make a selection process",
	      "求人 {0} の候補者がいません: {a} で選考プロセスを作るには候補者が必要です" },
	    { "put the candidate in To, Cc or Bcc, or add {l}+resume.<id>@{d}",
	      "候補者を To・Cc・Bcc に入れるか、{l}+resume.<ID>@{d} を追加してください" } },
	[ATSM_REFUSAL_TOO_MANY_PROCESSES] = { "too-many-processes",
	    { "too many selection processes: {a} would make {0}, at most {1} per mail",
	      "選考プロセスが多すぎます: {a} で {0} 件になります（1通につき {1} 件まで）" },
	    { IN_PARTS_EN, IN_PARTS_JA } },
	[ATSM_REFUSAL_TOO_MANY_RECORDS] = { "too-many-records",
	    { "too many records: the mail is linked to more than {0} resumes and "
	      "contacts",
	      "レコードが多すぎます: このメールは {0} 件を超える履歴書・連絡先に"
	      "紐づきます" },
	    { IN_PARTS_EN, IN_PARTS_JA } },
	[ATSM_REFUSAL_TOO_MANY_ADDRESSES] = { "too-many-addresses",
	    { "too many recipients: more than {0} addresses (address_max_count)",
	      "宛先が多すぎます: {0} 件を超えています（address_max_count）" },
	    { IN_PARTS_EN, IN_PARTS_JA } },
	[ATSM_REFUSAL_NO_RECORD_LINKED] = { "no-record-linked",
	    { "no record linked: {a} given, but the mail is linked to no resume or "
	      "contact",
	      "紐づくレコードがありません: {a} がありますが、このメールは履歴書にも"
	      "連絡先にも紐づいていません" },
	    { "add the record's address or {l}+resume.<id>@{d}",
	      "宛先にレコードのアドレスを入れるか、{l}+resume.<ID>@{d} を追加してください" } },
	[ATSM_REFUSAL_GUARD] = { "guard",
	    { "candidates would see each other: {0} candidates' addresses in To/Cc "
	      "({1})",
	      "候補者どうしにアドレスが見えてしまいます: To/Cc に候補者 {0} 人（{1}）" },
	    { "send one mail per candidate, or put the candidates in Bcc",
	      "候補者ごとに1通ずつ送るか、候補者を Bcc に入れてください" } },
	[ATSM_REFUSAL_TEMPLATE_MISSING] = { "template-missing",
	    { "template code missing: {a}",
	      "テンプレートのコードがありません: {a}" },
	    { "write {l}+template.<code>@{d} with the template's code",
	      "{l}+template.<コード>@{d} の形で、テンプレートのコードを書いてください" } },
	[ATSM_REFUSAL_TEMPLATE_INVALID] = { "template-invalid",
	    { "invalid template code \"{0}\": {a}",
	      "テンプレートのコード「{0}」が正しくありません: {a}" },
	    { CODE_RULE_EN, CODE_RULE_JA } },
	[ATSM_REFUSAL_TEMPLATE_CONFLICT] = { "template-conflict",
	    { "two templates in one mail: {a} says \"{0}\", another address \"{1}\"",
	      "1通にテンプレートが2つあります: {a} は「{0}」、別のアドレスは「{1}」です" },
	    { "give one template per mail",
	      "テンプレートは1通につき1つにしてください" } },
	[ATSM_REFUSAL_LIST_MISSING] = { "list-missing",
	    { "list name missing: {a}",
	      "リスト名がありません: {a}" },
	    { "write {l}+bulk.<list>@{d} with the name of a recipient list, or {l}+bulk@{d} "
	      "alone",
	      "{l}+bulk.<リスト名>@{d} の形で宛先リストの名前を書くか、{l}+bulk@{d} だけに"
	      "してください" } },
	[ATSM_REFUSAL_LIST_INVALID] = { "list-invalid",
	    { "invalid list name \"{0}\": {a}",
	      "リスト名「{0}」が正しくありません: {a}" },
	    { CODE_RULE_EN, CODE_RULE_JA } },
	[ATSM_REFUSAL_LIST_CONFLICT] = { "list-conflict",
	    { "two lists in one mail: {a} says \"{0}\", another address \"{1}\"",
	      "1通にリストが2つあります: {a} は「{0}」、別のアドレスは「{1}」です" },
	    { "name one list per mail",
	      "リストは1通につき1つにしてください" } },
	[ATSM_REFUSAL_BULK_TOO_MANY] = { "bulk-too-many",
	    { "too many recipients for one bulk mail: {a} has {0} recipients; at most {1} "
	      "(bulk_max_recipients)",
	      "一括送信の宛先が多すぎます: {a} の宛先は {0} 件です（1回 {1} 件まで。"
	      "bulk_max_recipients）" },
	    { IN_PARTS_EN, IN_PARTS_JA } },
	[ATSM_REFUSAL_BULK_NO_MATCH] = { "bulk-no-match",
	    { "no recipient matches a record: none of the {0} recipients of {a} is the "
	      "address of a resume or contact",
	      "レコードに一致する宛先がありません: {a} の宛先 {0} 件のどれも履歴書・連絡先の"
	      "アドレスではありません" },
	    { "check the addresses, or register the records in the ATS first",
	      "アドレスを確認するか、先にATSにレコードを登録してください" } },
	[ATSM_REFUSAL_BULK_EMPTY] = { "bulk-empty",
	    { "no recipients: {a} was given, but the mail names nobody to send to",
	      "宛先がありません: {a} がありますが、送る相手が指定されていません" },
	    { "put the recipients in Bcc, name a list with {l}+bulk.<list>@{d}, or attach a "
	      "CSV with an email column",
	      "宛先を Bcc に入れるか、{l}+bulk.<リスト名>@{d} でリストを指定するか、email 列の"
	      "ある CSV を添付してください" } },
	[ATSM_REFUSAL_TEMPLATE_SEVERAL] = { "template-several",
	    { "a template mail is merged for one record: {a}, but the recipients name {0} "
	      "records",
	      "テンプレートのメールは1件のレコードについて差し込みます: {a} がありますが、"
	      "宛先は {0} 件のレコードです" },
	    { "name one, or add {l}+bulk@{d} to send one mail each",
	      "宛先を1件にするか、{l}+bulk@{d} を追加して1件ずつ送ってください" } },
	[ATSM_REFUSAL_BULK_LOOP] = { "bulk-loop",
	    { "a bulk job's mail cannot start another: {a} in a mail the bulk runner sent",
	      "一括送信のメールから一括送信はできません: 一括送信で送られたメールに {a} が"
	      "あります" },
	    { "remove {a} from the template or the mail",
	      "テンプレートまたはメールから {a} を外してください" } },
	[ATSM_REFUSAL_NO_TEMPLATE] = { "no-template",
	    { "no template \"{0}\": {a} names no template you may use",
	      "テンプレート「{0}」はありません: {a} はあなたが使えるテンプレートではありません" },
	    { "check the code in the \"ATS Templates\" folder or with atsmailctl template list",
	      "「ATS Templates」フォルダーか atsmailctl template list でコードを確認してください" } },
	[ATSM_REFUSAL_NO_LIST] = { "no-list",
	    { "no recipient list \"{0}\": {a} names no list you may use",
	      "宛先リスト「{0}」はありません: {a} はあなたが使えるリストではありません" },
	    { "check the list's name in the ATS",
	      "ATSでリストの名前を確認してください" } },
	[ATSM_REFUSAL_TAG_MISSING] = { "tag-missing",
	    { "merge tag without a value: {{{0}}} for {1}, in the mail of {a}",
	      "差し込みタグの値がありません: {1} の {{{0}}}（{a} のメール）" },
	    { "fill it in the ATS, give the tag a fallback ({{{0}|text}}), or leave that "
	      "recipient out",
	      "ATSで値を入力するか、タグに代わりの文字（{{{0}|文字}}）を書くか、その宛先を"
	      "外してください" } },
	[ATSM_REFUSAL_TAG_UNKNOWN] = { "tag-unknown",
	    { "unknown merge tag {{{0}}}: {a}",
	      "不明な差し込みタグ {{{0}}}: {a}" },
	    { "check its spelling; the tags: docs/templates.md",
	      "綴りを確認してください（タグの一覧: docs/templates.md）" } },
	[ATSM_REFUSAL_TAG_SYNTAX] = { "tag-syntax",
	    { "a merge tag cannot be read: {a}: {0}",
	      "差し込みタグを読めません: {a}: {0}" },
	    { "write each tag as {{name}}",
	      "タグは {{名前}} の形で書いてください" } },
	[ATSM_REFUSAL_CSV_BAD] = { "csv-bad",
	    { "the attached CSV cannot be used: {a}: {0}",
	      "添付の CSV が使えません: {a}: {0}" },
	    { "attach a CSV (UTF-8 or Shift_JIS) with a header line that has an email or "
	      "address column",
	      "email または address の列がある見出し行付きの CSV（UTF-8 か Shift_JIS）を"
	      "添付してください" } },
	[ATSM_REFUSAL_TAKE_TOO_LARGE] = { "take-too-large",
	    { "mail too large for a bulk job: over {0} bytes (explain_attach_max), with {a}",
	      "一括送信にはメールが大きすぎます: {a} のメールが {0} バイトを超えています"
	      "（explain_attach_max）" },
	    { "make the attachments smaller",
	      "添付ファイルを小さくしてください" } },
	[ATSM_REFUSAL_APPROVAL_INVALID] = { "approval-invalid",
	    { "held mail id missing or not valid: {a}",
	      "保留中のメールの ID がないか、正しくありません: {a}" },
	    { "write {l}+{0}.<id>@{d} with the id the approval request gives",
	      "承認依頼のメールにある ID で {l}+{0}.<ID>@{d} と書いてください" } },
	[ATSM_REFUSAL_APPROVAL_CONFLICT] = { "approval-conflict",
	    { "two decisions in one mail: \"{0}\" contradicts \"{1}\" ({a})",
	      "1通に2つの決定があります: 「{0}」と「{1}」が矛盾しています（{a}）" },
	    { "decide on one held mail per mail",
	      "1通のメールでは保留中のメール1件について決めてください" } },
	[ATSM_REFUSAL_APPROVAL_MIXED] = { "approval-mixed",
	    { "a decision on held mail is sent alone: {a} has other recipients or commands "
	      "beside it",
	      "保留中のメールの承認・却下は単独で送ります: {a} のほかに宛先またはコマンドがあります" },
	    { "send {a} alone, in a mail of its own",
	      "{a} だけを宛先にして、別のメールで送ってください" } },
	[ATSM_REFUSAL_APPROVAL_NO_LOGIN] = { "approval-no-login",
	    { "not sent by a logged-in approver: {a}; a decision on held mail needs a login",
	      "ログインした承認者から送られていません: {a}（保留中のメールの承認・却下にはログインが必要です）" },
	    { "send it from your mail client, logged in to the mail server",
	      "メールサーバーにログインしたメールソフトから送ってください" } },
	[ATSM_REFUSAL_NOT_HELD] = { "not-held",
	    { "no mail {0} waits for approval: {a}",
	      "承認待ちのメール {0} はありません: {a}" },
	    { "check the id in the approval request or with atsmailctl approval list",
	      "承認依頼のメールか atsmailctl approval list で ID を確認してください" } },
	[ATSM_REFUSAL_DECIDED] = { "decided",
	    { "decided already: {a}; held mail {0} was {1}",
	      "決定済みです: {a}（保留中のメール {0} は {1}）" },
	    { "nothing is left to do", "対応は不要です" } },
	[ATSM_REFUSAL_NOT_APPROVER] = { "not-approver",
	    { "not an approver of its sender: {a} decides on held mail {0} of {1}",
	      "送信者の承認者ではありません: {a} は {1} の保留中のメール {0} についての決定です" },
	    { "ask an approver of {1} (atsmailctl policy approval {1} names them)",
	      "{1} の承認者に依頼してください（atsmailctl policy approval {1} で確認できます）" } },
	[ATSM_REFUSAL_SHARED_ASSIGNED] = { "shared-assigned",
	    { "assigned to another member: {0} has this thread of shared mailbox {a} "
	      "since {1}",
	      "他のメンバーの担当です: 共有メールボックス {a} のこのスレッドは {1} から "
	      "{0} が担当しています" },
	    { "leave it to them, or add {l}+force@{d} to send it anyway",
	      "担当者に任せるか、それでも送るときは {l}+force@{d} を宛先に追加してください" } },
	[ATSM_REFUSAL_SHARED_ANSWERED] = { "shared-answered",
	    { "answered by another member: {0} replied in this thread of shared mailbox {a} "
	      "at {1}",
	      "他のメンバーが返信済みです: 共有メールボックス {a} のこのスレッドには {1} に "
	      "{0} が返信しています" },
	    { "check their reply, or add {l}+force@{d} to send yours anyway",
	      "その返信を確認するか、それでも送るときは {l}+force@{d} を宛先に追加してください" } },
};

const char *
atsm_refusal_kind_name(enum atsm_refusal_kind kind)
{
	if ((int)kind <= (int)ATSM_REFUSAL_NONE || kind >= ATSM_REFUSAL_KIND_COUNT)
		return "?";
	return rows[kind].name;
}

/* A record kind in the language. */
static const char *
record_word(const char *kind, enum atsm_lang lang)
{
	if (lang != ATSM_LANG_JA)
		return kind;
	if (strcmp(kind, "resume") == 0)
		return "履歴書";
	if (strcmp(kind, "contact") == 0)
		return "連絡先";
	return kind;
}

static void
put(char *out, size_t size, size_t *n, const char *s, size_t len)
{
	if (*n + 1 >= size)
		return;
	if (len > size - 1 - *n) {
		/* cut at a character, not inside a UTF-8 sequence */
		len = size - 1 - *n;
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	memcpy(out + *n, s, len);
	*n += len;
	out[*n] = '\0';
}

static void
expand(const struct atsm_refusal *r, enum atsm_lang lang, const char *t, char *out,
    size_t size, size_t *n)
{
	const char *v;

	for (; *t != '\0'; t++) {
		if (t[0] != '{' || t[1] == '\0' || t[2] != '}') {
			put(out, size, n, t, 1);
			continue;
		}
		switch (t[1]) {
		case 'a': v = r->addr; break;
		case '0': v = r->arg[0]; break;
		case '1': v = r->arg[1]; break;
		case 'K': v = record_word(r->arg[0], lang); break;
		case 'l': v = r->lp; break;
		case 'd': v = r->domain; break;
		default: v = NULL; break;
		}
		if (v == NULL) {
			put(out, size, n, t, 1);
			continue;
		}
		put(out, size, n, v, strlen(v));
		t += 2;
	}
}

/* s as printable ASCII ('?' for any other byte) into out. */
static void
ascii(char *out, size_t size, const char *s)
{
	size_t i;

	if (size == 0)
		return;
	for (i = 0; s != NULL && s[i] != '\0' && i + 1 < size; i++)
		out[i] = (unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f ? '?' : s[i];
	out[i] = '\0';
}

void
atsm_refusal_set(struct atsm_refusal *r, enum atsm_refusal_kind kind, const char *lp,
    const char *domain, const char *addr, const char *arg0, const char *arg1)
{
	size_t n = 0;

	memset(r, 0, sizeof(*r));
	r->kind = kind;
	ascii(r->lp, sizeof(r->lp), lp);
	ascii(r->domain, sizeof(r->domain), domain);
	ascii(r->addr, sizeof(r->addr), addr);
	ascii(r->arg[0], sizeof(r->arg[0]), arg0);
	ascii(r->arg[1], sizeof(r->arg[1]), arg1);
	if ((int)kind <= (int)ATSM_REFUSAL_OTHER || kind >= ATSM_REFUSAL_KIND_COUNT)
		return;
	expand(r, ATSM_LANG_EN, rows[kind].what[0], r->text, sizeof(r->text), &n);
	put(r->text, sizeof(r->text), &n, "; ", 2);
	expand(r, ATSM_LANG_EN, rows[kind].fix[0], r->text, sizeof(r->text), &n);
}

void
atsm_refusal_render(const struct atsm_refusal *r, enum atsm_lang lang, char *what,
    size_t what_size, char *fix, size_t fix_size)
{
	int l = lang == ATSM_LANG_JA ? 1 : 0;
	size_t n = 0;

	if (what_size > 0)
		what[0] = '\0';
	if (fix_size > 0)
		fix[0] = '\0';
	if ((int)r->kind <= (int)ATSM_REFUSAL_OTHER || r->kind >= ATSM_REFUSAL_KIND_COUNT) {
		/* the English sentence is all that is known */
		if (what_size > 0)
			snprintf(what, what_size, "%s", r->text);
		return;
	}
	if (what_size > 0)
		expand(r, lang, rows[r->kind].what[l], what, what_size, &n);
	n = 0;
	if (fix_size > 0)
		expand(r, lang, rows[r->kind].fix[l], fix, fix_size, &n);
}

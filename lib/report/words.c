/* report/words.c -- the report's words (report/words.h).  The Japanese
 * follows what Japanese ATS and shared-mailbox products say: 担当者 for
 * the recruiter, 共通アドレス for a shared mailbox, 選考 for a selection
 * process, エラー for a bounce.
 */
#include "report/words.h"

static const struct atsm_report_words words_en = {
	"atsmail report", "Period", "Made", "Counted as seen by",
	"Times count office hours only.", "The charts could not be drawn",
	"Per recruiter", "Per shared mailbox", "Per job", "Funnel per job",
	"Open shared mailbox mail by age",
	"Recruiter", "Shared mailbox", "Job", "Phase", "Processes",
	"Sent", "Replies", "Reply rate", "Hard bounces", "Soft bounces",
	"Their reply: median", "Their reply: p90", "Our reply: median", "Our reply: p90",
	"Held", "Open",
	{ "< 1 day", "1-3 days", "3-7 days", "older" },
	"No data in this period.",
	{ "By recruiter", "By shared mailbox", "By job" },
	{ "name", "id", "sent", "replies", "reply rate", "hard", "soft",
	  "in median", "in p90", "out median", "out p90", "held", "open" },
	"Per day", "date",
	"Funnel: processes moved by mail", { "job", "id", "phase", "code", "processes" },
	"mailbox",
	"times to first reply: median and 90th percentile", ", office hours only", ", as ",
	"(none)",
};

static const struct atsm_report_words words_ja = {
	"atsmail レポート", "期間", "作成", "集計の視点",
	"時間は営業時間のみで数えています。", "グラフを描けませんでした",
	"担当者別", "共通アドレス別", "求人別", "求人別ファネル",
	"共通アドレスの未完了メール（経過日数別）",
	"担当者", "共通アドレス", "求人", "フェーズ", "選考数",
	"送信", "返信", "返信率", "エラー（恒久）", "エラー（一時）",
	"相手の返信まで（中央値）", "相手の返信まで（90%）",
	"こちらの返信まで（中央値）", "こちらの返信まで（90%）",
	"承認待ち", "未完了",
	{ "1日未満", "1〜3日", "3〜7日", "7日以上" },
	"この期間のデータはありません。",
	{ "担当者別", "共通アドレス別", "求人別" },
	{ "名前", "ID", "送信", "返信", "返信率", "恒久エラー", "一時エラー",
	  "相手 中央値", "相手 90%", "こちら 中央値", "こちら 90%", "承認待ち", "未完了" },
	"日別", "日付",
	"求人別ファネル（メールでフェーズに進んだ選考）", { "求人", "ID", "フェーズ", "コード", "選考数" },
	"共通アドレス",
	"返信までの時間: 中央値と90パーセンタイル（相手＝候補者の返信、こちら＝担当者の返信）",
	"、営業時間のみ", "、集計の視点: ",
	"（なし）",
};

const struct atsm_report_words *
atsm_report_words(enum atsm_lang lang)
{
	return lang == ATSM_LANG_JA ? &words_ja : &words_en;
}

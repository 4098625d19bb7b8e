/* cmd-import-columns.c -- atsmailctl import: the header row, column names
 * to fields.
 *
 * Files come from other ATS products and from spreadsheets, so a field has
 * many names: English and the usual Japanese ones, per kind (a "status"
 * column is a job's status but a resume's phase).  The names are a table;
 * header_key() makes the comparison forgiving of case, full-width letters,
 * spaces and punctuation.  Columns that name no field are reported once.
 */
#include "cmd-import.h"

#include <stdio.h>
#include <string.h>

const char *const ctl_imp_kind_names[K_N] = { "users", "resumes", "contacts",
	"companies", "jobs" };

/* The kinds a column name applies to. */
#define U (1u << K_USERS)
#define R (1u << K_RESUMES)
#define C (1u << K_CONTACTS)
#define CO (1u << K_COMPANIES)
#define J (1u << K_JOBS)

/* as the error for a missing required column names them */
static const char *const field_names[F_N] = { "id", "name", "kana", "email", "phase",
	"owner", "shared", "company", "company id", "note", "title", "status", "login",
	"role", "sharing_mode", "default_share", "addresses", "active" };

/* Header names, compared after header_key(): ASCII lower case, full-width
 * ASCII made half-width, spaces, '_', '-', '.' and '・' removed. */
static const struct alias {
	unsigned kinds;
	enum field f;
	const char *name;
} aliases[] = {
	{ R | C | CO | J, F_EXTID, "id" }, { R | C | CO | J, F_EXTID, "externalid" },
	{ R | C | CO | J, F_EXTID, "外部id" },
	{ R, F_EXTID, "レジュメid" }, { R, F_EXTID, "候補者id" }, { R, F_EXTID, "求職者id" },
	{ R, F_EXTID, "resumeid" }, { R, F_EXTID, "candidateid" },
	{ C, F_EXTID, "担当者id" }, { C, F_EXTID, "コンタクトid" }, { C, F_EXTID, "contactid" },
	{ CO, F_EXTID, "企業id" }, { CO, F_EXTID, "会社id" }, { CO, F_EXTID, "companyid" },
	{ CO, F_EXTID, "取引先id" },
	{ J, F_EXTID, "求人id" }, { J, F_EXTID, "jobid" }, { J, F_EXTID, "案件id" },
	{ C | J, F_COMPANY_EXTID, "企業id" }, { C | J, F_COMPANY_EXTID, "会社id" },
	{ C | J, F_COMPANY_EXTID, "companyid" }, { C | J, F_COMPANY_EXTID, "取引先id" },
	{ U | R | C, F_NAME, "name" }, { U | R | C, F_NAME, "氏名" },
	{ U | R | C, F_NAME, "名前" }, { U | R | C, F_NAME, "fullname" },
	{ U, F_NAME, "displayname" }, { U, F_NAME, "表示名" }, { R, F_NAME, "候補者名" },
	{ C, F_NAME, "担当者名" },
	{ CO, F_NAME, "name" }, { CO, F_NAME, "会社名" }, { CO, F_NAME, "企業名" },
	{ CO, F_NAME, "companyname" }, { CO, F_NAME, "company" }, { CO, F_NAME, "取引先名" },
	{ R | C, F_KANA, "kana" }, { R | C, F_KANA, "フリガナ" }, { R | C, F_KANA, "ふりがな" },
	{ R | C, F_KANA, "カナ" }, { R | C, F_KANA, "かな" }, { R | C, F_KANA, "氏名カナ" },
	{ R | C, F_KANA, "氏名(カナ)" }, { R | C, F_KANA, "氏名（カナ）" },
	{ R | C, F_KANA, "furigana" },
	{ R | C, F_EMAIL, "email" }, { R | C, F_EMAIL, "mail" }, { R | C, F_EMAIL, "emailaddress" },
	{ R | C, F_EMAIL, "mailaddress" }, { R | C, F_EMAIL, "メールアドレス" },
	{ R | C, F_EMAIL, "メール" }, { R | C, F_EMAIL, "eメール" },
	{ R | C, F_PHASE, "phase" }, { R | C, F_PHASE, "フェーズ" }, { R | C, F_PHASE, "ステータス" },
	{ R | C, F_PHASE, "status" }, { R | C, F_PHASE, "状態" }, { R, F_PHASE, "選考状況" },
	{ R | C, F_OWNER, "owner" }, { R | C, F_OWNER, "担当" }, { R, F_OWNER, "担当者" },
	{ R | C, F_OWNER, "担当コンサルタント" }, { C, F_OWNER, "社内担当" },
	{ C, F_OWNER, "営業担当" },
	{ R | C, F_SHARED, "shared" }, { R | C, F_SHARED, "共有" },
	{ C | J, F_COMPANY, "company" }, { C | J, F_COMPANY, "companyname" },
	{ C | J, F_COMPANY, "会社名" }, { C | J, F_COMPANY, "企業名" },
	{ C | J, F_COMPANY, "取引先名" }, { C, F_COMPANY, "所属会社" },
	{ CO, F_NOTE, "note" }, { CO, F_NOTE, "備考" }, { CO, F_NOTE, "メモ" }, { CO, F_NOTE, "memo" },
	{ J, F_TITLE, "title" }, { J, F_TITLE, "jobtitle" }, { J, F_TITLE, "求人タイトル" },
	{ J, F_TITLE, "求人名" }, { J, F_TITLE, "職種" }, { J, F_TITLE, "ポジション" },
	{ J, F_TITLE, "案件名" },
	{ J, F_STATUS, "status" }, { J, F_STATUS, "ステータス" }, { J, F_STATUS, "募集状況" },
	{ J, F_STATUS, "状態" },
	{ U, F_LOGIN, "login" }, { U, F_LOGIN, "ログイン" }, { U, F_LOGIN, "ログインid" },
	{ U, F_LOGIN, "userid" }, { U, F_LOGIN, "ユーザーid" }, { U, F_LOGIN, "アカウント" },
	{ U, F_LOGIN, "email" }, { U, F_LOGIN, "メールアドレス" }, { U, F_LOGIN, "メール" },
	{ U, F_ROLE, "role" }, { U, F_ROLE, "権限" }, { U, F_ROLE, "役割" }, { U, F_ROLE, "ロール" },
	{ U, F_MODE, "sharingmode" }, { U, F_MODE, "mode" }, { U, F_MODE, "共有モード" },
	{ U, F_MODE, "共有設定" }, { U, F_MODE, "公開設定" },
	{ U, F_DEFSHARE, "defaultshare" }, { U, F_DEFSHARE, "デフォルト共有" },
	{ U, F_DEFSHARE, "既定の共有" }, { U, F_DEFSHARE, "既定共有" },
	{ U, F_ADDRS, "addresses" }, { U, F_ADDRS, "additionaladdresses" },
	{ U, F_ADDRS, "aliases" }, { U, F_ADDRS, "追加アドレス" },
	{ U, F_ADDRS, "追加メールアドレス" },
	{ U, F_ACTIVE, "active" }, { U, F_ACTIVE, "有効" },
};

/* Header name as compared with aliases[]. */
static void
header_key(const char *in, char *out, size_t outsz)
{
	size_t o = 0;
	const unsigned char *s = (const unsigned char *)in;

	while (*s != '\0' && o + 4 < outsz) {
		if (*s == ' ' || *s == '\t' || *s == '_' || *s == '-' || *s == '.') {
			s++;
		} else if (s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x80) {
			s += 3;         /* U+3000 ideographic space */
		} else if (s[0] == 0xE3 && s[1] == 0x83 && s[2] == 0xBB) {
			s += 3;         /* U+30FB katakana middle dot */
		} else if (s[0] == 0xEF && (s[1] == 0xBC || s[1] == 0xBD) && s[2] >= 0x80 &&
		    s[2] <= 0xBF && !(s[1] == 0xBC && s[2] < 0x81) && !(s[1] == 0xBD && s[2] > 0x9E)) {
			/* U+FF01..U+FF5E: full-width ASCII */
			unsigned cp = ((unsigned)(s[1] & 0x3F) << 6 | (s[2] & 0x3F)) + 0xF000 - 0xFF00 + 0x20;
			char c = (char)cp;

			s += 3;
			if (c == ' ' || c == '_' || c == '-' || c == '.')
				continue;
			out[o++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		} else {
			out[o++] = (char)(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s);
			s++;
		}
	}
	out[o] = '\0';
}

/* Map the header's columns; reports ignored ones.  -1 when a required
 * column is missing. */
int
ctl_imp_map_header(struct imp *im, struct atsm_csv_record *hdr)
{
	static const enum field required[K_N] = { F_LOGIN, F_NAME, F_NAME, F_NAME, F_TITLE };
	char key[256], ignored[1024] = "";
	size_t i, a, ilen = 0;
	int f;

	for (f = 0; f < F_N; f++)
		im->col[f] = -1;
	im->ncols = hdr->n;
	for (i = 0; i < hdr->n; i++) {
		bool used = false;

		header_key(hdr->fields[i], key, sizeof(key));
		for (a = 0; a < sizeof(aliases) / sizeof(aliases[0]) && !used; a++) {
			if (!(aliases[a].kinds & (1u << im->kind)) || strcmp(aliases[a].name, key) != 0)
				continue;
			if (im->col[aliases[a].f] >= 0)
				continue;       /* a second "id" column may be the company's */
			im->col[aliases[a].f] = (int)i;
			used = true;
		}
		if (!used && ilen + strlen(hdr->fields[i]) + 5 < sizeof(ignored))
			ilen += (size_t)snprintf(ignored + ilen, sizeof(ignored) - ilen, "%s'%s'",
			    ilen > 0 ? ", " : "", hdr->fields[i]);
	}
	if (ilen > 0)
		fprintf(stderr, CTL_PROGNAME ": %s: ignored column(s): %s\n", im->path, ignored);
	if (im->col[required[im->kind]] < 0) {
		ctl_error("import %s: %s line %u: no %s column (see " CTL_PROGNAME
		    " import --help for the names)", ctl_imp_kind_names[im->kind], im->path, hdr->line,
		    field_names[required[im->kind]]);
		return -1;
	}
	return 0;
}

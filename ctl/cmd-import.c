/* cmd-import.c -- atsmailctl import: records from the CSV export of another
 * ATS product or a spreadsheet.
 *
 *   atsmailctl import users|resumes|contacts|companies|jobs FILE.csv
 *       [--encoding auto|utf-8|shift_jis] [--actor NAME] [--dry-run]
 *
 * The file is decoded whole (lib/base/csv.c: BOM, else valid UTF-8, else CP932)
 * and read record by record.  The first record is the header: columns are
 * mapped by name through the table of aliases below (English and the usual
 * Japanese names); the others are reported once as ignored.  Each row is
 * validated and written under its own SAVEPOINT inside ONE transaction for
 * the whole file: a bad row is reported with its line and skipped, the good
 * rows are kept, and the file is committed at the end with one audit entry
 * ("import.<kind>", the counts) -- or not at all when the database goes
 * away half-way, so that a re-run starts from a clean state.  A row that
 * names a record already present (external id, else primary address, login
 * for users, name for companies, company and title for jobs) updates it.
 * Prints "imported N, updated N, unchanged N, skipped N"; exit 1 when a row
 * was skipped.
 */
#include "ctl-ops.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/addr.h"
#include "base/csv.h"

/* The largest file read (it is held in memory, decoded). */
#define IMPORT_FILE_MAX (512u * 1024u * 1024u)
/* Addresses in one cell. */
#define IMPORT_ADDRS_MAX 32
/* Files at least this long show a progress bar on a terminal. */
#define IMPORT_PROGRESS_MIN (64u * 1024u)

enum kind { K_USERS, K_RESUMES, K_CONTACTS, K_COMPANIES, K_JOBS, K_N };
static const char *const kind_names[K_N] = { "users", "resumes", "contacts", "companies",
	"jobs" };

#define U (1u << K_USERS)
#define R (1u << K_RESUMES)
#define C (1u << K_CONTACTS)
#define CO (1u << K_COMPANIES)
#define J (1u << K_JOBS)

enum field {
	F_EXTID, F_NAME, F_KANA, F_EMAIL, F_PHASE, F_OWNER, F_SHARED,
	F_COMPANY, F_COMPANY_EXTID, F_NOTE, F_TITLE, F_STATUS,
	F_LOGIN, F_ROLE, F_MODE, F_DEFSHARE, F_ADDRS, F_ACTIVE, F_N
};
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

/* Values of closed sets, with their Japanese spellings. */
struct word {
	const char *in, *out;
};
static const struct word roles[] = {
	{ "recruiter", "recruiter" }, { "admin", "admin" }, { "auditor", "auditor" },
	{ "採用担当", "recruiter" }, { "リクルーター", "recruiter" }, { "一般", "recruiter" },
	{ "管理者", "admin" }, { "監査", "auditor" }, { "監査役", "auditor" }, { NULL, NULL }
};
static const struct word modes[] = {
	{ "admin", "admin" }, { "public", "public" }, { "custom", "custom" },
	{ "private", "private" }, { "管理者", "admin" }, { "管理者のみ", "admin" },
	{ "公開", "public" }, { "カスタム", "custom" }, { "個別", "custom" },
	{ "非公開", "private" }, { NULL, NULL }
};
static const struct word statuses[] = {
	{ "open", "open" }, { "on_hold", "on_hold" }, { "closed", "closed" },
	{ "filled", "filled" }, { "募集中", "open" }, { "公開", "open" }, { "保留", "on_hold" },
	{ "一時停止", "on_hold" }, { "終了", "closed" }, { "募集終了", "closed" },
	{ "クローズ", "closed" }, { "充足", "filled" }, { "採用決定", "filled" }, { NULL, NULL }
};

struct imp {
	struct ctl *ctl;
	PGconn *conn;
	enum kind kind;
	const char *path;
	const char *actor;
	int col[F_N];             /* column of each field, or -1 */
	size_t ncols;
	unsigned line;            /* of the row being imported */
	unsigned imported, updated, unchanged, skipped;
	struct atsm_err err;      /* the last database error */
	bool progress_on;
	int progress_pct;
	size_t total;
	char *addrs[IMPORT_ADDRS_MAX];
	size_t naddrs;
};

/* A row's outcome. */
enum outcome { O_NEW, O_UPDATED, O_SAME, O_BAD, O_DOWN };

void
ctl_cmd_import_usage(FILE *fp)
{
	fputs(
	    "usage: " CTL_PROGNAME " [OPTIONS] import users|resumes|contacts|companies|jobs FILE.csv\n"
	    "           [--encoding auto|utf-8|shift_jis] [--actor NAME] [--dry-run]\n"
	    "\n"
	    "Import records from a CSV file (RFC 4180: quoted fields may hold commas,\n"
	    "doubled quotes and line breaks; CRLF or LF).  The encoding is detected: a\n"
	    "UTF-8 BOM or valid UTF-8 is UTF-8, anything else Shift_JIS (CP932);\n"
	    "--encoding forces it.  The first row names the columns, in English or\n"
	    "Japanese (氏名/名前 name, フリガナ/カナ kana, メールアドレス/メール email,\n"
	    "会社名/企業名 company, ID/レジュメID/企業ID/求人ID id, ...; see\n"
	    CTL_PROGNAME "(8)); other columns are reported once and ignored.\n"
	    "\n"
	    "  users      login (required), name, role, sharing_mode, default_share,\n"
	    "             addresses (additional sender addresses), active\n"
	    "  resumes    name (required), kana, email, phase, owner, shared, id\n"
	    "  contacts   name (required), kana, email, company, phase, owner, shared, id\n"
	    "  companies  name (required), note, id\n"
	    "  jobs       title (required), company, status, id\n"
	    "\n"
	    "A cell may hold several addresses separated by ';', ',' or line breaks.\n"
	    "A row that names an existing record updates it: by id (stored as\n"
	    "external_id), else by primary address (resumes, contacts), login (users),\n"
	    "name (companies), company and title (jobs).  Bad rows are reported with\n"
	    "their line and skipped; the rest is written in one transaction with one\n"
	    "audit entry.\n"
	    "\n"
	    "  --encoding E  auto (default), utf-8, shift_jis (= cp932)\n"
	    "  --actor NAME  who is recorded in the audit log (default: your login)\n"
	    "  --dry-run     check and report everything, write nothing\n"
	    "\n"
	    "Prints \"imported N, updated N, unchanged N, skipped N\".\n"
	    "Exit codes: 0 every row imported, 1 rows were skipped or the file could not\n"
	    "be read, 2 usage, 3 configuration, 4 database unavailable (nothing written).\n",
	    fp);
}

/* ------------------------------------------------------------ reporting */

static void
progress_clear(struct imp *im)
{
	if (im->progress_on && im->progress_pct >= 0) {
		fputs("\r\033[K", stderr);
		im->progress_pct = -1;
	}
}

static void
progress(struct imp *im, size_t pos, unsigned rows)
{
	int pct, i;

	if (!im->progress_on || im->total == 0)
		return;
	pct = (int)((double)pos * 100.0 / (double)im->total);
	if (pct == im->progress_pct)
		return;
	im->progress_pct = pct;
	fputs("\r[", stderr);
	for (i = 0; i < 40; i++)
		fputc(i < pct * 40 / 100 ? '#' : ' ', stderr);
	fprintf(stderr, "] %3d%%  %u rows", pct, rows);
	fflush(stderr);
}

static void row_error(struct imp *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
row_error(struct imp *im, const char *fmt, ...)
{
	va_list ap;

	progress_clear(im);
	fprintf(stderr, CTL_PROGNAME ": %s line %u: ", im->path, im->line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ------------------------------------------------------------ helpers */

/* A statement of the current row; NULL after storing the failure. */
static PGresult *
q(struct imp *im, const char *sql, int n, const char *const *p)
{
	return atsm_db_exec(im->conn, sql, n, p, &im->err);
}

/* The outcome of a failed statement: the database is gone, or the row is
 * bad (the server said why). */
static enum outcome
q_failed(struct imp *im)
{
	if (im->err.cls == ATSM_ERR_UNAVAILABLE)
		return O_DOWN;
	row_error(im, "%s", im->err.msg);
	return O_BAD;
}

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

/* Trim ASCII white space and U+3000 at both ends, in place. */
static char *
trim(char *s)
{
	size_t n;

	for (;;) {
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
			s++;
		else if (strncmp(s, "\xE3\x80\x80", 3) == 0)
			s += 3;
		else
			break;
	}
	n = strlen(s);
	for (;;) {
		if (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' ||
		    s[n - 1] == '\r'))
			n--;
		else if (n >= 3 && strncmp(s + n - 3, "\xE3\x80\x80", 3) == 0)
			n -= 3;
		else
			break;
	}
	s[n] = '\0';
	return s;
}

static const char *
word_of(const struct word *w, const char *in)
{
	for (; w->in != NULL; w++)
		if (strcasecmp(w->in, in) == 0)
			return w->out;
	return NULL;
}

static void
addrs_free(struct imp *im)
{
	size_t i;

	for (i = 0; i < im->naddrs; i++)
		free(im->addrs[i]);
	im->naddrs = 0;
}

/* Split a cell of addresses (';', ',', '、', '；' or line breaks) into
 * im->addrs, normalised.  -1 after reporting the first bad one. */
static int
parse_addrs(struct imp *im, const char *what, char *cell)
{
	char *p = cell, *tok, *norm;
	struct atsm_err err;
	size_t i;

	addrs_free(im);
	while (*p != '\0') {
		size_t n = strcspn(p, ";,\n\r");
		char *sep;

		/* the full-width separators are UTF-8 sequences: cut at them too */
		if ((sep = strstr(p, "、")) != NULL && (size_t)(sep - p) < n)
			n = (size_t)(sep - p);
		if ((sep = strstr(p, "；")) != NULL && (size_t)(sep - p) < n)
			n = (size_t)(sep - p);
		tok = p;
		if (p[n] == '\0') {
			p += n;
		} else {
			bool wide = (unsigned char)p[n] == 0xE3 || (unsigned char)p[n] == 0xEF;

			p[n] = '\0';
			p += n + (wide ? 3 : 1);
		}
		tok = trim(tok);
		if (*tok == '\0')
			continue;
		if (atsm_addr_normalize(tok, &norm, &err) < 0) {
			row_error(im, "%s '%s' is not an address", what, tok);
			return -1;
		}
		for (i = 0; i < im->naddrs; i++)
			if (strcmp(im->addrs[i], norm) == 0)
				break;
		if (i < im->naddrs) {
			free(norm);
			continue;
		}
		if (im->naddrs >= IMPORT_ADDRS_MAX) {
			free(norm);
			row_error(im, "more than %d addresses in the %s column", IMPORT_ADDRS_MAX,
			    what);
			return -1;
		}
		im->addrs[im->naddrs++] = norm;
	}
	return 0;
}

/* The value of field f in this row: NULL when the file has no such column,
 * "" when the cell is empty. */
static char *
cell(struct imp *im, struct atsm_csv_record *rec, enum field f)
{
	return im->col[f] < 0 ? NULL : trim(rec->fields[im->col[f]]);
}

static const char *
nz(const char *s)
{
	return s != NULL && *s != '\0' ? s : NULL;
}

/* A single id from a lookup: 0 = found (*id), 1 = none, -1 = several
 * (reported), -2 = statement failed. */
static int
one_id(struct imp *im, const char *sql, int n, const char *const *p, const char *what,
    char *id, size_t idsz)
{
	PGresult *res;
	int r;

	if ((res = q(im, sql, n, p)) == NULL)
		return -2;
	if (PQntuples(res) == 0) {
		r = 1;
	} else if (PQntuples(res) > 1) {
		row_error(im, "%s matches %d records (ids %s, %s%s); give an id column to tell "
		    "them apart", what, PQntuples(res), PQgetvalue(res, 0, 0), PQgetvalue(res, 1, 0),
		    PQntuples(res) > 2 ? ", ..." : "");
		r = -1;
	} else {
		snprintf(id, idsz, "%s", PQgetvalue(res, 0, 0));
		r = 0;
	}
	PQclear(res);
	return r;
}

/* The phase code for a code or label of kind ("resume", "contact"). */
static int
resolve_phase(struct imp *im, const char *kind, const char *v, char *code, size_t sz)
{
	const char *p[2] = { kind, v };
	int r;

	r = one_id(im, "SELECT code FROM atsmail.phases WHERE kind = $1 AND active"
	    " AND (code = $2 OR label = $2) ORDER BY code = $2 DESC LIMIT 1", 2, p,
	    "phase", code, sz);
	if (r == 1)
		row_error(im, "phase '%s' is not an active %s phase (see "
		    CTL_PROGNAME " policy phase list %s)", v, kind, kind);
	return r;
}

static int
resolve_owner(struct imp *im, const char *v, char *id, size_t sz)
{
	char *norm = NULL;
	const char *p[2];
	int r;

	if (strchr(v, '@') != NULL && atsm_addr_normalize(v, &norm, NULL) < 0)
		norm = NULL;
	p[0] = norm != NULL ? norm : v;
	p[1] = v;
	r = one_id(im, "SELECT id FROM atsmail.users WHERE login = $1 OR display_name = $2"
	    " ORDER BY id", 2, p, "owner", id, sz);
	if (r == 1)
		row_error(im, "owner '%s' is not a user (login or name)", v);
	free(norm);
	return r;
}

/* Add im->addrs to a record; the first becomes primary when the record has
 * none.  Returns the number of addresses added, or -1 (statement failed). */
static int
add_addresses(struct imp *im, const char *owner_kind, const char *id, size_t first_primary)
{
	const char *p[4];
	PGresult *res;
	size_t i;
	int added = 0;

	for (i = 0; i < im->naddrs; i++) {
		p[0] = owner_kind;
		p[1] = id;
		p[2] = im->addrs[i];
		p[3] = i == first_primary ? "t" : "f";
		res = q(im, "INSERT INTO atsmail.addresses (owner_kind, owner_id, addr_norm, is_primary)"
		    " SELECT $1, $2, $3, $4::boolean AND NOT EXISTS (SELECT 1 FROM atsmail.addresses"
		    "  WHERE owner_kind = $1 AND owner_id = $2 AND is_primary)"
		    " ON CONFLICT (owner_kind, owner_id, addr_norm) DO NOTHING RETURNING id", 4, p);
		if (res == NULL)
			return -1;
		added += PQntuples(res);
		PQclear(res);
	}
	return added;
}

/* Record a phase set by the import in phase_history (the trigger audits it). */
static int
phase_history(struct imp *im, const char *kind, const char *id, const char *from,
    const char *to)
{
	const char *p[4] = { kind, id, from, to };

	return atsm_db_command(im->conn, "INSERT INTO atsmail.phase_history"
	    " (kind, record_id, from_phase, to_phase, cause) VALUES ($1, $2, $3, $4, 'import')",
	    4, p, &im->err);
}

/* ------------------------------------------------------ resumes, contacts */

static enum outcome
row_person(struct imp *im, struct atsm_csv_record *rec)
{
	const char *kind = im->kind == K_RESUMES ? "resume" : "contact";
	const char *table = im->kind == K_RESUMES ? "atsmail.resumes" : "atsmail.contacts";
	char *name = cell(im, rec, F_NAME), *kana = cell(im, rec, F_KANA);
	char *email = cell(im, rec, F_EMAIL), *ext = cell(im, rec, F_EXTID);
	char *phase = cell(im, rec, F_PHASE), *owner = cell(im, rec, F_OWNER);
	char *shared = cell(im, rec, F_SHARED), *company = cell(im, rec, F_COMPANY);
	char *company_ext = cell(im, rec, F_COMPANY_EXTID);
	char id[32] = "", phase_code[40] = "", owner_id[32] = "", company_id[32] = "";
	char sql[1200];
	const char *p[10];
	bool shared_v = true;
	PGresult *res;
	enum outcome o;
	int r, added;

	if (name == NULL || *name == '\0') {
		row_error(im, "name is empty");
		return O_BAD;
	}
	if (email != NULL && parse_addrs(im, "email", email) < 0)
		return O_BAD;
	if (nz(shared) != NULL && ctl_ops_bool(shared, &shared_v) < 0) {
		row_error(im, "shared '%s' is not yes or no", shared);
		return O_BAD;
	}
	if (nz(phase) != NULL && (r = resolve_phase(im, kind, phase, phase_code,
	    sizeof(phase_code))) != 0)
		return r == -2 ? q_failed(im) : O_BAD;
	if (nz(owner) != NULL && (r = resolve_owner(im, owner, owner_id, sizeof(owner_id))) != 0)
		return r == -2 ? q_failed(im) : O_BAD;
	if (im->kind == K_CONTACTS && (nz(company_ext) != NULL || nz(company) != NULL)) {
		p[0] = nz(company_ext) != NULL ? company_ext : company;
		r = one_id(im, nz(company_ext) != NULL ?
		    "SELECT id FROM atsmail.companies WHERE external_id = $1" :
		    "SELECT id FROM atsmail.companies WHERE name = $1 ORDER BY id", 1, p,
		    "company", company_id, sizeof(company_id));
		if (r == 1)
			row_error(im, "company '%s' is not known (import the companies first)", p[0]);
		if (r != 0)
			return r == -2 ? q_failed(im) : O_BAD;
	}

	/* which record: the external id, else the first address */
	if (nz(ext) != NULL) {
		p[0] = ext;
		snprintf(sql, sizeof(sql), "SELECT id FROM %s WHERE external_id = $1", table);
		r = one_id(im, sql, 1, p, "id", id, sizeof(id));
	} else if (im->naddrs > 0) {
		p[0] = kind;
		p[1] = im->addrs[0];
		r = one_id(im, "SELECT DISTINCT owner_id FROM atsmail.addresses"
		    " WHERE owner_kind = $1 AND addr_norm = $2 ORDER BY 1", 2, p,
		    "the address", id, sizeof(id));
	} else {
		r = 1;
	}
	if (r < 0)
		return r == -2 ? q_failed(im) : O_BAD;

	p[0] = name;
	p[1] = kana;                       /* NULL: no column, keep */
	p[2] = nz(phase_code);
	p[3] = nz(shared) != NULL ? (shared_v ? "t" : "f") : NULL;
	p[4] = nz(owner_id);
	p[5] = nz(ext);
	p[6] = nz(company_id);
	if (r == 1) {
		snprintf(sql, sizeof(sql), "INSERT INTO %s (name, kana, phase, shared, owner_id,"
		    " created_from, external_id%s) VALUES ($1, nullif($2, ''), coalesce($3, 'new'),"
		    " coalesce($4::boolean, true), $5, 'import', $6%s) RETURNING id, phase",
		    table, im->kind == K_CONTACTS ? ", company_id" : "",
		    im->kind == K_CONTACTS ? ", $7" : "");
		if ((res = q(im, sql, im->kind == K_CONTACTS ? 7 : 6, p)) == NULL)
			return q_failed(im);
		snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
		if (nz(phase_code) != NULL && strcmp(phase_code, "new") != 0 &&
		    phase_history(im, kind, id, NULL, phase_code) < 0)
			return q_failed(im);
		o = O_NEW;
	} else {
		/* old is the row before the update: say whether anything changed
		 * and what the phase was */
		p[7] = id;
		p[8] = kana != NULL ? "t" : "f";
		snprintf(sql, sizeof(sql),
		    "WITH old AS (SELECT * FROM %s WHERE id = $8 FOR UPDATE)"
		    " UPDATE %s t SET name = $1,"
		    " kana = CASE WHEN $9::boolean THEN nullif($2, '') ELSE old.kana END,"
		    " phase = coalesce($3, old.phase), shared = coalesce($4::boolean, old.shared),"
		    " owner_id = coalesce($5::bigint, old.owner_id),"
		    " external_id = coalesce($6, old.external_id)%s"
		    " FROM old WHERE t.id = old.id%s"
		    " RETURNING (old.name, old.kana, old.phase, old.shared, old.owner_id,"
		    "  old.external_id%s) IS DISTINCT FROM (t.name, t.kana, t.phase, t.shared,"
		    "  t.owner_id, t.external_id%s), old.phase, t.phase",
		    table, table,
		    im->kind == K_CONTACTS ? ", company_id = coalesce($7::bigint, old.company_id)" :
		    "",
		    /* resumes have no company: $7 is always NULL for them */
		    im->kind == K_CONTACTS ? "" : " AND $7::bigint IS NULL",
		    im->kind == K_CONTACTS ? ", old.company_id" : "",
		    im->kind == K_CONTACTS ? ", t.company_id" : "");
		if ((res = q(im, sql, 9, p)) == NULL)
			return q_failed(im);
		o = strcmp(PQgetvalue(res, 0, 0), "t") == 0 ? O_UPDATED : O_SAME;
		if (strcmp(PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2)) != 0 &&
		    phase_history(im, kind, id, PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2)) < 0) {
			PQclear(res);
			return q_failed(im);
		}
		PQclear(res);
	}
	if ((added = add_addresses(im, kind, id, 0)) < 0)
		return q_failed(im);
	if (o == O_SAME && added > 0)
		o = O_UPDATED;
	if (o == O_UPDATED) {
		p[0] = id;
		snprintf(sql, sizeof(sql), "UPDATE %s SET updated_at = now() WHERE id = $1", table);
		if (atsm_db_command(im->conn, sql, 1, p, &im->err) < 0)
			return q_failed(im);
	}
	return o;
}

/* -------------------------------------------------------------- companies */

static enum outcome
row_company(struct imp *im, struct atsm_csv_record *rec)
{
	char *name = cell(im, rec, F_NAME), *note = cell(im, rec, F_NOTE);
	char *ext = cell(im, rec, F_EXTID);
	char id[32];
	const char *p[4];
	PGresult *res;
	enum outcome o;
	int r;

	if (name == NULL || *name == '\0') {
		row_error(im, "name is empty");
		return O_BAD;
	}
	p[0] = nz(ext) != NULL ? ext : name;
	r = one_id(im, nz(ext) != NULL ? "SELECT id FROM atsmail.companies WHERE external_id = $1" :
	    "SELECT id FROM atsmail.companies WHERE name = $1 ORDER BY id", 1, p, "company",
	    id, sizeof(id));
	if (r < 0)
		return r == -2 ? q_failed(im) : O_BAD;
	p[0] = name;
	p[1] = note;
	p[2] = nz(ext);
	if (r == 1) {
		res = q(im, "INSERT INTO atsmail.companies (name, note, external_id)"
		    " VALUES ($1, nullif($2, ''), $3) RETURNING id", 3, p);
		o = O_NEW;
	} else {
		p[3] = id;
		res = q(im, "WITH old AS (SELECT * FROM atsmail.companies WHERE id = $4::bigint"
		    "  FOR UPDATE)"
		    " UPDATE atsmail.companies t SET name = $1::text,"
		    " note = CASE WHEN $2::text IS NULL THEN old.note ELSE nullif($2::text, '') END,"
		    " external_id = coalesce($3::text, old.external_id),"
		    " updated_at = CASE WHEN (old.name, old.note, old.external_id) IS DISTINCT FROM"
		    "  ($1::text, CASE WHEN $2::text IS NULL THEN old.note ELSE nullif($2::text, '') END,"
		    "   coalesce($3::text, old.external_id)) THEN now() ELSE old.updated_at END"
		    " FROM old WHERE t.id = old.id"
		    " RETURNING t.updated_at <> old.updated_at", 4, p);
		o = O_SAME;
		if (res != NULL && strcmp(PQgetvalue(res, 0, 0), "t") == 0)
			o = O_UPDATED;
	}
	if (res == NULL)
		return q_failed(im);
	PQclear(res);
	return o;
}

/* ------------------------------------------------------------------- jobs */

static enum outcome
row_job(struct imp *im, struct atsm_csv_record *rec)
{
	char *title = cell(im, rec, F_TITLE), *status = cell(im, rec, F_STATUS);
	char *ext = cell(im, rec, F_EXTID), *company = cell(im, rec, F_COMPANY);
	char *company_ext = cell(im, rec, F_COMPANY_EXTID);
	char id[32] = "", company_id[32] = "";
	const char *p[5], *st = NULL;
	PGresult *res;
	enum outcome o;
	int r;

	if (title == NULL || *title == '\0') {
		row_error(im, "title is empty");
		return O_BAD;
	}
	if (nz(status) != NULL && (st = word_of(statuses, status)) == NULL) {
		row_error(im, "status '%s' is not one of open, on_hold, closed, filled", status);
		return O_BAD;
	}
	if (nz(company_ext) != NULL || nz(company) != NULL) {
		p[0] = nz(company_ext) != NULL ? company_ext : company;
		r = one_id(im, nz(company_ext) != NULL ?
		    "SELECT id FROM atsmail.companies WHERE external_id = $1" :
		    "SELECT id FROM atsmail.companies WHERE name = $1 ORDER BY id", 1, p,
		    "company", company_id, sizeof(company_id));
		if (r == 1)
			row_error(im, "company '%s' is not known (import the companies first)", p[0]);
		if (r != 0)
			return r == -2 ? q_failed(im) : O_BAD;
	}
	if (nz(ext) != NULL) {
		p[0] = ext;
		r = one_id(im, "SELECT id FROM atsmail.jobs WHERE external_id = $1", 1, p, "id",
		    id, sizeof(id));
	} else {
		p[0] = title;
		p[1] = nz(company_id);
		r = one_id(im, "SELECT id FROM atsmail.jobs WHERE title = $1"
		    " AND company_id IS NOT DISTINCT FROM $2::bigint ORDER BY id", 2, p, "title",
		    id, sizeof(id));
	}
	if (r < 0)
		return r == -2 ? q_failed(im) : O_BAD;
	p[0] = title;
	p[1] = st;
	p[2] = nz(company_id);
	p[3] = nz(ext);
	if (r == 1) {
		res = q(im, "INSERT INTO atsmail.jobs (title, status, company_id, external_id)"
		    " VALUES ($1, coalesce($2, 'open'), $3, $4) RETURNING id", 4, p);
		o = O_NEW;
	} else {
		p[4] = id;
		res = q(im, "WITH old AS (SELECT * FROM atsmail.jobs WHERE id = $5 FOR UPDATE)"
		    " UPDATE atsmail.jobs t SET title = $1, status = coalesce($2, old.status),"
		    " company_id = coalesce($3::bigint, old.company_id),"
		    " external_id = coalesce($4, old.external_id),"
		    " updated_at = CASE WHEN (old.title, old.status, old.company_id, old.external_id)"
		    "  IS DISTINCT FROM ($1, coalesce($2, old.status), coalesce($3::bigint,"
		    "  old.company_id), coalesce($4, old.external_id)) THEN now()"
		    "  ELSE old.updated_at END"
		    " FROM old WHERE t.id = old.id RETURNING t.updated_at <> old.updated_at", 5, p);
		o = O_SAME;
		if (res != NULL && strcmp(PQgetvalue(res, 0, 0), "t") == 0)
			o = O_UPDATED;
	}
	if (res == NULL)
		return q_failed(im);
	PQclear(res);
	return o;
}

/* ------------------------------------------------------------------ users */

static enum outcome
row_user(struct imp *im, struct atsm_csv_record *rec)
{
	char *login = cell(im, rec, F_LOGIN), *name = cell(im, rec, F_NAME);
	char *role = cell(im, rec, F_ROLE), *mode = cell(im, rec, F_MODE);
	char *defshare = cell(im, rec, F_DEFSHARE), *addrs = cell(im, rec, F_ADDRS);
	char *active = cell(im, rec, F_ACTIVE);
	char *norm = NULL, id[32];
	const char *p[7], *rv = NULL, *mv = NULL;
	bool ds = true, av = true;
	struct atsm_err aerr;
	PGresult *res;
	enum outcome o;
	size_t i;
	int r, added;

	if (login == NULL || *login == '\0') {
		row_error(im, "login is empty");
		return O_BAD;
	}
	if (strpbrk(login, " \t") != NULL) {
		row_error(im, "login '%s' contains white space", login);
		return O_BAD;
	}
	if (strchr(login, '@') != NULL && atsm_addr_normalize(login, &norm, &aerr) < 0) {
		row_error(im, "login '%s' is not an address", login);
		return O_BAD;
	}
	if (nz(role) != NULL && (rv = word_of(roles, role)) == NULL) {
		row_error(im, "role '%s' is not one of recruiter, admin, auditor", role);
		goto bad;
	}
	if (nz(mode) != NULL && (mv = word_of(modes, mode)) == NULL) {
		row_error(im, "sharing_mode '%s' is not one of admin, public, custom, private", mode);
		goto bad;
	}
	if (nz(defshare) != NULL && ctl_ops_bool(defshare, &ds) < 0) {
		row_error(im, "default_share '%s' is not yes or no", defshare);
		goto bad;
	}
	if (nz(active) != NULL && ctl_ops_bool(active, &av) < 0) {
		row_error(im, "active '%s' is not yes or no", active);
		goto bad;
	}
	if (parse_addrs(im, "addresses", addrs != NULL ? addrs : (char *)"") < 0)
		goto bad;
	/* the login, when it is an address, is the primary sender address */
	if (norm != NULL) {
		if (im->naddrs >= IMPORT_ADDRS_MAX) {
			row_error(im, "more than %d addresses", IMPORT_ADDRS_MAX);
			goto bad;
		}
		memmove(im->addrs + 1, im->addrs, im->naddrs * sizeof(im->addrs[0]));
		im->addrs[0] = strdup(norm);
		im->naddrs++;
		if (im->addrs[0] == NULL) {
			row_error(im, "out of memory");
			goto bad;
		}
		for (i = 1; i < im->naddrs; i++)
			if (strcmp(im->addrs[i], norm) == 0) {
				free(im->addrs[i]);
				im->addrs[i] = im->addrs[--im->naddrs];
				break;
			}
	}
	p[0] = norm != NULL ? norm : login;
	r = one_id(im, "SELECT id FROM atsmail.users WHERE login = $1", 1, p, "login", id,
	    sizeof(id));
	if (r == -2) {
		free(norm);
		return q_failed(im);
	}
	/* a sender address identifies one user only */
	for (i = 0; i < im->naddrs; i++) {
		const char *pp[2] = { im->addrs[i], r == 0 ? id : NULL };

		if ((res = q(im, "SELECT u.login FROM atsmail.addresses a JOIN atsmail.users u"
		    " ON u.id = a.owner_id WHERE a.owner_kind = 'user' AND a.addr_norm = $1"
		    " AND a.owner_id IS DISTINCT FROM $2::bigint", 2, pp)) == NULL) {
			free(norm);
			return q_failed(im);
		}
		if (PQntuples(res) > 0) {
			row_error(im, "address '%s' already belongs to user %s", im->addrs[i],
			    PQgetvalue(res, 0, 0));
			PQclear(res);
			goto bad;
		}
		PQclear(res);
	}
	p[1] = name;
	p[2] = rv;
	p[3] = mv;
	p[4] = nz(defshare) != NULL ? (ds ? "t" : "f") : NULL;
	p[5] = nz(active) != NULL ? (av ? "t" : "f") : NULL;
	if (r == 1) {
		res = q(im, "INSERT INTO atsmail.users (login, display_name, role, sharing_mode,"
		    " default_share, active) VALUES ($1, coalesce($2, ''), coalesce($3, 'recruiter'),"
		    " coalesce($4, 'public'), coalesce($5::boolean, true), coalesce($6::boolean, true))"
		    " RETURNING id", 6, p);
		o = O_NEW;
	} else {
		p[6] = id;
		res = q(im, "WITH old AS (SELECT * FROM atsmail.users WHERE id = $7 FOR UPDATE)"
		    " UPDATE atsmail.users t SET display_name = coalesce($2, old.display_name),"
		    " role = coalesce($3, old.role), sharing_mode = coalesce($4, old.sharing_mode),"
		    " default_share = coalesce($5::boolean, old.default_share),"
		    " active = coalesce($6::boolean, old.active),"
		    " updated_at = CASE WHEN (old.display_name, old.role, old.sharing_mode,"
		    "  old.default_share, old.active) IS DISTINCT FROM (coalesce($2, old.display_name),"
		    "  coalesce($3, old.role), coalesce($4, old.sharing_mode),"
		    "  coalesce($5::boolean, old.default_share), coalesce($6::boolean, old.active))"
		    "  THEN now() ELSE old.updated_at END"
		    /* $1 (the login) found the row; named so that the statement
		     * takes the same parameters as the INSERT */
		    " FROM old WHERE t.id = old.id AND $1::text IS NOT NULL"
		    " RETURNING t.id, t.updated_at <> old.updated_at", 7, p);
		o = O_SAME;
		if (res != NULL && strcmp(PQgetvalue(res, 0, 1), "t") == 0)
			o = O_UPDATED;
	}
	free(norm);
	norm = NULL;
	if (res == NULL)
		return q_failed(im);
	snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if ((added = add_addresses(im, "user", id, 0)) < 0)
		return q_failed(im);
	if (o == O_SAME && added > 0)
		o = O_UPDATED;
	return o;
bad:
	free(norm);
	return O_BAD;
}

/* ------------------------------------------------------------------ file */

static int
read_file(const char *path, char **data, size_t *len)
{
	FILE *fp;
	struct stat sb;
	size_t n;
	char *buf;

	if ((fp = fopen(path, "rb")) == NULL) {
		ctl_error("import: cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(fp), &sb) < 0 || !S_ISREG(sb.st_mode)) {
		ctl_error("import: %s is not a regular file", path);
		fclose(fp);
		return -1;
	}
	if ((unsigned long long)sb.st_size > IMPORT_FILE_MAX) {
		ctl_error("import: %s is larger than %u MiB; split it", path,
		    IMPORT_FILE_MAX / 1024 / 1024);
		fclose(fp);
		return -1;
	}
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL) {
		ctl_error("import: %s: out of memory", path);
		fclose(fp);
		return -1;
	}
	n = fread(buf, 1, (size_t)sb.st_size, fp);
	if (ferror(fp)) {
		ctl_error("import: cannot read %s: %s", path, strerror(errno));
		free(buf);
		fclose(fp);
		return -1;
	}
	fclose(fp);
	*data = buf;
	*len = n;
	return 0;
}

/* Map the header's columns; reports ignored ones.  -1 when a required
 * column is missing. */
static int
map_header(struct imp *im, struct atsm_csv_record *hdr)
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
		    " import --help for the names)", kind_names[im->kind], im->path, hdr->line,
		    field_names[required[im->kind]]);
		return -1;
	}
	return 0;
}

static enum outcome
import_row(struct imp *im, struct atsm_csv_record *rec)
{
	switch (im->kind) {
	case K_USERS:
		return row_user(im, rec);
	case K_RESUMES:
	case K_CONTACTS:
		return row_person(im, rec);
	case K_COMPANIES:
		return row_company(im, rec);
	default:
		return row_job(im, rec);
	}
}

/* One row under its own savepoint: a bad row is undone alone. */
static enum outcome
import_one(struct imp *im, struct atsm_csv_record *rec)
{
	enum outcome o;

	if (rec->n != im->ncols) {
		row_error(im, "%zu field(s), but the header has %zu", rec->n, im->ncols);
		return O_BAD;
	}
	if (atsm_db_command(im->conn, "SAVEPOINT import_row", 0, NULL, &im->err) < 0)
		return im->err.cls == ATSM_ERR_UNAVAILABLE ? O_DOWN : q_failed(im);
	o = import_row(im, rec);
	addrs_free(im);
	if (o == O_DOWN)
		return o;
	if (atsm_db_command(im->conn, o == O_BAD ? "ROLLBACK TO SAVEPOINT import_row" :
	    "RELEASE SAVEPOINT import_row", 0, NULL, &im->err) < 0)
		return O_DOWN;
	return o;
}

static int
import_run(struct imp *im, const char *text, size_t len, const char *enc_used, bool dry_run)
{
	struct atsm_csv_reader rd;
	struct atsm_csv_record rec = { 0 };
	struct atsm_err err;
	json_t *detail;
	bool down = false, fatal = false;
	int r;

	atsm_csv_reader_init(&rd, text, len);
	if ((r = atsm_csv_next(&rd, &rec, &err)) <= 0) {
		if (r == 0)
			ctl_error("import: %s is empty: no header row", im->path);
		else
			ctl_error("import: %s %s", im->path, err.msg);
		atsm_csv_record_free(&rec);
		return CTL_EXIT_FAIL;
	}
	if (map_header(im, &rec) < 0) {
		atsm_csv_record_free(&rec);
		return CTL_EXIT_FAIL;
	}
	/* automatic audit entries (phase changes) name the same actor */
	if (ctl_ops_begin(im->conn, im->actor, &im->err) < 0) {
		atsm_csv_record_free(&rec);
		return ctl_ops_db_fail("import", &im->err);
	}
	im->progress_on = isatty(STDERR_FILENO) && len >= IMPORT_PROGRESS_MIN;
	im->progress_pct = -1;
	im->total = len;
	for (;;) {
		enum outcome o;

		r = atsm_csv_next(&rd, &rec, &err);
		if (r == 0)
			break;
		if (r < 0) {
			/* an unclosed quote swallowed the rest of the file: report
			 * it; a record over the limits is skipped like a bad row */
			progress_clear(im);
			ctl_error("import: %s %s", im->path, err.msg);
			im->skipped++;
			if (rd.pos >= rd.len)
				break;
			continue;
		}
		im->line = rec.line;
		o = import_one(im, &rec);
		switch (o) {
		case O_NEW:
			im->imported++;
			break;
		case O_UPDATED:
			im->updated++;
			break;
		case O_SAME:
			im->unchanged++;
			break;
		case O_BAD:
			im->skipped++;
			break;
		case O_DOWN:
			down = true;
			break;
		}
		if (down)
			break;
		progress(im, rd.pos, im->imported + im->updated + im->unchanged + im->skipped);
	}
	progress_clear(im);
	atsm_csv_record_free(&rec);
	if (down) {
		atsm_db_rollback(im->conn);
		ctl_error("import: %s line %u: %s; nothing of the file was written", im->path,
		    im->line, im->err.msg);
		return CTL_EXIT_DBDOWN;
	}
	detail = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:b}", "file", im->path,
	    "encoding", enc_used, "imported", (json_int_t)im->imported,
	    "updated", (json_int_t)im->updated, "unchanged", (json_int_t)im->unchanged,
	    "skipped", (json_int_t)im->skipped, "dry_run", dry_run);
	{
		char action[32];

		snprintf(action, sizeof(action), "import.%s", kind_names[im->kind]);
		if (ctl_ops_audit(im->conn, im->actor, action, kind_names[im->kind], NULL, detail,
		    &im->err) < 0)
			fatal = true;
	}
	if (!fatal) {
		if (dry_run)
			atsm_db_rollback(im->conn);
		else if (atsm_db_commit(im->conn, &im->err) < 0)
			fatal = true;
	}
	if (fatal) {
		atsm_db_rollback(im->conn);
		return ctl_ops_db_fail("import: nothing was written", &im->err);
	}
	printf("%s: imported %u, updated %u, unchanged %u, skipped %u%s\n", im->path,
	    im->imported, im->updated, im->unchanged, im->skipped,
	    dry_run ? " (dry run: nothing was written)" : "");
	return im->skipped > 0 ? CTL_EXIT_FAIL : CTL_EXIT_OK;
}

int
ctl_cmd_import(struct ctl *ctx, int argc, char **argv)
{
	enum atsm_csv_encoding enc = ATSM_CSV_AUTO, used;
	const char *path = NULL, *actor = NULL, *v;
	struct imp im;
	struct atsm_buf text;
	struct atsm_err err;
	char *data = NULL;
	size_t len = 0, nbad = 0;
	bool dry_run = false;
	int i, k = -1, rc;

	for (i = 1; i < argc; i++) {
		if (ctl_is_help(argv[i])) {
			ctl_cmd_import_usage(stdout);
			return CTL_EXIT_OK;
		}
		if (ctl_ops_option(argc, argv, &i, "--encoding", &v)) {
			if (v == NULL)
				return CTL_EXIT_USAGE;
			if (atsm_csv_encoding_parse(v, &enc, &err) < 0) {
				ctl_error("import: --encoding: %s", err.msg);
				return CTL_EXIT_USAGE;
			}
		} else if (ctl_ops_option(argc, argv, &i, "--actor", &v)) {
			if ((actor = v) == NULL)
				return CTL_EXIT_USAGE;
		} else if (strcmp(argv[i], "--dry-run") == 0) {
			dry_run = true;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			ctl_error("import: unknown option '%s'; see " CTL_PROGNAME " import --help",
			    argv[i]);
			return CTL_EXIT_USAGE;
		} else if (k < 0) {
			for (k = 0; k < K_N; k++)
				if (strcmp(argv[i], kind_names[k]) == 0)
					break;
			if (k == K_N) {
				ctl_error("import: unknown kind '%s' (known: users, resumes, contacts, "
				    "companies, jobs)", argv[i]);
				return CTL_EXIT_USAGE;
			}
		} else if (path == NULL) {
			path = argv[i];
		} else {
			ctl_error("import: unexpected argument '%s'", argv[i]);
			return CTL_EXIT_USAGE;
		}
	}
	if (k < 0 || path == NULL) {
		ctl_error("import: %s", k < 0 ? "which kind? users, resumes, contacts, companies "
		    "or jobs" : "which file?");
		ctl_cmd_import_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (read_file(path, &data, &len) < 0)
		return CTL_EXIT_FAIL;
	atsm_buf_init(&text, len * 2 + 16);
	if (atsm_csv_decode(data, len, enc, &text, &used, &nbad, &err) < 0) {
		ctl_error("import: %s: %s", path, err.msg);
		free(data);
		atsm_buf_free(&text);
		return CTL_EXIT_FAIL;
	}
	free(data);
	if (nbad > 0)
		ctl_error("import: %s: %zu byte sequence(s) are not valid %s and were replaced "
		    "by U+FFFD; see --encoding", path, nbad, atsm_csv_encoding_name(used));
	if ((rc = ctl_connect(ctx)) != 0) {
		atsm_buf_free(&text);
		return rc;
	}
	memset(&im, 0, sizeof(im));
	im.ctl = ctx;
	im.conn = ctx->conn;
	im.kind = (enum kind)k;
	im.path = path;
	im.actor = ctl_ops_actor(actor);
	rc = import_run(&im, atsm_buf_str(&text), text.len, atsm_csv_encoding_name(used), dry_run);
	addrs_free(&im);
	atsm_buf_free(&text);
	return rc;
}

/* cmd-import.c -- atsmailctl import: records from the CSV export of another
 * ATS product or a spreadsheet.
 *
 *   atsmailctl import users|resumes|contacts|companies|jobs FILE.csv
 *       [--encoding auto|utf-8|shift_jis] [--actor NAME] [--dry-run]
 *
 * This file is the command: its arguments, and the file decoded whole
 * (lib/base/csv.c: BOM, else valid UTF-8, else CP932).  The header maps
 * columns by name (cmd-import-columns.c); the rows are written in one
 * transaction (cmd-import-run.c), each by its kind's reader
 * (cmd-import-people.c, -users.c, -companies.c, -jobs.c).  A row that
 * names a record already present (external id, else primary address,
 * login for users, name for companies, company and title for jobs)
 * updates it.  Exit 1 when a row was skipped.  The files share
 * cmd-import.h.
 */
#include "cmd-import.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The largest file read (it is held in memory, decoded). */
#define IMPORT_FILE_MAX (512u * 1024u * 1024u)

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
				if (strcmp(argv[i], ctl_imp_kind_names[k]) == 0)
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
	rc = ctl_imp_run(&im, atsm_buf_str(&text), text.len,
	    atsm_csv_encoding_name(used), dry_run);
	ctl_imp_addrs_free(&im);
	atsm_buf_free(&text);
	return rc;
}

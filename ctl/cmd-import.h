/* cmd-import.h -- what the files of `atsmailctl import` share; private to
 * ctl/cmd-import*.c.
 *
 *   cmd-import.c           the command: arguments, the file, its encoding
 *   cmd-import-run.c       one transaction: the rows under savepoints, the
 *                          audit entry, the counts
 *   cmd-import-report.c    the progress bar and each row's error
 *   cmd-import-columns.c   the header: column names (English, Japanese) to
 *                          fields, per kind
 *   cmd-import-row.c       what every kind's rows use: cells, address lists,
 *                          closed sets, lookups of one record, addresses
 *   cmd-import-people.c    resumes and contacts
 *   cmd-import-users.c     users
 *   cmd-import-companies.c companies
 *   cmd-import-jobs.c      jobs
 *
 * A row reader validates its row, finds the record it names and writes it;
 * it reports a bad row itself (ctl_imp_error) and says what became of the
 * row as an enum outcome.
 */
#ifndef CTL_CMD_IMPORT_H
#define CTL_CMD_IMPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "ctl-ops.h"
#include "base/csv.h"

/* Addresses in one cell. */
#define IMPORT_ADDRS_MAX 32

enum kind { K_USERS, K_RESUMES, K_CONTACTS, K_COMPANIES, K_JOBS, K_N };
/* as the command line and the audit entry name them */
extern const char *const ctl_imp_kind_names[K_N];

enum field {
	F_EXTID, F_NAME, F_KANA, F_EMAIL, F_PHASE, F_OWNER, F_SHARED,
	F_COMPANY, F_COMPANY_EXTID, F_NOTE, F_TITLE, F_STATUS,
	F_LOGIN, F_ROLE, F_MODE, F_DEFSHARE, F_ADDRS, F_ACTIVE, F_N
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

/* Values of closed sets, with their Japanese spellings; lists end with
 * { NULL, NULL }. */
struct word {
	const char *in, *out;
};

/* ---- cmd-import-run.c ---- */

/* Import the decoded file text into im->kind in one transaction: an exit
 * code of atsmailctl, after printing the counts. */
int ctl_imp_run(struct imp *im, const char *text, size_t len,
    const char *enc_used, bool dry_run);
/* cmd-import-report.c: report a problem of the current row ("FILE line
 * N: ..."), after the progress bar; draw the bar (pos bytes of the file
 * read, rows so far); clear it. */
void ctl_imp_error(struct imp *im, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void ctl_imp_progress(struct imp *im, size_t pos, unsigned rows);
void ctl_imp_progress_clear(struct imp *im);

/* ---- cmd-import-columns.c ---- */

/* Map the header's columns into im->col; reports ignored ones.  -1 when a
 * required column is missing. */
int ctl_imp_map_header(struct imp *im, struct atsm_csv_record *hdr);

/* ---- cmd-import-row.c ---- */

/* A statement of the current row; NULL after storing the failure. */
PGresult *ctl_imp_q(struct imp *im, const char *sql, int n,
    const char *const *p);
/* The outcome of a failed statement: the database is gone, or the row is
 * bad (the server said why). */
enum outcome ctl_imp_failed(struct imp *im);
char *ctl_imp_trim(char *s);
/* The value of field f in this row: NULL when the file has no such column,
 * "" when the cell is empty. */
char *ctl_imp_cell(struct imp *im, struct atsm_csv_record *rec, enum field f);
/* s, or NULL when it is NULL or empty. */
const char *ctl_imp_nz(const char *s);
const char *ctl_imp_word(const struct word *w, const char *in);
void ctl_imp_addrs_free(struct imp *im);
int ctl_imp_parse_addrs(struct imp *im, const char *what, char *cell);
int ctl_imp_one_id(struct imp *im, const char *sql, int n,
    const char *const *p, const char *what, char *id, size_t idsz);
int ctl_imp_resolve_phase(struct imp *im, const char *kind, const char *v,
    char *code, size_t sz);
int ctl_imp_resolve_owner(struct imp *im, const char *v, char *id, size_t sz);
int ctl_imp_resolve_company(struct imp *im, const char *company,
    const char *company_ext, char *id, size_t sz);
int ctl_imp_add_addresses(struct imp *im, const char *owner_kind,
    const char *id, size_t first_primary);
int ctl_imp_phase_history(struct imp *im, const char *kind, const char *id,
    const char *from, const char *to);

/* ---- one reader per kind ---- */

enum outcome ctl_imp_row_person(struct imp *im, struct atsm_csv_record *rec);
enum outcome ctl_imp_row_user(struct imp *im, struct atsm_csv_record *rec);
enum outcome ctl_imp_row_company(struct imp *im, struct atsm_csv_record *rec);
enum outcome ctl_imp_row_job(struct imp *im, struct atsm_csv_record *rec);

#endif

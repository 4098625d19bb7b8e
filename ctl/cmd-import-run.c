/* cmd-import-run.c -- atsmailctl import: one file, one transaction.
 *
 * The first record is the header (cmd-import-columns.c); each other row is
 * read by its kind's reader under its own SAVEPOINT inside ONE transaction
 * for the whole file: a bad row is reported with its line and undone
 * alone, the good rows are kept, and the file is committed at the end
 * with one audit entry ("import.<kind>", the counts) -- or not at all when
 * the database goes away half-way, so that a re-run starts from a clean
 * state.  Prints "imported N, updated N, unchanged N, skipped N"; on a
 * terminal a long file shows a progress bar, which every row error clears
 * first.
 */
#include "cmd-import.h"

#include <stdio.h>
#include <unistd.h>

/* Files at least this long show a progress bar on a terminal. */
#define IMPORT_PROGRESS_MIN (64u * 1024u)

/* The reader of one row, per kind. */
static enum outcome (*const row_readers[K_N])(struct imp *,
    struct atsm_csv_record *) = {
	[K_USERS] = ctl_imp_row_user,
	[K_RESUMES] = ctl_imp_row_person,
	[K_CONTACTS] = ctl_imp_row_person,
	[K_COMPANIES] = ctl_imp_row_company,
	[K_JOBS] = ctl_imp_row_job,
};

/* One row under its own savepoint: a bad row is undone alone. */
static enum outcome
import_one(struct imp *im, struct atsm_csv_record *rec)
{
	enum outcome o;

	if (rec->n != im->ncols) {
		ctl_imp_error(im, "%zu field(s), but the header has %zu", rec->n, im->ncols);
		return O_BAD;
	}
	if (atsm_db_command(im->conn, "SAVEPOINT import_row", 0, NULL, &im->err) < 0)
		return im->err.cls == ATSM_ERR_UNAVAILABLE ? O_DOWN : ctl_imp_failed(im);
	o = row_readers[im->kind](im, rec);
	ctl_imp_addrs_free(im);
	if (o == O_DOWN)
		return o;
	if (atsm_db_command(im->conn, o == O_BAD ? "ROLLBACK TO SAVEPOINT import_row" :
	    "RELEASE SAVEPOINT import_row", 0, NULL, &im->err) < 0)
		return O_DOWN;
	return o;
}

int
ctl_imp_run(struct imp *im, const char *text, size_t len, const char *enc_used,
    bool dry_run)
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
	if (ctl_imp_map_header(im, &rec) < 0) {
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
			ctl_imp_progress_clear(im);
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
		ctl_imp_progress(im, rd.pos, im->imported + im->updated + im->unchanged + im->skipped);
	}
	ctl_imp_progress_clear(im);
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

		snprintf(action, sizeof(action), "import.%s", ctl_imp_kind_names[im->kind]);
		if (ctl_ops_audit(im->conn, im->actor, action,
		    ctl_imp_kind_names[im->kind], NULL, detail, &im->err) < 0)
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

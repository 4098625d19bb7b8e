/* store/migrate.h -- schema migrations: the ordered files of sql/ applied
 * once each to a database, and their status.
 *
 * A migration is a file DIR/NAME.sql; its version is NAME ("001-core").
 * Files are taken in byte order of their names.  The table
 * atsmail.schema_migrations (version, checksum, applied_at) records each
 * applied file with the SHA-256 of its text, created by
 * atsm_migrate_apply() itself before the first file runs.
 *
 * atsm_migrate_apply() runs every file not yet applied, each in its own
 * transaction that also records it, under an advisory lock so that two
 * runs against one database do not race: a file is applied whole or not at
 * all.  It stops at the first failure: a file that fails (the error names
 * it, with the server's message and line), or a file that was changed
 * after it was applied (its checksum differs).  atsm_migrate_status()
 * changes nothing.  Both fill a report, which the caller frees with
 * atsm_migrate_report_free() whatever they returned.
 *
 * The class of err on failure says what to do: UNAVAILABLE (the server
 * went away: retry), REFUSED (the server refused a file or a statement;
 * err->sqlstate says why), IO (the SQL directory or a file cannot be
 * read), INPUT (the directory holds something that is not a valid
 * migration, or a file was changed or ended the transaction), NOMEM.
 */
#ifndef ATSM_MIGRATE_H
#define ATSM_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <libpq-fe.h>

#include "store/db.h"
#include "base/err.h"

/* Bounds on what is read from the SQL directory. */
#define ATSM_MIGRATE_FILES_MAX 1000            /* files in the directory */
#define ATSM_MIGRATE_FILE_MAX (8u * 1024u * 1024u)   /* bytes of one file */
#define ATSM_MIGRATE_VERSION_MAX 128           /* bytes of a version name */

enum atsm_migrate_state {
	ATSM_MIGRATE_PENDING,   /* a file not applied yet */
	ATSM_MIGRATE_APPLIED,   /* applied, and the file is unchanged */
	ATSM_MIGRATE_CHANGED,   /* applied, but the file differs now */
	ATSM_MIGRATE_MISSING    /* applied, but no such file in the directory */
};

struct atsm_migration {
	char version[ATSM_MIGRATE_VERSION_MAX];   /* "001-core" */
	char *path;                 /* DIR/NAME.sql (NULL when MISSING) */
	char checksum[65];          /* SHA-256 of the file, lower-case hex */
	char applied_at[40];        /* "2025-01-31 12:00:00 UTC", "" if pending */
	enum atsm_migrate_state state;
	bool applied_now;           /* applied by this atsm_migrate_apply() */
};

struct atsm_migrate_report {
	struct atsm_migration *items;   /* files in order, then MISSING ones */
	size_t n;
	size_t pending;                 /* PENDING items (after apply: left over) */
	size_t applied_now;             /* files applied by this call */
};

/* Apply the pending files of sqldir.  0 when the database is up to date;
 * -1 with err (naming the file, classified as above) on failure. */
int atsm_migrate_apply(PGconn *conn, const char *sqldir,
                       struct atsm_migrate_report *rep, struct atsm_err *err);

/* Compare sqldir with what the database recorded; changes nothing.
 * 0 when the report could be made (even if some file is CHANGED). */
int atsm_migrate_status(PGconn *conn, const char *sqldir,
                        struct atsm_migrate_report *rep, struct atsm_err *err);

void atsm_migrate_report_free(struct atsm_migrate_report *rep);

/* Which SQL directory to use: the --sql-dir option when given, else the
 * ATSMAIL_SQL_DIR environment variable when set and not empty, else the
 * compiled-in ATSM_SQLDIR. Never NULL. */
const char *atsm_migrate_sqldir(const char *option);

#endif

/* store/migrate.c -- apply the ordered files of sql/ once each, and report their
 * status (see store/migrate.h and docs/data-model.md).
 *
 * Each pending file runs in one transaction: BEGIN, the advisory lock of
 * migrations, a fresh look at schema_migrations (another run may have
 * applied the file meanwhile), the file's text, the INSERT that records it,
 * COMMIT.  A failure rolls the whole file back.  Every statement of our own
 * goes through atsm_db_exec() with parameters; the only SQL sent without
 * them is the text of a migration file (see run_file()), whose failure is
 * classified here the way store/db-exec.c classifies its own.
 */
#include "store/migrate.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "base/buf.h"

#ifndef ATSM_SQLDIR
#define ATSM_SQLDIR "/usr/local/share/atsmail/sql"
#endif

/* Key of the advisory lock that serialises migration runs: "atsm" "migr". */
#define MIGRATE_LOCK_SQL "SELECT pg_advisory_xact_lock(1635021677, 1835624306)"

#define MIGRATE_APPLIED_AT \
	"to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS \"UTC\"')"

const char *
atsm_migrate_sqldir(const char *option)
{
	const char *env;

	if (option != NULL && *option != '\0')
		return option;
	env = getenv("ATSMAIL_SQL_DIR");
	if (env != NULL && *env != '\0')
		return env;
	return ATSM_SQLDIR;
}

void
atsm_migrate_report_free(struct atsm_migrate_report *rep)
{
	size_t i;

	if (rep == NULL)
		return;
	for (i = 0; i < rep->n; i++)
		free(rep->items[i].path);
	free(rep->items);
	memset(rep, 0, sizeof(*rep));
}

/* ------------------------------------------------------------ the files */

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct atsm_migration *)a)->version,
	    ((const struct atsm_migration *)b)->version);
}

/* "NAME.sql" with a NAME of letters, digits, '-', '_' and '.': anything
 * else in the directory (editor backups, README) is not a migration. */
static bool
migration_name(const char *name, size_t *stem)
{
	size_t len = strlen(name), i;

	if (len <= 4 || strcmp(name + len - 4, ".sql") != 0 || name[0] == '.')
		return false;
	for (i = 0; i < len - 4; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
			return false;
	}
	*stem = len - 4;
	return true;
}

static int
report_add(struct atsm_migrate_report *rep, size_t *cap, struct atsm_err *err)
{
	struct atsm_migration *p;
	size_t ncap;

	if (rep->n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	p = realloc(rep->items, ncap * sizeof(*p));
	if (p == NULL)
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "out of memory listing migrations");
	rep->items = p;
	*cap = ncap;
	return 0;
}

/* Read a whole file (at most ATSM_MIGRATE_FILE_MAX bytes) into out. */
static int
read_file(const char *path, struct atsm_buf *out, struct atsm_err *err)
{
	char chunk[8192];
	FILE *fp;
	size_t got;
	int rc = 0;

	atsm_buf_init(out, ATSM_MIGRATE_FILE_MAX);
	if ((fp = fopen(path, "r")) == NULL)
		return atsm_err_setc(err, ATSM_ERR_IO, "cannot open %s: %s", path,
		    strerror(errno));
	while ((got = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (atsm_buf_append(out, chunk, got) < 0) {
			rc = atsm_err_setc(err, out->overflow ? ATSM_ERR_INPUT : ATSM_ERR_NOMEM,
			    "%s: %s", path, out->overflow ?
			    "larger than the limit of 8 MiB for a migration" : "out of memory");
			break;
		}
	}
	if (rc == 0 && ferror(fp))
		rc = atsm_err_setc(err, ATSM_ERR_IO, "cannot read %s: %s", path,
		    strerror(errno));
	fclose(fp);
	if (rc == 0 && memchr(atsm_buf_str(out), '\0', out->len) != NULL)
		rc = atsm_err_set(err, "%s: contains a NUL byte", path);
	if (rc < 0)
		atsm_buf_free(out);
	return rc;
}

static int
sha256_hex(const char *data, size_t len, char hex[65], struct atsm_err *err)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		return atsm_err_setc(err, ATSM_ERR_INTERNAL, "cannot compute SHA-256");
	for (i = 0; i < mdlen; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
	return 0;
}

/* List the *.sql files of sqldir sorted by name, with the checksum of each file. */
static int
list_files(const char *sqldir, struct atsm_migrate_report *rep, struct atsm_err *err)
{
	struct dirent *de;
	struct stat st;
	struct atsm_buf text;
	size_t cap = 0, stem, i;
	DIR *d;
	int rc = 0;

	if ((d = opendir(sqldir)) == NULL)
		return atsm_err_setc(err, ATSM_ERR_IO, "cannot open the SQL directory %s: %s",
		    sqldir, strerror(errno));
	while (rc == 0 && (de = readdir(d)) != NULL) {
		struct atsm_migration *m;
		size_t plen;

		if (!migration_name(de->d_name, &stem))
			continue;
		if (stem >= ATSM_MIGRATE_VERSION_MAX) {
			rc = atsm_err_set(err, "%s/%s: file name too long for a migration",
			    sqldir, de->d_name);
			break;
		}
		if (rep->n >= ATSM_MIGRATE_FILES_MAX) {
			rc = atsm_err_set(err, "%s: more than %d migration files",
			    sqldir, ATSM_MIGRATE_FILES_MAX);
			break;
		}
		if ((rc = report_add(rep, &cap, err)) < 0)
			break;
		m = &rep->items[rep->n];
		memset(m, 0, sizeof(*m));
		memcpy(m->version, de->d_name, stem);
		m->version[stem] = '\0';
		plen = strlen(sqldir) + 1 + strlen(de->d_name) + 1;
		if ((m->path = malloc(plen)) == NULL) {
			rc = atsm_err_setc(err, ATSM_ERR_NOMEM, "out of memory listing migrations");
			break;
		}
		snprintf(m->path, plen, "%s/%s", sqldir, de->d_name);
		rep->n++;
		if (stat(m->path, &st) < 0 || !S_ISREG(st.st_mode)) {
			rc = atsm_err_set(err, "%s: not a regular file", m->path);
			break;
		}
	}
	closedir(d);
	if (rc < 0)
		return rc;
	qsort(rep->items, rep->n, sizeof(*rep->items), name_cmp);
	for (i = 0; i < rep->n; i++) {
		if (read_file(rep->items[i].path, &text, err) < 0)
			return -1;
		rc = sha256_hex(atsm_buf_str(&text), text.len, rep->items[i].checksum, err);
		atsm_buf_free(&text);
		if (rc < 0)
			return atsm_err_prefix(err, "%s", rep->items[i].path);
		rep->items[i].state = ATSM_MIGRATE_PENDING;
	}
	rep->pending = rep->n;
	return 0;
}

/* ------------------------------------------------------------ the database */

static void
mark_applied(struct atsm_migrate_report *rep, struct atsm_migration *m,
    const char *checksum, const char *at)
{
	if (m->state == ATSM_MIGRATE_PENDING && rep->pending > 0)
		rep->pending--;
	m->state = strcmp(checksum, m->checksum) == 0 ?
	    ATSM_MIGRATE_APPLIED : ATSM_MIGRATE_CHANGED;
	snprintf(m->applied_at, sizeof(m->applied_at), "%s", at);
}

static int
changed_error(const struct atsm_migration *m, struct atsm_err *err)
{
	return atsm_err_set(err, "%s was changed after it was applied on %s "
	    "(its SHA-256 differs from the one recorded in "
	    "atsmail.schema_migrations); restore it and put the change into a new file",
	    m->path, m->applied_at);
}

/* Line (1-based) of the character at 1-based position pos of text; the
 * server counts characters, so UTF-8 continuation bytes are skipped. */
static unsigned long
line_of(const char *text, unsigned long pos)
{
	unsigned long line = 1, chars = 0;
	const unsigned char *p;

	for (p = (const unsigned char *)text; *p != '\0'; p++) {
		if ((*p & 0xC0) == 0x80)
			continue;
		if (++chars >= pos)
			break;
		if (*p == '\n')
			line++;
	}
	return line;
}

/* Run the text of one migration file.  This is the one place where SQL
 * is sent without parameters, through PQexec: a migration holds many
 * statements, which only the simple query protocol accepts in one call.
 * The text is the project's own trusted file from the SQL directory,
 * never data from mail or users. */
static int
run_file(PGconn *conn, const struct atsm_migration *m, const char *text,
    struct atsm_err *err)
{
	const char *primary = NULL, *state = NULL, *pos = NULL, *ctx = NULL;
	char where[32] = "", context[160] = "";
	PGresult *res;
	ExecStatusType rs;
	size_t n;

	res = PQexec(conn, text);
	rs = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (rs == PGRES_COMMAND_OK || rs == PGRES_TUPLES_OK || rs == PGRES_EMPTY_QUERY) {
		PQclear(res);
		if (PQtransactionStatus(conn) == PQTRANS_INTRANS)
			return 0;
		return atsm_err_set(err, "%s ended the migration's transaction (a "
		    "migration file must not contain BEGIN, COMMIT or ROLLBACK); "
		    "it was not recorded", m->path);
	}
	if (res != NULL) {
		primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		pos = PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION);
		ctx = PQresultErrorField(res, PG_DIAG_CONTEXT);
	}
	if (PQstatus(conn) != CONNECTION_OK || atsm_db_sqlstate_unavailable(state) ||
	    res == NULL) {
		atsm_err_setc(err, ATSM_ERR_UNAVAILABLE, "%s: the database became "
		    "unavailable while applying it (%s); nothing of it was applied",
		    m->path, primary != NULL ? primary : "connection lost");
		atsm_err_set_sqlstate(err, state);
		PQclear(res);
		return -1;
	}
	if (pos != NULL)
		snprintf(where, sizeof(where), " line %lu",
		    line_of(text, strtoul(pos, NULL, 10)));
	if (ctx != NULL) {
		/* its first line says where inside a DO block or function */
		n = strcspn(ctx, "\n");
		if (n > sizeof(context) - 4)
			n = sizeof(context) - 4;
		context[0] = ' ';
		context[1] = '[';
		memcpy(context + 2, ctx, n);
		context[n + 2] = ']';
		context[n + 3] = '\0';
	}
	atsm_err_setc(err, ATSM_ERR_REFUSED, "%s%s: %s (SQLSTATE %s)%s; nothing of "
	    "it was applied", m->path, where, primary != NULL ? primary :
	    "the server refused it", state != NULL ? state : "unknown", context);
	atsm_err_set_sqlstate(err, state);
	PQclear(res);
	return -1;
}

/* Create schema_migrations when missing, under the lock of migrations. */
static int
bootstrap(PGconn *conn, struct atsm_err *err)
{
	static const char *const steps[] = {
		"SET LOCAL client_min_messages = warning",
		MIGRATE_LOCK_SQL,
		"CREATE SCHEMA IF NOT EXISTS atsmail",
		"CREATE TABLE IF NOT EXISTS atsmail.schema_migrations ("
		" version text PRIMARY KEY,"
		" checksum text NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),"
		" applied_at timestamptz NOT NULL DEFAULT now())",
		NULL
	};
	int i;

	if (atsm_db_begin(conn, err) < 0)
		return -1;
	for (i = 0; steps[i] != NULL; i++) {
		if (atsm_db_command(conn, steps[i], 0, NULL, err) < 0) {
			atsm_db_rollback(conn);
			return atsm_err_prefix(err, "creating atsmail.schema_migrations");
		}
	}
	if (atsm_db_commit(conn, err) < 0)
		return atsm_err_prefix(err, "creating atsmail.schema_migrations");
	return 0;
}

/* Apply one file, or find that it was applied (by an earlier run or by a
 * concurrent one that held the lock before us). */
static int
apply_one(PGconn *conn, struct atsm_migrate_report *rep, struct atsm_migration *m,
    struct atsm_err *err)
{
	struct atsm_buf text;
	const char *params[2];
	PGresult *res;

	if (read_file(m->path, &text, err) < 0)
		return -1;
	/* the file may have changed since it was listed */
	if (sha256_hex(atsm_buf_str(&text), text.len, m->checksum, err) < 0)
		goto failed;
	if (atsm_db_begin(conn, err) < 0 ||
	    atsm_db_command(conn, "SET LOCAL client_min_messages = warning", 0, NULL, err) < 0 ||
	    /* the connection's statement timeout is tuned for mail, not DDL */
	    atsm_db_command(conn, "SET LOCAL statement_timeout = 0", 0, NULL, err) < 0 ||
	    atsm_db_command(conn, MIGRATE_LOCK_SQL, 0, NULL, err) < 0)
		goto db_failed;
	params[0] = m->version;
	res = atsm_db_exec(conn, "SELECT checksum, " MIGRATE_APPLIED_AT
	    " FROM atsmail.schema_migrations WHERE version = $1", 1, params, err);
	if (res == NULL)
		goto db_failed;
	if (PQntuples(res) == 1) {
		mark_applied(rep, m, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
		PQclear(res);
		atsm_db_rollback(conn);
		atsm_buf_free(&text);
		if (m->state != ATSM_MIGRATE_CHANGED)
			return 0;
		return changed_error(m, err);
	}
	PQclear(res);
	if (run_file(conn, m, atsm_buf_str(&text), err) < 0) {
		atsm_db_rollback(conn);
		atsm_buf_free(&text);
		return -1;
	}
	params[1] = m->checksum;
	res = atsm_db_exec(conn, "INSERT INTO atsmail.schema_migrations (version, checksum)"
	    " VALUES ($1, $2) RETURNING " MIGRATE_APPLIED_AT, 2, params, err);
	if (res == NULL)
		goto db_failed;
	snprintf(m->applied_at, sizeof(m->applied_at), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if (atsm_db_commit(conn, err) < 0)
		goto db_failed;
	m->state = ATSM_MIGRATE_APPLIED;
	m->applied_now = true;
	rep->applied_now++;
	if (rep->pending > 0)
		rep->pending--;
	atsm_buf_free(&text);
	return 0;

db_failed:
	atsm_db_rollback(conn);
	atsm_err_prefix(err, "%s", m->path);
failed:
	atsm_buf_free(&text);
	return -1;
}

int
atsm_migrate_apply(PGconn *conn, const char *sqldir,
    struct atsm_migrate_report *rep, struct atsm_err *err)
{
	size_t i;

	memset(rep, 0, sizeof(*rep));
	if (list_files(sqldir, rep, err) < 0)
		return -1;
	if (bootstrap(conn, err) < 0)
		return -1;
	for (i = 0; i < rep->n; i++)
		if (apply_one(conn, rep, &rep->items[i], err) < 0)
			return -1;
	return 0;
}

/* Versions recorded in the database with no file in the directory. */
static int
add_missing(struct atsm_migrate_report *rep, PGresult *res, struct atsm_err *err)
{
	size_t cap = rep->n, nfiles = rep->n, j;
	int i;

	for (i = 0; i < PQntuples(res); i++) {
		const char *v = PQgetvalue(res, i, 0);
		bool found = false;

		for (j = 0; j < nfiles && !found; j++)
			found = strcmp(rep->items[j].version, v) == 0;
		if (found)
			continue;
		if (report_add(rep, &cap, err) < 0)
			return -1;
		memset(&rep->items[rep->n], 0, sizeof(rep->items[rep->n]));
		snprintf(rep->items[rep->n].version, ATSM_MIGRATE_VERSION_MAX, "%s", v);
		snprintf(rep->items[rep->n].checksum, 65, "%s", PQgetvalue(res, i, 1));
		snprintf(rep->items[rep->n].applied_at, 40, "%s", PQgetvalue(res, i, 2));
		rep->items[rep->n].state = ATSM_MIGRATE_MISSING;
		rep->n++;
	}
	return 0;
}

int
atsm_migrate_status(PGconn *conn, const char *sqldir,
    struct atsm_migrate_report *rep, struct atsm_err *err)
{
	PGresult *res;
	size_t i;
	int j, rc;

	memset(rep, 0, sizeof(*rep));
	if (list_files(sqldir, rep, err) < 0)
		return -1;
	res = atsm_db_exec(conn, "SELECT to_regclass('atsmail.schema_migrations') IS NOT NULL",
	    0, NULL, err);
	if (res == NULL)
		return -1;
	rc = strcmp(PQgetvalue(res, 0, 0), "t");
	PQclear(res);
	if (rc != 0)
		return 0;   /* never migrated: every file is pending */
	res = atsm_db_exec(conn, "SELECT version, checksum, " MIGRATE_APPLIED_AT
	    " FROM atsmail.schema_migrations ORDER BY version", 0, NULL, err);
	if (res == NULL)
		return -1;
	for (j = 0; j < PQntuples(res); j++)
		for (i = 0; i < rep->n; i++)
			if (strcmp(rep->items[i].version, PQgetvalue(res, j, 0)) == 0)
				mark_applied(rep, &rep->items[i], PQgetvalue(res, j, 1),
				    PQgetvalue(res, j, 2));
	rc = add_missing(rep, res, err);
	PQclear(res);
	return rc < 0 ? -1 : 0;
}

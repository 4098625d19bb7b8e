/* setup.h -- what the parts of `atsmailctl setup` share.
 *
 * setup-input.c  what setup accepts: database and role names (checked
 *                against a strict pattern before they are quoted into the
 *                few statements that cannot take them as parameters) and
 *                the superuser's conninfo; pure, unit-tested
 *                (tests/unit/test-setup-input.c)
 * setup-db.c     the steps that need the PostgreSQL superuser: the
 *                database, the migrations, the login roles; one line each
 * cmd-setup.c    the command: options, the privilege drop to the OS user
 *                `postgres` (peer authentication), the login checks
 */
#ifndef ATSM_CTL_SETUP_H
#define ATSM_CTL_SETUP_H

#include <stdbool.h>
#include <stddef.h>
#include <libpq-fe.h>

#include "base/err.h"

/* PostgreSQL's limit on identifiers (NAMEDATALEN - 1). */
#define CTL_SETUP_NAME_MAX 63

/* The group role every login of setup is made a member of. */
#define CTL_SETUP_WRITER "atsmail_writer"

/* A database name: [a-z_][a-z0-9_]*, at most 63 bytes, not a template or
 * the maintenance database.  0, or -1 with err naming the value and what
 * is wrong with it (class INPUT). */
int ctl_setup_check_database(const char *name, struct atsm_err *err);

/* A login role named after an OS user: [a-z_][a-z0-9_-]*, at most 63
 * bytes, not pg_* (reserved by PostgreSQL), not one of atsmail's group
 * roles, not "postgres" (the superuser).  what names the option in the
 * message ("--service-user").  0, or -1 with err. */
int ctl_setup_check_role(const char *what, const char *name, struct atsm_err *err);

/* The conninfo of the superuser's connection to database dbname:
 * - given (--superuser-conninfo) when not NULL: its settings, dbname
 *   replaced;
 * - else the settings of base (atsmaild's db_conninfo) that say where the
 *   server is (host, hostaddr, port, sslmode...) without user, password,
 *   passfile and dbname: the connection then logs in as the OS user that
 *   makes it (peer authentication).
 * Written as key='value' pairs into out (size outsz).  0, or -1 with err
 * (a conninfo libpq cannot parse, or out too small). */
int ctl_setup_superuser_conninfo(const char *given, const char *base, const char *dbname,
    char *out, size_t outsz, struct atsm_err *err);

/* The dbname base names, into out; "" when it names none.  0 or -1 (a
 * conninfo libpq cannot parse). */
int ctl_setup_conninfo_dbname(const char *base, char *out, size_t outsz, struct atsm_err *err);

/* What the superuser steps are given. */
struct ctl_setup_plan {
	const char *database;          /* checked name */
	const char *service_user;      /* checked name: atsmaild's login */
	const char *admin_login;       /* checked name, or NULL: no admin login */
	const char *su_conninfo_db;    /* superuser conninfo to the database */
	const char *su_conninfo_maint; /* superuser conninfo to the maintenance db */
	const char *sql_dir;           /* migrations */
	unsigned connect_timeout_ms;
	unsigned statement_timeout_ms;
};

/* The steps that need the superuser (setup-db.c): the database, the
 * migrations, the login roles, in that order, one line each on stdout;
 * stops at the first that fails (an error on stderr).  Returns a ctl exit
 * code. */
int ctl_setup_superuser_steps(const struct ctl_setup_plan *plan);

#endif

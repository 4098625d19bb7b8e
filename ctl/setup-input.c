/* setup-input.c -- what `atsmailctl setup` accepts (setup.h).
 *
 * CREATE DATABASE, CREATE ROLE and GRANT take no parameters, so the names
 * setup creates are the only values it ever puts into SQL text.  They are
 * checked here against a pattern narrower than PostgreSQL's, so that a
 * name means the same unquoted in a conninfo, in psql and in pg_hba.conf
 * (lower case: PostgreSQL folds unquoted names), and then quoted with
 * PQescapeIdentifier all the same (setup-db.c).  Role names follow the OS
 * user names Debian's adduser accepts, because peer authentication maps
 * an OS user to the role of the same name.
 *
 * The superuser's conninfo is derived from atsmaild's db_conninfo: the
 * same server, but no user and no password, so that the connection logs
 * in as the OS user that makes it (postgres, after the privilege drop).
 */
#include "setup.h"

#include <stdio.h>
#include <string.h>

/* Group roles of sql/004-roles-rls.sql: never a login. */
static const char *const group_roles[] = {
	"atsmail_owner", "atsmail_writer", "atsmail_reader", "atsmail_app", "atsmail_auditor",
	NULL
};

/* Databases that exist in every cluster and are not atsmail's. */
static const char *const system_databases[] = { "postgres", "template0", "template1", NULL };

static bool
in_set(const char *s, const char *const *set)
{
	for (; *set != NULL; set++)
		if (strcmp(s, *set) == 0)
			return true;
	return false;
}

/* The first byte of name outside the pattern (first: [a-z_]; rest: [a-z0-9_]
 * and, when dash, '-'); NULL when every byte fits. */
static const char *
bad_byte(const char *name, bool dash)
{
	const char *p;

	for (p = name; *p != '\0'; p++) {
		char c = *p;

		if ((c >= 'a' && c <= 'z') || c == '_')
			continue;
		if (p > name && ((c >= '0' && c <= '9') || (dash && c == '-')))
			continue;
		return p;
	}
	return NULL;
}

static int
check_name(const char *what, const char *name, bool dash, struct atsm_err *err)
{
	const char *bad;

	if (name == NULL || *name == '\0')
		return atsm_err_set(err, "%s: the name is empty", what);
	if (strlen(name) > CTL_SETUP_NAME_MAX)
		return atsm_err_set(err, "%s '%.40s...': longer than %d bytes, PostgreSQL's limit",
		    what, name, CTL_SETUP_NAME_MAX);
	if ((bad = bad_byte(name, dash)) != NULL) {
		unsigned char c = (unsigned char)*bad;

		if (c >= 0x20 && c < 0x7f)
			return atsm_err_set(err, "%s '%s': '%c' at position %d is not allowed: a name "
			    "is lower-case letters, digits%s and '_', starting with a letter or '_'",
			    what, name, c, (int)(bad - name) + 1, dash ? ", '-'" : "");
		return atsm_err_set(err, "%s: byte 0x%02x at position %d is not allowed: a name "
		    "is lower-case letters, digits%s and '_', starting with a letter or '_'",
		    what, c, (int)(bad - name) + 1, dash ? ", '-'" : "");
	}
	return 0;
}

int
ctl_setup_check_database(const char *name, struct atsm_err *err)
{
	if (check_name("--database", name, false, err) < 0)
		return -1;
	if (in_set(name, system_databases))
		return atsm_err_set(err, "--database '%s': a database every cluster has for its own "
		    "use; name atsmail's own (default atsmail)", name);
	return 0;
}

int
ctl_setup_check_role(const char *what, const char *name, struct atsm_err *err)
{
	if (check_name(what, name, true, err) < 0)
		return -1;
	if (strncmp(name, "pg_", 3) == 0)
		return atsm_err_set(err, "%s '%s': names starting with pg_ are reserved by PostgreSQL",
		    what, name);
	if (in_set(name, group_roles))
		return atsm_err_set(err, "%s '%s': one of atsmail's group roles, which cannot log "
		    "in; name the OS user that logs in (it becomes a member of " CTL_SETUP_WRITER ")",
		    what, name);
	if (strcmp(name, "postgres") == 0)
		return atsm_err_set(err, "%s '%s': the PostgreSQL superuser; atsmail logs in with "
		    "a role of its own", what, name);
	return 0;
}

/* Settings of db_conninfo that are not about where the server is. */
static const char *const not_where[] = {
	"user", "password", "passfile", "dbname", "application_name",
	"fallback_application_name", "options", "service", NULL
};

/* Append key='value' (libpq's quoting: \ and ' escaped) to out. */
static int
put_pair(char *out, size_t outsz, size_t *o, const char *key, const char *val)
{
	const char *p;
	int n;

	n = snprintf(out + *o, outsz - *o, "%s%s='", *o > 0 ? " " : "", key);
	if (n < 0 || (size_t)n >= outsz - *o)
		return -1;
	*o += (size_t)n;
	for (p = val; *p != '\0'; p++) {
		if (*o + 3 >= outsz)
			return -1;
		if (*p == '\\' || *p == '\'')
			out[(*o)++] = '\\';
		out[(*o)++] = *p;
	}
	if (*o + 2 >= outsz)
		return -1;
	out[(*o)++] = '\'';
	out[*o] = '\0';
	return 0;
}

static PQconninfoOption *
parse(const char *what, const char *conninfo, struct atsm_err *err)
{
	PQconninfoOption *opts;
	char *msg = NULL;

	if ((opts = PQconninfoParse(conninfo, &msg)) == NULL) {
		size_t n;

		/* never the conninfo itself: it may hold a password */
		if (msg != NULL && (n = strlen(msg)) > 0 && msg[n - 1] == '\n')
			msg[n - 1] = '\0';
		atsm_err_set(err, "%s cannot be read as a libpq conninfo: %s", what,
		    msg != NULL ? msg : "out of memory");
		PQfreemem(msg);
	}
	return opts;
}

int
ctl_setup_superuser_conninfo(const char *given, const char *base, const char *dbname,
    char *out, size_t outsz, struct atsm_err *err)
{
	PQconninfoOption *opts, *o;
	size_t len = 0;
	int rc = 0;

	if (outsz == 0)
		return atsm_err_setc(err, ATSM_ERR_INTERNAL, "no room for a conninfo");
	out[0] = '\0';
	opts = given != NULL ? parse("--superuser-conninfo", given, err)
	    : parse("db_conninfo", base != NULL ? base : "", err);
	if (opts == NULL)
		return -1;
	for (o = opts; o->keyword != NULL && rc == 0; o++) {
		if (o->val == NULL || o->val[0] == '\0' || strcmp(o->keyword, "dbname") == 0)
			continue;
		if (given == NULL && in_set(o->keyword, not_where))
			continue;
		rc = put_pair(out, outsz, &len, o->keyword, o->val);
	}
	if (rc == 0)
		rc = put_pair(out, outsz, &len, "dbname", dbname);
	PQconninfoFree(opts);
	if (rc < 0)
		return atsm_err_set(err, "the superuser's conninfo is longer than %zu bytes", outsz);
	return 0;
}

int
ctl_setup_conninfo_dbname(const char *base, char *out, size_t outsz, struct atsm_err *err)
{
	PQconninfoOption *opts, *o;

	out[0] = '\0';
	if ((opts = parse("db_conninfo", base != NULL ? base : "", err)) == NULL)
		return -1;
	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "dbname") == 0 && o->val != NULL)
			snprintf(out, outsz, "%s", o->val);
	PQconninfoFree(opts);
	return 0;
}

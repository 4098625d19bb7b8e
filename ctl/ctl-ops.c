/* ctl-ops.c -- helpers shared by the operation commands (ctl-ops.h). */
#include "ctl-ops.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

bool
ctl_ops_option(int argc, char **argv, int *i, const char *name, const char **val)
{
	size_t n = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, n) != 0 || (a[n] != '\0' && a[n] != '='))
		return false;
	if (a[n] == '=') {
		*val = a + n + 1;
		return true;
	}
	if (*i + 1 >= argc) {
		ctl_error("option %s needs a value", name);
		*val = NULL;
		return true;
	}
	*val = argv[++*i];
	return true;
}

const char *
ctl_ops_actor(const char *given)
{
	static char name[256];
	const struct passwd *pw;
	const char *sudo;

	if (given != NULL)
		return given;
	pw = getpwuid(getuid());
	sudo = getenv("SUDO_USER");
	/* Through sudo the person is SUDO_USER; root alone says nothing. */
	if (getuid() == 0 && sudo != NULL && *sudo != '\0')
		snprintf(name, sizeof(name), "%s (sudo)", sudo);
	else if (pw != NULL)
		snprintf(name, sizeof(name), "%s", pw->pw_name);
	else
		snprintf(name, sizeof(name), "uid %u", (unsigned)getuid());
	return name;
}

int
ctl_ops_db_fail(const char *what, const struct atsm_err *err)
{
	ctl_error("%s: %s", what, err->msg);
	return err->cls == ATSM_ERR_UNAVAILABLE ? CTL_EXIT_DBDOWN : CTL_EXIT_FAIL;
}

int
ctl_ops_audit(PGconn *conn, const char *actor, const char *action, const char *kind,
    const char *object_id, json_t *detail, struct atsm_err *err)
{
	const char *p[5];
	char *js;
	int r;

	js = json_dumps(detail, JSON_COMPACT);
	json_decref(detail);
	if (js == NULL)
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "audit %s: cannot encode the detail",
		    action);
	p[0] = actor;
	p[1] = action;
	p[2] = kind;
	p[3] = object_id;
	p[4] = js;
	r = atsm_db_command(conn, "SELECT atsmail.audit($1, $2, $3, $4, $5::jsonb)", 5, p,
	    err);
	free(js);
	return r;
}

int
ctl_ops_bool(const char *s, bool *v)
{
	static const char *const yes[] = { "yes", "y", "true", "t", "on", "1", "はい",
	    "○", "◯", "有効", "する" };
	static const char *const no[] = { "no", "n", "false", "f", "off", "0", "いいえ",
	    "×", "無効", "しない" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (strcasecmp(s, yes[i]) == 0) {
			*v = true;
			return 0;
		}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (strcasecmp(s, no[i]) == 0) {
			*v = false;
			return 0;
		}
	return -1;
}

int
ctl_ops_begin(PGconn *conn, const char *actor, struct atsm_err *err)
{
	const char *p[1] = { actor };

	if (atsm_db_begin(conn, err) < 0)
		return -1;
	if (atsm_db_command(conn, "SELECT set_config('atsmail.actor', $1, true)", 1, p,
	    err) < 0) {
		atsm_db_rollback(conn);
		return -1;
	}
	return 0;
}

bool
ctl_ops_phase_code_ok(const char *s)
{
	size_t i;

	/* the CHECK of phases.code: ^[a-z0-9][a-z0-9_-]{0,31}$ */
	if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
		return false;
	for (i = 1; s[i] != '\0'; i++)
		if (i > 31 || !((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

bool
ctl_ops_in(const char *s, const char *const *set)
{
	for (; *set != NULL; set++)
		if (strcmp(s, *set) == 0)
			return true;
	return false;
}

/* cmd-policy.c -- atsmailctl policy: the policy data of the database.
 *
 *   policy user LOGIN [--mode admin|public|custom|private] [--default-share yes|no]
 *   policy exclusion list | add DOMAIN [--note TEXT] | remove DOMAIN
 *   policy intake list | add ADDR [--action resume|unresolved] [--note TEXT] | remove ADDR
 *   policy phase list [KIND] | add KIND CODE LABEL [--order N] | label KIND CODE LABEL
 *                | deactivate KIND CODE | activate KIND CODE
 *   policy rule list | add KIND EVENT FROM|- TO [--priority N] | remove ID
 *   policy approval USER|@GROUP [--approver LOGIN] [--remove-approver LOGIN]
 *                [--needs yes|no] [--off]          (cmd-policy-approval.c)
 *   policy group GROUP [add|remove LOGIN...]       (cmd-policy-approval.c)
 *
 * Without a change a subcommand shows.  Every change runs in one
 * transaction with its audit entry ("policy.<what>.<verb>", actor --actor
 * or the login running the tool, detail: before and after), and prints what
 * changed; a change that changes nothing says so and writes no entry.
 */
#include "ctl-ops.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "mail/addr.h"

#define POLICY_ARGS_MAX 6

struct pol {
	struct ctl *ctl;
	const char *actor;
	const char *args[POLICY_ARGS_MAX];   /* after "policy WHAT" */
	int nargs;
	const char *mode, *defshare, *lang, *note, *action, *order, *priority;
	struct atsm_err err;
};

static const char *const kinds[] = { "resume", "contact", "process", NULL };
static const char *const events[] = { "reply", "bounce", "sent", NULL };
static const char *const modes[] = { "admin", "public", "custom", "private", NULL };
static const char *const intake_actions[] = { "resume", "unresolved", NULL };

void
ctl_cmd_policy_usage(FILE *fp)
{
	fputs(
	    "usage: " CTL_PROGNAME " [OPTIONS] policy user LOGIN [--mode admin|public|custom|private]\n"
	    "                                          [--default-share yes|no]\n"
	    "       " CTL_PROGNAME " [OPTIONS] policy exclusion list | add DOMAIN [--note TEXT]\n"
	    "                                          | remove DOMAIN\n"
	    "       " CTL_PROGNAME " [OPTIONS] policy intake list | add ADDR [--action resume|unresolved]\n"
	    "                                          [--note TEXT] | remove ADDR\n"
	    "       " CTL_PROGNAME " [OPTIONS] policy phase list [KIND] | add KIND CODE LABEL [--order N]\n"
	    "                                          | label KIND CODE LABEL\n"
	    "                                          | deactivate KIND CODE | activate KIND CODE\n"
	    "       " CTL_PROGNAME " [OPTIONS] policy rule list | add KIND EVENT FROM|- TO [--priority N]\n"
	    "                                          | remove ID\n"
	    "       " CTL_PROGNAME " [OPTIONS] policy approval USER|@GROUP [--approver LOGIN]...\n"
	    "                             [--remove-approver LOGIN]... [--needs yes|no] [--off]\n"
	    "       " CTL_PROGNAME " [OPTIONS] policy group GROUP [add LOGIN... | remove LOGIN...]\n"
	    "\n"
	    "  user        show a user's sharing mode, default share and language; --mode,\n"
	    "              --default-share and --lang (en, ja, default) change them\n"
	    "  exclusion   domains whose presence among the counterparts makes a mail private\n"
	    "  intake      company addresses whose mail from unknown senders becomes a\n"
	    "              resume, or an unresolved item (--action unresolved)\n"
	    "  phase       phases per KIND (resume, contact, process): CODE is what commands\n"
	    "              use ([a-z0-9][a-z0-9_-]*), LABEL what people read; a phase in use\n"
	    "              cannot be deleted, deactivate it\n"
	    "  rule        \"on EVENT (reply, bounce, sent) while in phase FROM (- = any)\n"
	    "              move to TO\"; the highest priority wins\n"
	    "  approval    whether a user's (or a group's members') ATS mail waits for\n"
	    "              approval, and who approves it; --approver adds one and turns\n"
	    "              approval on, --off turns it off (approvers kept); without\n"
	    "              an option: show (approved_by: who is told and may decide;\n"
	    "              nobody named: the admins)\n"
	    "  group       the members of a group that approval is set for\n"
	    "\n"
	    "Every change is written to the audit log with its actor: --actor NAME, else\n"
	    "the login running " CTL_PROGNAME ".  Exit codes: 0 done (also when nothing\n"
	    "had to change), 1 failed (unknown user, phase, rule...), 2 usage,\n"
	    "3 configuration, 4 database unavailable.\n", fp);
}

/* --------------------------------------------------------------- helpers */

static int
fail(struct pol *po, const char *what)
{
	atsm_db_rollback(po->ctl->conn);
	return ctl_ops_db_fail(what, &po->err);
}

static PGresult *
q(struct pol *po, const char *sql, int n, const char *const *p)
{
	return atsm_db_exec(po->ctl->conn, sql, n, p, &po->err);
}

/* Audit and commit; prints nothing.  0 or an exit code. */
static int
finish(struct pol *po, const char *action, const char *kind, const char *id, json_t *detail,
    const char *what)
{
	if (ctl_ops_audit(po->ctl->conn, po->actor, action, kind, id, detail, &po->err) < 0 ||
	    atsm_db_commit(po->ctl->conn, &po->err) < 0)
		return fail(po, what);
	return 0;
}

static int
begin(struct pol *po, const char *what)
{
	int rc;

	if ((rc = ctl_connect(po->ctl)) != 0)
		return rc;
	if (ctl_ops_begin(po->ctl->conn, po->actor, &po->err) < 0)
		return ctl_ops_db_fail(what, &po->err);
	return 0;
}

static int
want_args(struct pol *po, int n, const char *what)
{
	if (po->nargs != n) {
		ctl_error("policy %s: %s %d argument(s); see " CTL_PROGNAME " policy --help", what,
		    po->nargs < n ? "needs" : "takes", n);
		return CTL_EXIT_USAGE;
	}
	return 0;
}

/* Only the options that a subcommand uses may be given. */
static int
only_options(struct pol *po, const char *what, const char *allowed)
{
	static const struct {
		const char *name;
		size_t off;
	} opts[] = {
		{ "--mode", offsetof(struct pol, mode) },
		{ "--default-share", offsetof(struct pol, defshare) },
		{ "--lang", offsetof(struct pol, lang) },
		{ "--note", offsetof(struct pol, note) },
		{ "--action", offsetof(struct pol, action) },
		{ "--order", offsetof(struct pol, order) },
		{ "--priority", offsetof(struct pol, priority) },
	};
	size_t i;

	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		const char *v = *(const char *const *)((const char *)po + opts[i].off);

		if (v != NULL && strstr(allowed, opts[i].name) == NULL) {
			ctl_error("policy %s: option %s does not apply here", what, opts[i].name);
			return CTL_EXIT_USAGE;
		}
	}
	return 0;
}

static bool
is_int(const char *s)
{
	char *end;
	long v;

	v = strtol(s, &end, 10);
	return *s != '\0' && *end == '\0' && v > -1000000 && v < 1000000;
}

/* ------------------------------------------------------------------- user */

static int
policy_user(struct pol *po)
{
	const char *p[4];
	PGresult *res;
	char *norm = NULL;
	bool ds = false;
	int rc;

	if ((rc = want_args(po, 1, "user")) != 0 ||
	    (rc = only_options(po, "user", "--mode --default-share --lang")) != 0)
		return rc;
	if (po->mode != NULL && !ctl_ops_in(po->mode, modes))
		return ctl_usage_error("policy", "--mode '%s' is not one of admin, public, custom, private",
		    po->mode);
	if (po->defshare != NULL && ctl_ops_bool(po->defshare, &ds) < 0)
		return ctl_usage_error("policy", "--default-share '%s' is not yes or no", po->defshare);
	if (po->lang != NULL && strcmp(po->lang, "en") != 0 && strcmp(po->lang, "ja") != 0 &&
	    strcmp(po->lang, "default") != 0)
		return ctl_usage_error("policy", "--lang '%s' is not en, ja or default (the site's "
		    "default_language)", po->lang);
	if (strchr(po->args[0], '@') == NULL || atsm_addr_normalize(po->args[0], &norm, NULL) < 0)
		norm = NULL;
	p[0] = norm != NULL ? norm : po->args[0];
	if ((rc = begin(po, "policy user")) != 0) {
		free(norm);
		return rc;
	}
	if (po->mode == NULL && po->defshare == NULL && po->lang == NULL) {
		res = q(po, "SELECT login, display_name, role, sharing_mode,"
		    " CASE WHEN default_share THEN 'yes' ELSE 'no' END,"
		    " CASE WHEN active THEN 'yes' ELSE 'no' END, coalesce(lang, 'default')"
		    " FROM atsmail.users WHERE login = $1", 1, p);
		atsm_db_rollback(po->ctl->conn);
		free(norm);
		if (res == NULL)
			return ctl_ops_db_fail("policy user", &po->err);
		if (PQntuples(res) == 0) {
			ctl_error("policy user: no user '%s'", po->args[0]);
			PQclear(res);
			return CTL_EXIT_FAIL;
		}
		printf("login          %s\nname           %s\nrole           %s\n"
		    "sharing_mode   %s\ndefault_share  %s\nactive         %s\nlang           %s\n",
		    PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
		    PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 4), PQgetvalue(res, 0, 5),
		    PQgetvalue(res, 0, 6));
		PQclear(res);
		return CTL_EXIT_OK;
	}
	p[1] = po->mode;
	p[2] = po->defshare != NULL ? (ds ? "t" : "f") : NULL;
	/* NULL: keep; "default": the site's default_language (NULL in the row) */
	p[3] = po->lang;
	res = q(po, "WITH old AS (SELECT * FROM atsmail.users WHERE login = $1 FOR UPDATE)"
	    " UPDATE atsmail.users t SET sharing_mode = coalesce($2, old.sharing_mode),"
	    " default_share = coalesce($3::boolean, old.default_share),"
	    " lang = CASE WHEN $4::text IS NULL THEN old.lang WHEN $4::text = 'default'"
	    "  THEN NULL ELSE $4::text END, updated_at = now()"
	    " FROM old WHERE t.id = old.id"
	    " RETURNING t.login, old.sharing_mode, t.sharing_mode,"
	    " CASE WHEN old.default_share THEN 'yes' ELSE 'no' END,"
	    " CASE WHEN t.default_share THEN 'yes' ELSE 'no' END,"
	    " coalesce(old.lang, 'default'), coalesce(t.lang, 'default')", 4, p);
	free(norm);
	if (res == NULL)
		return fail(po, "policy user");
	if (PQntuples(res) == 0) {
		PQclear(res);
		atsm_db_rollback(po->ctl->conn);
		ctl_error("policy user: no user '%s'", po->args[0]);
		return CTL_EXIT_FAIL;
	}
	{
		const char *login = PQgetvalue(res, 0, 0);
		const char *om = PQgetvalue(res, 0, 1), *nm = PQgetvalue(res, 0, 2);
		const char *od = PQgetvalue(res, 0, 3), *nd = PQgetvalue(res, 0, 4);
		const char *ol = PQgetvalue(res, 0, 5), *nl = PQgetvalue(res, 0, 6);
		bool mch = strcmp(om, nm) != 0, dch = strcmp(od, nd) != 0, lch = strcmp(ol, nl) != 0;

		if (!mch && !dch && !lch) {
			atsm_db_rollback(po->ctl->conn);
			printf("%s: unchanged (sharing_mode %s, default_share %s, lang %s)\n", login,
			    nm, nd, nl);
			PQclear(res);
			return CTL_EXIT_OK;
		}
		rc = finish(po, "policy.user", "user", login,
		    json_pack("{s:{s:s,s:b,s:s}, s:{s:s,s:b,s:s}}",
			"from", "sharing_mode", om, "default_share", strcmp(od, "yes") == 0, "lang", ol,
			"to", "sharing_mode", nm, "default_share", strcmp(nd, "yes") == 0, "lang", nl),
		    "policy user");
		if (rc == 0) {
			if (mch)
				printf("%s: sharing_mode %s -> %s\n", login, om, nm);
			if (dch)
				printf("%s: default_share %s -> %s\n", login, od, nd);
			if (lch)
				printf("%s: lang %s -> %s\n", login, ol, nl);
		}
	}
	PQclear(res);
	return rc;
}

/* ------------------------------------------------------ exclusion, intake */

/* "example.com", "@example.com", ".example.com" or an IDN: the A-label
 * form the table holds. */
static char *
norm_domain(const char *in)
{
	char tmp[600], *n = NULL, *d;

	while (*in == '@' || *in == '.')
		in++;
	if (*in == '\0' || strchr(in, '@') != NULL || strlen(in) > 400)
		return NULL;
	snprintf(tmp, sizeof(tmp), "x@%s", in);
	if (atsm_addr_normalize(tmp, &n, NULL) < 0)
		return NULL;
	d = strdup(strchr(n, '@') + 1);
	free(n);
	return d;
}

static int
list_rows(struct pol *po, const char *what, const char *sql, int np, const char *const *p)
{
	PGresult *res;
	int i, j, rc;

	if ((rc = ctl_connect(po->ctl)) != 0)
		return rc;
	if ((res = q(po, sql, np, p)) == NULL)
		return ctl_ops_db_fail(what, &po->err);
	for (i = 0; i < PQntuples(res); i++) {
		for (j = 0; j < PQnfields(res); j++)
			printf(j + 1 < PQnfields(res) ? "%-24s " : "%s", PQgetvalue(res, i, j));
		putchar('\n');
	}
	PQclear(res);
	return CTL_EXIT_OK;
}

static int
policy_exclusion(struct pol *po)
{
	const char *verb = po->nargs > 0 ? po->args[0] : "list";
	const char *p[2];
	PGresult *res;
	char *dom;
	int rc;

	if (strcmp(verb, "list") == 0) {
		if ((rc = want_args(po, po->nargs == 0 ? 0 : 1, "exclusion list")) != 0 ||
		    (rc = only_options(po, "exclusion list", "")) != 0)
			return rc;
		return list_rows(po, "policy exclusion list", "SELECT domain, coalesce(note, '')"
		    " FROM atsmail.exclusion_domains ORDER BY domain", 0, NULL);
	}
	if (strcmp(verb, "add") != 0 && strcmp(verb, "remove") != 0)
		return ctl_usage_error("policy", "exclusion: unknown subcommand '%s' (known: list, add, remove)",
		    verb);
	if ((rc = want_args(po, 2, verb[0] == 'a' ? "exclusion add" : "exclusion remove")) != 0 ||
	    (rc = only_options(po, "exclusion", verb[0] == 'a' ? "--note" : "")) != 0)
		return rc;
	if ((dom = norm_domain(po->args[1])) == NULL)
		return ctl_usage_error("policy", "exclusion: '%s' is not a domain", po->args[1]);
	if ((rc = begin(po, "policy exclusion")) != 0) {
		free(dom);
		return rc;
	}
	p[0] = dom;
	p[1] = po->note;
	if (verb[0] == 'a')
		res = q(po, "INSERT INTO atsmail.exclusion_domains (domain, note) VALUES ($1, $2)"
		    " ON CONFLICT DO NOTHING RETURNING domain", 2, p);
	else
		res = q(po, "DELETE FROM atsmail.exclusion_domains WHERE domain = $1"
		    " RETURNING domain", 1, p);
	if (res == NULL) {
		free(dom);
		return fail(po, "policy exclusion");
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		atsm_db_rollback(po->ctl->conn);
		if (verb[0] == 'a') {
			printf("exclusion domain %s: already present, unchanged\n", dom);
			free(dom);
			return CTL_EXIT_OK;
		}
		ctl_error("policy exclusion remove: '%s' is not an exclusion domain", dom);
		free(dom);
		return CTL_EXIT_FAIL;
	}
	PQclear(res);
	rc = finish(po, verb[0] == 'a' ? "policy.exclusion.add" : "policy.exclusion.remove",
	    "exclusion_domain", dom, po->note != NULL ? json_pack("{s:s}", "note", po->note) :
	    json_object(), "policy exclusion");
	if (rc == 0)
		printf("exclusion domain %s %s\n", dom, verb[0] == 'a' ? "added" : "removed");
	free(dom);
	return rc;
}

static int
policy_intake(struct pol *po)
{
	const char *verb = po->nargs > 0 ? po->args[0] : "list";
	const char *p[3];
	PGresult *res;
	char *addr = NULL;
	int rc;

	if (strcmp(verb, "list") == 0) {
		if ((rc = want_args(po, po->nargs == 0 ? 0 : 1, "intake list")) != 0 ||
		    (rc = only_options(po, "intake list", "")) != 0)
			return rc;
		return list_rows(po, "policy intake list", "SELECT address, action,"
		    " coalesce(note, '') FROM atsmail.intake_addresses ORDER BY address", 0, NULL);
	}
	if (strcmp(verb, "add") != 0 && strcmp(verb, "remove") != 0)
		return ctl_usage_error("policy", "intake: unknown subcommand '%s' (known: list, add, remove)",
		    verb);
	if ((rc = want_args(po, 2, verb[0] == 'a' ? "intake add" : "intake remove")) != 0 ||
	    (rc = only_options(po, "intake", verb[0] == 'a' ? "--action --note" : "")) != 0)
		return rc;
	if (po->action != NULL && !ctl_ops_in(po->action, intake_actions))
		return ctl_usage_error("policy", "intake: --action '%s' is not resume or unresolved", po->action);
	if (atsm_addr_normalize(po->args[1], &addr, &po->err) < 0)
		return ctl_usage_error("policy", "intake: %s", po->err.msg);
	if ((rc = begin(po, "policy intake")) != 0) {
		free(addr);
		return rc;
	}
	p[0] = addr;
	p[1] = po->action;
	p[2] = po->note;
	if (verb[0] == 'a')
		res = q(po, "WITH old AS (SELECT action FROM atsmail.intake_addresses"
		    "  WHERE address = $1)"
		    " INSERT INTO atsmail.intake_addresses (address, action, note)"
		    " VALUES ($1, coalesce($2, 'resume'), $3)"
		    " ON CONFLICT (address) DO UPDATE SET action = coalesce($2, atsmail.intake_addresses.action),"
		    "  note = coalesce($3, atsmail.intake_addresses.note)"
		    " RETURNING (SELECT action FROM old), action", 3, p);
	else
		res = q(po, "DELETE FROM atsmail.intake_addresses WHERE address = $1"
		    " RETURNING action, action", 1, p);
	if (res == NULL) {
		free(addr);
		return fail(po, "policy intake");
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		atsm_db_rollback(po->ctl->conn);
		ctl_error("policy intake remove: '%s' is not an intake address", addr);
		free(addr);
		return CTL_EXIT_FAIL;
	}
	if (verb[0] == 'a' && !PQgetisnull(res, 0, 0) &&
	    strcmp(PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1)) == 0 && po->note == NULL) {
		atsm_db_rollback(po->ctl->conn);
		printf("intake address %s: already present (action %s), unchanged\n", addr,
		    PQgetvalue(res, 0, 1));
		PQclear(res);
		free(addr);
		return CTL_EXIT_OK;
	}
	if (verb[0] == 'a')
		rc = finish(po, "policy.intake.add", "intake_address", addr,
		    json_pack("{s:s?, s:s, s:s?}", "from", PQgetisnull(res, 0, 0) ? NULL :
			PQgetvalue(res, 0, 0), "action", PQgetvalue(res, 0, 1), "note", po->note),
		    "policy intake");
	else
		rc = finish(po, "policy.intake.remove", "intake_address", addr,
		    json_pack("{s:s}", "action", PQgetvalue(res, 0, 1)), "policy intake");
	if (rc == 0) {
		if (verb[0] == 'r')
			printf("intake address %s removed\n", addr);
		else if (PQgetisnull(res, 0, 0))
			printf("intake address %s added (action %s)\n", addr, PQgetvalue(res, 0, 1));
		else
			printf("intake address %s: action %s -> %s\n", addr, PQgetvalue(res, 0, 0),
			    PQgetvalue(res, 0, 1));
	}
	PQclear(res);
	free(addr);
	return rc;
}

/* ------------------------------------------------------------------ phase */

static int
policy_phase(struct pol *po)
{
	const char *verb = po->nargs > 0 ? po->args[0] : "list";
	const char *p[4];
	PGresult *res;
	char obj[80];
	int rc, n;

	if (strcmp(verb, "list") == 0) {
		if (po->nargs > 2)
			return want_args(po, 2, "phase list");
		if ((rc = only_options(po, "phase list", "")) != 0)
			return rc;
		if (po->nargs == 2 && !ctl_ops_in(po->args[1], kinds))
			return ctl_usage_error("policy", "phase: kind '%s' is not resume, contact or process",
			    po->args[1]);
		p[0] = po->nargs == 2 ? po->args[1] : NULL;
		/* the label last: its characters are wide, the rest align */
		return list_rows(po, "policy phase list", "SELECT format('%-8s %-12s %5s  %-8s  %s',"
		    " kind, code, sort_order, CASE WHEN active THEN 'active' ELSE 'inactive' END,"
		    " label) FROM atsmail.phases WHERE $1::text IS NULL OR kind = $1"
		    " ORDER BY kind, sort_order, code", 1, p);
	}
	n = strcmp(verb, "add") == 0 || strcmp(verb, "label") == 0 ? 4 :
	    strcmp(verb, "deactivate") == 0 || strcmp(verb, "activate") == 0 ? 3 : 0;
	if (n == 0)
		return ctl_usage_error("policy", "phase: unknown subcommand '%s' (known: list, add, label, "
		    "deactivate, activate)", verb);
	if ((rc = want_args(po, n, verb)) != 0 ||
	    (rc = only_options(po, "phase", strcmp(verb, "add") == 0 ? "--order" : "")) != 0)
		return rc;
	if (!ctl_ops_in(po->args[1], kinds))
		return ctl_usage_error("policy", "phase: kind '%s' is not resume, contact or process",
		    po->args[1]);
	if (!ctl_ops_phase_code_ok(po->args[2]))
		return ctl_usage_error("policy", "phase: code '%s' must match [a-z0-9][a-z0-9_-]{0,31}",
		    po->args[2]);
	if (n == 4 && po->args[3][0] == '\0')
		return ctl_usage_error("policy", "phase: the label of '%s' is empty", po->args[2]);
	if (po->order != NULL && !is_int(po->order))
		return ctl_usage_error("policy", "phase: --order '%s' is not a number", po->order);
	if ((rc = begin(po, "policy phase")) != 0)
		return rc;
	snprintf(obj, sizeof(obj), "%s/%s", po->args[1], po->args[2]);
	p[0] = po->args[1];
	p[1] = po->args[2];
	if (strcmp(verb, "add") == 0) {
		p[2] = po->args[3];
		p[3] = po->order;
		res = q(po, "INSERT INTO atsmail.phases (kind, code, label, sort_order)"
		    " VALUES ($1, $2, $3, coalesce($4::integer, (SELECT coalesce(max(sort_order), 0) + 10"
		    "  FROM atsmail.phases WHERE kind = $1)))"
		    " ON CONFLICT (kind, code) DO NOTHING RETURNING label, label, sort_order", 4, p);
	} else if (strcmp(verb, "label") == 0) {
		p[2] = po->args[3];
		res = q(po, "WITH old AS (SELECT * FROM atsmail.phases WHERE kind = $1 AND code = $2"
		    " FOR UPDATE) UPDATE atsmail.phases t SET label = $3 FROM old"
		    " WHERE t.id = old.id RETURNING old.label, t.label", 3, p);
	} else {
		p[2] = verb[0] == 'a' ? "t" : "f";
		res = q(po, "WITH old AS (SELECT * FROM atsmail.phases WHERE kind = $1 AND code = $2"
		    " FOR UPDATE) UPDATE atsmail.phases t SET active = $3::boolean FROM old"
		    " WHERE t.id = old.id RETURNING old.active::text, t.active::text", 3, p);
	}
	if (res == NULL)
		return fail(po, "policy phase");
	if (PQntuples(res) == 0) {
		PQclear(res);
		atsm_db_rollback(po->ctl->conn);
		if (strcmp(verb, "add") == 0)
			ctl_error("policy phase add: %s phase '%s' exists already (change its label "
			    "with 'policy phase label')", po->args[1], po->args[2]);
		else
			ctl_error("policy phase %s: no %s phase '%s'", verb, po->args[1], po->args[2]);
		return CTL_EXIT_FAIL;
	}
	if (strcmp(verb, "add") != 0 && strcmp(PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1)) == 0) {
		atsm_db_rollback(po->ctl->conn);
		printf("%s phase %s: unchanged\n", po->args[1], po->args[2]);
		PQclear(res);
		return CTL_EXIT_OK;
	}
	if (strcmp(verb, "add") == 0) {
		rc = finish(po, "policy.phase.add", "phase", obj, json_pack("{s:s, s:i}",
		    "label", po->args[3], "sort_order", atoi(PQgetvalue(res, 0, 2))), "policy phase");
		if (rc == 0)
			printf("%s phase %s added: %s\n", po->args[1], po->args[2], po->args[3]);
	} else if (strcmp(verb, "label") == 0) {
		rc = finish(po, "policy.phase.label", "phase", obj, json_pack("{s:s, s:s}",
		    "from", PQgetvalue(res, 0, 0), "to", PQgetvalue(res, 0, 1)), "policy phase");
		if (rc == 0)
			printf("%s phase %s: label %s -> %s\n", po->args[1], po->args[2],
			    PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
	} else {
		char action[40];

		snprintf(action, sizeof(action), "policy.phase.%s", verb);
		rc = finish(po, action, "phase", obj, json_object(), "policy phase");
		if (rc == 0)
			printf("%s phase %s %sd\n", po->args[1], po->args[2], verb);
	}
	PQclear(res);
	return rc;
}

/* ------------------------------------------------------------------- rule */

static int
policy_rule(struct pol *po)
{
	const char *verb = po->nargs > 0 ? po->args[0] : "list";
	const char *p[5];
	PGresult *res;
	int rc;

	if (strcmp(verb, "list") == 0) {
		if ((rc = want_args(po, po->nargs == 0 ? 0 : 1, "rule list")) != 0 ||
		    (rc = only_options(po, "rule list", "")) != 0)
			return rc;
		return list_rows(po, "policy rule list", "SELECT lpad(id::text, 4) || '  ' ||"
		    " rpad(kind, 8) || ' on ' || rpad(event, 7) || rpad(coalesce(from_phase, '-'), 12)"
		    " || '-> ' || rpad(to_phase, 12) || 'priority ' || priority"
		    " || CASE WHEN active THEN '' ELSE ' (inactive)' END"
		    " FROM atsmail.phase_rules ORDER BY kind, event, priority DESC, id", 0, NULL);
	}
	if (strcmp(verb, "add") == 0) {
		if ((rc = want_args(po, 5, "rule add")) != 0 ||
		    (rc = only_options(po, "rule add", "--priority")) != 0)
			return rc;
		if (!ctl_ops_in(po->args[1], kinds))
			return ctl_usage_error("policy", "rule: kind '%s' is not resume, contact or process",
			    po->args[1]);
		if (!ctl_ops_in(po->args[2], events))
			return ctl_usage_error("policy", "rule: event '%s' is not reply, bounce or sent", po->args[2]);
		if (po->priority != NULL && !is_int(po->priority))
			return ctl_usage_error("policy", "rule: --priority '%s' is not a number", po->priority);
		if ((rc = begin(po, "policy rule")) != 0)
			return rc;
		p[0] = po->args[1];
		p[1] = po->args[2];
		p[2] = strcmp(po->args[3], "-") == 0 ? NULL : po->args[3];
		p[3] = po->args[4];
		p[4] = po->priority;
		/* the phases are checked here so that the message names them */
		res = q(po, "SELECT code FROM unnest(ARRAY[$2, $3]::text[]) AS c(code)"
		    " WHERE code IS NOT NULL AND NOT EXISTS (SELECT 1 FROM atsmail.phases"
		    "  WHERE kind = $1 AND phases.code = c.code)", 3, (const char *[]){ p[0], p[2], p[3] });
		if (res == NULL)
			return fail(po, "policy rule");
		if (PQntuples(res) > 0) {
			ctl_error("policy rule add: no %s phase '%s' (see " CTL_PROGNAME
			    " policy phase list %s)", po->args[1], PQgetvalue(res, 0, 0), po->args[1]);
			PQclear(res);
			atsm_db_rollback(po->ctl->conn);
			return CTL_EXIT_FAIL;
		}
		PQclear(res);
		res = q(po, "INSERT INTO atsmail.phase_rules (kind, event, from_phase, to_phase,"
		    " priority) VALUES ($1, $2, $3, $4, coalesce($5::integer, 0))"
		    " RETURNING id, priority", 5, p);
		if (res == NULL)
			return fail(po, "policy rule");
		rc = finish(po, "policy.rule.add", "phase_rule", PQgetvalue(res, 0, 0),
		    json_pack("{s:s, s:s, s:s?, s:s, s:i}", "kind", p[0], "event", p[1], "from", p[2],
			"to", p[3], "priority", atoi(PQgetvalue(res, 0, 1))), "policy rule");
		if (rc == 0)
			printf("rule %s added: %s on %s, %s -> %s, priority %s\n",
			    PQgetvalue(res, 0, 0), p[0], p[1], p[2] != NULL ? p[2] : "any phase", p[3],
			    PQgetvalue(res, 0, 1));
		PQclear(res);
		return rc;
	}
	if (strcmp(verb, "remove") != 0)
		return ctl_usage_error("policy", "rule: unknown subcommand '%s' (known: list, add, remove)", verb);
	if ((rc = want_args(po, 2, "rule remove")) != 0 ||
	    (rc = only_options(po, "rule remove", "")) != 0)
		return rc;
	if (!is_int(po->args[1]))
		return ctl_usage_error("policy", "rule remove: '%s' is not a rule id", po->args[1]);
	if ((rc = begin(po, "policy rule")) != 0)
		return rc;
	p[0] = po->args[1];
	res = q(po, "DELETE FROM atsmail.phase_rules WHERE id = $1::bigint"
	    " RETURNING kind, event, from_phase, to_phase, priority", 1, p);
	if (res == NULL)
		return fail(po, "policy rule");
	if (PQntuples(res) == 0) {
		PQclear(res);
		atsm_db_rollback(po->ctl->conn);
		ctl_error("policy rule remove: no rule %s", po->args[1]);
		return CTL_EXIT_FAIL;
	}
	rc = finish(po, "policy.rule.remove", "phase_rule", po->args[1],
	    json_pack("{s:s, s:s, s:s?, s:s, s:i}", "kind", PQgetvalue(res, 0, 0),
		"event", PQgetvalue(res, 0, 1),
		"from", PQgetisnull(res, 0, 2) ? NULL : PQgetvalue(res, 0, 2),
		"to", PQgetvalue(res, 0, 3), "priority", atoi(PQgetvalue(res, 0, 4))),
	    "policy rule");
	if (rc == 0)
		printf("rule %s removed\n", po->args[1]);
	PQclear(res);
	return rc;
}

int
ctl_cmd_policy(struct ctl *ctx, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(struct pol *);
	} subs[] = {
		{ "user", policy_user }, { "exclusion", policy_exclusion },
		{ "intake", policy_intake }, { "phase", policy_phase }, { "rule", policy_rule },
	};
	struct pol po;
	const char *actor = NULL;
	size_t s;
	int i;

	memset(&po, 0, sizeof(po));
	po.ctl = ctx;
	if (argc < 2) {
		ctl_error("policy: which one? user, exclusion, intake, phase, rule, approval or group");
		ctl_cmd_policy_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	for (i = 1; i < argc; i++)
		if (ctl_is_help(argv[i])) {
			ctl_cmd_policy_usage(stdout);
			return CTL_EXIT_OK;
		}
	if (strcmp(argv[1], "approval") == 0 || strcmp(argv[1], "group") == 0)
		return ctl_policy_approval(ctx, argc, argv);
	for (s = 0; s < sizeof(subs) / sizeof(subs[0]); s++)
		if (strcmp(argv[1], subs[s].name) == 0)
			break;
	if (s == sizeof(subs) / sizeof(subs[0])) {
		ctl_error("policy: unknown subcommand '%s' (known: user, exclusion, intake, phase, "
		    "rule, approval, group)", argv[1]);
		return CTL_EXIT_USAGE;
	}
	for (i = 2; i < argc; i++) {
		const char **slot = NULL, *v;

		if (ctl_ops_option(argc, argv, &i, "--actor", &v))
			slot = &actor;
		else if (ctl_ops_option(argc, argv, &i, "--mode", &v))
			slot = &po.mode;
		else if (ctl_ops_option(argc, argv, &i, "--default-share", &v))
			slot = &po.defshare;
		else if (ctl_ops_option(argc, argv, &i, "--lang", &v))
			slot = &po.lang;
		else if (ctl_ops_option(argc, argv, &i, "--note", &v))
			slot = &po.note;
		else if (ctl_ops_option(argc, argv, &i, "--action", &v))
			slot = &po.action;
		else if (ctl_ops_option(argc, argv, &i, "--order", &v))
			slot = &po.order;
		else if (ctl_ops_option(argc, argv, &i, "--priority", &v))
			slot = &po.priority;
		if (slot != NULL) {
			if (v == NULL)
				return CTL_EXIT_USAGE;
			*slot = v;
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1] != '\0' && strcmp(argv[i], "-") != 0) {
			ctl_error("policy %s: unknown option '%s'", argv[1], argv[i]);
			return CTL_EXIT_USAGE;
		}
		if (po.nargs >= POLICY_ARGS_MAX) {
			ctl_error("policy %s: too many arguments", argv[1]);
			return CTL_EXIT_USAGE;
		}
		po.args[po.nargs++] = argv[i];
	}
	po.actor = ctl_ops_actor(actor);
	return subs[s].fn(&po);
}

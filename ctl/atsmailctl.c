/* atsmailctl.c -- the administration tool of atsmail: global options,
 * the table of commands, configuration and database connection shared by
 * the commands (see ctl.h and docs/atsmailctl.md).
 *
 * Usage: atsmailctl [-c FILE] [--db CONNINFO] [--sql-dir DIR] COMMAND [ARGS...]
 * A new command is one cmd-NAME.c with a run and a usage function, and one
 * line in commands[] below.
 */
#include "atsm-build-config.h"
#include "ctl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/db.h"

#ifndef ATSM_SQLDIR
#define ATSM_SQLDIR "/usr/local/share/atsmail/sql"
#endif

static const struct ctl_command commands[] = {
	{ "setup", "as root: the database, migrations and logins for peer auth",
	  ctl_cmd_setup, ctl_cmd_setup_usage },
	{ "db", "database schema: migrate, status", ctl_cmd_db, ctl_cmd_db_usage },
	{ "replay", "record the journaled facts of mail, exactly once", ctl_cmd_replay,
	  ctl_cmd_replay_usage },
	{ "import", "import users, resumes, contacts, companies, jobs from CSV",
	  ctl_cmd_import, ctl_cmd_import_usage },
	{ "policy", "sharing modes, exclusion domains, intake addresses, phases, rules",
	  ctl_cmd_policy, ctl_cmd_policy_usage },
	{ "history", "the mail and phase history of a resume or contact", ctl_cmd_history,
	  ctl_cmd_history_usage },
	{ "report", "figures of a period per recruiter, shared mailbox and job: table, CSV,"
	  " HTML", ctl_cmd_report, ctl_cmd_report_usage },
	{ "audit", "the audit log's hash chain: verify, anchor its head, export",
	  ctl_cmd_audit, ctl_cmd_audit_usage },
	{ "approval", "mail held for approval: list, approve, reject, run (decisions by mail,"
	  " reminders)", ctl_cmd_approval, ctl_cmd_approval_usage },
	{ "held", "the older name of approval (release = approve)", ctl_cmd_held,
	  ctl_cmd_held_usage },
	{ "bulk", "bulk send: send, status, list, cancel", ctl_cmd_bulk, ctl_cmd_bulk_usage },
	{ "unresolved", "intake mail waiting for a record: list, assign", ctl_cmd_unresolved,
	  ctl_cmd_unresolved_usage },
	{ "snapshot", "atsmaild's local snapshot: status, sync", ctl_cmd_snapshot,
	  ctl_cmd_snapshot_usage },
	{ "template", "mail templates: add, edit, list, show, rm, render, sync",
	  ctl_cmd_template, ctl_cmd_template_usage },
	{ "shared", "shared mailboxes: list, history, member, rule, sync",
	  ctl_cmd_shared, ctl_cmd_shared_usage },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

void
ctl_error(const char *fmt, ...)
{
	va_list ap;

	fputs(CTL_PROGNAME ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
ctl_usage_error(const char *cmd, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ctl_error("%s: %s; see " CTL_PROGNAME " %s --help", cmd, buf, cmd);
	return CTL_EXIT_USAGE;
}

bool
ctl_is_help(const char *arg)
{
	return strcmp(arg, "help") == 0 || strcmp(arg, "--help") == 0 ||
	    strcmp(arg, "-h") == 0;
}

static void
usage(FILE *fp)
{
	size_t i;

	fprintf(fp,
	    "usage: " CTL_PROGNAME " [-c FILE] [--db CONNINFO] [--sql-dir DIR] COMMAND [ARGS...]\n"
	    "       " CTL_PROGNAME " help [COMMAND]  |  --help  |  --version\n"
	    "\n"
	    "Options (before the command):\n"
	    "  -c, --config FILE   configuration file (default %s;\n"
	    "                      when that default does not exist, built-in defaults)\n"
	    "  --db CONNINFO       libpq connection string; overrides db_conninfo\n"
	    "  --sql-dir DIR       migrations directory (default: $ATSMAIL_SQL_DIR,\n"
	    "                      else %s)\n"
	    "  -h, --help          this help;  -V, --version  the version\n"
	    "\n"
	    "Commands:\n", ATSM_CONF_DEFAULT_PATH, ATSM_SQLDIR);
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(fp, "  %-18s  %s\n", commands[i].name, commands[i].summary);
	fprintf(fp,
	    "  %-18s  %s\n"
	    "\n"
	    "Exit codes:\n"
	    "  0  success\n"
	    "  1  the operation failed\n"
	    "  2  usage error (unknown command or option)\n"
	    "  3  configuration error\n"
	    "  4  database unavailable\n",
	    "help [COMMAND]", "help of a command (also COMMAND --help)");
}

static const struct ctl_command *
find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int
ctl_load_config(struct ctl *ctx)
{
	struct atsm_err err;

	if (ctx->conf_ready)
		return 0;
	if (atsm_conf_init(&ctx->conf, &err) < 0) {
		ctl_error("configuration defaults: %s", err.msg);
		return CTL_EXIT_CONFIG;
	}
	ctx->conf_ready = true;
	/* A host without the file runs on defaults; a file named with -c
	 * must exist. */
	if (!ctx->conf_given && access(ctx->conf_path, F_OK) < 0 && errno == ENOENT)
		return 0;
	if (atsm_conf_load(&ctx->conf, ctx->conf_path, &err) < 0) {
		ctl_error("%s", err.msg);
		return CTL_EXIT_CONFIG;
	}
	return 0;
}

int
ctl_connect(struct ctl *ctx)
{
	struct atsm_db_params p;
	struct atsm_err err;
	int rc;

	if (ctx->conn != NULL)
		return 0;
	if ((rc = ctl_load_config(ctx)) != 0)
		return rc;
	memset(&p, 0, sizeof(p));
	p.conninfo = ctx->db_conninfo != NULL ? ctx->db_conninfo : ctx->conf.db_conninfo;
	p.pool_size = 1;
	p.statement_timeout_ms = ctx->conf.db_statement_timeout;
	p.connect_timeout_ms = ctx->conf.db_connect_timeout;
	p.application_name = CTL_PROGNAME;
	if ((ctx->conn = atsm_db_connect(&p, &err)) == NULL) {
		ctl_error("%s", err.msg);
		return CTL_EXIT_DBDOWN;
	}
	return 0;
}

/* The value of an option given as "--name VALUE" or "--name=VALUE";
 * advances *i past what it used.  NULL (after a message) when missing. */
static const char *
option_value(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, n) == 0 && a[n] == '=')
		return a + n + 1;
	if (*i + 1 >= argc) {
		ctl_error("option %s needs a value; see " CTL_PROGNAME " --help", name);
		return NULL;
	}
	return argv[++*i];
}

static bool
is_option(const char *arg, const char *name)
{
	size_t n = strlen(name);

	return strncmp(arg, name, n) == 0 && (arg[n] == '\0' || (arg[n] == '=' && name[1] == '-'));
}

int
main(int argc, char **argv)
{
	const struct ctl_command *cmd;
	struct ctl ctx;
	int i, rc;

	memset(&ctx, 0, sizeof(ctx));
	ctx.conf_path = ATSM_CONF_DEFAULT_PATH;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return CTL_EXIT_OK;
		} else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			printf(CTL_PROGNAME " (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			return CTL_EXIT_OK;
		} else if (is_option(a, "-c") || is_option(a, "--config")) {
			if ((ctx.conf_path = option_value(argc, argv, &i,
			    a[1] == 'c' ? "-c" : "--config")) == NULL)
				return CTL_EXIT_USAGE;
			ctx.conf_given = true;
		} else if (is_option(a, "--db")) {
			if ((ctx.db_conninfo = option_value(argc, argv, &i, "--db")) == NULL)
				return CTL_EXIT_USAGE;
		} else if (is_option(a, "--sql-dir")) {
			if ((ctx.sql_dir = option_value(argc, argv, &i, "--sql-dir")) == NULL)
				return CTL_EXIT_USAGE;
		} else {
			ctl_error("unknown option '%s'; see " CTL_PROGNAME " --help", a);
			return CTL_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		ctl_error("no command given");
		usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (strcmp(argv[i], "help") == 0) {
		if (i + 1 >= argc) {
			usage(stdout);
			return CTL_EXIT_OK;
		}
		if ((cmd = find_command(argv[i + 1])) == NULL) {
			ctl_error("no help for unknown command '%s'; see " CTL_PROGNAME " --help",
			    argv[i + 1]);
			return CTL_EXIT_USAGE;
		}
		cmd->usage(stdout);
		return CTL_EXIT_OK;
	}
	if ((cmd = find_command(argv[i])) == NULL) {
		ctl_error("unknown command '%s'; see " CTL_PROGNAME " --help", argv[i]);
		return CTL_EXIT_USAGE;
	}

	rc = cmd->run(&ctx, argc - i, argv + i);

	if (ctx.conn != NULL)
		PQfinish(ctx.conn);
	if (ctx.conf_ready)
		atsm_conf_free(&ctx.conf);
	if (fflush(stdout) != 0 && rc == CTL_EXIT_OK) {
		ctl_error("cannot write the output: %s", strerror(errno));
		rc = CTL_EXIT_FAIL;
	}
	return rc;
}

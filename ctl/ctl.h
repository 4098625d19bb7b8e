/* ctl.h -- what the commands of atsmailctl share.
 *
 * atsmailctl.c parses the global options into a struct ctl, finds the
 * command in its table (struct ctl_command) and calls it with the rest of
 * the command line (argv[0] is the command's name).  A command loads the
 * configuration and connects only when it needs to, through
 * ctl_load_config() and ctl_connect(), and returns one of the exit codes
 * below.  Each command lives in its own cmd-NAME.c.
 */
#ifndef ATSM_CTL_H
#define ATSM_CTL_H

#include <stdbool.h>
#include <stdio.h>
#include <libpq-fe.h>

#include "base/conf.h"
#include "base/err.h"

/* Exit codes, documented in `atsmailctl --help` and docs/atsmailctl.md. */
enum ctl_exit {
	CTL_EXIT_OK = 0,        /* success */
	CTL_EXIT_FAIL = 1,      /* the operation failed */
	CTL_EXIT_USAGE = 2,     /* bad command line */
	CTL_EXIT_CONFIG = 3,    /* the configuration file is wrong or unreadable */
	CTL_EXIT_DBDOWN = 4     /* the database cannot be reached */
};

struct ctl {
	const char *conf_path;     /* -c FILE, else ATSM_CONF_DEFAULT_PATH */
	bool conf_given;           /* -c was given: the file must exist */
	const char *db_conninfo;   /* --db: overrides db_conninfo; NULL if absent */
	const char *sql_dir;       /* --sql-dir; NULL if absent */
	struct atsm_conf conf;
	bool conf_ready;           /* conf holds the loaded configuration */
	PGconn *conn;              /* open connection, or NULL */
};

struct ctl_command {
	const char *name;
	const char *summary;                          /* one line for --help */
	int (*run)(struct ctl *ctx, int argc, char **argv);
	void (*usage)(FILE *fp);                      /* full help of the command */
};

#define CTL_PROGNAME "atsmailctl"

/* "atsmailctl: <message>" on stderr. */
void ctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "<cmd>: <what>; see atsmailctl <cmd> --help" on stderr; returns CTL_EXIT_USAGE. */
int ctl_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "help", "--help" or "-h". */
bool ctl_is_help(const char *arg);

/* Load the configuration once: 0, or CTL_EXIT_CONFIG after an error
 * message that names the file and line. */
int ctl_load_config(struct ctl *ctx);

/* Load the configuration and open ctx->conn: 0, or the exit code
 * (CTL_EXIT_CONFIG, CTL_EXIT_DBDOWN) after an error message. */
int ctl_connect(struct ctl *ctx);

/* commands (one cmd-*.c each) */
int ctl_cmd_setup(struct ctl *ctx, int argc, char **argv);
void ctl_cmd_setup_usage(FILE *fp);
int ctl_cmd_db(struct ctl *ctx, int argc, char **argv);
void ctl_cmd_db_usage(FILE *fp);
int ctl_cmd_replay(struct ctl *ctx, int argc, char **argv);
void ctl_cmd_replay_usage(FILE *fp);
int ctl_cmd_import(struct ctl *ctx, int argc, char **argv);
void ctl_cmd_import_usage(FILE *fp);
int ctl_cmd_policy(struct ctl *ctx, int argc, char **argv);
void ctl_cmd_policy_usage(FILE *fp);
int ctl_cmd_history(struct ctl *ctx, int argc, char **argv);
void ctl_cmd_history_usage(FILE *fp);
int ctl_cmd_audit(struct ctl *ctx, int argc, char **argv);
void ctl_cmd_audit_usage(FILE *fp);
int ctl_cmd_held(struct ctl *ctx, int argc, char **argv);
void ctl_cmd_held_usage(FILE *fp);
int ctl_cmd_approval(struct ctl *ctx, int argc, char **argv);
void ctl_cmd_approval_usage(FILE *fp);
int ctl_cmd_unresolved(struct ctl *ctx, int argc, char **argv);
void ctl_cmd_unresolved_usage(FILE *fp);
int ctl_cmd_bulk(struct ctl *ctx, int argc, char **argv);
void ctl_cmd_bulk_usage(FILE *fp);
int ctl_cmd_snapshot(struct ctl *ctx, int argc, char **argv);
void ctl_cmd_snapshot_usage(FILE *fp);
int ctl_cmd_template(struct ctl *ctx, int argc, char **argv);
void ctl_cmd_template_usage(FILE *fp);
int ctl_cmd_report(struct ctl *ctx, int argc, char **argv);
void ctl_cmd_report_usage(FILE *fp);
int ctl_cmd_shared(struct ctl *ctx, int argc, char **argv);
void ctl_cmd_shared_usage(FILE *fp);
/* shared sync (cmd-shared-sync.c): argv[0] is "sync" */
int ctl_cmd_shared_sync(struct ctl *ctx, int argc, char **argv);

#endif

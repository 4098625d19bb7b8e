/* cmd-snapshot.c -- atsmailctl snapshot: look at atsmaild's local snapshot.
 *
 *   atsmailctl snapshot status   what it holds and how fresh it is
 *   atsmailctl snapshot sync     load it from the database now (a full
 *                                resync; atsmaild may be running)
 *
 * The snapshot (store/snapshot.h, docs/snapshot.md) is an LMDB
 * environment in snapshot_dir; status opens it read-only, so it can run
 * beside atsmaild as any user that can read the directory.  Exit code 1
 * from status when the snapshot has never been loaded from the database:
 * atsmaild then answers every mail with a temporary failure, which is
 * what a monitoring check wants to know.
 */
#include "atsm-build-config.h"
#include "ctl.h"

#include <string.h>
#include <time.h>

#include "store/snapshot.h"

void
ctl_cmd_snapshot_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: " CTL_PROGNAME " snapshot status\n"
	    "       " CTL_PROGNAME " snapshot sync\n"
	    "\n"
	    "status  what atsmaild's snapshot (snapshot_dir) holds and when it was last\n"
	    "        loaded from the database; exit 1 when never (atsmaild then tempfails mail)\n"
	    "sync    load it from the database now (a full resync)\n");
}

static void
when(char *out, size_t size, long long t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0) {
		snprintf(out, size, "never");
		return;
	}
	gmtime_r(&tt, &tm);
	strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
open_snapshot(struct ctl *ctx, bool readonly, struct atsm_snapshot **s)
{
	struct atsm_snapshot_params p;
	struct atsm_err err;

	memset(&p, 0, sizeof(p));
	p.dir = ctx->conf.snapshot_dir;
	p.map_size = ctx->conf.snapshot_map_size;
	p.max_readers = 16;
	p.readonly = readonly;
	atsm_err_clear(&err);
	if (atsm_snapshot_open(&p, s, &err) < 0) {
		ctl_error("snapshot_dir %s: %s", ctx->conf.snapshot_dir, err.msg);
		return CTL_EXIT_FAIL;
	}
	return 0;
}

static int
status(struct ctl *ctx)
{
	struct atsm_snapshot *s;
	struct atsm_snapshot_info info;
	struct atsm_err err;
	char full[32], change[32];
	int rc;

	if ((rc = open_snapshot(ctx, true, &s)) != 0)
		return rc;
	atsm_err_clear(&err);
	rc = atsm_snapshot_info(s, &info, &err);
	atsm_snapshot_close(s);
	if (rc < 0) {
		ctl_error("snapshot_dir %s: %s", ctx->conf.snapshot_dir, err.msg);
		return CTL_EXIT_FAIL;
	}
	when(full, sizeof(full), info.last_full_sync);
	when(change, sizeof(change), info.last_change);
	printf("snapshot:          %s\n", ctx->conf.snapshot_dir);
	printf("last full sync:    %s\n", full);
	printf("last change:       %s\n", change);
	printf("messages seen:     up to id %lld\n", info.messages_seen);
	printf("users:             %zu\n", info.users);
	printf("resumes+contacts:  %zu\n", info.records);
	printf("addresses:         %zu\n", info.addresses);
	printf("processes:         %zu\n", info.processes);
	printf("messages:          %zu\n", info.messages);
	return info.last_full_sync > 0 ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}

static int
sync_now(struct ctl *ctx)
{
	struct atsm_snapshot *s;
	struct atsm_err err;
	int rc;

	if ((rc = ctl_connect(ctx)) != 0)
		return rc;
	if ((rc = open_snapshot(ctx, false, &s)) != 0)
		return rc;
	atsm_err_clear(&err);
	rc = atsm_snapshot_sync_full(s, ctx->conn, &err);
	atsm_snapshot_close(s);
	if (rc < 0) {
		ctl_error("snapshot sync: %s", err.msg);
		return err.cls == ATSM_ERR_UNAVAILABLE ? CTL_EXIT_DBDOWN : CTL_EXIT_FAIL;
	}
	printf("snapshot loaded from the database\n");
	return CTL_EXIT_OK;
}

int
ctl_cmd_snapshot(struct ctl *ctx, int argc, char **argv)
{
	int rc;

	if (argc != 2 || ctl_is_help(argv[1])) {
		ctl_cmd_snapshot_usage(argc == 2 ? stdout : stderr);
		return argc == 2 ? CTL_EXIT_OK : CTL_EXIT_USAGE;
	}
	if ((rc = ctl_load_config(ctx)) != 0)
		return rc;
	if (strcmp(argv[1], "status") == 0)
		return status(ctx);
	if (strcmp(argv[1], "sync") == 0)
		return sync_now(ctx);
	ctl_error("snapshot: unknown subcommand \"%s\"", argv[1]);
	ctl_cmd_snapshot_usage(stderr);
	return CTL_EXIT_USAGE;
}

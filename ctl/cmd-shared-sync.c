/* cmd-shared-sync.c -- atsmailctl shared sync: a placeholder until the
 * delivery half of shared mailboxes brings the real one (folders and
 * members' rights with doveadm). */
#include "ctl.h"

int
ctl_cmd_shared_sync(struct ctl *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	ctl_error("shared sync: not in this build");
	return CTL_EXIT_FAIL;
}

/* cmd-shared.c -- atsmailctl shared: the commands of shared mailboxes
 * (docs/shared-mailboxes.md).  A minimal dispatcher with `sync` only
 * (cmd-shared-sync.c); list, history, member and rule come with the
 * send-time half of shared mailboxes.
 */
#include "ctl.h"

#include <stdio.h>
#include <string.h>

void
ctl_cmd_shared_usage(FILE *fp)
{
	fputs("usage: " CTL_PROGNAME " [OPTIONS] shared sync [--mailbox MAILBOX] "
	    "[--doveadm CMD]\n"
	    "\n"
	    "  sync     make the status folders of each shared mailbox (shared_mailboxes)\n"
	    "           and a folder per member under the unhandled and in-progress ones,\n"
	    "           and give every member its rights, with doveadm (as root)\n", fp);
}

int
ctl_cmd_shared(struct ctl *ctx, int argc, char **argv)
{
	if (argc < 2) {
		ctl_error("shared: which one? sync");
		return CTL_EXIT_USAGE;
	}
	if (ctl_is_help(argv[1])) {
		ctl_cmd_shared_usage(stdout);
		return CTL_EXIT_OK;
	}
	if (strcmp(argv[1], "sync") == 0)
		return ctl_cmd_shared_sync(ctx, argc - 1, argv + 1);
	return ctl_usage_error("shared", "unknown subcommand '%s' (sync)", argv[1]);
}

/* doveadm.h -- running doveadm(1) from atsmailctl (template sync, shared
 * sync): argv from a command string, input on stdin, output captured. */
#ifndef ATSM_CTL_DOVEADM_H
#define ATSM_CTL_DOVEADM_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"

#define CTL_DOVEADM_ARGV_MAX 32
#define CTL_DOVEADM_OUT_MAX (16u * 1024u * 1024u)
#define CTL_DOVEADM_EX_NOUSER 67      /* doveadm: the user is not known */

struct ctl_doveadm {
	char *words;                  /* the command string, split in place */
	char *argv[CTL_DOVEADM_ARGV_MAX];
	int n;                        /* words of the command itself */
};

/* Split cmd ("doveadm" when NULL or empty) into d's argv; free(d->words)
 * after.  -1 when it names no command or memory is short. */
int ctl_doveadm_init(struct ctl_doveadm *d, const char *cmd);
/* Whether doveadm can run here: root, and the command given or on PATH. */
bool ctl_doveadm_possible(const char *doveadm);
/* Run d's command with the extra words (NULL-terminated), input on stdin
 * (may be NULL), stdout into out, stderr into errout.  The exit status,
 * or -1. */
int ctl_doveadm_run(struct ctl_doveadm *d, const char *const *extra, const char *input,
    size_t inlen, struct atsm_buf *out, struct atsm_buf *errout);
/* The first line of b (cut in place), for a message; "(no message)". */
const char *ctl_doveadm_first_line(struct atsm_buf *b);

#endif

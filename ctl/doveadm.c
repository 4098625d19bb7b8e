/* doveadm.c -- running doveadm(1) from atsmailctl: the template drafts
 * (template sync) and the folders and rights of shared mailboxes (shared
 * sync).  doveadm is run directly (fork and exec, no shell): the words of
 * --doveadm (or a setting) are its argv, e.g. "doveadm -c /path/dovecot.conf".
 *
 * Interface: ctl/doveadm.h.
 */
#include "doveadm.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>


int
ctl_doveadm_init(struct ctl_doveadm *d, const char *cmd)
{
	char *p, *save = NULL;

	memset(d, 0, sizeof(*d));
	if ((d->words = strdup(cmd != NULL && *cmd != '\0' ? cmd : "doveadm")) == NULL)
		return -1;
	for (p = strtok_r(d->words, " \t", &save); p != NULL && d->n < CTL_DOVEADM_ARGV_MAX - 12;
	    p = strtok_r(NULL, " \t", &save))
		d->argv[d->n++] = p;
	return d->n > 0 ? 0 : -1;
}

bool
ctl_doveadm_possible(const char *doveadm)
{
	struct ctl_doveadm d;
	bool ok = false;

	if (geteuid() != 0 || ctl_doveadm_init(&d, doveadm) < 0) {
		if (geteuid() == 0)
			free(d.words);
		return false;
	}
	if (strchr(d.argv[0], '/') != NULL)
		ok = access(d.argv[0], X_OK) == 0;
	else {
		const char *path = getenv("PATH");
		char *copy = strdup(path != NULL ? path : "/usr/bin:/bin"), *dir, *save = NULL;

		for (dir = copy != NULL ? strtok_r(copy, ":", &save) : NULL; dir != NULL && !ok;
		    dir = strtok_r(NULL, ":", &save)) {
			char full[4096];

			snprintf(full, sizeof(full), "%s/%s", dir, d.argv[0]);
			ok = access(full, X_OK) == 0;
		}
		free(copy);
	}
	free(d.words);
	return ok;
}

int
ctl_doveadm_run(struct ctl_doveadm *d, const char *const *extra, const char *input, size_t inlen,
    struct atsm_buf *out, struct atsm_buf *errout)
{
	int in[2], o[2], e[2], status, i, n = d->n;
	size_t off = 0;
	pid_t pid;
	struct pollfd pf[3];
	char *argv[CTL_DOVEADM_ARGV_MAX];

	for (i = 0; i < n; i++)
		argv[i] = d->argv[i];
	for (i = 0; extra[i] != NULL && n < CTL_DOVEADM_ARGV_MAX - 1; i++)
		argv[n++] = (char *)(uintptr_t)extra[i];
	argv[n] = NULL;
	if (pipe(in) < 0 || pipe(o) < 0 || pipe(e) < 0)
		return -1;
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(o[1], 1);
		dup2(e[1], 2);
		close(in[0]); close(in[1]); close(o[0]); close(o[1]); close(e[0]); close(e[1]);
		execvp(argv[0], argv);
		dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(o[1]);
	close(e[1]);
	if (input == NULL || inlen == 0) {
		close(in[1]);
		in[1] = -1;
	} else
		(void)fcntl(in[1], F_SETFL, O_NONBLOCK);
	for (;;) {
		int np = 0, k;
		char buf[8192];
		ssize_t r;

		pf[0].fd = o[0];
		pf[0].events = POLLIN;
		pf[1].fd = e[0];
		pf[1].events = POLLIN;
		pf[2].fd = in[1];
		pf[2].events = POLLOUT;
		if (o[0] < 0 && e[0] < 0 && in[1] < 0)
			break;
		np = 3;
		if (poll(pf, (nfds_t)np, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (k = 0; k < 2; k++) {
			int *fd = k == 0 ? &o[0] : &e[0];
			struct atsm_buf *b = k == 0 ? out : errout;

			if (*fd < 0 || (pf[k].revents & (POLLIN | POLLHUP | POLLERR)) == 0)
				continue;
			r = read(*fd, buf, sizeof(buf));
			if (r > 0)
				(void)atsm_buf_append(b, buf, (size_t)r);
			else if (r == 0 || errno != EINTR) {
				close(*fd);
				*fd = -1;
			}
		}
		if (in[1] >= 0 && (pf[2].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
			r = write(in[1], input + off, inlen - off);
			if (r > 0)
				off += (size_t)r;
			if ((r < 0 && errno != EAGAIN && errno != EINTR) || off == inlen) {
				close(in[1]);
				in[1] = -1;
			}
		}
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

const char *
ctl_doveadm_first_line(struct atsm_buf *b)
{
	char *nl;

	if (b->data == NULL)
		return "(no message)";
	if ((nl = strchr(b->data, '\n')) != NULL)
		*nl = '\0';
	return b->data;
}

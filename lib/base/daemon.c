/* base/daemon.c -- PID file, user switch, detaching, log and signal set-up
 * shared by atsmaild and atsmail-notifyd (see base/daemon.h). */
#include "base/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"

/* A PID file holds one decimal number and a newline; more is not ours. */
#define PIDFILE_MAX 32

int
atsm_daemon_pidfile_check_path(const char *path, struct atsm_err *err)
{
	if (path == NULL || path[0] != '/')
		return atsm_err_set(err, "%s: the PID file needs an absolute path",
		    path != NULL ? path : "(none)");
	return 0;
}

int
atsm_daemon_pidfile_write(const char *path, struct atsm_err *err)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL)
		return atsm_err_set(err, "PID file %s: %s", path, strerror(errno));
	fprintf(fp, "%ld\n", (long)getpid());
	if (fclose(fp) != 0)
		return atsm_err_set(err, "PID file %s: %s", path, strerror(errno));
	return 0;
}

int
atsm_daemon_pidfile_read(const char *path, pid_t *pid, struct atsm_err *err)
{
	char buf[PIDFILE_MAX + 1], *end;
	ssize_t n;
	long v;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return atsm_err_set(err, "PID file %s: %s", path, strerror(errno));
	do
		n = read(fd, buf, PIDFILE_MAX);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		atsm_err_set(err, "PID file %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	buf[n] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	if (end == buf || (*end != '\n' && *end != '\0') || errno != 0 || v <= 0 ||
	    (long)(pid_t)v != v)
		return atsm_err_set(err, "PID file %s: does not hold a process id", path);
	*pid = (pid_t)v;
	return 0;
}

int
atsm_daemon_pidfile_live(const char *path, pid_t *pid, struct atsm_err *err)
{
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return 0;
	if (atsm_daemon_pidfile_read(path, pid, err) < 0)
		return -1;
	/* EPERM: the process exists but belongs to another user */
	if (kill(*pid, 0) == 0 || errno == EPERM)
		return 1;
	return 0;
}

int
atsm_daemon_pidfile_remove(const char *path, struct atsm_err *err)
{
	if (unlink(path) != 0 && errno != ENOENT)
		return atsm_err_set(err, "PID file %s: %s", path, strerror(errno));
	return 0;
}

int
atsm_daemon_user_lookup(const char *name, struct atsm_daemon_user *u,
    struct atsm_err *err)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(name);
	if (pw == NULL)
		return atsm_err_set(err, "%s: no such user", name);
	if (strlen(pw->pw_name) >= sizeof(u->name))
		return atsm_err_set(err, "%s: the user name is longer than %d bytes", name,
		    ATSM_DAEMON_USER_MAX - 1);
	strcpy(u->name, pw->pw_name);
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	return 0;
}

int
atsm_daemon_become(const struct atsm_daemon_user *u, struct atsm_err *err)
{
	if (initgroups(u->name, u->gid) != 0 || setgid(u->gid) != 0 || setuid(u->uid) != 0)
		return atsm_err_set(err, "%s: cannot switch to uid %ld: %s", u->name,
		    (long)u->uid, strerror(errno));
	if (u->uid != 0 && setuid(0) == 0)
		return atsm_err_set(err, "%s: root privileges could be regained", u->name);
	return 0;
}

int
atsm_daemon_detach(struct atsm_err *err)
{
	pid_t pid;
	int fd;

	pid = fork();
	if (pid < 0)
		goto fail;
	if (pid > 0)
		return 1;
	if (setsid() < 0)
		goto fail;
	pid = fork();   /* never a session leader: no controlling tty again */
	if (pid < 0)
		goto fail;
	if (pid > 0)
		return 1;
	if (chdir("/") != 0)
		goto fail;
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	return 0;
fail:
	return atsm_err_set(err, "cannot go to the background: %s", strerror(errno));
}

/* Whether stderr is systemd's journal stream (JOURNAL_STREAM holds the
 * device and inode of the stream it connected to stderr): then syslog
 * reaches the same journal, and a line also written to stderr would show
 * there twice. */
static bool
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) == -1)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void
atsm_daemon_log_open(const char *ident, const struct atsm_conf *conf, bool to_stderr)
{
	int facility = atsm_log_facility_from_conf(conf->syslog_facility);
	int level = atsm_log_level_from_conf(conf->log_level);

	if (to_stderr && stderr_is_journal())
		to_stderr = false;
	atsm_log_open(ident, facility >= 0 ? facility : LOG_MAIL, true, to_stderr);
	if (level >= 0)
		atsm_log_set_level(level);
}

int
atsm_daemon_wake_pipe(int fds[2], bool nonblock_read, struct atsm_err *err)
{
	if (pipe(fds) != 0)
		return atsm_err_set(err, "pipe: %s", strerror(errno));
	if (nonblock_read)
		fcntl(fds[0], F_SETFL, O_NONBLOCK);
	fcntl(fds[1], F_SETFL, O_NONBLOCK);
	return 0;
}

int
atsm_daemon_on_signal(int sig, void (*handler)(int), bool restart, struct atsm_err *err)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) != 0)
		return atsm_err_set(err, "signal %d (%s): %s", sig, strsignal(sig),
		    strerror(errno));
	return 0;
}

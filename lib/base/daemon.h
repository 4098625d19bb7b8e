/* base/daemon.h -- the start-up steps the atsmail daemons share.
 *
 * atsmaild and atsmail-notifyd both: check and write a PID file
 * (and remove it at exit), look up the -u user and become it, go to the
 * background, open their log from the settings, create the pipe their
 * signal handlers wake a thread or loop with, and install handlers.  The
 * order of the steps and the exit statuses stay with each daemon.
 *
 * Every function returns 0 on success or -1 with a sentence in err that
 * names the input (the PID file path, the user name); none of them logs
 * or exits, except that atsm_daemon_detach() returns 1 in the processes
 * that must leave (the caller then calls _exit(0)).
 */
#ifndef ATSM_DAEMON_H
#define ATSM_DAEMON_H

#include <stdbool.h>
#include <sys/types.h>

#include "base/conf.h"
#include "base/err.h"

/* Longest user name atsm_daemon_user_lookup() keeps (Linux LOGIN_NAME_MAX). */
#define ATSM_DAEMON_USER_MAX 256

struct atsm_daemon_user {
	char name[ATSM_DAEMON_USER_MAX];
	uid_t uid;
	gid_t gid;
};

/* -P PIDFILE must be absolute: the daemon chdir()s to "/" and removes
 * the file at exit. */
int atsm_daemon_pidfile_check_path(const char *path, struct atsm_err *err);

/* Write getpid() and a newline, replacing what the file held. */
int atsm_daemon_pidfile_write(const char *path, struct atsm_err *err);

/* The process id a PID file holds: 0 and *pid, or -1 when the file cannot
 * be read or holds no positive decimal number on its first line. */
int atsm_daemon_pidfile_read(const char *path, pid_t *pid, struct atsm_err *err);

/* 1 when the file names a running process (its id in *pid), 0 when there
 * is no file or its process is gone (stale), -1 when it cannot be read or
 * does not hold a process id. */
int atsm_daemon_pidfile_live(const char *path, pid_t *pid, struct atsm_err *err);

/* Remove the file; a file already gone is not an error. */
int atsm_daemon_pidfile_remove(const char *path, struct atsm_err *err);

/* Look a user up by name (still root: nothing changes yet). */
int atsm_daemon_user_lookup(const char *name, struct atsm_daemon_user *u,
    struct atsm_err *err);

/* Become u: supplementary groups, gid, then uid; fails when root could be
 * regained afterwards. */
int atsm_daemon_become(const struct atsm_daemon_user *u, struct atsm_err *err);

/* Fork twice, start a session, chdir("/"), stdin/out/err to /dev/null.
 * 1 in the processes that must leave (the caller calls _exit(0) there:
 * lib/ never exits), 0 in the daemon, -1 on failure. */
int atsm_daemon_detach(struct atsm_err *err);

/* atsm_log_open() with the facility and level of conf (LOG_MAIL and the
 * default level when they are out of range); to_stderr in the foreground. */
void atsm_daemon_log_open(const char *ident, const struct atsm_conf *conf, bool to_stderr);

/* The pipe a signal handler writes one byte to; the write end never
 * blocks (a full pipe means a wake-up is pending already), the read end
 * only when nonblock_read. */
int atsm_daemon_wake_pipe(int fds[2], bool nonblock_read, struct atsm_err *err);

/* Install handler (or SIG_IGN) for sig with an empty mask; restart: the
 * calls it interrupts are restarted (SA_RESTART). */
int atsm_daemon_on_signal(int sig, void (*handler)(int), bool restart,
    struct atsm_err *err);

#endif

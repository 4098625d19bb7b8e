/* test-daemon.c -- unit tests of the daemon start-up steps (lib/base/daemon.c)
 * that need no root and change nothing outside the test: the PID file in a
 * mkdtemp() directory (write, read, stale detection, removal), user
 * look-up, the wake-up pipe and signal handlers.  Becoming another user
 * and detaching are exercised by the daemons' e2e tests. */
#include "atsm-check.h"
#include "base/daemon.h"
#include "base/conf.h"
#include "base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

static char dir[64];

static void
setup(void)
{
	strcpy(dir, "/tmp/atsm-test-daemon.XXXXXX");
	ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0) {
		/* a leftover in /tmp is harmless */
	}
}

static void
path_in_dir(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

static void
put_file(const char *path, const char *content)
{
	FILE *fp = fopen(path, "w");

	ck_assert_msg(fp != NULL, "%s: %s", path, strerror(errno));
	fputs(content, fp);
	ck_assert_int_eq(fclose(fp), 0);
}

/* The id of a process that has ended and been reaped: stale in a PID file. */
static pid_t
dead_pid(void)
{
	pid_t pid = fork();
	int st;

	ck_assert(pid >= 0);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return pid;
}

/* Logged in the foreground, a line goes to stderr as well as to syslog --
 * unless stderr is systemd's journal stream (JOURNAL_STREAM), which syslog
 * reaches too: then the journal would hold every line twice. */
static size_t
stderr_bytes_logged(const char *journal_stream)
{
	char path[128], js[64];
	struct atsm_conf conf;
	struct atsm_err err;
	struct stat st;
	int fd, saved;

	path_in_dir(path, sizeof(path), "stderr");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	saved = dup(STDERR_FILENO);
	ck_assert_int_ge(saved, 0);
	ck_assert_int_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
	ck_assert_int_eq(fstat(STDERR_FILENO, &st), 0);
	if (journal_stream == NULL) {
		unsetenv("JOURNAL_STREAM");
	} else {
		if (strcmp(journal_stream, "self") == 0)
			snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
			    (unsigned long long)st.st_ino);
		else
			snprintf(js, sizeof(js), "%s", journal_stream);
		setenv("JOURNAL_STREAM", js, 1);
	}
	ck_assert_int_eq(atsm_conf_init(&conf, &err), 0);
	atsm_daemon_log_open("test-daemon", &conf, true);
	atsm_log(LOG_ERR, "a line for stderr");
	atsm_log_close();
	atsm_conf_free(&conf);
	unsetenv("JOURNAL_STREAM");
	ck_assert_int_eq(fstat(STDERR_FILENO, &st), 0);
	ck_assert_int_eq(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	return (size_t)st.st_size;
}

START_TEST(log_stderr_unless_it_is_the_journal)
{
	ck_assert_uint_gt(stderr_bytes_logged(NULL), 0);
	ck_assert_uint_gt(stderr_bytes_logged("1:2"), 0);	/* another stream */
	ck_assert_uint_eq(stderr_bytes_logged("self"), 0);
}
END_TEST

START_TEST(pidfile_path_must_be_absolute)
{
	struct atsm_err err = { .msg = "" };

	ck_assert_int_eq(atsm_daemon_pidfile_check_path("run/milter.pid", &err), -1);
	ck_assert_str_eq(err.msg, "run/milter.pid: the PID file needs an absolute path");
	ck_assert_int_eq(atsm_daemon_pidfile_check_path("/run/atsmail/milter.pid", &err), 0);
}
END_TEST

START_TEST(pidfile_write_holds_our_pid)
{
	char path[128], want[32], got[64] = "";
	struct atsm_err err = { .msg = "" };
	pid_t pid = 0;
	FILE *fp;

	path_in_dir(path, sizeof(path), "d.pid");
	put_file(path, "999999999999 old content that is longer\n");
	ck_assert_msg(atsm_daemon_pidfile_write(path, &err) == 0, "%s", err.msg);
	fp = fopen(path, "r");
	ck_assert(fp != NULL);
	ck_assert(fgets(got, sizeof(got), fp) != NULL);
	ck_assert(fgetc(fp) == EOF);
	fclose(fp);
	snprintf(want, sizeof(want), "%ld\n", (long)getpid());
	ck_assert_str_eq(got, want);
	ck_assert_int_eq(atsm_daemon_pidfile_read(path, &pid, &err), 0);
	ck_assert_int_eq(pid, getpid());
}
END_TEST

START_TEST(pidfile_write_error_names_the_path)
{
	char path[128];
	struct atsm_err err = { .msg = "" };

	path_in_dir(path, sizeof(path), "missing/d.pid");
	ck_assert_int_eq(atsm_daemon_pidfile_write(path, &err), -1);
	ck_assert_msg(strstr(err.msg, path) != NULL, "%s", err.msg);
	ck_assert_msg(strstr(err.msg, strerror(ENOENT)) != NULL, "%s", err.msg);
}
END_TEST

START_TEST(pidfile_read_refuses_what_is_not_a_pid)
{
	static const char *bad[] = { "", "\n", "abc\n", "12abc\n", "0\n", "-5\n",
	    "99999999999999999999\n" };
	char path[128];
	struct atsm_err err = { .msg = "" };
	pid_t pid = 0;
	size_t i;

	path_in_dir(path, sizeof(path), "bad.pid");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put_file(path, bad[i]);
		err.msg[0] = '\0';
		ck_assert_msg(atsm_daemon_pidfile_read(path, &pid, &err) == -1, "'%s' accepted",
		    bad[i]);
		ck_assert_msg(strstr(err.msg, path) != NULL, "%s", err.msg);
	}
	put_file(path, "4242\n");
	ck_assert_int_eq(atsm_daemon_pidfile_read(path, &pid, &err), 0);
	ck_assert_int_eq(pid, 4242);
	put_file(path, "4343");    /* a newline is not required */
	ck_assert_int_eq(atsm_daemon_pidfile_read(path, &pid, &err), 0);
	ck_assert_int_eq(pid, 4343);
}
END_TEST

START_TEST(pidfile_live_tells_running_from_stale)
{
	char path[128], s[32];
	struct atsm_err err = { .msg = "" };
	pid_t pid = 0, gone = dead_pid();

	path_in_dir(path, sizeof(path), "live.pid");
	/* no file: nobody holds it */
	ck_assert_int_eq(atsm_daemon_pidfile_live(path, &pid, &err), 0);
	ck_assert_int_eq(atsm_daemon_pidfile_write(path, &err), 0);
	ck_assert_int_eq(atsm_daemon_pidfile_live(path, &pid, &err), 1);
	ck_assert_int_eq(pid, getpid());
	snprintf(s, sizeof(s), "%ld\n", (long)gone);
	put_file(path, s);
	ck_assert_int_eq(atsm_daemon_pidfile_live(path, &pid, &err), 0);
	ck_assert_int_eq(pid, gone);
	put_file(path, "garbage\n");
	ck_assert_int_eq(atsm_daemon_pidfile_live(path, &pid, &err), -1);
	ck_assert_msg(strstr(err.msg, path) != NULL, "%s", err.msg);
}
END_TEST

START_TEST(pidfile_remove_is_idempotent)
{
	char path[128], inside[160];
	struct atsm_err err = { .msg = "" };

	path_in_dir(path, sizeof(path), "rm.pid");
	ck_assert_int_eq(atsm_daemon_pidfile_write(path, &err), 0);
	ck_assert_int_eq(atsm_daemon_pidfile_remove(path, &err), 0);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(atsm_daemon_pidfile_remove(path, &err), 0);
	/* a path through a regular file cannot be removed: ENOTDIR */
	put_file(path, "1\n");
	snprintf(inside, sizeof(inside), "%s/x", path);
	ck_assert_int_eq(atsm_daemon_pidfile_remove(inside, &err), -1);
	ck_assert_msg(strstr(err.msg, inside) != NULL, "%s", err.msg);
}
END_TEST

START_TEST(user_lookup_names_an_unknown_user)
{
	struct atsm_daemon_user u;
	struct atsm_err err = { .msg = "" };

	ck_assert_int_eq(atsm_daemon_user_lookup("atsm-no-such-user-7", &u, &err), -1);
	ck_assert_str_eq(err.msg, "atsm-no-such-user-7: no such user");
	ck_assert_int_eq(atsm_daemon_user_lookup("", &u, &err), -1);
	ck_assert_str_eq(err.msg, ": no such user");
}
END_TEST

START_TEST(user_lookup_finds_root)
{
	struct atsm_daemon_user u;
	struct atsm_err err = { .msg = "" };

	memset(&u, 0x55, sizeof(u));
	ck_assert_msg(atsm_daemon_user_lookup("root", &u, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(u.name, "root");
	ck_assert_int_eq(u.uid, 0);
	ck_assert_int_eq(u.gid, 0);
}
END_TEST

START_TEST(wake_pipe_write_end_never_blocks)
{
	int fds[2], n = 0;
	struct atsm_err err = { .msg = "" };
	char c = 'x';

	ck_assert_int_eq(atsm_daemon_wake_pipe(fds, false, &err), 0);
	ck_assert(fcntl(fds[1], F_GETFL) & O_NONBLOCK);
	ck_assert(!(fcntl(fds[0], F_GETFL) & O_NONBLOCK));
	while (write(fds[1], &c, 1) == 1)
		n++;
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_gt(n, 0);
	close(fds[0]);
	close(fds[1]);
	ck_assert_int_eq(atsm_daemon_wake_pipe(fds, true, &err), 0);
	ck_assert(fcntl(fds[0], F_GETFL) & O_NONBLOCK);
	ck_assert_int_eq(read(fds[0], &c, 1), -1);
	ck_assert_int_eq(errno, EAGAIN);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

static volatile sig_atomic_t caught;

static void
on_usr1(int sig)
{
	caught = sig;
}

START_TEST(on_signal_installs_the_handler)
{
	struct sigaction now;
	struct atsm_err err = { .msg = "" };

	caught = 0;
	ck_assert_int_eq(atsm_daemon_on_signal(SIGUSR1, on_usr1, true, &err), 0);
	ck_assert_int_eq(sigaction(SIGUSR1, NULL, &now), 0);
	ck_assert(now.sa_flags & SA_RESTART);
	ck_assert_int_eq(raise(SIGUSR1), 0);
	ck_assert_int_eq(caught, SIGUSR1);
	ck_assert_int_eq(atsm_daemon_on_signal(SIGUSR1, on_usr1, false, &err), 0);
	ck_assert_int_eq(sigaction(SIGUSR1, NULL, &now), 0);
	ck_assert(!(now.sa_flags & SA_RESTART));
	ck_assert_int_eq(atsm_daemon_on_signal(SIGUSR1, SIG_IGN, false, &err), 0);
	caught = 0;
	ck_assert_int_eq(raise(SIGUSR1), 0);
	ck_assert_int_eq(caught, 0);
	/* SIGKILL cannot be caught: the error names the signal */
	ck_assert_int_eq(atsm_daemon_on_signal(SIGKILL, on_usr1, false, &err), -1);
	ck_assert_msg(strstr(err.msg, "signal 9") != NULL, "%s", err.msg);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("daemon");
	TCase *tc = tcase_create("daemon");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, pidfile_path_must_be_absolute);
	tcase_add_test(tc, pidfile_write_holds_our_pid);
	tcase_add_test(tc, pidfile_write_error_names_the_path);
	tcase_add_test(tc, pidfile_read_refuses_what_is_not_a_pid);
	tcase_add_test(tc, pidfile_live_tells_running_from_stale);
	tcase_add_test(tc, pidfile_remove_is_idempotent);
	tcase_add_test(tc, user_lookup_names_an_unknown_user);
	tcase_add_test(tc, user_lookup_finds_root);
	tcase_add_test(tc, wake_pipe_write_end_never_blocks);
	tcase_add_test(tc, on_signal_installs_the_handler);
	tcase_add_test(tc, log_stderr_unless_it_is_the_journal);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()

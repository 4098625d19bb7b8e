/* main.c -- atsmail-milter(8): options, socket, privileges, daemon life.
 *
 * Usage: atsmail-milter [-f] [-c FILE] [-p SOCKET] [-P PIDFILE] [-u USER]
 *        atsmail-milter -h | -V
 *
 * Start-up, in this order: read the settings (to learn the socket), open
 * the socket (still root, so that /run/... can be written), drop to -u
 * USER, build the configuration in force as that user (so that a later
 * reload reads exactly what the first load read), go to the background
 * unless -f, write the PID file, serve.
 *
 * Signals.  libmilter's own signal thread treats SIGHUP like SIGTERM
 * (it stops the filter), and it cannot be told otherwise.  So smfi_main()
 * runs in a thread of its own, where SIGHUP, SIGTERM and SIGINT are
 * blocked (libmilter's signal thread sigwait()s for them), while the
 * main thread keeps only SIGHUP unblocked, with a handler.  Linux hands
 * a signal sent to the process to its main thread first when that thread
 * does not block it, so SIGHUP reaches our handler, which wakes the
 * reloader thread through a pipe; SIGTERM reaches libmilter, which stops
 * accepting, lets the connections finish and returns from smfi_main()
 * (about 5 s: its poll timeout).  Then the configuration is released
 * (pool closed, journal closed) and the PID file removed.
 *
 * Exit status (sysexits.h): 0 stopped by SIGTERM; 64 usage; 67 unknown
 * -u user; 71 cannot open the socket, fork or drop privileges; 78 bad
 * configuration; 70 libmilter failed.
 */
#include "atsm-build-config.h"
#include "milter.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "base/daemon.h"
#include "base/log.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

static int wake_pipe[2] = { -1, -1 };

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: " MILTER_NAME " [-f] [-c FILE] [-p SOCKET] [-P PIDFILE] [-u USER]\n"
	    "       " MILTER_NAME " -h | -V\n"
	    "\n"
	    "  -c FILE     configuration file (default %s)\n"
	    "  -p SOCKET   libmilter socket, overrides milter_socket:\n"
	    "              unix:/path/milter.sock or inet:PORT@ADDRESS\n"
	    "  -P PIDFILE  write the process id there (removed at exit)\n"
	    "  -f          stay in the foreground and log to stderr too\n"
	    "  -u USER     run as USER once the socket is open\n"
	    "  -h          this help\n"
	    "  -V          version\n"
	    "\n"
	    "Signals: SIGHUP reloads the configuration, SIGTERM stops.\n"
	    "See atsmail-milter(8) and atsmail.conf(5).\n", ATSM_CONF_DEFAULT_PATH);
}

static void
on_sighup(int sig)
{
	int saved = errno;
	char c = 'h';

	(void)sig;
	if (write(wake_pipe[1], &c, 1) < 0) {
		/* pipe full: a reload is pending already */
	}
	errno = saved;
}

/* The reloader: reloads on 'h', leaves on 'q'.  Not in the handler:
 * loading a file and building a pool are not async-signal-safe. */
static void *
reloader(void *arg)
{
	char c;
	ssize_t n;

	(void)arg;
	for (;;) {
		n = read(wake_pipe[0], &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || c == 'q')
			return NULL;
		struct atsm_err err;

		err.msg[0] = '\0';
		if (milter_gen_load(&err) < 0)
			atsm_log(LOG_ERR, "reload failed, keeping the running configuration: %s",
			    err.msg);
		else
			atsm_log(LOG_INFO, "configuration reloaded from %s", milter_gen_conf_path());
	}
}

static void *
serve(void *arg)
{
	int *rc = arg;

	*rc = smfi_main();
	return NULL;
}

int
main(int argc, char **argv)
{
	const char *conf_path = NULL, *sock = NULL, *pidfile = NULL, *user = NULL;
	bool foreground = false;
	struct atsm_conf conf;
	struct atsm_daemon_user u;
	struct atsm_err err;
	pthread_t t_serve, t_reload;
	sigset_t sigs;
	int c, rc, serve_rc = MI_FAILURE;

	while ((c = getopt(argc, argv, "c:fhp:P:u:V")) != -1) {
		switch (c) {
		case 'c': conf_path = optarg; break;
		case 'f': foreground = true; break;
		case 'h': usage(stdout); return 0;
		case 'p': sock = optarg; break;
		case 'P': pidfile = optarg; break;
		case 'u': user = optarg; break;
		case 'V': printf(MILTER_NAME " %s\n", PACKAGE_VERSION); return 0;
		default: usage(stderr); return EX_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EX_USAGE;
	}
	if (pidfile != NULL && atsm_daemon_pidfile_check_path(pidfile, &err) < 0) {
		fprintf(stderr, MILTER_NAME ": -P %s\n", err.msg);
		return EX_USAGE;
	}
	milter_gen_setup(conf_path, sock);
	err.msg[0] = '\0';
	if (milter_gen_read_conf(&conf, &err) < 0) {
		fprintf(stderr, MILTER_NAME ": %s\n", err.msg);
		return EX_CONFIG;
	}
	atsm_daemon_log_open(MILTER_NAME, &conf, foreground);

	if (smfi_register(milter_desc) == MI_FAILURE) {
		atsm_log(LOG_ERR, "smfi_register failed");
		atsm_conf_free(&conf);
		return EX_SOFTWARE;
	}
	if (milter_socket_open(conf.milter_socket) < 0) {
		atsm_conf_free(&conf);
		return EX_OSERR;
	}
	if (user != NULL && atsm_daemon_user_lookup(user, &u, &err) < 0) {
		atsm_log(LOG_ERR, "-u %s", err.msg);
		atsm_conf_free(&conf);
		return EX_NOUSER;
	}
	if (user != NULL && atsm_daemon_become(&u, &err) < 0) {
		atsm_log(LOG_ERR, "-u %s", err.msg);
		atsm_conf_free(&conf);
		return EX_OSERR;
	}
	if (milter_gen_load(&err) < 0) {
		atsm_log(LOG_ERR, "%s", err.msg);
		atsm_conf_free(&conf);
		return EX_CONFIG;
	}
	if (!foreground && (rc = atsm_daemon_detach(&err)) != 0) {
		if (rc > 0)
			_exit(0);
		atsm_log(LOG_ERR, "%s", err.msg);
		return EX_OSERR;
	}
	if (pidfile != NULL && atsm_daemon_pidfile_write(pidfile, &err) < 0) {
		atsm_log(LOG_ERR, "%s", err.msg);
		return EX_OSERR;
	}
	atsm_log(LOG_INFO, "listening on %s (configuration %s)", conf.milter_socket,
	    milter_gen_conf_path());
	atsm_conf_free(&conf);

	/* the reloader blocks on the read end */
	if (atsm_daemon_wake_pipe(wake_pipe, false, &err) < 0) {
		atsm_log(LOG_ERR, "%s", err.msg);
		return EX_OSERR;
	}
	(void)atsm_daemon_on_signal(SIGHUP, on_sighup, true, NULL);
	(void)atsm_daemon_on_signal(SIGPIPE, SIG_IGN, true, NULL);

	/* The threads start with everything blocked (see the head comment). */
	sigfillset(&sigs);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	if (pthread_create(&t_reload, NULL, reloader, NULL) != 0 ||
	    pthread_create(&t_serve, NULL, serve, &serve_rc) != 0) {
		atsm_log(LOG_ERR, "cannot start threads");
		return EX_OSERR;
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);

	pthread_join(t_serve, NULL);

	sigprocmask(SIG_BLOCK, &sigs, NULL);
	c = 'q';
	while (write(wake_pipe[1], &c, 1) < 0 && errno == EAGAIN)
		usleep(1000);
	pthread_join(t_reload, NULL);
	milter_gen_shutdown();
	if (pidfile != NULL)
		(void)atsm_daemon_pidfile_remove(pidfile, NULL);
	atsm_log(LOG_INFO, "stopped");
	atsm_log_close();
	return serve_rc == MI_SUCCESS ? 0 : EX_SOFTWARE;
}

/* main.c -- atsmaild(8): options, start-up, signals, orderly stop.
 *
 * Usage: atsmaild [-f] [-c FILE] [-P PIDFILE] [-u USER]
 *        atsmaild -h | -V
 *
 * Start-up, in this order: read the settings; open the two sockets
 * (still root, so that the queue directory of Postfix and /run can be
 * written); drop to -u USER; build the configuration in force as that
 * user (so that a later reload reads exactly what the first load read:
 * the secret file must be readable by USER); open the journal, whose
 * lock keeps a second atsmaild away, then the snapshot, as that user
 * (their files are USER's); go to the background
 * unless -f; write the PID file; start the recorder and the follower;
 * accept.  The snapshot survives restarts: a service restarted while
 * PostgreSQL is down decides at once from the snapshot it had.
 *
 * Signals are taken by the main thread with sigwait() -- every thread
 * blocks them -- so nothing runs in a handler: SIGHUP reloads the
 * configuration (gen.c), SIGTERM and SIGINT stop.  Stopping: the sockets
 * stop accepting, connections finish the message they are in (at most
 * STOP_WAIT_MS), the follower stops, the recorder records what the
 * journal holds unless the database is unavailable (the journal keeps it
 * for the next start), the sockets and the PID file are removed.
 *
 * Exit status (sysexits.h): 0 stopped by a signal; 64 usage; 67 unknown
 * -u user; 71 cannot open a socket, fork or drop privileges; 73 cannot
 * open the snapshot or the journal; 78 bad configuration; 70 internal.
 */
#include "atsm-build-config.h"
#include "atsmaild.h"
#include "milter.h"

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

#define STOP_WAIT_MS 10000u

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: " ATSMAILD_NAME " [-f] [-c FILE] [-P PIDFILE] [-u USER]\n"
	    "       " ATSMAILD_NAME " -h | -V\n"
	    "\n"
	    "  -c FILE     configuration file (default %s)\n"
	    "  -P PIDFILE  write the process id there (removed at exit)\n"
	    "  -f          stay in the foreground and log to stderr too (not when stderr\n"
	    "              is the systemd journal, which gets the syslog lines)\n"
	    "  -u USER     run as USER once the sockets are open\n"
	    "  -h          this help\n"
	    "  -V          version\n"
	    "\n"
	    "Signals: SIGHUP reloads the configuration, SIGTERM stops.\n"
	    "See atsmaild(8) and atsmail.conf(5).\n", ATSM_CONF_DEFAULT_PATH);
}

static void *
accept_main(void *arg)
{
	int *rc = arg;

	*rc = atsmaild_listen_run();
	return NULL;
}

/* Wait for signals until one says stop. */
static void
serve_signals(const sigset_t *sigs)
{
	struct atsm_err err;
	int sig;

	for (;;) {
		if (sigwait(sigs, &sig) != 0)
			continue;
		if (sig != SIGHUP)
			return;
		atsm_err_clear(&err);
		if (atsmaild_gen_load(&err) < 0)
			atsm_log(LOG_ERR, "reload failed, keeping the running configuration: %s",
			    err.msg);
		else
			atsm_log(LOG_INFO, "configuration reloaded from %s",
			    atsmaild_gen_conf_path());
	}
}

int
main(int argc, char **argv)
{
	const char *conf_path = NULL, *pidfile = NULL, *user = NULL;
	bool foreground = false;
	struct atsm_conf conf;
	struct atsm_daemon_user u;
	struct atsm_err err;
	pthread_t t_accept;
	sigset_t sigs;
	int c, rc, accept_rc = 0;

	while ((c = getopt(argc, argv, "c:fhP:u:V")) != -1) {
		switch (c) {
		case 'c': conf_path = optarg; break;
		case 'f': foreground = true; break;
		case 'h': usage(stdout); return 0;
		case 'P': pidfile = optarg; break;
		case 'u': user = optarg; break;
		case 'V': printf(ATSMAILD_NAME " %s\n", PACKAGE_VERSION); return 0;
		default: usage(stderr); return EX_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EX_USAGE;
	}
	/* Every thread blocks the signals and the main thread sigwait()s for
	 * them -- from the start: a SIGHUP or SIGTERM that comes while the
	 * service starts (a reload right after the PID file appeared, say)
	 * waits for serve_signals() instead of killing the process with the
	 * default action, sockets and PID file left behind. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	atsm_err_clear(&err);
	if (pidfile != NULL && atsm_daemon_pidfile_check_path(pidfile, &err) < 0) {
		fprintf(stderr, ATSMAILD_NAME ": -P %s\n", err.msg);
		return EX_USAGE;
	}
	atsmaild_gen_setup(conf_path);
	if (atsmaild_gen_read_conf(&conf, &err) < 0) {
		fprintf(stderr, ATSMAILD_NAME ": %s\n", err.msg);
		return EX_CONFIG;
	}
	atsm_daemon_log_open(ATSMAILD_NAME, &conf, foreground);
	if (atsmaild_listen_open(&conf, &err) < 0) {
		atsm_log(LOG_ERR, "%s", err.msg);
		atsm_conf_free(&conf);
		return EX_OSERR;
	}
	if (user != NULL && atsm_daemon_user_lookup(user, &u, &err) < 0) {
		atsm_log(LOG_ERR, "-u %s", err.msg);
		rc = EX_NOUSER;
		goto fail;
	}
	if (user != NULL && atsm_daemon_become(&u, &err) < 0) {
		atsm_log(LOG_ERR, "-u %s", err.msg);
		rc = EX_OSERR;
		goto fail;
	}
	if (atsmaild_gen_load(&err) < 0) {
		atsm_log(LOG_ERR, "%s", err.msg);
		rc = EX_CONFIG;
		goto fail;
	}
	if (atsmaild_core_open(&conf, &err) < 0) {
		atsm_log(LOG_ERR, "%s", err.msg);
		rc = EX_CANTCREAT;
		goto fail;
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
	(void)atsm_daemon_on_signal(SIGPIPE, SIG_IGN, true, NULL);
	/* a journal past a file-size limit is an I/O error the mail is
	 * tempfailed for, not a reason to die */
	(void)atsm_daemon_on_signal(SIGXFSZ, SIG_IGN, true, NULL);
	if (atsmaild_core_start(&conf, &err) < 0 || atsmaild_bulk_start(&err) < 0 ||
	    atsmaild_notify_start(&err) < 0 ||
	    pthread_create(&t_accept, NULL, accept_main, &accept_rc) != 0) {
		atsm_log(LOG_ERR, "cannot start: %s", err.msg[0] != '\0' ? err.msg : "threads");
		return EX_SOFTWARE;
	}
	atsm_log(LOG_INFO, "listening on %s and %s (configuration %s)", conf.milter_socket,
	    conf.filing_socket, atsmaild_gen_conf_path());
	atsm_conf_free(&conf);

	serve_signals(&sigs);

	atsm_log(LOG_INFO, "stopping");
	atsmaild_listen_stop(STOP_WAIT_MS);
	pthread_join(t_accept, NULL);
	atsmaild_notify_stop();
	atsmaild_bulk_stop();
	atsmaild_core_stop();
	milter_take_shutdown();
	milter_approval_shutdown();
	milter_shared_shutdown();
	atsmaild_shared_mover_stop();
	atsmaild_shared_shutdown();
	atsmaild_listen_close();
	atsmaild_gen_shutdown();
	if (pidfile != NULL)
		(void)atsm_daemon_pidfile_remove(pidfile, NULL);
	atsm_log(LOG_INFO, "stopped");
	atsm_log_close();
	return accept_rc == 0 ? 0 : EX_SOFTWARE;
fail:
	atsmaild_listen_close();
	atsm_conf_free(&conf);
	return rc;
}

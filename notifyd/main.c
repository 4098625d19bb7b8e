/* main.c -- atsmail-notifyd(8): options, privileges, PID file, signals.
 *
 * Usage: atsmail-notifyd [-f] [--once] [-c FILE] [-P PIDFILE] [-u USER]
 *        atsmail-notifyd -h | -V
 *
 * Start-up, in this order: read the settings and check them (endpoints,
 * secret file) while still root, so that a configuration only root may
 * read works; drop to -u USER; go to the background unless -f or --once;
 * write the PID file; run (run.c).  --once sends what is due now and
 * exits (tests, cron).
 *
 * Signals: SIGTERM or SIGINT stops after the requests in flight have
 * ended (bounded by webhook_timeout) and their outcome is recorded; a
 * second one stops at once and puts unfinished events back to pending.
 * SIGHUP is ignored: restart to apply a changed configuration.
 *
 * Exit status (sysexits.h): 0 stopped by a signal, or --once done; 64
 * usage; 67 unknown -u user; 70 libcurl failed; 71 cannot fork, write the
 * PID file or drop privileges; 75 --once and the database is unavailable;
 * 78 bad configuration (file, endpoints, secret file).
 */
#include "atsm-build-config.h"
#include "notifyd.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "base/daemon.h"
#include "base/log.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

static int wake_pipe[2] = { -1, -1 };
static volatile sig_atomic_t stop_flag, abort_flag;

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: " NOTIFYD_NAME " [-f] [--once] [-c FILE] [-P PIDFILE] [-u USER]\n"
	    "       " NOTIFYD_NAME " -h | -V\n"
	    "\n"
	    "  -c FILE     configuration file (default %s)\n"
	    "  -P PIDFILE  write the process id there (removed at exit)\n"
	    "  -f          stay in the foreground and log to stderr too\n"
	    "  -u USER     run as USER once the configuration is read\n"
	    "  --once      deliver the events that are due now, then exit\n"
	    "  -h          this help\n"
	    "  -V          version\n"
	    "\n"
	    "Signals: SIGTERM finishes the requests in flight and stops; a second\n"
	    "SIGTERM stops at once and puts unfinished events back to pending.\n"
	    "See atsmail-notifyd(8) and atsmail.conf(5).\n", ATSM_CONF_DEFAULT_PATH);
}

static void
on_stop(int sig)
{
	int saved = errno;
	char c = 's';

	(void)sig;
	if (stop_flag)
		abort_flag = 1;
	stop_flag = 1;
	if (write(wake_pipe[1], &c, 1) < 0) {
		/* pipe full: the loop is being woken already */
	}
	errno = saved;
}

/* The settings, the endpoints and the secret, as one check: 0 or -1. */
static int
read_conf(const char *path, struct atsm_conf *conf, struct atsm_token_keys *keys,
    struct atsm_err *err)
{
	struct stat st;
	size_t i;

	if (atsm_conf_init(conf, err) < 0)
		return -1;
	/* Like atsmailctl and the milter: without -c, a missing default file
	 * means the built-in defaults; a file named with -c must exist. */
	if ((path != NULL || stat(ATSM_CONF_DEFAULT_PATH, &st) == 0) &&
	    atsm_conf_load(conf, path != NULL ? path : ATSM_CONF_DEFAULT_PATH, err) < 0)
		goto fail;
	if (conf->webhook_urls.n == 0) {
		atsm_err_set(err, "webhook_urls is empty: name the endpoint(s) of the ATS "
		    "(events wait in the outbox meanwhile)");
		goto fail;
	}
	if (conf->webhook_urls.n > ATSM_WEBHOOK_URLS_MAX) {
		atsm_err_set(err, "webhook_urls lists %zu endpoints; at most %d are allowed",
		    conf->webhook_urls.n, ATSM_WEBHOOK_URLS_MAX);
		goto fail;
	}
	for (i = 0; i < conf->webhook_urls.n; i++)
		if (atsm_webhook_url_check(conf->webhook_urls.v[i], err) < 0) {
			atsm_err_prefix(err, "webhook_urls");
			goto fail;
		}
	if (atsm_token_keys_load(conf->webhook_secret_file, keys, err) < 0) {
		atsm_err_prefix(err, "webhook_secret_file");
		goto fail;
	}
	return 0;
fail:
	atsm_conf_free(conf);
	return -1;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "once", no_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *conf_path = NULL, *pidfile = NULL, *user = NULL;
	bool foreground = false, once = false;
	struct atsm_conf conf;
	struct notifyd nd;
	struct atsm_daemon_user u;
	struct atsm_err err;
	char host[64];
	int c, rc;

	while ((c = getopt_long(argc, argv, "c:fhP:u:V", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': conf_path = optarg; break;
		case 'f': foreground = true; break;
		case 'h': usage(stdout); return 0;
		case 'o': once = true; break;
		case 'P': pidfile = optarg; break;
		case 'u': user = optarg; break;
		case 'V': printf(NOTIFYD_NAME " %s\n", PACKAGE_VERSION); return 0;
		default: usage(stderr); return EX_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EX_USAGE;
	}
	if (pidfile != NULL && atsm_daemon_pidfile_check_path(pidfile, &err) < 0) {
		fprintf(stderr, NOTIFYD_NAME ": -P %s\n", err.msg);
		return EX_USAGE;
	}
	memset(&nd, 0, sizeof(nd));
	err.msg[0] = '\0';
	if (read_conf(conf_path, &conf, &nd.keys, &err) < 0) {
		fprintf(stderr, NOTIFYD_NAME ": %s\n", err.msg);
		return EX_CONFIG;
	}
	atsm_daemon_log_open(NOTIFYD_NAME, &conf, foreground || once);

	rc = 0;
	if (user != NULL && atsm_daemon_user_lookup(user, &u, &err) < 0) {
		atsm_log(LOG_ERR, "-u %s", err.msg);
		rc = EX_NOUSER;
		goto out;
	}
	if (user != NULL && atsm_daemon_become(&u, &err) < 0) {
		atsm_log(LOG_ERR, "-u %s", err.msg);
		rc = EX_OSERR;
		goto out;
	}
	if (!foreground && !once && (rc = atsm_daemon_detach(&err)) != 0) {
		if (rc > 0)
			_exit(0);
		rc = EX_OSERR;
		goto fail;
	}
	/* the run loop polls the read end */
	if (atsm_daemon_wake_pipe(wake_pipe, true, &err) < 0) {
		rc = EX_OSERR;
		goto fail;
	}
	if (pidfile != NULL && atsm_daemon_pidfile_write(pidfile, &err) < 0) {
		pidfile = NULL;
		rc = EX_OSERR;
		goto fail;
	}
	/* without SA_RESTART: a stop interrupts the call the loop waits in */
	(void)atsm_daemon_on_signal(SIGTERM, on_stop, false, NULL);
	(void)atsm_daemon_on_signal(SIGINT, on_stop, false, NULL);
	(void)atsm_daemon_on_signal(SIGPIPE, SIG_IGN, false, NULL);
	(void)atsm_daemon_on_signal(SIGHUP, SIG_IGN, false, NULL);

	if (gethostname(host, sizeof(host)) != 0)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	/* unique per process even when a PID is reused after a crash */
	snprintf(nd.me, sizeof(nd.me), "%s/%ld/%lld", host, (long)getpid(),
	    (long long)time(NULL));
	nd.conf = &conf;
	nd.conf_path = conf_path != NULL ? conf_path : ATSM_CONF_DEFAULT_PATH;
	nd.once = once;
	nd.wake_fd = wake_pipe[0];
	nd.stop = &stop_flag;
	nd.abort_now = &abort_flag;
	atsm_log(LOG_INFO, "started as %s: %zu endpoint%s (configuration %s)%s", nd.me,
	    conf.webhook_urls.n, conf.webhook_urls.n == 1 ? "" : "s", nd.conf_path,
	    once ? ", once" : "");
	rc = notifyd_run(&nd);
	atsm_log(LOG_INFO, "stopped");
	goto out;
fail:
	atsm_log(LOG_ERR, "%s", err.msg);
out:
	if (pidfile != NULL)
		(void)atsm_daemon_pidfile_remove(pidfile, NULL);
	atsm_token_keys_wipe(&nd.keys);
	atsm_conf_free(&conf);
	atsm_log_close();
	return rc;
}

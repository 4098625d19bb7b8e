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
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "atsm-log.h"

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

static int
drop_privileges(const char *user)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(user);
	if (pw == NULL) {
		atsm_log(LOG_ERR, "-u %s: no such user", user);
		return EX_NOUSER;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		atsm_log(LOG_ERR, "-u %s: cannot switch to uid %ld: %s", user, (long)pw->pw_uid,
		    strerror(errno));
		return EX_OSERR;
	}
	if (pw->pw_uid != 0 && setuid(0) == 0) {
		atsm_log(LOG_ERR, "-u %s: root privileges could be regained", user);
		return EX_OSERR;
	}
	return 0;
}

static int
daemonize(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -1;
	pid = fork();   /* never a session leader: no controlling tty again */
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (chdir("/") != 0)
		return -1;
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	return 0;
}

static int
write_pidfile(const char *path)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL) {
		atsm_log(LOG_ERR, "PID file %s: %s", path, strerror(errno));
		return -1;
	}
	fprintf(fp, "%ld\n", (long)getpid());
	if (fclose(fp) != 0) {
		atsm_log(LOG_ERR, "PID file %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
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
	struct atsm_err err;
	struct sigaction sa;
	char host[64];
	int c, rc, facility;

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
	if (pidfile != NULL && pidfile[0] != '/') {
		fprintf(stderr, NOTIFYD_NAME ": -P %s: the PID file needs an absolute path\n",
		    pidfile);
		return EX_USAGE;
	}
	memset(&nd, 0, sizeof(nd));
	err.msg[0] = '\0';
	if (read_conf(conf_path, &conf, &nd.keys, &err) < 0) {
		fprintf(stderr, NOTIFYD_NAME ": %s\n", err.msg);
		return EX_CONFIG;
	}
	facility = atsm_log_facility_from_conf(conf.syslog_facility);
	atsm_log_open(NOTIFYD_NAME, facility >= 0 ? facility : LOG_MAIL, true,
	    foreground || once);
	if (atsm_log_level_from_conf(conf.log_level) >= 0)
		atsm_log_set_level(atsm_log_level_from_conf(conf.log_level));

	rc = 0;
	if (user != NULL && (rc = drop_privileges(user)) != 0)
		goto out;
	if (!foreground && !once && daemonize() < 0) {
		atsm_log(LOG_ERR, "cannot go to the background: %s", strerror(errno));
		rc = EX_OSERR;
		goto out;
	}
	if (pipe(wake_pipe) != 0) {
		atsm_log(LOG_ERR, "pipe: %s", strerror(errno));
		rc = EX_OSERR;
		goto out;
	}
	fcntl(wake_pipe[0], F_SETFL, O_NONBLOCK);
	fcntl(wake_pipe[1], F_SETFL, O_NONBLOCK);
	if (pidfile != NULL && write_pidfile(pidfile) < 0) {
		pidfile = NULL;
		rc = EX_OSERR;
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

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
out:
	if (pidfile != NULL)
		unlink(pidfile);
	atsm_token_keys_wipe(&nd.keys);
	atsm_conf_free(&conf);
	atsm_log_close();
	return rc;
}

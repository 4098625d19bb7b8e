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
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "atsm-log.h"

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

int
main(int argc, char **argv)
{
	const char *conf_path = NULL, *sock = NULL, *pidfile = NULL, *user = NULL;
	bool foreground = false;
	struct atsm_conf conf;
	struct atsm_err err;
	pthread_t t_serve, t_reload;
	sigset_t sigs;
	struct sigaction sa;
	int c, rc, serve_rc = MI_FAILURE, facility;

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
	if (pidfile != NULL && pidfile[0] != '/') {
		fprintf(stderr, MILTER_NAME ": -P %s: the PID file needs an absolute path\n", pidfile);
		return EX_USAGE;
	}
	milter_gen_setup(conf_path, sock);
	err.msg[0] = '\0';
	if (milter_gen_read_conf(&conf, &err) < 0) {
		fprintf(stderr, MILTER_NAME ": %s\n", err.msg);
		return EX_CONFIG;
	}
	facility = atsm_log_facility_from_conf(conf.syslog_facility);
	atsm_log_open(MILTER_NAME, facility >= 0 ? facility : LOG_MAIL, true, foreground);
	if (atsm_log_level_from_conf(conf.log_level) >= 0)
		atsm_log_set_level(atsm_log_level_from_conf(conf.log_level));

	if (smfi_register(milter_desc) == MI_FAILURE) {
		atsm_log(LOG_ERR, "smfi_register failed");
		atsm_conf_free(&conf);
		return EX_SOFTWARE;
	}
	if (milter_socket_open(conf.milter_socket) < 0) {
		atsm_conf_free(&conf);
		return EX_OSERR;
	}
	if (user != NULL && (rc = drop_privileges(user)) != 0) {
		atsm_conf_free(&conf);
		return rc;
	}
	if (milter_gen_load(&err) < 0) {
		atsm_log(LOG_ERR, "%s", err.msg);
		atsm_conf_free(&conf);
		return EX_CONFIG;
	}
	if (!foreground && daemonize() < 0) {
		atsm_log(LOG_ERR, "cannot go to the background: %s", strerror(errno));
		return EX_OSERR;
	}
	if (pidfile != NULL && write_pidfile(pidfile) < 0)
		return EX_OSERR;
	atsm_log(LOG_INFO, "listening on %s (configuration %s)", conf.milter_socket,
	    milter_gen_conf_path());
	atsm_conf_free(&conf);

	if (pipe(wake_pipe) != 0) {
		atsm_log(LOG_ERR, "pipe: %s", strerror(errno));
		return EX_OSERR;
	}
	fcntl(wake_pipe[1], F_SETFL, O_NONBLOCK);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sighup;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

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
		unlink(pidfile);
	atsm_log(LOG_INFO, "stopped");
	atsm_log_close();
	return serve_rc == MI_SUCCESS ? 0 : EX_SOFTWARE;
}

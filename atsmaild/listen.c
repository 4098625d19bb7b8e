/* listen.c -- atsmaild's two sockets: accepting, checking who connects,
 * and a thread for each connection.
 *
 * Interface: atsmaild_listen_open, atsmaild_listen_run, atsmaild_listen_stop,
 * atsmaild_listen_close (atsmaild.h).
 *
 * Both are unix sockets: the milter socket for Postfix (milter_socket;
 * inside Postfix's queue directory when smtpd runs chrooted) and the
 * filing socket for the Dovecot plugin (filing_socket).  They are
 * created mode 0666 on purpose: who may talk is decided here, by the
 * peer's credentials (peer.c), for every connection; a refused peer is
 * logged with its process and user and the connection closed unread.
 *
 * Postfix keeps a milter connection per smtpd process for many messages,
 * the plugin one per Dovecot process for many mails, so a connection is
 * a thread that reads, decides and answers in turn (the journal's group
 * commit lets concurrent connections share one fdatasync).  Their number
 * is bounded by service_max_connections; past it a connection is closed
 * at once with a warning (Postfix then applies milter_default_action, the
 * plugin its atsmail_on_failure).
 *
 * Out of descriptors (accept: EMFILE and the like), a listener rests for
 * ACCEPT_PAUSE_MS: its connections wait in the backlog, and the log says
 * so once, not at every turn of a loop that could not take them.
 *
 * Stopping: no new connection is accepted; connections waiting between two
 * messages are ended at once (their peer reconnects to the next atsmaild);
 * a connection in the middle of a message finishes it, up to a bound.
 */
#define _GNU_SOURCE 1      /* accept4, pipe2 */
#include "atsm-build-config.h"
#include "atsmaild.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"

#define CONN_STACK (512u * 1024u)     /* a session needs little stack */
#define BACKLOG 128
#define STOP_POLL_MS 50u              /* idle sessions looked at again while stopping */
#define ACCEPT_PAUSE_MS 100u          /* no descriptor for a new connection: wait */

struct listener {
	int fd;
	enum atsmaild_front front;
	const char *setting;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static struct listener listeners[2] = {
	{ -1, ATSMAILD_MILTER, "milter_socket", "" },
	{ -1, ATSMAILD_FILING, "filing_socket", "" },
};
static int wake[2] = { -1, -1 };

/* the live connections, so that a stop can end them */
static pthread_mutex_t conn_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t conn_gone = PTHREAD_COND_INITIALIZER;
static struct atsmaild_conn **conns;
static size_t conn_max, conn_count;
static unsigned long conn_serial;

static const char *
front_name(enum atsmaild_front f)
{
	return f == ATSMAILD_MILTER ? "milter" : "filing";
}

/* "unix:/path" or "/path" -> path; anything else is refused with why. */
static int
socket_path(const char *setting, const char *spec, char *out, size_t size,
    struct atsm_err *err)
{
	const char *p = spec;

	if (strncmp(p, "unix:", 5) == 0)
		p += 5;
	else if (strncmp(p, "local:", 6) == 0)
		p += 6;
	if (p[0] != '/')
		return atsm_err_set(err, "%s = %s: atsmaild listens on unix sockets only "
		    "(unix:/path), so that it can check who connects; for a chrooted Postfix "
		    "put it inside the queue directory", setting, spec);
	if (strlen(p) >= size)
		return atsm_err_set(err, "%s = %s: the path is longer than a unix socket "
		    "allows (%zu bytes)", setting, spec, size - 1);
	snprintf(out, size, "%s", p);
	return 0;
}

/* A socket file left by an earlier atsmaild is removed; one that answers
 * belongs to a running one, and another kind of file is not touched. */
static int
clear_stale(const char *setting, const char *path, struct atsm_err *err)
{
	union { struct sockaddr any; struct sockaddr_un un; } sa;
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : atsm_err_setc(err, ATSM_ERR_IO, "%s %s: %s",
		    setting, path, strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return atsm_err_setc(err, ATSM_ERR_IO, "%s %s: exists and is not a socket",
		    setting, path);
	memset(&sa, 0, sizeof(sa));
	sa.un.sun_family = AF_UNIX;
	snprintf(sa.un.sun_path, sizeof(sa.un.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return atsm_err_setc(err, ATSM_ERR_IO, "socket: %s", strerror(errno));
	rc = connect(fd, &sa.any, sizeof(sa.un));
	close(fd);
	if (rc == 0)
		return atsm_err_setc(err, ATSM_ERR_IO, "%s %s: another atsmaild is listening "
		    "there", setting, path);
	if (unlink(path) < 0)
		return atsm_err_setc(err, ATSM_ERR_IO, "%s %s: cannot remove the old socket: %s",
		    setting, path, strerror(errno));
	return 0;
}

static int
open_one(struct listener *l, const char *spec, struct atsm_err *err)
{
	union { struct sockaddr any; struct sockaddr_un un; } sa;
	mode_t old;

	if (socket_path(l->setting, spec, l->path, sizeof(l->path), err) < 0 ||
	    clear_stale(l->setting, l->path, err) < 0)
		return -1;
	if ((l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		return atsm_err_setc(err, ATSM_ERR_IO, "socket: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.un.sun_family = AF_UNIX;
	snprintf(sa.un.sun_path, sizeof(sa.un.sun_path), "%s", l->path);
	/* 0666: the peer check decides who is served, not the mode */
	old = umask(0);
	if (bind(l->fd, &sa.any, sizeof(sa.un)) < 0) {
		umask(old);
		return atsm_err_setc(err, ATSM_ERR_IO, "%s %s: cannot listen there: %s",
		    l->setting, l->path, strerror(errno));
	}
	umask(old);
	if (listen(l->fd, BACKLOG) < 0)
		return atsm_err_setc(err, ATSM_ERR_IO, "%s %s: listen: %s", l->setting, l->path,
		    strerror(errno));
	return 0;
}

int
atsmaild_listen_open(const struct atsm_conf *conf, struct atsm_err *err)
{
	if (open_one(&listeners[0], conf->milter_socket, err) < 0 ||
	    open_one(&listeners[1], conf->filing_socket, err) < 0) {
		atsmaild_listen_close();
		return -1;
	}
	conn_max = conf->service_max_connections;
	if ((conns = calloc(conn_max, sizeof(*conns))) == NULL ||
	    pipe2(wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		atsmaild_listen_close();
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "out of memory or descriptors");
	}
	return 0;
}

void
atsmaild_listen_close(void)
{
	size_t i;

	for (i = 0; i < 2; i++) {
		if (listeners[i].fd >= 0) {
			close(listeners[i].fd);
			(void)unlink(listeners[i].path);
		}
		listeners[i].fd = -1;
	}
	if (wake[0] >= 0) {
		close(wake[0]);
		close(wake[1]);
	}
	wake[0] = wake[1] = -1;
	free(conns);
	conns = NULL;
}

/* ---- connections ----------------------------------------------------------- */

static void
conn_forget(struct atsmaild_conn *c)
{
	size_t i;

	pthread_mutex_lock(&conn_lock);
	for (i = 0; i < conn_max; i++)
		if (conns[i] == c) {
			conns[i] = NULL;
			conn_count--;
			break;
		}
	pthread_cond_broadcast(&conn_gone);
	pthread_mutex_unlock(&conn_lock);
}

static void *
conn_main(void *arg)
{
	struct atsmaild_conn *c = arg;

	atsm_log(LOG_DEBUG, "%s connection %lu: pid %ld uid %lu", front_name(c->front), c->id,
	    (long)c->pid, (unsigned long)c->uid);
	if (c->front == ATSMAILD_MILTER)
		atsmaild_milter_session(c);
	else
		atsmaild_filing_session(c);
	conn_forget(c);
	close(c->fd);
	atsm_log(LOG_DEBUG, "%s connection %lu: closed", front_name(c->front), c->id);
	free(c);
	return NULL;
}

/* One accepted connection: check the peer, then give it a thread. */
static void
take(struct listener *l, int fd)
{
	struct atsmaild_gen *g = atsmaild_gen_acquire();
	struct atsmaild_conn *c;
	struct atsm_err err;
	pthread_attr_t attr;
	pthread_t t;
	pid_t pid = 0;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	size_t i;
	bool ok;

	if (atsmaild_peer_cred(fd, &pid, &uid, &gid, &err) < 0) {
		atsm_log(LOG_WARNING, "%s %s: connection refused: %s", l->setting, l->path, err.msg);
		atsmaild_gen_release(g);
		close(fd);
		return;
	}
	ok = g != NULL && atsmaild_peers_allow(l->front == ATSMAILD_MILTER ? &g->milter_peers :
	    &g->filing_peers, uid);
	atsmaild_gen_release(g);
	if (!ok) {
		atsm_log(LOG_WARNING, "%s %s: connection from pid %ld uid %lu refused: that user "
		    "is not in %s", l->setting, l->path, (long)pid, (unsigned long)uid,
		    l->front == ATSMAILD_MILTER ? "milter_peers" : "filing_peers");
		close(fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->front = l->front;
	c->pid = pid;
	c->uid = uid;
	pthread_mutex_lock(&conn_lock);
	c->id = ++conn_serial;
	for (i = 0; i < conn_max && conns[i] != NULL; i++)
		;
	if (i < conn_max) {
		conns[i] = c;
		conn_count++;
	}
	pthread_mutex_unlock(&conn_lock);
	if (i == conn_max) {
		atsm_log(LOG_WARNING, "%s %s: connection from pid %ld refused: %zu connections "
		    "already (service_max_connections)", l->setting, l->path, (long)pid, conn_max);
		close(fd);
		free(c);
		return;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, CONN_STACK);
	if (pthread_create(&t, &attr, conn_main, c) != 0) {
		atsm_log(LOG_ERR, "%s: cannot start a thread for a connection", l->setting);
		conn_forget(c);
		close(fd);
		free(c);
	}
	pthread_attr_destroy(&attr);
}

/* accept() failed for want of a resource: the connection stays in the
 * backlog, and the socket stays readable. */
static bool
starved(int e)
{
	return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
}

int
atsmaild_listen_run(void)
{
	struct pollfd pfd[3];
	bool pause[2] = { false, false }, told[2] = { false, false };
	size_t i;

	for (;;) {
		/* A listener out of descriptors is left out of one poll round
		 * (ACCEPT_PAUSE_MS): polling it would return at once, again and
		 * again, with the connection it cannot take. */
		for (i = 0; i < 2; i++) {
			pfd[i].fd = pause[i] ? -1 : listeners[i].fd;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		pfd[2].fd = wake[0];
		pfd[2].events = POLLIN;
		if (poll(pfd, 3, pause[0] || pause[1] ? (int)ACCEPT_PAUSE_MS : -1) < 0) {
			if (errno == EINTR)
				continue;
			atsm_log(LOG_ERR, "poll: %s", strerror(errno));
			return -1;
		}
		if (pfd[2].revents != 0 || atsmaild_stopping())
			return 0;
		for (i = 0; i < 2; i++) {
			int fd;

			if (!pause[i] && !(pfd[i].revents & POLLIN))
				continue;
			pause[i] = false;
			while ((fd = accept4(listeners[i].fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
				if (told[i])
					atsm_log(LOG_NOTICE, "%s %s: accepting connections again",
					    listeners[i].setting, listeners[i].path);
				told[i] = false;
				take(&listeners[i], fd);
			}
			if (starved(errno)) {
				/* once per episode: the log must not fill as fast
				 * as the peers retry */
				if (!told[i])
					atsm_log(LOG_ERR, "%s %s: cannot accept a connection: %s "
					    "(raise the limit on open files, or lower "
					    "service_max_connections); new connections wait",
					    listeners[i].setting, listeners[i].path, strerror(errno));
				told[i] = pause[i] = true;
			} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				atsm_log(LOG_ERR, "%s: accept: %s", listeners[i].setting,
				    strerror(errno));
		}
	}
}

static void
ts_add_ms(struct timespec *t, unsigned ms)
{
	t->tv_sec += ms / 1000;
	t->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

static bool
ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

void
atsmaild_listen_stop(unsigned wait_ms)
{
	struct timespec now, until, next;
	char c = 'q';
	size_t i;

	atsmaild_conn_stop();
	if (wake[1] >= 0 && write(wake[1], &c, 1) < 0) {
		/* a wake-up is pending already */
	}
	clock_gettime(CLOCK_REALTIME, &until);
	ts_add_ms(&until, wait_ms);
	pthread_mutex_lock(&conn_lock);
	/* Sessions see atsmaild_stopping() between two messages and leave; a
	 * read that waits for the next message is ended here.  Looked at
	 * again every STOP_POLL_MS, not only when a connection goes: a
	 * session that had just finished a message when stopping was set
	 * may have looked at it before, and gone back to read after, the
	 * last shutdown -- it would wait for the whole bound otherwise. */
	for (;;) {
		for (i = 0; i < conn_max; i++)
			if (conns[i] != NULL && conns[i]->idle)
				shutdown(conns[i]->fd, SHUT_RD);
		clock_gettime(CLOCK_REALTIME, &now);
		if (conn_count == 0 || !ts_before(&now, &until))
			break;
		next = now;
		ts_add_ms(&next, STOP_POLL_MS);
		if (!ts_before(&next, &until))
			next = until;
		(void)pthread_cond_timedwait(&conn_gone, &conn_lock, &next);
	}
	for (i = 0; i < conn_max; i++)
		if (conns[i] != NULL)
			shutdown(conns[i]->fd, SHUT_RDWR);
	while (conn_count > 0)
		pthread_cond_wait(&conn_gone, &conn_lock);
	pthread_mutex_unlock(&conn_lock);
}

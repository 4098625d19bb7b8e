/* atsmail-client.c -- the plugin's connection to atsmaild's filing socket:
 * one request, one answer, within the deadline atsmail_timeout sets.
 *
 * Interface: atsmail_ask, atsmail_client_close, atsmail_client_free
 * (atsmail-core.h).
 *
 * A Dovecot mail process files one mail at a time, so one connection per
 * process is enough; it is kept open and reused across mails and users
 * (an LMTP process delivers to many), which spares a connect and the
 * service's peer check per mail.  The service may close an idle
 * connection whenever it likes (a restart, say): a kept connection found
 * closed before the request, or broken while sending it or before the
 * first byte of the answer, is replaced once and the request sent again.
 * Asking twice is harmless: the service files a mail once by its
 * idempotency key, and a Postfix retry asks again anyway.
 *
 * Every wait is poll()-bounded by one deadline for connect, send and
 * answer together: Dovecot's process is blocked meanwhile, and LMTP must
 * answer Postfix within its own timeouts.  The socket is non-blocking and
 * close-on-exec, and sends use MSG_NOSIGNAL: a service that went away
 * gives EPIPE, not a SIGPIPE in Dovecot's process.
 */
#include "atsmail-core.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Room for the lines of a request besides its head. */
#define REQUEST_LINES_MAX (ATSM_FILING_LINES_MAX * ATSM_FILING_LINE_MAX)

static struct {
	int fd;                            /* -1: none */
	char path[ATSMAIL_SOCKET_MAX];     /* what fd is connected to */
	struct atsm_buf out;               /* the encoded request */
	struct atsm_filing_parser *parser; /* of answers */
} conn = { .fd = -1 };

/* How an exchange ended. */
enum outcome { DONE, BROKEN, FAILED };

static void
say(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
say(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on fd until the deadline: 1 ready, 0 deadline passed. */
static int
wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pfd;
	long long left;
	int rc;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return 0;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		rc = poll(&pfd, 1, (int)(left > 60000 ? 60000 : left));
		if (rc > 0)
			return 1;
		if (rc < 0 && errno != EINTR)
			return 1;          /* let the read or write report it */
	}
}

void
atsmail_client_close(void)
{
	if (conn.fd >= 0)
		close(conn.fd);
	conn.fd = -1;
	conn.path[0] = '\0';
}

void
atsmail_client_free(void)
{
	atsmail_client_close();
	atsm_buf_free(&conn.out);
	atsm_filing_parser_free(conn.parser);
	conn.parser = NULL;
}

/* A kept connection the service has closed (or that holds bytes nobody
 * asked for) is of no use: it shows as readable while idle. */
static bool
idle_connection_broken(void)
{
	struct pollfd pfd = { .fd = conn.fd, .events = POLLIN };

	return poll(&pfd, 1, 0) != 0;
}

static int
connect_to(const char *path, long long deadline, char *why, size_t whylen)
{
	union {
		struct sockaddr sa;
		struct sockaddr_un un;
	} addr;
	int fd, err = 0;
	socklen_t len;

	memset(&addr, 0, sizeof(addr));
	addr.un.sun_family = AF_UNIX;
	memcpy(addr.un.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		say(why, whylen, "socket(): %s", strerror(errno));
		return -1;
	}
	while (connect(fd, &addr.sa, sizeof(addr.un)) < 0) {
		if (errno == EAGAIN) {
			/* the service's listen queue is full: try again shortly */
			if (now_ms() + 10 >= deadline)
				goto timeout;
			(void)poll(NULL, 0, 10);
			continue;
		}
		if (errno != EINPROGRESS && errno != EINTR) {
			say(why, whylen, "cannot connect to the filing socket %s: %s", path,
			    strerror(errno));
			close(fd);
			return -1;
		}
		if (wait_fd(fd, POLLOUT, deadline) == 0)
			goto timeout;
		len = sizeof(err);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err != 0) {
			say(why, whylen, "cannot connect to the filing socket %s: %s", path,
			    strerror(err));
			close(fd);
			return -1;
		}
		break;
	}
	conn.fd = fd;
	memcpy(conn.path, path, strlen(path) + 1);
	return 0;
timeout:
	say(why, whylen, "cannot connect to the filing socket %s: no answer within the "
	    "deadline (atsmail_timeout)", path);
	close(fd);
	return -1;
}

/* Send conn.out, read one answer into ans. */
static enum outcome
exchange(struct atsm_filing_answer *ans, long long deadline, unsigned timeout_ms,
    char *why, size_t whylen)
{
	char buf[4096];
	struct atsm_err err;
	size_t off = 0, got = 0;
	ssize_t n;
	long used;

	while (off < conn.out.len) {
		n = send(conn.fd, conn.out.data + off, conn.out.len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(conn.fd, POLLOUT, deadline) == 0)
				goto timeout;
			continue;
		}
		say(why, whylen, "sending to %s: %s", conn.path, strerror(errno));
		return errno == EPIPE || errno == ECONNRESET ? BROKEN : FAILED;
	}
	atsm_filing_parser_reset(conn.parser);
	for (;;) {
		if (wait_fd(conn.fd, POLLIN, deadline) == 0)
			goto timeout;
		n = recv(conn.fd, buf, sizeof(buf), 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n <= 0) {
			if (n == 0)
				say(why, whylen, "%s closed the connection %s", conn.path,
				    got == 0 ? "without answering" : "in the middle of its answer");
			else
				say(why, whylen, "reading from %s: %s", conn.path, strerror(errno));
			return got == 0 && (n == 0 || errno == ECONNRESET) ? BROKEN : FAILED;
		}
		got += (size_t)n;
		used = atsm_filing_answer_feed(conn.parser, buf, (size_t)n, &err);
		if (used < 0) {
			say(why, whylen, "the answer from %s is malformed: %s", conn.path, err.msg);
			return FAILED;
		}
		if (atsm_filing_answer_done(conn.parser)) {
			*ans = *atsm_filing_answer_get(conn.parser);
			/* more than one answer to one request: out of step */
			if ((size_t)used < (size_t)n)
				atsmail_client_close();
			return DONE;
		}
	}
timeout:
	say(why, whylen, "no answer from %s within %u ms (atsmail_timeout)", conn.path,
	    timeout_ms);
	return FAILED;
}

int
atsmail_ask(const struct atsmail_settings *s, const struct atsm_filing_request *req,
    struct atsm_filing_answer *ans, char *why, size_t whylen)
{
	long long deadline = now_ms() + s->timeout_ms;
	struct atsm_err err;
	enum outcome o;
	bool reused;
	int attempt;

	why[0] = '\0';
	if (conn.parser == NULL && (conn.parser = atsm_filing_parser_new(0)) == NULL) {
		say(why, whylen, "out of memory");
		return -1;
	}
	/* the buffer keeps its memory between mails, within this limit */
	conn.out.limit = s->head_max + REQUEST_LINES_MAX;
	atsm_buf_reset(&conn.out);
	if (atsm_filing_request_encode(req, &conn.out, &err) < 0) {
		say(why, whylen, "the request cannot be written: %s", err.msg);
		return -1;
	}
	if (conn.fd >= 0 && strcmp(conn.path, s->socket) != 0)
		atsmail_client_close();
	for (attempt = 0; attempt < 2; attempt++) {
		if (conn.fd >= 0 && idle_connection_broken())
			atsmail_client_close();
		reused = conn.fd >= 0;
		if (!reused && connect_to(s->socket, deadline, why, whylen) < 0)
			return -1;
		o = exchange(ans, deadline, s->timeout_ms, why, whylen);
		if (o == DONE)
			return 0;
		atsmail_client_close();
		if (o != BROKEN || !reused)
			return -1;
	}
	return -1;
}

/* service/smtp-client.c -- a small SMTP client (see service/smtp-client.h). */
#include "atsm-build-config.h"
#include "service/smtp-client.h"

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/buf.h"

#define IN_MAX 8192                      /* bytes of one reply, all its lines */

static void
set_timeouts(int fd, int timeout_s)
{
	struct timeval tv = { timeout_s, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int
dial(struct atsm_smtp *s, const char *where, int timeout_s)
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[512], *port;
	int fd = -1, rc;

	if (strncmp(where, "unix:", 5) == 0) {
		union {
			struct sockaddr sa;
			struct sockaddr_un un;
		} u;

		memset(&u, 0, sizeof(u));
		u.un.sun_family = AF_UNIX;
		if (strlen(where + 5) >= sizeof(u.un.sun_path)) {
			snprintf(s->reply, sizeof(s->reply), "%s: path too long", where);
			return -1;
		}
		memcpy(u.un.sun_path, where + 5, strlen(where + 5) + 1);
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0) {
			snprintf(s->reply, sizeof(s->reply), "socket: %s", strerror(errno));
			return -1;
		}
		set_timeouts(fd, timeout_s);
		if (connect(fd, &u.sa, sizeof(u.un)) == 0)
			return fd;
		snprintf(s->reply, sizeof(s->reply), "connect to %s: %s", where, strerror(errno));
		close(fd);
		return -1;
	}
	if (where[0] == '[') {
		snprintf(host, sizeof(host), "%s", where + 1);
		if ((port = strstr(host, "]:")) != NULL) {
			*port = '\0';
			port += 2;
		}
	} else {
		snprintf(host, sizeof(host), "%s", where);
		if ((port = strrchr(host, ':')) != NULL)
			*port++ = '\0';
	}
	if (port == NULL || *port == '\0') {
		snprintf(s->reply, sizeof(s->reply), "%s: not host:port, [IPv6]:port or "
		    "unix:/path", where);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(s->reply, sizeof(s->reply), "%s: %s", where, gai_strerror(rc));
		return -1;
	}
	snprintf(s->reply, sizeof(s->reply), "connect to %s: no address", where);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol)) < 0)
			continue;
		set_timeouts(fd, timeout_s);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		snprintf(s->reply, sizeof(s->reply), "connect to %s: %s", where, strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static int
put_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* The connection failed: close it, say why. */
static int
broken(struct atsm_smtp *s, const char *what)
{
	snprintf(s->reply, sizeof(s->reply), "%s %s (%s)", what, s->where,
	    errno == EAGAIN || errno == EWOULDBLOCK ? "timeout" :
	    errno != 0 ? strerror(errno) : "connection closed");
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->code = -1;
	return -1;
}

/* Read one reply, all its lines; keep the last line in s->reply. */
static int
get_reply(struct atsm_smtp *s)
{
	char in[IN_MAX], *line, *e;
	size_t have = 0;

	for (;;) {
		ssize_t k;

		in[have] = '\0';
		for (line = in; (e = strstr(line, "\r\n")) != NULL; line = e + 2) {
			if (e - line >= 3 && isdigit((unsigned char)line[0]) &&
			    (e - line == 3 || line[3] == ' ')) {
				size_t n = (size_t)(e - line);

				if (n >= sizeof(s->reply))
					n = sizeof(s->reply) - 1;
				memcpy(s->reply, line, n);
				s->reply[n] = '\0';
				s->code = atoi(line);
				return s->code;
			}
		}
		if (have + 1 >= sizeof(in)) {
			errno = EMSGSIZE;
			return broken(s, "a reply too long from");
		}
		errno = 0;
		if ((k = read(s->fd, in + have, sizeof(in) - have - 1)) <= 0) {
			if (k < 0 && errno == EINTR)
				continue;
			return broken(s, "no reply from");
		}
		have += (size_t)k;
	}
}

/* verb, then arg (may be "") in brackets when addr, then CRLF */
static int
command(struct atsm_smtp *s, const char *verb, const char *arg, bool addr)
{
	char cmd[1100];

	snprintf(cmd, sizeof(cmd), "%s%s%s%s\r\n", verb, addr ? "<" : "", arg, addr ? ">" : "");
	errno = 0;
	if (put_all(s->fd, cmd, strlen(cmd)) < 0)
		return broken(s, "cannot write to");
	return get_reply(s);
}

int
atsm_smtp_open(struct atsm_smtp *s, const char *where, const char *helo, int timeout_s)
{
	char host[256] = "localhost";

	memset(s, 0, sizeof(*s));
	s->code = -1;
	snprintf(s->where, sizeof(s->where), "%s", where);
	if ((s->fd = dial(s, where, timeout_s)) < 0)
		return -1;
	if (helo == NULL) {
		(void)gethostname(host, sizeof(host) - 1);
		helo = host;
	}
	if (get_reply(s) < 0)
		return -1;
	if (s->code / 100 != 2 || command(s, "EHLO ", helo, false) < 0 || s->code / 100 != 2) {
		if (s->fd >= 0)
			close(s->fd);
		s->fd = -1;
		return -1;
	}
	return 0;
}

void
atsm_smtp_close(struct atsm_smtp *s)
{
	if (s->fd < 0)
		return;
	(void)command(s, "QUIT", "", false);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

/* The message: every line ended by CRLF, a leading dot doubled. */
static int
put_data(struct atsm_smtp *s, const char *p, size_t n)
{
	struct atsm_buf b;
	bool bol = true;
	size_t i;
	int rc = 0;

	atsm_buf_init(&b, 2 * n + 16);
	for (i = 0; i < n && rc == 0; i++) {
		if (bol && p[i] == '.')
			rc = atsm_buf_putc(&b, '.');
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			rc = rc < 0 ? rc : atsm_buf_putc(&b, '\r');
		if (p[i] == '\r' && (i + 1 >= n || p[i + 1] != '\n')) {
			rc = rc < 0 ? rc : atsm_buf_puts(&b, "\r\n");
			bol = true;
			continue;
		}
		rc = rc < 0 ? rc : atsm_buf_putc(&b, p[i]);
		bol = p[i] == '\n';
	}
	if (rc == 0 && !bol)
		rc = atsm_buf_puts(&b, "\r\n");
	if (rc == 0)
		rc = atsm_buf_puts(&b, ".\r\n");
	if (rc < 0) {
		atsm_buf_free(&b);
		snprintf(s->reply, sizeof(s->reply), "out of memory");
		return -2;
	}
	errno = 0;
	rc = put_all(s->fd, b.data, b.len);
	atsm_buf_free(&b);
	return rc < 0 ? broken(s, "cannot write to") : 0;
}

/* Give up a transaction refused before DATA, keeping its reply. */
static int
reset(struct atsm_smtp *s)
{
	char keep[ATSM_SMTP_REPLY_MAX];
	int code = s->code;

	memcpy(keep, s->reply, sizeof(keep));
	if (command(s, "RSET", "", false) < 0)
		return -1;
	memcpy(s->reply, keep, sizeof(keep));
	s->code = code;
	return code;
}

int
atsm_smtp_send(struct atsm_smtp *s, const char *from, const char *const *rcpts,
    size_t n_rcpts, int *rcpt_codes, const char *msg, size_t len)
{
	char last[ATSM_SMTP_REPLY_MAX] = "";
	size_t i, taken = 0;
	int last_code = 0, rc;

	if (s->fd < 0) {
		snprintf(s->reply, sizeof(s->reply), "not connected to %s", s->where);
		return -1;
	}
	if (strpbrk(from, "<>\r\n") != NULL) {
		snprintf(s->reply, sizeof(s->reply), "bad sender address");
		return 554;
	}
	if (command(s, "MAIL FROM:", from, true) < 0)
		return -1;
	if (s->code / 100 != 2)
		return reset(s);
	for (i = 0; i < n_rcpts; i++) {
		if (strpbrk(rcpts[i], "<>\r\n") != NULL) {
			if (rcpt_codes != NULL)
				rcpt_codes[i] = 553;
			continue;
		}
		if (command(s, "RCPT TO:", rcpts[i], true) < 0)
			return -1;
		if (rcpt_codes != NULL)
			rcpt_codes[i] = s->code;
		if (s->code / 100 == 2)
			taken++;
		else if (last_code == 0 || s->code / 100 == 5) {
			last_code = s->code;
			memcpy(last, s->reply, sizeof(last));
		}
	}
	if (taken == 0) {
		if (last_code != 0) {
			s->code = last_code;
			memcpy(s->reply, last, sizeof(last));
		} else {
			s->code = 554;
			snprintf(s->reply, sizeof(s->reply), "554 no valid recipient");
		}
		return reset(s);
	}
	if (command(s, "DATA", "", false) < 0)
		return -1;
	if (s->code != 354)
		return reset(s);
	if ((rc = put_data(s, msg, len)) < 0) {
		if (rc == -2) {
			/* cannot end the data cleanly: drop the session */
			close(s->fd);
			s->fd = -1;
		}
		return -1;
	}
	return get_reply(s);
}

void
atsm_smtp_queue_id(const char *reply, char *out, size_t size)
{
	const char *p = strstr(reply, "queued as ");
	size_t n = 0;

	out[0] = '\0';
	if (p == NULL || size == 0)
		return;
	p += 10;
	while (isalnum((unsigned char)p[n]) && n + 1 < size)
		n++;
	memcpy(out, p, n);
	out[n] = '\0';
}

/* lmtp-load.c -- the load of bench/plugin-delivery.sh: N mails over LMTP
 * to one Dovecot from SESSIONS parallel sessions (a thread and one
 * connection each, kept for all its mails), and when each delivery ended.
 *
 * usage: lmtp-load PORT N SESSIONS TAG RCPT RESUMES OUT
 *
 * Mail i is a candidate's reply: it comes from candK@bench.example, K a
 * multiple of 10 drawn at random in 10..RESUMES (the draw is the same for
 * the same TAG and N), and answers <bench-K@atsmail.test> (In-Reply-To and
 * References), the message bench-lib.sh's bl_seed recorded as sent to that
 * address; to RCPT, with Message-ID <TAG.i@bench.test> and a body of about
 * 3 KiB.  OUT gets one line per
 * mail, "message-id epoch": the moment the final reply to that mail's DATA
 * was read (CLOCK_REALTIME, the clock record-watch uses).  Prints
 * "start=EPOCH end=EPOCH" (before the first connection, after the last
 * reply).  Any reply but 2xx/3xx where one is due ends the run with status
 * 1: a benchmark counts only mail that was delivered.
 *
 * C and not a script: the client shares the two CPUs with what it
 * measures, and its timestamps must not wait for an interpreter's lock.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BODY_LINES 40
#define LINE_MAX_LEN 1024

struct sess {
	int fd;
	char buf[4096];
	size_t len, off;
};

static int port, n, sessions, resumes;
static const char *tag, *rcpt;
static double *done;
static unsigned *sender;
static char body[BODY_LINES * 78 + 1];
static volatile int failed;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
fail(int k, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "lmtp-load: session %d: ", k);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	failed = 1;
}

static int
send_all(struct sess *s, const char *p, size_t len)
{
	ssize_t w;

	while (len > 0) {
		if ((w = write(s->fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* One line of a reply into line; -1 at end of file or error. */
static int
read_line(struct sess *s, char *line, size_t size)
{
	size_t i = 0;
	ssize_t r;

	for (;;) {
		while (s->off < s->len) {
			char c = s->buf[s->off++];

			if (c == '\n') {
				if (i > 0 && line[i - 1] == '\r')
					i--;
				line[i] = '\0';
				return 0;
			}
			if (i + 1 < size)
				line[i++] = c;
		}
		if ((r = read(s->fd, s->buf, sizeof(s->buf))) <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			return -1;
		}
		s->len = (size_t)r;
		s->off = 0;
	}
}

/* A whole (multi-line) reply; its code, or -1. */
static int
reply(struct sess *s)
{
	char line[LINE_MAX_LEN];

	do {
		if (read_line(s, line, sizeof(line)) < 0 || strlen(line) < 3)
			return -1;
	} while (line[3] == '-');
	return atoi(line);
}

static int
cmd(struct sess *s, int k, const char *text, int want)
{
	int code;

	if (send_all(s, text, strlen(text)) < 0 || (code = reply(s)) < 0) {
		fail(k, "connection lost after %.40s", text);
		return -1;
	}
	if (code / 100 != want) {
		fail(k, "%.40s answered %d", text, code);
		return -1;
	}
	return 0;
}

static void *
worker(void *arg)
{
	int k = (int)(intptr_t)arg, i, code;
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
	} u = { .in = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) } };
	struct sess s = { .fd = -1 };
	char line[LINE_MAX_LEN], *msg;
	size_t cap = sizeof(body) + 1024;

	if ((msg = malloc(cap)) == NULL)
		return NULL;
	u.in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s.fd = socket(AF_INET, SOCK_STREAM, 0);
	code = 1;
	setsockopt(s.fd, IPPROTO_TCP, TCP_NODELAY, &code, sizeof(code));
	if (connect(s.fd, &u.sa, sizeof(u.in)) < 0 || reply(&s) != 220) {
		fail(k, "cannot connect to 127.0.0.1:%d", port);
		goto out;
	}
	if (cmd(&s, k, "LHLO bench.test\r\n", 2) < 0)
		goto out;
	for (i = k; i < n && !failed; i += sessions) {
		char date[64];
		time_t t = time(NULL);
		struct tm tm;
		int len;

		snprintf(line, sizeof(line), "MAIL FROM:<cand%u@bench.example>\r\n", sender[i]);
		if (cmd(&s, k, line, 2) < 0)
			break;
		snprintf(line, sizeof(line), "RCPT TO:<%s>\r\n", rcpt);
		if (cmd(&s, k, line, 2) < 0 || cmd(&s, k, "DATA\r\n", 3) < 0)
			break;
		gmtime_r(&t, &tm);
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
		len = snprintf(msg, cap, "From: <cand%u@bench.example>\r\nTo: <%s>\r\n"
		    "Subject: Re: Interview (%s %d)\r\nMessage-ID: <%s.%d@bench.test>\r\n"
		    "In-Reply-To: <bench-%u@atsmail.test>\r\nReferences: <bench-%u@atsmail.test>\r\n"
		    "Date: %s\r\n\r\n%s.\r\n", sender[i], rcpt, tag, i, tag, i, sender[i],
		    sender[i], date, body);
		if (len < 0 || (size_t)len >= cap || send_all(&s, msg, (size_t)len) < 0 ||
		    (code = reply(&s)) < 0) {
			fail(k, "mail %d: connection lost", i);
			break;
		}
		done[i] = now_s();
		if (code / 100 != 2) {
			fail(k, "mail %d: refused with %d", i, code);
			break;
		}
	}
	if (!failed)
		(void)cmd(&s, k, "QUIT\r\n", 2);
out:
	if (s.fd >= 0)
		close(s.fd);
	free(msg);
	return NULL;
}

int
main(int argc, char **argv)
{
	unsigned long long rng = 88172645463325252ULL;
	pthread_t *th;
	double start, end = 0;
	FILE *out;
	int i;

	if (argc != 8) {
		fprintf(stderr, "usage: lmtp-load PORT N SESSIONS TAG RCPT RESUMES OUT\n");
		return 64;
	}
	port = atoi(argv[1]);
	n = atoi(argv[2]);
	sessions = atoi(argv[3]);
	tag = argv[4];
	rcpt = argv[5];
	resumes = atoi(argv[6]);
	if (n <= 0 || sessions <= 0 || resumes < 10) {
		fprintf(stderr, "lmtp-load: N and SESSIONS must be positive, RESUMES at least 10\n");
		return 64;
	}
	for (i = 0; tag[i] != '\0'; i++)
		rng = (rng ^ (unsigned char)tag[i]) * 0x100000001B3ULL;
	done = calloc((size_t)n, sizeof(*done));
	sender = calloc((size_t)n, sizeof(*sender));
	th = calloc((size_t)sessions, sizeof(*th));
	if (done == NULL || sender == NULL || th == NULL)
		return 70;
	for (i = 0; i < n; i++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		sender[i] = 10 * (1 + (unsigned)(rng % (unsigned long long)(resumes / 10)));
	}
	for (i = 0; i < BODY_LINES; i++) {
		memset(body + i * 77, 'x', 75);
		memcpy(body + i * 77 + 75, "\r\n", 2);
	}
	body[BODY_LINES * 77] = '\0';
	start = now_s();
	for (i = 0; i < sessions; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i) != 0)
			return 71;
	for (i = 0; i < sessions; i++)
		pthread_join(th[i], NULL);
	if (failed)
		return 1;
	if ((out = fopen(argv[7], "w")) == NULL) {
		fprintf(stderr, "lmtp-load: %s: %s\n", argv[7], strerror(errno));
		return 73;
	}
	for (i = 0; i < n; i++) {
		fprintf(out, "%s.%d@bench.test %.6f\n", tag, i, done[i]);
		if (done[i] > end)
			end = done[i];
	}
	fclose(out);
	printf("start=%.6f end=%.6f\n", start, end);
	free(done);
	free(sender);
	free(th);
	return 0;
}

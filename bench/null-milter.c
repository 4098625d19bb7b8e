/* null-milter.c -- a libmilter filter that does nothing, for
 * bench/milter-throughput.sh: it measures what the milter protocol itself
 * costs Postfix, so that atsmaild's own cost can be told apart.
 *
 * Usage: null-milter -p SOCKET [-P PIDFILE]
 *
 * It takes the same care as atsmaild so that the comparison is
 * fair: a unix socket is created connectable by Postfix (umask 0), an inet
 * socket gets TCP_NODELAY, and a DATA callback is registered (without it
 * Postfix sends DATA macros without waiting, and an inet socket stalls on
 * Nagle + delayed ACK).  It sees every step atsmaild sees (connect,
 * MAIL, RCPT, DATA, headers, body, end of message) and continues.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#define LISTEN_SCAN_MAX 256

static sfsistat
cont_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
	(void)ctx; (void)host; (void)addr;
	return SMFIS_CONTINUE;
}

static sfsistat
cont_argv(SMFICTX *ctx, char **argv)
{
	(void)ctx; (void)argv;
	return SMFIS_CONTINUE;
}

static sfsistat
cont_header(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx; (void)name; (void)value;
	return SMFIS_CONTINUE;
}

static sfsistat
cont_body(SMFICTX *ctx, unsigned char *p, size_t n)
{
	(void)ctx; (void)p; (void)n;
	return SMFIS_CONTINUE;
}

static sfsistat
cont_ctx(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
	.xxfi_name = (char *)"null-milter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_NONE,
	.xxfi_connect = cont_connect,
	.xxfi_envfrom = cont_argv,
	.xxfi_envrcpt = cont_argv,
	.xxfi_header = cont_header,
	.xxfi_body = cont_body,
	.xxfi_eom = cont_ctx,
	.xxfi_data = cont_ctx,
};

static void
nodelay(void)
{
	int fd;

	for (fd = 0; fd < LISTEN_SCAN_MAX; fd++) {
		union {
			struct sockaddr sa;
			struct sockaddr_storage ss;
		} u;
		socklen_t sl = sizeof(u), l;
		int v = 0;

		l = sizeof(v);
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &l) != 0 || v == 0)
			continue;
		if (getsockname(fd, &u.sa, &sl) != 0 ||
		    (u.ss.ss_family != AF_INET && u.ss.ss_family != AF_INET6))
			continue;
		v = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v));
	}
}

int
main(int argc, char **argv)
{
	const char *sock = NULL, *pidfile = NULL;
	mode_t old;
	FILE *fp;
	int c;

	while ((c = getopt(argc, argv, "p:P:")) != -1) {
		switch (c) {
		case 'p': sock = optarg; break;
		case 'P': pidfile = optarg; break;
		default: goto usage;
		}
	}
	if (sock == NULL) {
usage:
		fprintf(stderr, "usage: null-milter -p SOCKET [-P PIDFILE]\n");
		return 64;
	}
	if (smfi_setconn((char *)sock) == MI_FAILURE || smfi_register(desc) == MI_FAILURE) {
		fprintf(stderr, "null-milter: bad socket %s\n", sock);
		return 64;
	}
	old = umask(0);
	c = smfi_opensocket(1);
	umask(old);
	if (c == MI_FAILURE) {
		fprintf(stderr, "null-milter: cannot open %s\n", sock);
		return 71;
	}
	nodelay();
	if (pidfile != NULL) {
		fp = fopen(pidfile, "w");
		if (fp == NULL) {
			fprintf(stderr, "null-milter: %s: %s\n", pidfile, strerror(errno));
			return 71;
		}
		fprintf(fp, "%ld\n", (long)getpid());
		fclose(fp);
	}
	return smfi_main() == MI_SUCCESS ? 0 : 70;
}

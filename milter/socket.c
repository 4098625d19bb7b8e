/* socket.c -- open the socket Postfix connects to.
 *
 * Interface: milter_socket_open (milter.h).
 *
 * Two things libmilter does not do for us:
 *  - a unix socket is created with the process umask; Postfix connects as
 *    the postfix user, so the socket is created with umask 0 (access is
 *    controlled by the directory it lives in, see docs/milter.md) and the
 *    umask is restored at once so that no other file gets mode 0666;
 *  - on an inet socket, libmilter writes a reply in several small
 *    writes (e.g. SMFIR_ADDHEADER, then SMFIR_CONTINUE), which Nagle's
 *    algorithm and the peer's delayed ACK turn into a ~40 ms stall per
 *    message.  libmilter has no call to set socket options, so after
 *    smfi_opensocket() we find the listening socket it opened (the one
 *    descriptor with SO_ACCEPTCONN and an AF_INET/AF_INET6 name) and set
 *    TCP_NODELAY on it; Linux copies it to every accepted socket.
 */
#include "milter.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"

/* Descriptors scanned for the listener: it is opened early, so a low
 * bound is plenty, but never more than the process may have open. */
#define SOCKET_SCAN_MAX 1024

static int
set_nodelay_on_listeners(void)
{
	struct rlimit rl;
	int fd, max, found = 0;

	max = SOCKET_SCAN_MAX;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)max)
		max = (int)rl.rlim_cur;
	for (fd = 0; fd < max; fd++) {
		union {
			struct sockaddr sa;
			struct sockaddr_storage ss;
		} u;
		socklen_t sl = sizeof(u), l;
		int v = 0;

		l = sizeof(v);
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &l) != 0 || v == 0)
			continue;
		if (getsockname(fd, &u.sa, &sl) != 0)
			continue;
		if (u.ss.ss_family != AF_INET && u.ss.ss_family != AF_INET6)
			continue;
		v = 1;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)) != 0) {
			atsm_log(LOG_WARNING, "cannot set TCP_NODELAY on the milter socket: %s",
			    strerror(errno));
			continue;
		}
		found++;
	}
	return found;
}

int
milter_socket_open(const char *spec)
{
	mode_t old;
	int rc;
	bool is_inet = strncmp(spec, "inet:", 5) == 0 || strncmp(spec, "inet6:", 6) == 0;

	if (smfi_setconn((char *)spec) == MI_FAILURE) {
		atsm_log(LOG_ERR, "milter_socket %s: not a libmilter socket "
		    "(unix:/path, inet:port@address or inet6:port@address)", spec);
		return -1;
	}
	old = umask(0);
	/* 1: remove a socket file left by an earlier run */
	rc = smfi_opensocket(1);
	umask(old);
	if (rc == MI_FAILURE) {
		atsm_log(LOG_ERR, "cannot open milter socket %s (in use, or its "
		    "directory is missing or not writable)", spec);
		return -1;
	}
	if (is_inet) {
		if (set_nodelay_on_listeners() == 0)
			atsm_log(LOG_WARNING, "milter socket %s: listening socket not found; "
			    "TCP_NODELAY not set (expect ~40 ms per message)", spec);
		else
			atsm_log(LOG_INFO, "milter socket %s: TCP_NODELAY set", spec);
	}
	return 0;
}

/* conn.c -- what a session does with its connection: read, write, and
 * ask whether the service is stopping.
 *
 * Interface: atsmaild_read, atsmaild_write, atsmaild_stopping,
 * atsmaild_conn_stop (atsmaild.h).
 *
 * Apart from listen.c (which accepts connections and starts the sessions)
 * so that the sessions depend on this and not on the listener.
 */
#include "atsm-build-config.h"
#include "atsmaild.h"

#include <errno.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

static atomic_bool stopping;

void
atsmaild_conn_stop(void)
{
	atomic_store(&stopping, true);
}

bool
atsmaild_stopping(void)
{
	return atomic_load(&stopping);
}

ssize_t
atsmaild_read(struct atsmaild_conn *c, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(c->fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

int
atsmaild_write(struct atsmaild_conn *c, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

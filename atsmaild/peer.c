/* peer.c -- which local users may talk to atsmaild, and who is talking.
 *
 * Interface: atsmaild_peers_parse, atsmaild_peers_allow, atsmaild_peer_cred
 * (atsmaild.h).
 *
 * Both sockets are unix sockets, so the kernel tells who connected
 * (SO_PEERCRED: the process, user and group at the other end when it
 * connected).  Only the users named by milter_peers (Postfix's) and
 * filing_peers (the users Dovecot's mail processes run as), and root, are
 * served: a local account that can reach the socket file cannot pose as
 * Postfix and claim to be a logged-in recruiter.  File permissions are a
 * second fence, not the only one.
 */
#define _GNU_SOURCE 1      /* struct ucred */
#include "atsmaild.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int
atsmaild_peers_parse(const struct atsm_conf_list *l, const char *setting,
    struct atsmaild_peers *out, struct atsm_err *err)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < l->n; i++) {
		const char *w = l->v[i];
		char *end;
		unsigned long v;

		if (out->n == ATSMAILD_PEERS_MAX)
			return atsm_err_set(err, "%s: more than %d users", setting,
			    ATSMAILD_PEERS_MAX);
		errno = 0;
		v = strtoul(w, &end, 10);
		if (w[0] >= '0' && w[0] <= '9' && *end == '\0' && errno == 0 &&
		    v <= (uid_t)-2) {
			out->uid[out->n++] = (uid_t)v;
			continue;
		}
		{
			struct passwd pw, *res = NULL;
			char buf[4096];

			if (getpwnam_r(w, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
				return atsm_err_set(err, "%s: no user \"%.64s\" on this system "
				    "(name a user or a numeric uid)", setting, w);
			out->uid[out->n++] = pw.pw_uid;
		}
	}
	return 0;
}

bool
atsmaild_peers_allow(const struct atsmaild_peers *p, uid_t uid)
{
	size_t i;

	if (uid == 0)
		return true;
	for (i = 0; i < p->n; i++)
		if (p->uid[i] == uid)
			return true;
	return false;
}

int
atsmaild_peer_cred(int fd, pid_t *pid, uid_t *uid, gid_t *gid, struct atsm_err *err)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || len != sizeof(cr))
		return atsm_err_setc(err, ATSM_ERR_IO, "cannot read the peer's credentials: %s",
		    strerror(errno));
	*pid = cr.pid;
	*uid = cr.uid;
	*gid = cr.gid;
	return 0;
}

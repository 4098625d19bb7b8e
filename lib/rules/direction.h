/* rules/direction.h -- is a mail outbound (from our users) or inbound?
 *
 * A mail is outbound when the SMTP client authenticated (Postfix macro
 * {auth_authen} not empty), when it entered without SMTP (sendmail(1),
 * through non_smtpd_milters), or when the client address lies in one of
 * the configured internal networks.  Everything else is inbound.  The
 * internal networks are parsed once (atsm_netlist_parse) from CIDR words
 * such as "10.0.0.0/8", "192.168.1.0/24", "::1/128" or "[2001:db8::]/32".
 */
#ifndef ATSM_DIRECTION_H
#define ATSM_DIRECTION_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

#define ATSM_NETLIST_MAX 4096   /* networks in one list */
#define ATSM_NET_TEXT_MAX 56    /* "address/prefix" with its NUL */

struct atsm_net {
	int family;                 /* AF_INET or AF_INET6 */
	unsigned char addr[16];     /* network address, host bits zero */
	unsigned prefix;            /* 0..32 or 0..128 */
	char text[ATSM_NET_TEXT_MAX];   /* canonical form, for reasons */
};

struct atsm_netlist {
	size_t n;
	struct atsm_net *v;
};

/* Parse words[0..n); a word may itself hold several networks separated by
 * commas or blanks.  A bare address is a host (/32, /128).  Returns 0, or
 * -1 with err naming the bad word (bad address, prefix out of range, host
 * bits set, more than ATSM_NETLIST_MAX networks); out is then empty.  Free
 * with atsm_netlist_free() in every case. */
int atsm_netlist_parse(char *const *words, size_t n, struct atsm_netlist *out,
    struct atsm_err *err);
void atsm_netlist_free(struct atsm_netlist *list);

/* The first network of list that holds ip ("10.1.2.3", "2001:db8::1",
 * "IPv6:::1", "[::1]", "fe80::1%eth0"; IPv4-mapped IPv6 addresses match
 * IPv4 networks), or NULL (also for an unreadable ip). */
const struct atsm_net *atsm_netlist_match(const struct atsm_netlist *list,
    const char *ip);
bool atsm_netlist_contains(const struct atsm_netlist *list, const char *ip);

enum atsm_direction {
	ATSM_DIR_INBOUND,
	ATSM_DIR_OUTBOUND
};

struct atsm_direction_input {
	const char *auth_authen;    /* {auth_authen}; NULL or "" if none */
	const char *client_addr;    /* {client_addr}; may be NULL */
	bool non_smtp;              /* the mail entered without SMTP */
	const struct atsm_netlist *internal;   /* may be NULL */
};

/* The direction; reason (may be NULL) is reset and receives e.g.
 * "authenticated as alice@x", "client 10.1.2.3 in internal network
 * 10.0.0.0/8", "non-SMTP submission", "unauthenticated client
 * 203.0.113.5".  Authentication is checked first, then non-SMTP, then the
 * networks. */
enum atsm_direction atsm_direction_of(const struct atsm_direction_input *in,
    struct atsm_buf *reason);

/* "inbound", "outbound". */
const char *atsm_direction_name(enum atsm_direction d);

#endif

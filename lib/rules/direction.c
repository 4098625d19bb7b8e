/* rules/direction.c -- outbound or inbound, and internal network lists.
 *
 * Interface (rules/direction.h): atsm_netlist_parse(), atsm_netlist_free(),
 * atsm_netlist_match(), atsm_netlist_contains(), atsm_direction_of(),
 * atsm_direction_name().
 *
 * A network written with host bits set ("192.168.1.1/24") is refused
 * rather than silently widened or narrowed: it is nearly always a typo,
 * and a wrong internal network turns strangers' mail into "outbound".
 */
#include "rules/direction.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longest word that can be a network: "[" IPv6 with IPv4 tail "]/128". */
#define WORD_MAX 64
/* How much of an authentication name a reason shows. */
#define SHOW_MAX 100

static const char *
show(char *buf, size_t size, const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 4 < size && i < SHOW_MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	if (s[i] != '\0') {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

/* Read an address as Postfix and people write it: brackets, "IPv6:",
 * a zone suffix.  Fills addr (16 bytes) and returns the family, or 0. */
static int
read_ip(const char *s, size_t n, unsigned char *addr)
{
	char tmp[WORD_MAX];
	char *pct;

	if (n >= 5 && strncasecmp(s, "IPv6:", 5) == 0) {
		s += 5;
		n -= 5;
	}
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(tmp))
		return 0;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if ((pct = strchr(tmp, '%')) != NULL)
		*pct = '\0';
	if (inet_pton(AF_INET, tmp, addr) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, tmp, addr) == 1)
		return AF_INET6;
	return 0;
}

static bool
prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned bytes = bits / 8, rest = bits % 8;
	unsigned char mask;

	if (memcmp(a, b, bytes) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (unsigned char)(0xff << (8 - rest));
	return (a[bytes] & mask) == (b[bytes] & mask);
}

static int
parse_net(const char *w, size_t n, struct atsm_net *net, struct atsm_err *err)
{
	const char *slash = memchr(w, '/', n);
	size_t alen = slash ? (size_t)(slash - w) : n;
	unsigned long max, prefix;
	unsigned char masked[16];
	char num[8], buf[INET6_ADDRSTRLEN];
	size_t i, plen;

	memset(net, 0, sizeof(*net));
	net->family = read_ip(w, alen, net->addr);
	if (net->family == 0)
		return atsm_err_set(err, "internal network \"%.*s\": not an "
		    "IPv4 or IPv6 address", (int)n, w);
	max = net->family == AF_INET ? 32 : 128;
	prefix = max;
	if (slash != NULL) {
		plen = n - alen - 1;
		if (plen == 0 || plen >= sizeof(num))
			return atsm_err_set(err, "internal network \"%.*s\": "
			    "prefix length missing or too long", (int)n, w);
		memcpy(num, slash + 1, plen);
		num[plen] = '\0';
		for (i = 0; i < plen; i++)
			if (num[i] < '0' || num[i] > '9')
				break;
		prefix = strtoul(num, NULL, 10);
		if (i < plen || prefix > max)
			return atsm_err_set(err, "internal network \"%.*s\": "
			    "prefix length must be 0 to %lu for %s", (int)n, w,
			    max, max == 32 ? "IPv4" : "IPv6");
	}
	net->prefix = (unsigned)prefix;
	/* the address with its host bits cleared, to spot them */
	memset(masked, 0, sizeof(masked));
	for (i = 0; i < prefix / 8; i++)
		masked[i] = net->addr[i];
	if (prefix % 8)
		masked[i] = (unsigned char)(net->addr[i] &
		    (0xff << (8 - prefix % 8)));
	if (memcmp(masked, net->addr, max / 8) != 0) {
		inet_ntop(net->family, masked, buf, sizeof(buf));
		return atsm_err_set(err, "internal network \"%.*s\": host "
		    "bits set; did you mean %s/%lu?", (int)n, w, buf, prefix);
	}
	inet_ntop(net->family, net->addr, buf, sizeof(buf));
	snprintf(net->text, sizeof(net->text), "%s/%u", buf, net->prefix);
	return 0;
}

void
atsm_netlist_free(struct atsm_netlist *list)
{
	if (list == NULL)
		return;
	free(list->v);
	list->v = NULL;
	list->n = 0;
}

static int
netlist_push(struct atsm_netlist *out, size_t *cap, const char *w, size_t n,
    struct atsm_err *err)
{
	struct atsm_net *v;

	if (n >= WORD_MAX)
		return atsm_err_set(err, "internal network \"%.*s...\": too "
		    "long to be an address", WORD_MAX, w);
	if (out->n >= ATSM_NETLIST_MAX)
		return atsm_err_set(err, "internal network \"%.*s\": more "
		    "than %d networks", (int)n, w, ATSM_NETLIST_MAX);
	if (out->n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		if ((v = realloc(out->v, *cap * sizeof(*v))) == NULL)
			return atsm_err_set(err, "internal networks: out of "
			    "memory");
		out->v = v;
	}
	if (parse_net(w, n, &out->v[out->n], err) < 0)
		return -1;
	out->n++;
	return 0;
}

int
atsm_netlist_parse(char *const *words, size_t n, struct atsm_netlist *out,
    struct atsm_err *err)
{
	size_t i, cap = 0, len;
	const char *p;

	out->n = 0;
	out->v = NULL;
	for (i = 0; i < n; i++) {
		for (p = words[i]; p != NULL && *p != '\0'; p += len) {
			p += strspn(p, ", \t\r\n");
			len = strcspn(p, ", \t\r\n");
			if (len == 0)
				continue;
			if (netlist_push(out, &cap, p, len, err) < 0) {
				atsm_netlist_free(out);
				return -1;
			}
		}
	}
	return 0;
}

const struct atsm_net *
atsm_netlist_match(const struct atsm_netlist *list, const char *ip)
{
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};
	unsigned char raw[16], v4[4], v6[16];
	bool has4 = false, has6 = false;
	size_t i;
	int fam;

	if (list == NULL || ip == NULL)
		return NULL;
	fam = read_ip(ip, strlen(ip), raw);
	if (fam == AF_INET) {
		memcpy(v4, raw, 4);
		memcpy(v6, mapped, 12);
		memcpy(v6 + 12, raw, 4);
		has4 = has6 = true;
	} else if (fam == AF_INET6) {
		memcpy(v6, raw, 16);
		has6 = true;
		if (memcmp(raw, mapped, 12) == 0) {
			memcpy(v4, raw + 12, 4);
			has4 = true;
		}
	}
	for (i = 0; i < list->n; i++) {
		const struct atsm_net *net = &list->v[i];

		if (net->family == AF_INET && has4 &&
		    prefix_equal(v4, net->addr, net->prefix))
			return net;
		if (net->family == AF_INET6 && has6 &&
		    prefix_equal(v6, net->addr, net->prefix))
			return net;
	}
	return NULL;
}

bool
atsm_netlist_contains(const struct atsm_netlist *list, const char *ip)
{
	return atsm_netlist_match(list, ip) != NULL;
}

const char *
atsm_direction_name(enum atsm_direction d)
{
	return d == ATSM_DIR_OUTBOUND ? "outbound" : "inbound";
}

enum atsm_direction
atsm_direction_of(const struct atsm_direction_input *in,
    struct atsm_buf *reason)
{
	const struct atsm_net *net;
	char b[SHOW_MAX + 4];
	const char *client;

	if (reason != NULL)
		atsm_buf_reset(reason);
	client = (in->client_addr != NULL && *in->client_addr != '\0') ?
	    in->client_addr : NULL;
	if (in->auth_authen != NULL && *in->auth_authen != '\0') {
		if (reason != NULL)
			atsm_buf_printf(reason, "authenticated as %s",
			    show(b, sizeof(b), in->auth_authen));
		return ATSM_DIR_OUTBOUND;
	}
	if (in->non_smtp) {
		if (reason != NULL)
			atsm_buf_puts(reason, "non-SMTP submission");
		return ATSM_DIR_OUTBOUND;
	}
	if (client != NULL &&
	    (net = atsm_netlist_match(in->internal, client)) != NULL) {
		if (reason != NULL)
			atsm_buf_printf(reason, "client %s in internal "
			    "network %s", show(b, sizeof(b), client),
			    net->text);
		return ATSM_DIR_OUTBOUND;
	}
	if (reason != NULL)
		atsm_buf_printf(reason, "unauthenticated client %s",
		    client ? show(b, sizeof(b), client) : "(address unknown)");
	return ATSM_DIR_INBOUND;
}

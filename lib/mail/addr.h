/* mail/addr.h -- RFC 5322 address lists and address normalisation.
 *
 * atsm_addr_parse_list() reads the value of an address header (From, To,
 * Cc, Reply-To, ...) the way real clients write it, not only the way
 * RFC 5322 says: it never fails on bad input but skips and counts what it
 * cannot read.  atsm_addr_normalize() turns one address into the form in
 * which atsmail stores and compares addresses, and atsm_addr_domain_in()
 * tells whether a domain belongs to a list (company or excluded domains).
 * Parsing lives in addr.c, normalisation and domain matching in addr-norm.c.
 */
#ifndef ATSM_ADDR_H
#define ATSM_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

/* Used when the caller passes max_addrs = 0. */
#define ATSM_ADDR_LIST_MAX_DEFAULT 1000
/* A local part or domain longer than this is not an address (RFC 5321 says
 * 64 and 255; leave room for the odd ones without letting junk grow). */
#define ATSM_ADDR_PART_MAX 1024
/* Longer display names are cut (at a UTF-8 character boundary). */
#define ATSM_ADDR_DISPLAY_MAX 4096
/* RFC 5321 path limit: a longer normalised address is refused. */
#define ATSM_ADDR_MAX 254

struct atsm_addr {
	char *display;  /* display name in UTF-8 (encoded words decoded), or NULL */
	char *local;    /* local part, quotes and quoted-pair escapes removed */
	char *domain;   /* domain as written, or NULL for a bare local part */
	char *addr;     /* local@domain as in an envelope (local re-quoted if needed) */
	char *group;    /* name of the enclosing group, or NULL */
};

struct atsm_addr_list {
	size_t n;           /* addresses in v */
	struct atsm_addr *v;
	unsigned malformed; /* items skipped because no address could be read */
};

/* Parse a header value (folding allowed; NUL bytes are treated as white
 * space, nothing past text[len-1] is read) into out, which the call
 * initialises.  Malformed items are skipped and counted in out->malformed.
 * Returns 0, or -1 with err when more than max_addrs addresses are present
 * (0 means ATSM_ADDR_LIST_MAX_DEFAULT) or memory is short; out then holds
 * what was read so far.  Free out with atsm_addr_list_free() in every case. */
int atsm_addr_parse_list(const char *text, size_t len, size_t max_addrs,
    struct atsm_addr_list *out, struct atsm_err *err);
void atsm_addr_list_free(struct atsm_addr_list *l);

/* Normalise one address for storage and comparison: white space and angle
 * brackets trimmed, the whole address lower-cased (ASCII letters only:
 * mail systems treat local parts case-insensitively in practice, so
 * Taro@ and taro@ are one person), the domain converted to its IDNA
 * A-label form (libidn2, UTS #46 non-transitional, transitional as a
 * fallback) without a trailing dot, the local part unquoted unless it
 * needs quotes.  On success *out is a new string (free() it).  Returns -1
 * with err naming the input when it is not an address: no '@', empty
 * local part or domain, invalid domain or IDN, longer than ATSM_ADDR_MAX. */
int atsm_addr_normalize(const char *addr, char **out, struct atsm_err *err);

/* True when domain equals, or is a subdomain of, one of domains[0..n-1].
 * Both sides should be normalised (A-labels); ASCII case, a trailing dot
 * and a leading "." or "@" on a list entry are ignored.  Labels are
 * compared whole: "evil-example.com" is not in "example.com". */
bool atsm_addr_domain_in(const char *domain, char *const *domains, size_t n);

/* Append local to out as it is written before the '@' of an address:
 * as is when it is a dot-atom (RFC 5322; UTF-8 allowed as in RFC 6532),
 * otherwise as a quoted string.  Returns 0, or -1 when out is full. */
int atsm_addr_quote_local(const char *local, struct atsm_buf *out);

#endif

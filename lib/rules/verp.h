/* rules/verp.h -- VERP envelope senders that carry a message token.
 *
 * Outbound mail may get the envelope sender <local>+<tag><token>@<domain>
 * (e.g. alice+ats-a7k...@example.com) so that a bounce names the exact
 * sent item.  A +detail the sender already had is replaced, not kept:
 * alice+news@x becomes alice+ats-<token>@x, because a second delimiter
 * would only lengthen the local part and Postfix delivers both to alice.
 * atsm_verp_parse() finds the token in a bounce's recipient again; it does
 * not check the token's MAC (that is atsm_token_verify()).
 */
#ifndef ATSM_VERP_H
#define ATSM_VERP_H

#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"
#include "rules/token.h"

#define ATSM_VERP_TAG_DEFAULT "ats-"
#define ATSM_VERP_DELIM_DEFAULT '+'
#define ATSM_VERP_LOCAL_MAX 64      /* RFC 5321 local part, octets */
#define ATSM_VERP_ADDR_MAX 254      /* RFC 5321 path, octets */
#define ATSM_VERP_TAG_MAX 32

/* Append to out the stamped sender built from sender ("alice@x" or
 * "<alice@x>"), delim ('\0' means ATSM_VERP_DELIM_DEFAULT), tag (NULL
 * means ATSM_VERP_TAG_DEFAULT) and token (lower-case base32, shorter than
 * ATSM_TOKEN_MAX).  Returns 0, or -1 with err saying why VERP is skipped
 * for this mail: null or domain-less sender, quoted local part, bad tag or
 * token, or a stamped local part longer than ATSM_VERP_LOCAL_MAX. */
int atsm_verp_make(const char *sender, char delim, const char *tag,
    const char *token, struct atsm_buf *out, struct atsm_err *err);

/* If the local part of rcpt ends with <delim><tag><token> (ASCII case
 * ignored), copy the token in lower case into token and return 0;
 * otherwise return -1 and leave token empty. */
int atsm_verp_parse(const char *rcpt, char delim, const char *tag,
    char token[ATSM_TOKEN_MAX]);

#endif

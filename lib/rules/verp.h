/* rules/verp.h -- VERP envelope senders that carry a message token.
 *
 * Outbound mail may get the envelope sender <local>+<tag><token>@<domain>
 * (e.g. alice+ats-a7k...@example.com) so that a bounce names the exact
 * sent item.  A +detail the sender already had is replaced, not kept:
 * alice+news@x becomes alice+ats-<token>@x, because a second delimiter
 * would only lengthen the local part and Postfix delivers both to alice.
 * atsm_verp_parse() finds the token in a bounce's recipient again; it does
 * not check the token's MAC (that is atsm_token_verify()).
 *
 * A stamp may also name the one recipient it was made for (format 2,
 * docs/tokens.md "VERP stamps"): <local>+<tag><token>-<rmac>@<domain>,
 * rmac = base32 of the first ATSM_VERP_RMAC_BYTES of
 * HMAC-SHA256(secret, "atsmail-verp-rcpt" NUL token NUL recipient), so
 * that a bounce sent to it is believed for that recipient only: another
 * recipient, who never sees this stamp, cannot make one for an address
 * not its own.  Stamps of format 1 (no rmac) still parse.
 */
#ifndef ATSM_VERP_H
#define ATSM_VERP_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"
#include "rules/token.h"

#define ATSM_VERP_TAG_DEFAULT "ats-"
#define ATSM_VERP_DELIM_DEFAULT '+'
#define ATSM_VERP_LOCAL_MAX 64      /* RFC 5321 local part, octets */
#define ATSM_VERP_ADDR_MAX 254      /* RFC 5321 path, octets */
#define ATSM_VERP_TAG_MAX 32
#define ATSM_VERP_RMAC_BYTES 5      /* 40 bits of the recipient's MAC */
#define ATSM_VERP_RMAC_LEN 8        /* its base32 characters */
#define ATSM_VERP_RMAC_SEP '-'      /* between the token and the rmac */

/* Append to out the stamped sender built from sender ("alice@x" or
 * "<alice@x>"), delim ('\0' means ATSM_VERP_DELIM_DEFAULT), tag (NULL
 * means ATSM_VERP_TAG_DEFAULT) and token (lower-case base32, shorter than
 * ATSM_TOKEN_MAX).  Returns 0, or -1 with err saying why VERP is skipped
 * for this mail: null or domain-less sender, quoted local part, bad tag or
 * token, or a stamped local part longer than ATSM_VERP_LOCAL_MAX. */
int atsm_verp_make(const char *sender, char delim, const char *tag,
    const char *token, struct atsm_buf *out, struct atsm_err *err);

/* The same with the recipient's MAC (rmac, ATSM_VERP_RMAC_LEN lower-case
 * base32 characters; NULL or "" makes a format-1 stamp):
 * <local><delim><tag><token>-<rmac>@<domain>. */
int atsm_verp_make_rcpt(const char *sender, char delim, const char *tag,
    const char *token, const char *rmac, struct atsm_buf *out, struct atsm_err *err);

/* If the local part of rcpt ends with <delim><tag><token> or
 * <delim><tag><token>-<rmac> (ASCII case ignored), copy the token in
 * lower case into token and return 0; otherwise return -1 and leave token
 * empty. */
int atsm_verp_parse(const char *rcpt, char delim, const char *tag,
    char token[ATSM_TOKEN_MAX]);

/* The same, and the rmac in lower case ("" for a format-1 stamp). */
int atsm_verp_parse_stamp(const char *rcpt, char delim, const char *tag,
    char token[ATSM_TOKEN_MAX], char rmac[ATSM_VERP_RMAC_LEN + 1]);

/* The rmac of token and the normalised recipient under keys->key[k].
 * 0, or -1 (no such key, libcrypto failed). */
int atsm_verp_rcpt_mac(const struct atsm_token_keys *keys, size_t k, const char *token,
    const char *rcpt, char out[ATSM_VERP_RMAC_LEN + 1]);

/* rmac (any case) is that of token and rcpt under one of the keys;
 * compared in constant time. */
bool atsm_verp_rcpt_ok(const struct atsm_token_keys *keys, const char *token,
    const char *rmac, const char *rcpt);

#endif

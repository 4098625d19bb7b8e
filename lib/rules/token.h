/* rules/token.h -- signed message reference tokens (X-ATS-Ref, VERP, Reply-To).
 *
 * A token names one sent message without revealing anything about it:
 *
 *	payload = version byte (1) || 96-bit random id (getrandom)
 *	mac     = HMAC-SHA256(site secret, payload), first 80 bits
 *	token   = "a" || base32(payload || mac)   lower case, a-z2-7, no padding
 *
 * i.e. 38 characters that survive case folding and are valid in the local
 * part of an address ("alice+ats-<token>@example.com").  The secret file
 * holds up to ATSM_TOKEN_KEYS_MAX secrets: the first signs, all verify, so
 * a secret can be rotated without breaking the tokens of mail in flight.
 * See docs/tokens.md.  Also home of the HMAC and constant-time helpers
 * that other modules (webhook signatures) share.
 */
#ifndef ATSM_TOKEN_H
#define ATSM_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

#define ATSM_TOKEN_VERSION 1
#define ATSM_TOKEN_ID_LEN 12        /* random message reference id, bytes */
#define ATSM_TOKEN_MAC_LEN 10       /* truncated HMAC, bytes */
#define ATSM_TOKEN_LEN 38           /* characters of a token */
#define ATSM_TOKEN_MAX 48           /* buffer size for a token and its NUL */

#define ATSM_TOKEN_KEYS_MAX 4       /* current secret + 3 previous ones */
#define ATSM_TOKEN_SECRET_MIN 32    /* characters */
#define ATSM_TOKEN_SECRET_MAX 256   /* characters */
#define ATSM_TOKEN_FILE_MAX 65536   /* bytes of a secret file */

struct atsm_token_keys {
	size_t n;
	struct {
		unsigned char k[64];
		size_t len;
	} key[ATSM_TOKEN_KEYS_MAX];   /* key[0] signs, all verify */
};

/* Read the secret file: one secret per line, the first is current, the
 * following are previous ones still accepted; blank lines and '#' comments
 * are ignored; surrounding blanks are trimmed.  Refuses a file that group
 * or others may access (the message says to chmod 600 it), a secret
 * shorter than ATSM_TOKEN_SECRET_MIN characters, more than
 * ATSM_TOKEN_KEYS_MAX secrets, or none.  Messages never quote a secret. */
int atsm_token_keys_load(const char *path, struct atsm_token_keys *keys,
    struct atsm_err *err);

/* The same, from the text of a secret file (tests and tools). */
int atsm_token_keys_from_string(const char *secrets,
    struct atsm_token_keys *keys, struct atsm_err *err);

/* Overwrite the key material (explicit_bzero). */
void atsm_token_keys_wipe(struct atsm_token_keys *keys);

/* A fresh random id from getrandom(2). */
int atsm_token_new_id(unsigned char id[ATSM_TOKEN_ID_LEN], struct atsm_err *err);

/* Sign id with keys->key[0]; out receives ATSM_TOKEN_LEN characters and a
 * NUL.  -1 only when keys is empty or the HMAC cannot be computed. */
int atsm_token_make(const struct atsm_token_keys *keys,
    const unsigned char id[ATSM_TOKEN_ID_LEN], char out[ATSM_TOKEN_MAX]);

/* 0 when token[0..len) is a valid token under any of the keys (case does
 * not matter); id receives its id.  -1 otherwise.  The MAC comparison takes
 * constant time. */
int atsm_token_verify(const struct atsm_token_keys *keys, const char *token,
    size_t len, unsigned char id[ATSM_TOKEN_ID_LEN]);

/* Find a valid token inside text (a VERP local part "alice+ats-<token>", a
 * Reply-To address, a header value): 0 and id filled, or -1.  At most
 * ATSM_TOKEN_FIND_TRIES candidates are checked, so hostile text costs a
 * bounded amount of work. */
#define ATSM_TOKEN_FIND_TRIES 64
int atsm_token_find(const struct atsm_token_keys *keys, const char *text,
    size_t len, unsigned char id[ATSM_TOKEN_ID_LEN]);

void atsm_token_id_hex(const unsigned char id[ATSM_TOKEN_ID_LEN],
    char out[2 * ATSM_TOKEN_ID_LEN + 1]);

/* HMAC-SHA256; 0, or -1 when libcrypto fails (out is then zeroed). */
int atsm_hmac_sha256(const void *key, size_t keylen, const void *data,
    size_t len, unsigned char out[32]);
int atsm_hmac_sha256_hex(const void *key, size_t keylen, const void *data,
    size_t len, char out[65]);

/* Compare n bytes in a time that does not depend on their contents. */
bool atsm_ct_equal(const void *a, const void *b, size_t n);

#endif

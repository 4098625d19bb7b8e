/* rules/token.c -- signed message reference tokens and HMAC helpers (see
 * rules/token.h and docs/tokens.md).
 *
 * Secrets longer than the SHA-256 block (64 bytes) are stored as their
 * SHA-256 digest: HMAC hashes such keys itself, so the MAC is the same and
 * struct atsm_token_keys keeps a fixed size.
 */
#include "rules/token.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define PAYLOAD_LEN (1 + ATSM_TOKEN_ID_LEN)
#define RAW_LEN (PAYLOAD_LEN + ATSM_TOKEN_MAC_LEN)
#define B32_LEN ((RAW_LEN * 8 + 4) / 5)

_Static_assert(1 + B32_LEN == ATSM_TOKEN_LEN, "token length");
_Static_assert(ATSM_TOKEN_LEN < 40 && ATSM_TOKEN_LEN < ATSM_TOKEN_MAX,
    "token must stay short");

static const char b32_alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

int
atsm_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
    unsigned char out[32])
{
	static const unsigned char empty[1];
	unsigned int outlen = 0;

	/* libcrypto wants non-NULL pointers even for empty inputs */
	if (HMAC(EVP_sha256(), key != NULL ? key : empty, (int)keylen,
	    data != NULL ? data : empty, len, out, &outlen) == NULL ||
	    outlen != 32) {
		memset(out, 0, 32);
		return -1;
	}
	return 0;
}

int
atsm_hmac_sha256_hex(const void *key, size_t keylen, const void *data,
    size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char mac[32];
	int rc, i;

	rc = atsm_hmac_sha256(key, keylen, data, len, mac);
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[mac[i] >> 4];
		out[2 * i + 1] = hex[mac[i] & 15];
	}
	out[64] = '\0';
	explicit_bzero(mac, sizeof(mac));
	return rc;
}

bool
atsm_ct_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

void
atsm_token_id_hex(const unsigned char id[ATSM_TOKEN_ID_LEN],
    char out[2 * ATSM_TOKEN_ID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 0; i < ATSM_TOKEN_ID_LEN; i++) {
		out[2 * i] = hex[id[i] >> 4];
		out[2 * i + 1] = hex[id[i] & 15];
	}
	out[2 * ATSM_TOKEN_ID_LEN] = '\0';
}

/* ---- secrets ---- */

void
atsm_token_keys_wipe(struct atsm_token_keys *keys)
{
	if (keys != NULL)
		explicit_bzero(keys, sizeof(*keys));
}

static int
keys_add(struct atsm_token_keys *keys, const char *secret, size_t len)
{
	unsigned int dlen = 0;

	if (len <= sizeof(keys->key[0].k)) {
		memcpy(keys->key[keys->n].k, secret, len);
		keys->key[keys->n].len = len;
	} else {
		if (EVP_Digest(secret, len, keys->key[keys->n].k, &dlen,
		    EVP_sha256(), NULL) != 1 || dlen != 32)
			return -1;
		keys->key[keys->n].len = dlen;
	}
	keys->n++;
	return 0;
}

/* Parse the text of a secret file; "what" names it in messages.  On error
 * keys is wiped. */
static int
keys_parse(const char *text, size_t textlen, const char *what,
    struct atsm_token_keys *keys, struct atsm_err *err)
{
	const char *p = text, *end = text + textlen, *nl, *s, *e;
	unsigned lineno = 0;

	memset(keys, 0, sizeof(*keys));
	while (p < end) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		e = nl != NULL ? nl : end;
		s = p;
		p = nl != NULL ? nl + 1 : end;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		if (s == e || *s == '#')
			continue;
		if (memchr(s, '\0', (size_t)(e - s)) != NULL)
			goto fail_nul;
		if (e - s < ATSM_TOKEN_SECRET_MIN) {
			atsm_err_set(err, "%s line %u: the secret is %zu "
			    "characters long, at least %d are required "
			    "(make one with: openssl rand -hex 32)", what,
			    lineno, (size_t)(e - s), ATSM_TOKEN_SECRET_MIN);
			goto fail;
		}
		if (e - s > ATSM_TOKEN_SECRET_MAX) {
			atsm_err_set(err, "%s line %u: the secret is %zu "
			    "characters long, at most %d are allowed", what,
			    lineno, (size_t)(e - s), ATSM_TOKEN_SECRET_MAX);
			goto fail;
		}
		if (keys->n == ATSM_TOKEN_KEYS_MAX) {
			atsm_err_set(err, "%s line %u: more than %d secrets; "
			    "remove the oldest ones", what, lineno,
			    ATSM_TOKEN_KEYS_MAX);
			goto fail;
		}
		if (keys_add(keys, s, (size_t)(e - s)) == -1) {
			atsm_err_set(err, "%s line %u: cannot hash the secret "
			    "(libcrypto failed)", what, lineno);
			goto fail;
		}
	}
	if (keys->n == 0) {
		atsm_err_set(err, "%s holds no secret (one per line, the "
		    "current one first)", what);
		goto fail;
	}
	return 0;
fail_nul:
	atsm_err_set(err, "%s line %u: the secret contains a NUL byte", what,
	    lineno);
fail:
	atsm_token_keys_wipe(keys);
	return -1;
}

int
atsm_token_keys_from_string(const char *secrets, struct atsm_token_keys *keys,
    struct atsm_err *err)
{
	if (secrets == NULL) {
		memset(keys, 0, sizeof(*keys));
		return atsm_err_set(err, "secrets: no text given");
	}
	return keys_parse(secrets, strlen(secrets), "secrets", keys, err);
}

int
atsm_token_keys_load(const char *path, struct atsm_token_keys *keys,
    struct atsm_err *err)
{
	char buf[ATSM_TOKEN_FILE_MAX + 1], what[ATSM_ERR_MAX / 2];
	struct stat st;
	size_t len = 0;
	ssize_t r;
	int fd, rc;

	memset(keys, 0, sizeof(*keys));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1)
		return atsm_err_set(err, "secret file %s: cannot open: %s",
		    path, strerror(errno));
	if (fstat(fd, &st) == -1) {
		atsm_err_set(err, "secret file %s: cannot stat: %s", path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return atsm_err_set(err, "secret file %s is not a regular file",
		    path);
	}
	/* Group read is allowed (0640): the Dovecot plugin runs as the mail
	 * user and shares the secret with the milter through a group.  Group
	 * write and any access by others are refused. */
	if ((st.st_mode & 027) != 0) {
		close(fd);
		return atsm_err_set(err, "secret file %s has mode %04o: others "
		    "may read it or its group may change it; restrict it with "
		    "'chmod 600 %s' (or 640 to share it with a group)", path,
		    (unsigned)(st.st_mode & 07777), path);
	}
	while (len < sizeof(buf)) {
		r = read(fd, buf + len, sizeof(buf) - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			atsm_err_set(err, "secret file %s: cannot read: %s",
			    path, strerror(errno));
			close(fd);
			explicit_bzero(buf, sizeof(buf));
			return -1;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (len > ATSM_TOKEN_FILE_MAX) {
		explicit_bzero(buf, sizeof(buf));
		return atsm_err_set(err, "secret file %s is larger than %d "
		    "bytes", path, ATSM_TOKEN_FILE_MAX);
	}
	snprintf(what, sizeof(what), "secret file %s", path);
	rc = keys_parse(buf, len, what, keys, err);
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

/* ---- tokens ---- */

int
atsm_token_new_id(unsigned char id[ATSM_TOKEN_ID_LEN], struct atsm_err *err)
{
	size_t got = 0;
	ssize_t r;

	while (got < ATSM_TOKEN_ID_LEN) {
		r = getrandom(id + got, ATSM_TOKEN_ID_LEN - got, 0);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return atsm_err_set(err, "getrandom for a token id "
			    "failed: %s", strerror(errno));
		got += (size_t)r;
	}
	return 0;
}

static void
b32_encode(const unsigned char *in, size_t n, char *out)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			*out++ = b32_alphabet[(acc >> bits) & 31];
		}
	}
	if (bits > 0)
		*out++ = b32_alphabet[(acc << (5 - bits)) & 31];
	*out = '\0';
}

static int
b32_value(char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

/* Decode exactly B32_LEN characters into RAW_LEN bytes.  The unused low
 * bits of the last character must be zero, or two spellings would verify. */
static int
b32_decode(const char *in, unsigned char out[RAW_LEN])
{
	uint32_t acc = 0;
	int bits = 0, v;
	size_t i, o = 0;

	for (i = 0; i < B32_LEN; i++) {
		if ((v = b32_value(in[i])) < 0)
			return -1;
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	if ((acc & ((1u << bits) - 1)) != 0)
		return -1;
	return o == RAW_LEN ? 0 : -1;
}

static int
token_mac(const struct atsm_token_keys *keys, size_t k,
    const unsigned char payload[PAYLOAD_LEN], unsigned char mac[32])
{
	return atsm_hmac_sha256(keys->key[k].k, keys->key[k].len, payload,
	    PAYLOAD_LEN, mac);
}

int
atsm_token_make(const struct atsm_token_keys *keys,
    const unsigned char id[ATSM_TOKEN_ID_LEN], char out[ATSM_TOKEN_MAX])
{
	unsigned char raw[RAW_LEN], mac[32];

	out[0] = '\0';
	if (keys == NULL || keys->n == 0)
		return -1;
	raw[0] = ATSM_TOKEN_VERSION;
	memcpy(raw + 1, id, ATSM_TOKEN_ID_LEN);
	if (token_mac(keys, 0, raw, mac) == -1)
		return -1;
	memcpy(raw + PAYLOAD_LEN, mac, ATSM_TOKEN_MAC_LEN);
	out[0] = 'a';
	b32_encode(raw, RAW_LEN, out + 1);
	explicit_bzero(mac, sizeof(mac));
	return 0;
}

int
atsm_token_verify(const struct atsm_token_keys *keys, const char *token,
    size_t len, unsigned char id[ATSM_TOKEN_ID_LEN])
{
	unsigned char raw[RAW_LEN], mac[32];
	bool ok = false;
	size_t k;

	if (keys == NULL || token == NULL || len != ATSM_TOKEN_LEN ||
	    (token[0] != 'a' && token[0] != 'A'))
		return -1;
	if (b32_decode(token + 1, raw) == -1 || raw[0] != ATSM_TOKEN_VERSION)
		return -1;
	/* every key is tried, so the time does not tell which one matched */
	for (k = 0; k < keys->n && k < ATSM_TOKEN_KEYS_MAX; k++) {
		if (token_mac(keys, k, raw, mac) == -1)
			continue;
		if (atsm_ct_equal(mac, raw + PAYLOAD_LEN, ATSM_TOKEN_MAC_LEN))
			ok = true;
	}
	explicit_bzero(mac, sizeof(mac));
	if (!ok)
		return -1;
	memcpy(id, raw + 1, ATSM_TOKEN_ID_LEN);
	return 0;
}

/* A version-1 token starts with "a" + base32 of the byte 0x01, i.e.
 * "aa" followed by one of e..h: a cheap filter before any HMAC. */
static bool
token_prefix(const char *p)
{
	char c2 = p[2] | 0x20;

	return (p[0] | 0x20) == 'a' && (p[1] | 0x20) == 'a' &&
	    c2 >= 'e' && c2 <= 'h';
}

int
atsm_token_find(const struct atsm_token_keys *keys, const char *text,
    size_t len, unsigned char id[ATSM_TOKEN_ID_LEN])
{
	size_t i = 0, start, end, j;
	unsigned tries = 0;

	if (keys == NULL || text == NULL)
		return -1;
	while (i < len) {
		while (i < len && b32_value(text[i]) < 0)
			i++;
		start = i;
		while (i < len && b32_value(text[i]) >= 0)
			i++;
		end = i;
		if (end - start < ATSM_TOKEN_LEN)
			continue;
		for (j = start; j + ATSM_TOKEN_LEN <= end; j++) {
			if (!token_prefix(text + j))
				continue;
			if (tries++ == ATSM_TOKEN_FIND_TRIES)
				return -1;
			if (atsm_token_verify(keys, text + j, ATSM_TOKEN_LEN,
			    id) == 0)
				return 0;
		}
	}
	return -1;
}

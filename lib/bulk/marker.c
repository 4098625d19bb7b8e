/* bulk/marker.c -- the signed X-ATS-Bulk header of a mail the bulk runner
 * submits (bulk/marker.h).
 *
 * The signature is HMAC-SHA-256, under the site secret, of
 *	"atsmail-bulk-v1" NUL job NUL item NUL login NUL msgid
 * (decimal numbers), written in hex.  The leading label keeps these MACs
 * apart from every other use of the secret (tokens, VERP); the NULs keep
 * the fields apart, so that no two different markers sign the same bytes.
 * The Message-ID binds the marker to one mail: copied onto another mail,
 * it does not verify.
 */
#include "bulk/marker.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LABEL "atsmail-bulk-v1"
#define SIG_HEX 64

/* A login fits in the header when it has no blank, ';' or control. */
static bool
login_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (*p == '\0' || strlen(s) >= sizeof(((struct atsm_bulk_mark *)0)->login))
		return false;
	for (; *p != '\0'; p++)
		if (*p <= ' ' || *p == ';' || *p == 0x7f)
			return false;
	return true;
}

static int
sign(const unsigned char *key, size_t keylen, const struct atsm_bulk_mark *m,
    const char *msgid, char out[SIG_HEX + 1])
{
	char data[64 + 256 + 1024];
	int n;

	n = snprintf(data, sizeof(data), "%s%c%lld%c%d%c%s%c%s", LABEL, 0, m->job, 0,
	    m->item, 0, m->login, 0, msgid);
	if (n < 0 || (size_t)n >= sizeof(data))
		return -1;
	return atsm_hmac_sha256_hex(key, keylen, data, (size_t)n, out);
}

int
atsm_bulk_marker_make(const struct atsm_token_keys *keys, const struct atsm_bulk_mark *m,
    const char *msgid, char *out, size_t size, struct atsm_err *err)
{
	char sig[SIG_HEX + 1];
	int n;

	if (keys == NULL || keys->n == 0)
		return atsm_err_setc(err, ATSM_ERR_INTERNAL, "bulk marker: no secret to sign with");
	if (m->job <= 0 || m->item <= 0 || !login_ok(m->login))
		return atsm_err_setc(err, ATSM_ERR_INPUT,
		    "bulk marker: job %lld item %d: not a job, item and login it can name",
		    m->job, m->item);
	if (msgid == NULL || *msgid == '\0' || strlen(msgid) > 998)
		return atsm_err_setc(err, ATSM_ERR_INPUT, "bulk marker: no Message-ID to bind to");
	if (sign(keys->key[0].k, keys->key[0].len, m, msgid, sig) < 0)
		return atsm_err_setc(err, ATSM_ERR_INTERNAL, "bulk marker: cannot sign");
	n = snprintf(out, size, "job=%lld; item=%d; user=%s; sig=%s", m->job, m->item, m->login,
	    sig);
	explicit_bzero(sig, sizeof(sig));
	if (n < 0 || (size_t)n >= size)
		return atsm_err_setc(err, ATSM_ERR_INPUT, "bulk marker: longer than %zu bytes",
		    size);
	return 0;
}

/* A positive decimal without a sign or leading zero, at most 18 digits. */
static bool
number(const char *s, size_t n, long long *out)
{
	long long v = 0;
	size_t i;

	if (n == 0 || n > 18 || s[0] == '0')
		return false;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

int
atsm_bulk_marker_check(const struct atsm_token_keys *keys, const char *value,
    const char *msgid, struct atsm_bulk_mark *m, struct atsm_err *err)
{
	struct atsm_bulk_mark got;
	const char *p = value, *sig = NULL;
	char want[SIG_HEX + 1];
	long long v;
	bool have_job = false, have_item = false, have_user = false, ok = false;
	size_t i, siglen = 0;

	memset(&got, 0, sizeof(got));
	if (value == NULL || strlen(value) >= ATSM_BULK_MARKER_MAX)
		return atsm_err_setc(err, ATSM_ERR_INPUT, "%s: missing or too long",
		    ATSM_BULK_MARKER);
	if (msgid == NULL || *msgid == '\0')
		return atsm_err_setc(err, ATSM_ERR_INPUT, "%s: the mail has no Message-ID",
		    ATSM_BULK_MARKER);
	while (*p != '\0') {
		const char *k, *eq, *end;
		size_t klen, vlen;

		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == ';')
			p++;
		if (*p == '\0')
			break;
		k = p;
		end = p + strcspn(p, ";");
		eq = memchr(k, '=', (size_t)(end - k));
		if (eq == NULL)
			return atsm_err_setc(err, ATSM_ERR_INPUT, "%s: an item without '='",
			    ATSM_BULK_MARKER);
		klen = (size_t)(eq - k);
		vlen = (size_t)(end - eq - 1);
		while (vlen > 0 && strchr(" \t\r\n", eq[vlen]) != NULL)
			vlen--;
		if (klen == 3 && memcmp(k, "job", 3) == 0 && !have_job &&
		    number(eq + 1, vlen, &got.job))
			have_job = true;
		else if (klen == 4 && memcmp(k, "item", 4) == 0 && !have_item &&
		    number(eq + 1, vlen, &v) && v <= 0x7fffffff) {
			got.item = (int)v;
			have_item = true;
		} else if (klen == 4 && memcmp(k, "user", 4) == 0 && !have_user &&
		    vlen > 0 && vlen < sizeof(got.login)) {
			memcpy(got.login, eq + 1, vlen);
			got.login[vlen] = '\0';
			have_user = login_ok(got.login);
			if (!have_user)
				break;
		} else if (klen == 3 && memcmp(k, "sig", 3) == 0 && sig == NULL) {
			sig = eq + 1;
			siglen = vlen;
		} else
			return atsm_err_setc(err, ATSM_ERR_INPUT, "%s: unknown or repeated item",
			    ATSM_BULK_MARKER);
		p = end;
	}
	if (!have_job || !have_item || !have_user || sig == NULL || siglen != SIG_HEX)
		return atsm_err_setc(err, ATSM_ERR_INPUT,
		    "%s: needs job=, item=, user= and a 64-digit sig=", ATSM_BULK_MARKER);
	for (i = 0; i < keys->n && !ok; i++) {
		if (sign(keys->key[i].k, keys->key[i].len, &got, msgid, want) < 0)
			continue;
		ok = atsm_ct_equal(want, sig, SIG_HEX);
	}
	explicit_bzero(want, sizeof(want));
	if (!ok)
		return atsm_err_setc(err, ATSM_ERR_INPUT,
		    "%s: the signature does not verify for this mail", ATSM_BULK_MARKER);
	*m = got;
	return 0;
}

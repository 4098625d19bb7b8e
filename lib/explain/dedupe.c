/* explain/dedupe.c -- once per refused mail within a window (see
 * explain/dedupe.h).  A linear look over a few thousand slots costs
 * microseconds, and only refused mail gets here. */
#include "explain/dedupe.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

int
atsm_explain_dedupe_init(struct atsm_explain_dedupe *d, size_t max)
{
	d->max = max > 0 ? max : ATSM_EXPLAIN_SEEN_MAX;
	d->v = calloc(d->max, sizeof(*d->v));
	return d->v != NULL ? 0 : -1;
}

void
atsm_explain_dedupe_free(struct atsm_explain_dedupe *d)
{
	free(d->v);
	d->v = NULL;
	d->max = 0;
}

static bool
key_of(const char *recruiter, const char *what, unsigned char out[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int n = 0;
	bool ok;
	char ch;

	if (c == NULL)
		return false;
	ok = EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1;
	for (; ok && *recruiter != '\0'; recruiter++) {
		ch = (char)tolower((unsigned char)*recruiter);
		ok = EVP_DigestUpdate(c, &ch, 1) == 1;
	}
	ok = ok && EVP_DigestUpdate(c, "", 1) == 1 &&
	    EVP_DigestUpdate(c, what, strlen(what)) == 1 &&
	    EVP_DigestFinal_ex(c, out, &n) == 1 && n == 32;
	EVP_MD_CTX_free(c);
	return ok;
}

bool
atsm_explain_dedupe_check(struct atsm_explain_dedupe *d, const char *recruiter,
    const char *what, long long now, long long window)
{
	unsigned char key[32];
	size_t i, slot = 0;
	bool have_slot = false;

	if (d->v == NULL || !key_of(recruiter, what, key))
		return true;    /* rather one more explanation than none */
	for (i = 0; i < d->max; i++) {
		struct atsm_explain_seen *e = &d->v[i];

		if (e->used && memcmp(e->key, key, sizeof(key)) == 0) {
			if (now - e->at < window && now >= e->at)
				return false;
			e->at = now;
			return true;
		}
	}
	/* room: a free slot, else an expired one, else the oldest */
	for (i = 0; i < d->max; i++) {
		struct atsm_explain_seen *e = &d->v[i];

		if (!e->used) {
			slot = i;
			have_slot = true;
			break;
		}
		if (!have_slot || e->at < d->v[slot].at) {
			slot = i;
			have_slot = true;
		}
	}
	memcpy(d->v[slot].key, key, sizeof(key));
	d->v[slot].at = now;
	d->v[slot].used = true;
	return true;
}

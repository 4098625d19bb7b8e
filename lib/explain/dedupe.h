/* explain/dedupe.h -- one explanation per refused mail within a window.
 *
 * Mail clients retry a refused mail (some every few minutes, some at each
 * start), and a recruiter may press Send again: the explanation is sent
 * once per key within explain_window seconds.  The key is the recruiter
 * and the refused mail's Message-ID (without one: its body hash), or, for
 * a command address refused at RCPT whose client gave up before DATA,
 * the recruiter and that address.  The window counts from the first
 * explanation: a mail retried for days is explained once a window.
 *
 * The table is bounded (ATSM_EXPLAIN_SEEN_MAX keys): when full, an
 * expired key, else the oldest, makes room -- at worst one more
 * explanation.  It lives in memory: a restart of atsmaild forgets it, so
 * a retry after a restart may be explained once more.  Pure and not
 * locked: the caller serialises.
 */
#ifndef ATSM_EXPLAIN_DEDUPE_H
#define ATSM_EXPLAIN_DEDUPE_H

#include <stdbool.h>
#include <stddef.h>

#define ATSM_EXPLAIN_SEEN_MAX 4096

struct atsm_explain_seen {
	unsigned char key[32];   /* SHA-256 of the key's parts */
	long long at;            /* when it was explained (unix time) */
	bool used;
};

struct atsm_explain_dedupe {
	struct atsm_explain_seen *v;
	size_t max;              /* slots */
};

/* max slots (0: ATSM_EXPLAIN_SEEN_MAX).  0, or -1 when memory is short. */
int atsm_explain_dedupe_init(struct atsm_explain_dedupe *d, size_t max);
void atsm_explain_dedupe_free(struct atsm_explain_dedupe *d);

/* Explain now?  true: the key (recruiter, what: case-blind for the
 * recruiter) was not explained within window seconds before now, and is
 * remembered as explained now; false: it was, send nothing. */
bool atsm_explain_dedupe_check(struct atsm_explain_dedupe *d, const char *recruiter,
    const char *what, long long now, long long window);

#endif

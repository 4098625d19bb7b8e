/* rules/guard.c -- do not show candidates' addresses to each other.
 *
 * Interface (rules/guard.h): atsm_guard_check(), atsm_guard_action_name(),
 * atsm_guard_action_from_name().
 *
 * The sentence goes back to the sender in a 550 (or a hold notice), so it
 * is ASCII whatever the addresses hold, and bounded: at most
 * ATSM_GUARD_NAMES_MAX addresses of at most SHOW_NAME_MAX characters each.
 */
#include "rules/guard.h"

#include <string.h>
#include <strings.h>

/* Characters of one address in the sentence; with five names and the
 * fixed text the sentence stays under 400 characters. */
#define SHOW_NAME_MAX 42

static const char *const action_names[] = { "reject", "hold", "allow" };

const char *
atsm_guard_action_name(enum atsm_guard_action a)
{
	return (size_t)a < 3 ? action_names[a] : "?";
}

int
atsm_guard_action_from_name(const char *name, enum atsm_guard_action *out,
    struct atsm_err *err)
{
	size_t i;

	for (i = 0; name != NULL && i < 3; i++)
		if (strcasecmp(name, action_names[i]) == 0) {
			*out = (enum atsm_guard_action)i;
			return 0;
		}
	return atsm_err_set(err, "unknown guard action \"%.64s\"; use reject, "
	    "hold or allow", name ? name : "");
}

static bool
counts(const struct atsm_guard_recipient *r)
{
	return r->record == ATSM_RECORD_RESUME &&
	    (r->header == ATSM_HEADER_TO || r->header == ATSM_HEADER_CC);
}

/* True when an earlier counted recipient belongs to the same resume. */
static bool
seen_before(const struct atsm_guard_recipient *v, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (counts(&v[j]) && v[j].record_id == v[i].record_id)
			return true;
	return false;
}

static void
put_name(struct atsm_buf *out, const char *addr)
{
	size_t i;

	for (i = 0; addr[i] != '\0' && i < SHOW_NAME_MAX; i++) {
		unsigned char c = (unsigned char)addr[i];

		atsm_buf_putc(out, (c < 0x20 || c >= 0x7f) ? '?' : (char)c);
	}
	if (addr[i] != '\0')
		atsm_buf_puts(out, "...");
}

enum atsm_guard_verdict
atsm_guard_check(const struct atsm_guard_recipient *v, size_t n,
    size_t *ncandidates, struct atsm_buf *sentence)
{
	size_t i, count = 0, named = 0;

	for (i = 0; v != NULL && i < n; i++)
		if (counts(&v[i]) && !seen_before(v, i))
			count++;
	if (ncandidates != NULL)
		*ncandidates = count;
	if (count < 2)
		return ATSM_GUARD_OK;
	if (sentence == NULL)
		return ATSM_GUARD_VIOLATION;
	atsm_buf_reset(sentence);
	atsm_buf_printf(sentence, "This mail shows %zu candidates' addresses "
	    "to each other in To/Cc (", count);
	for (i = 0; i < n && named < ATSM_GUARD_NAMES_MAX; i++) {
		if (!counts(&v[i]) || seen_before(v, i))
			continue;
		if (named++ > 0)
			atsm_buf_puts(sentence, ", ");
		put_name(sentence, v[i].addr != NULL ? v[i].addr : "?");
	}
	if (count > named)
		atsm_buf_printf(sentence, " and %zu more", count - named);
	atsm_buf_puts(sentence, "): send one mail per candidate, or put the "
	    "candidates in Bcc.");
	return ATSM_GUARD_VIOLATION;
}

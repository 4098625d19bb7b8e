/* fuzz-addr.c -- libFuzzer target for address lists (lib/addr.c) and
 * normalisation (lib/addr-norm.c).
 *
 * The input is parsed as a header value with the production limit of
 * addresses; every address read is normalised and matched against a
 * domain list, and the raw input is normalised as one address too.
 * Sanitizers catch over-reads, leaks and undefined behaviour; the checks
 * below catch broken promises of the interface.
 */
#include "mail/addr.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_normalized(const char *in)
{
	struct atsm_err err;
	char *out = NULL, *again = NULL;

	if (atsm_addr_normalize(in, &out, &err) < 0) {
		if (out != NULL || err.msg[0] == '\0')
			abort();
		return;
	}
	if (strlen(out) > ATSM_ADDR_MAX || strchr(out, '@') == NULL)
		abort();
	/* the normal form is a fixed point */
	if (atsm_addr_normalize(out, &again, &err) < 0 || strcmp(out, again) != 0)
		abort();
	free(again);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *const domains[] = { "example.com", "xn--r8jz45g.jp" };
	struct atsm_addr_list l;
	struct atsm_err err;
	char *s;
	size_t i;

	(void)atsm_addr_parse_list((const char *)data, size, 1000, &l, &err);
	if (l.n > 1000)
		abort();
	for (i = 0; i < l.n; i++) {
		const struct atsm_addr *a = &l.v[i];

		if (a->local == NULL || a->addr == NULL)
			abort();
		if (a->display != NULL && strpbrk(a->display, "\r\n") != NULL)
			abort();
		check_normalized(a->addr);
		(void)atsm_addr_domain_in(a->domain, domains, 2);
	}
	atsm_addr_list_free(&l);

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	check_normalized(s);
	free(s);
	return 0;
}

/* fuzz-rfc2047.c -- libFuzzer target for header decoding (lib/rfc2047.c,
 * lib/rfc2231.c, lib/charset.c).
 *
 * The input is decoded as an unstructured header value with a small output
 * limit, then searched for a "filename" parameter; every output must be
 * valid UTF-8 without NUL and within its limit, else abort().  Seeds live in
 * tests/fuzz/corpus/rfc2047/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/charset.h"
#include "base/err.h"
#include "mail/rfc2047.h"
#include "mail/rfc2231.h"

#define FUZZ_LIMIT (8u * 1024u)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_output(const struct atsm_buf *b)
{
	if (b->len > FUZZ_LIMIT)
		abort();
	if (b->data == NULL)
		return;
	if (strlen(b->data) != b->len || !atsm_utf8_valid(b->data, b->len))
		abort();
	if (memchr(b->data, '\r', b->len) != NULL ||
	    memchr(b->data, '\n', b->len) != NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct atsm_buf b;
	struct atsm_err err;
	int rc;

	atsm_buf_init(&b, FUZZ_LIMIT);
	rc = atsm_rfc2047_decode(in, size, &b);
	if (rc != 0 && !b.overflow)
		abort();
	check_output(&b);
	atsm_buf_free(&b);

	atsm_buf_init(&b, FUZZ_LIMIT);
	rc = atsm_rfc2231_param(in, size, "filename", &b, &err);
	if (rc < -1 || rc > 1 || (rc == -1 && !b.overflow) ||
	    (rc == 0 && b.len != 0))
		abort();
	check_output(&b);
	atsm_buf_free(&b);
	return 0;
}

/* fuzz-filing.c -- libFuzzer target for the filing protocol's parsers
 * (lib/service/filing.c).
 *
 * The first byte seeds the sizes of the pieces the rest is cut into, as
 * a socket would deliver it; the rest is fed to the request parser and,
 * separately, to the answer parser, each taking one message after the
 * other until the input ends or a message is malformed.  Must never
 * crash, leak or read out of bounds; a feed never takes more than it was
 * given; an error is a NUL-terminated sentence; and every message parsed
 * encodes again (what a side accepts it can also write) into bytes that
 * parse back to the same fields.
 */
#include "service/filing.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HEAD_MAX 2048

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned
next_piece(unsigned *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	/* mostly small pieces (1..16 bytes), now and then up to 512 */
	return (*seed >> 16) % 8 == 0 ? 1 + (*seed >> 8) % 512 : 1 + (*seed >> 20) % 16;
}

static void
same_request(const struct atsm_filing_request *a, const struct atsm_filing_request *b)
{
	if (a->append != b->append || a->move != b->move || strcmp(a->user, b->user) != 0 ||
	    (a->owner == NULL) != (b->owner == NULL) ||
	    (a->owner != NULL && strcmp(a->owner, b->owner) != 0) ||
	    (a->message_id == NULL) != (b->message_id == NULL) ||
	    (a->message_id != NULL && strcmp(a->message_id, b->message_id) != 0) ||
	    strcmp(a->mailbox, b->mailbox) != 0 ||
	    (a->env_from == NULL) != (b->env_from == NULL) ||
	    (a->env_from != NULL && strcmp(a->env_from, b->env_from) != 0) ||
	    (a->env_to == NULL) != (b->env_to == NULL) ||
	    (a->env_to != NULL && strcmp(a->env_to, b->env_to) != 0) || a->size != b->size ||
	    strcmp(a->sha256, b->sha256) != 0 || a->received_at != b->received_at ||
	    a->uid != b->uid || a->head_len != b->head_len ||
	    (a->head_len > 0 && memcmp(a->head, b->head, a->head_len) != 0))
		abort();
}

static void
same_answer(const struct atsm_filing_answer *a, const struct atsm_filing_answer *b)
{
	size_t i;

	if (a->status != b->status || strcmp(a->result, b->result) != 0 ||
	    a->n_keywords != b->n_keywords || strcmp(a->text, b->text) != 0 ||
	    strcmp(a->folder, b->folder) != 0)
		abort();
	for (i = 0; i < a->n_keywords; i++)
		if (strcmp(a->keywords[i], b->keywords[i]) != 0)
			abort();
}

/* Encode what was parsed, parse that in one piece, compare. */
static void
round_trip(const struct atsm_filing_parser *p, bool request)
{
	struct atsm_filing_parser *q = atsm_filing_parser_new(HEAD_MAX);
	struct atsm_buf b;
	struct atsm_err err;
	long used;
	int rc;

	if (q == NULL)
		abort();
	atsm_buf_init(&b, HEAD_MAX + 64 * ATSM_FILING_LINE_MAX);
	rc = request ? atsm_filing_request_encode(atsm_filing_request_get(p), &b, &err) :
	    atsm_filing_answer_encode(atsm_filing_answer_get(p), &b, &err);
	if (rc < 0)
		abort();
	used = request ? atsm_filing_request_feed(q, b.data, b.len, &err) :
	    atsm_filing_answer_feed(q, b.data, b.len, &err);
	if (used != (long)b.len)
		abort();
	if (request) {
		if (!atsm_filing_request_done(q))
			abort();
		same_request(atsm_filing_request_get(p), atsm_filing_request_get(q));
	} else {
		if (!atsm_filing_answer_done(q))
			abort();
		same_answer(atsm_filing_answer_get(p), atsm_filing_answer_get(q));
	}
	atsm_buf_free(&b);
	atsm_filing_parser_free(q);
}

static void
run(const uint8_t *data, size_t size, unsigned seed, bool request)
{
	struct atsm_filing_parser *p = atsm_filing_parser_new(HEAD_MAX);
	struct atsm_err err;
	size_t off = 0, n;
	long used;

	if (p == NULL)
		abort();
	while (off < size) {
		n = next_piece(&seed);
		if (n > size - off)
			n = size - off;
		err.msg[0] = '\0';
		used = request ? atsm_filing_request_feed(p, data + off, n, &err) :
		    atsm_filing_answer_feed(p, data + off, n, &err);
		if (used < 0) {
			if (memchr(err.msg, '\0', sizeof(err.msg)) == NULL || err.msg[0] == '\0')
				abort();
			break;
		}
		if ((size_t)used > n)
			abort();
		off += (size_t)used;
		if (request ? atsm_filing_request_done(p) : atsm_filing_answer_done(p)) {
			round_trip(p, request);
			atsm_filing_parser_reset(p);
		} else if ((size_t)used < n) {
			abort();           /* not done, yet it left bytes unread */
		}
	}
	atsm_filing_parser_free(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned seed;

	if (size == 0)
		return 0;
	seed = data[0];
	run(data + 1, size - 1, seed, true);
	run(data + 1, size - 1, seed, false);
	return 0;
}

/* test-milter-proto.h -- what the unit tests of the milter codec share:
 * packets in allocations of their exact size (so that the sanitizer build
 * catches a decoder that reads one byte too far), framing, and a check of
 * exact bytes.  test-milter-proto.c tests framing, the decoders and round
 * trips; test-milter-proto-put.c the encoders; they are one program.
 */
#ifndef ATSM_TEST_MILTER_PROTO_H
#define ATSM_TEST_MILTER_PROTO_H

#include <stddef.h>

#include "atsm-check.h"
#include "base/buf.h"
#include "service/milter-proto.h"

/* String literals with embedded NULs: the size without the literal's own
 * terminator. */
#define LIT(s) (s), (sizeof(s) - 1)

/* A packet of cmd whose n bytes of data live in their own allocation. */
struct atsm_milter_packet pkt_of(unsigned char cmd, const void *data, size_t n);
void pkt_free(struct atsm_milter_packet *p);
/* A framed packet: length (cmd + data), cmd, data; returns its size. */
size_t frame(unsigned char *buf, unsigned char cmd, const void *data, size_t n);
void assert_bytes(const struct atsm_buf *b, const void *want, size_t n);

/* test-milter-proto-put.c */
TCase *milter_put_tcase(void);

#endif

/* test-jlog.h -- what the two halves of the test-jlog program share: the
 * unit tests of atsmaild's journal (test-jlog.c) and the disk-full probe
 * that tests/e2e/jlog-disk-full.sh runs as `test-jlog fill DIR FILLER`
 * (test-jlog-fill.c).
 */
#ifndef ATSM_TEST_JLOG_H
#define ATSM_TEST_JLOG_H

#include <stddef.h>

#include "base/err.h"
#include "store/jlog.h"

#define COMPONENT "atsmaild"

/* Append {"key": key, "n": n, "pad": pad bytes} under key: 0, or -1 with
 * err.  No Check assertion: it runs in the probe too. */
int put(struct atsm_jlog *j, const char *key, int n, size_t pad,
    struct atsm_jlog_pos *pos, struct atsm_err *err);

/* test-jlog-fill.c: the probe; TAP on stdout, its exit status. */
int fill(const char *d, const char *filler);

#endif

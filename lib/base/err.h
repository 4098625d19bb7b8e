/* base/err.h -- the error value every fallible lib/ function fills in.
 *
 * A function that can fail returns a status (0 = success, -1 = failure) and,
 * on failure, writes into a caller-supplied struct atsm_err a sentence that
 * names the input at fault ("line 12: unknown key 'dbhost'").  Callers that
 * do not care pass NULL.  No function in lib/ exits the process.
 */
#ifndef ATSM_ERR_H
#define ATSM_ERR_H

#include <stddef.h>

#define ATSM_ERR_MAX 512

struct atsm_err {
	char msg[ATSM_ERR_MAX];
};

#if defined(__GNUC__)
#define ATSM_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define ATSM_PRINTF(f, a)
#endif

/* Format a message into err (if err is not NULL); always returns -1 so that
 * "return atsm_err_set(err, ...);" reads naturally. */
int atsm_err_set(struct atsm_err *err, const char *fmt, ...) ATSM_PRINTF(2, 3);

/* Prefix an existing message: "context: old message". Returns -1. */
int atsm_err_prefix(struct atsm_err *err, const char *fmt, ...) ATSM_PRINTF(2, 3);

void atsm_err_clear(struct atsm_err *err);

#endif

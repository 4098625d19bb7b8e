/* base/err.h -- the one error value of atsmail: what went wrong (a
 * sentence), its class (what the caller can do about it) and, for errors
 * of the database server, its SQLSTATE.
 *
 * A function that can fail returns a status (0 = success, -1 = failure)
 * and, on failure, fills in the caller's struct atsm_err: a sentence that
 * names the input at fault ("line 12: unknown key 'dbhost'"), the class,
 * and the SQLSTATE when the server gave one.  Callers that do not care
 * pass NULL.  No function in lib/ exits the process.
 *
 * The class is what failure policies look at -- never the text:
 *	INPUT        the input is wrong (a parser, a caller's value): retrying
 *	             the same input fails the same way
 *	UNAVAILABLE  a server or resource is unavailable now (cannot connect,
 *	             connection lost, timed out, shutting down): retry later
 *	REFUSED      the database server refused the statement (sqlstate says
 *	             why: a constraint, a permission, a bug)
 *	IO           local I/O failed (disk full, permissions): the text names
 *	             the file and the system's reason
 *	NOMEM        memory (or an arena's limit) ran out
 *	INTERNAL     anything else: a bug
 */
#ifndef ATSM_BASE_ERR_H
#define ATSM_BASE_ERR_H

#include <stddef.h>

#define ATSM_ERR_MAX 512

enum atsm_err_class {
	ATSM_ERR_NONE = 0,
	ATSM_ERR_INPUT,
	ATSM_ERR_UNAVAILABLE,
	ATSM_ERR_REFUSED,
	ATSM_ERR_IO,
	ATSM_ERR_NOMEM,
	ATSM_ERR_INTERNAL
};

struct atsm_err {
	char msg[ATSM_ERR_MAX];
	enum atsm_err_class cls;
	char sqlstate[6];             /* "23505"; "" when the error is not the server's */
};

#if defined(__GNUC__)
#define ATSM_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define ATSM_PRINTF(f, a)
#endif

/* Format a message into err (if err is not NULL), class INPUT, no
 * SQLSTATE; always returns -1 so that "return atsm_err_set(err, ...);"
 * reads naturally. */
int atsm_err_set(struct atsm_err *err, const char *fmt, ...) ATSM_PRINTF(2, 3);
/* The same with a class of the caller's choice. */
int atsm_err_setc(struct atsm_err *err, enum atsm_err_class cls, const char *fmt, ...)
	ATSM_PRINTF(3, 4);

/* Prefix an existing message: "context: old message"; class and SQLSTATE
 * stay.  Returns -1. */
int atsm_err_prefix(struct atsm_err *err, const char *fmt, ...) ATSM_PRINTF(2, 3);

/* Keep the server's SQLSTATE beside the message (call it after setting
 * the message, which clears it); nothing when err or state is NULL. */
void atsm_err_set_sqlstate(struct atsm_err *err, const char *state);

/* Empty message, class NONE, no SQLSTATE. */
void atsm_err_clear(struct atsm_err *err);

/* "input", "unavailable", "refused", "io", "nomem", "internal", "none". */
const char *atsm_err_class_name(enum atsm_err_class cls);

#endif

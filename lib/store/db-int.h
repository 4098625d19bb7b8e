/* store/db-int.h -- what lib/store/db.c (connections, the pool) and
 * lib/store/db-exec.c (statements, transactions, the classification of
 * their failures) share, and nothing else includes: the two ways a
 * message of libpq or the server is made fit for a struct atsm_err.
 */
#ifndef ATSM_STORE_DB_INT_H
#define ATSM_STORE_DB_INT_H

#include <stddef.h>

/* Replace every occurrence of secret in msg by "***" (msg is an err
 * buffer of size bytes); nothing when secret is NULL or empty. */
void atsm_db_redact(char *msg, size_t size, const char *secret);
/* libpq's messages span lines ("...failed: ...\n\tIs the server running");
 * an err is one line: src with its line breaks and tabs made one space. */
void atsm_db_one_line(char *dst, size_t size, const char *src);

#endif

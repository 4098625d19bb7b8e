/* store/sql-array.h -- what the files of the outbound pipeline share and
 * nobody else needs (lib/outbound-*.c): building the text form of SQL
 * arrays for parameterised statements (= ANY($1::text[]), unnest), so
 * that a whole list is one parameter of one statement.
 */
#ifndef ATSM_OUTBOUND_INT_H
#define ATSM_OUTBOUND_INT_H

#include <stddef.h>

#include "base/buf.h"

/* Append the array literal {"a","b"} of v[0..n) to out (NULL items are
 * skipped).  0, or -1 when out is full. */
int atsm_out_sql_text_array(char *const *v, size_t n, struct atsm_buf *out);
/* Append {1,2,3}. */
int atsm_out_sql_int_array(const long long *v, size_t n, struct atsm_buf *out);

#endif

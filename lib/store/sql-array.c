/* store/sql-array.c -- SQL array literals for the outbound pipeline (see
 * store/sql-array.h).  The literal travels as a parameter, never spliced into
 * SQL text: quoting here only keeps the array's own syntax intact.
 */
#include "store/sql-array.h"

int
atsm_out_sql_text_array(char *const *v, size_t n, struct atsm_buf *out)
{
	size_t i;
	const char *s;
	int first = 1;

	if (atsm_buf_putc(out, '{') < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (v[i] == NULL)
			continue;
		if (!first && atsm_buf_putc(out, ',') < 0)
			return -1;
		first = 0;
		if (atsm_buf_putc(out, '"') < 0)
			return -1;
		for (s = v[i]; *s != '\0'; s++) {
			if ((*s == '"' || *s == '\\') && atsm_buf_putc(out, '\\') < 0)
				return -1;
			if (atsm_buf_putc(out, *s) < 0)
				return -1;
		}
		if (atsm_buf_putc(out, '"') < 0)
			return -1;
	}
	return atsm_buf_putc(out, '}');
}

int
atsm_out_sql_int_array(const long long *v, size_t n, struct atsm_buf *out)
{
	size_t i;

	if (atsm_buf_putc(out, '{') < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (atsm_buf_printf(out, i ? ",%lld" : "%lld", v[i]) < 0)
			return -1;
	return atsm_buf_putc(out, '}');
}

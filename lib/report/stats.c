/* report/stats.c -- median and p90 by nearest rank, the reply rate, office
 * hours (report/stats.h, docs/reports.md "Definitions").
 *
 * Nearest rank rather than interpolation: every figure shown is a time
 * somebody really took, and the definition is the one a reader can check
 * by sorting the values by hand.
 */
#include "report/stats.h"

#include <stdlib.h>
#include <string.h>

static int
cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

long long
atsm_report_percentile(long long *v, size_t n, double p)
{
	size_t rank;

	if (n == 0 || !(p > 0.0))
		return -1;
	if (p > 1.0)
		p = 1.0;
	qsort(v, n, sizeof(*v), cmp_ll);
	/* the smallest rank r with r / n >= p; the epsilon keeps 0.9 * 10
	 * from becoming 9.000000000000002 and so rank 10 */
	rank = (size_t)(p * (double)n);
	if ((double)rank < p * (double)n - 1e-9)
		rank++;
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

double
atsm_report_rate(long long answered, long long total)
{
	if (total <= 0)
		return -1.0;
	return (double)answered / (double)total;
}

/* "HH:MM" at s: minutes, or -1; *end after it */
static int
parse_hhmm(const char *s, const char **end)
{
	int h, m;

	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' || s[2] != ':' ||
	    s[3] < '0' || s[3] > '5' || s[4] < '0' || s[4] > '9')
		return -1;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (h > 24 || (h == 24 && m != 0))
		return -1;
	*end = s + 5;
	return h * 60 + m;
}

int
atsm_office_hours_parse(const char *s, struct atsm_office *o, struct atsm_err *err)
{
	const char *p;
	int open, close;

	if ((open = parse_hhmm(s, &p)) < 0 || *p != '-' ||
	    (close = parse_hhmm(p + 1, &p)) < 0 || *p != '\0')
		return atsm_err_setc(err, ATSM_ERR_INPUT,
		    "office hours '%s': expected HH:MM-HH:MM, e.g. 09:00-18:00", s);
	if (open >= close || open >= 1440)
		return atsm_err_setc(err, ATSM_ERR_INPUT,
		    "office hours '%s': the end must be after the start on the same day", s);
	o->open = open;
	o->close = close;
	return 0;
}

static const char *const day_names[7] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };

static int
day_at(const char *s)
{
	int i;

	for (i = 0; i < 7; i++)
		if (strncmp(s, day_names[i], 3) == 0)
			return i;
	return -1;
}

int
atsm_office_days_parse(const char *s, struct atsm_office *o, struct atsm_err *err)
{
	const char *p = s;
	unsigned mask = 0;
	int a, b, i;

	for (;;) {
		if ((a = day_at(p)) < 0)
			goto bad;
		p += 3;
		b = a;
		if (*p == '-') {
			if ((b = day_at(p + 1)) < 0)
				goto bad;
			p += 4;
		}
		for (i = a;; i = (i + 1) % 7) {
			mask |= 1u << i;
			if (i == b)
				break;
		}
		if (*p == '\0')
			break;
		if (*p != ',')
			goto bad;
		p++;
	}
	o->days = mask;
	return 0;
bad:
	return atsm_err_setc(err, ATSM_ERR_INPUT,
	    "office days '%s': expected day names (sun mon tue wed thu fri sat) "
	    "and ranges separated by commas, e.g. mon-fri", s);
}

/* floor division for negative instants too */
static long long
fdiv(long long a, long long b)
{
	long long q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

long long
atsm_office_seconds(long long start, long start_off, long long end, long end_off,
    const struct atsm_office *o)
{
	long long ls = start + start_off, le = end + end_off, d, last, total = 0;
	long long lo, hi;
	int wday;

	if (end <= start || le <= ls)
		return 0;
	d = fdiv(ls, 86400);
	last = fdiv(le - 1, 86400);
	if (last - d > ATSM_OFFICE_MAX_DAYS)
		last = d + ATSM_OFFICE_MAX_DAYS;
	for (; d <= last; d++) {
		wday = (int)(((d % 7) + 7 + 4) % 7);      /* 1970-01-01 was a Thursday */
		if (!(o->days & (1u << wday)))
			continue;
		lo = d * 86400 + (long long)o->open * 60;
		hi = d * 86400 + (long long)o->close * 60;
		if (lo < ls)
			lo = ls;
		if (hi > le)
			hi = le;
		if (hi > lo)
			total += hi - lo;
	}
	return total;
}

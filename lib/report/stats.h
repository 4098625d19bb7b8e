/* report/stats.h -- the arithmetic of atsmailctl report (docs/reports.md):
 * median and 90th percentile by nearest rank, the reply rate, and the
 * office-hours length of an interval.  Pure functions, no I/O, no time
 * zone database: the caller gives each instant's UTC offset.
 */
#ifndef ATSM_REPORT_STATS_H
#define ATSM_REPORT_STATS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

/* The value of rank ceil(p * n) (1-based) of v sorted ascending: the
 * nearest-rank percentile, always one of the values (no interpolation).
 * p in (0, 1]; the median is p = 0.5 (for an even n the lower of the two
 * middle values).  Sorts v in place.  -1 when n is 0. */
long long atsm_report_percentile(long long *v, size_t n, double p);

/* answered / total, or -1 when total is 0. */
double atsm_report_rate(long long answered, long long total);

/* Office hours: a daily window [open, close) in minutes after local
 * midnight and the days of the week it applies to (bit 0 = Sunday ...
 * bit 6 = Saturday, as struct tm's tm_wday). */
struct atsm_office {
	int open, close;          /* 0 <= open < close <= 1440 */
	unsigned days;            /* bit mask of tm_wday */
};

/* "09:00-18:00" (HH:MM-HH:MM, 24:00 allowed as the end): 0, or -1 with
 * err naming the text. */
int atsm_office_hours_parse(const char *s, struct atsm_office *o, struct atsm_err *err);
/* "mon-fri", "mon,tue,thu", "sat-sun,wed", "sun" ... (English three-letter
 * names, ranges may wrap: "fri-mon"): 0, or -1 with err. */
int atsm_office_days_parse(const char *s, struct atsm_office *o, struct atsm_err *err);

/* Seconds of office time in [start, end) (unix seconds), walking local
 * wall-clock time: start is shown as start + start_off, end as end +
 * end_off (the UTC offsets in force at each instant, seconds east).
 * A change of offset between the two (DST) moves the local end, so the
 * result is off by the change only when it falls inside office hours.
 * 0 when end <= start.  At most ATSM_OFFICE_MAX_DAYS days are walked;
 * past that the result is capped there. */
#define ATSM_OFFICE_MAX_DAYS 3660
long long atsm_office_seconds(long long start, long start_off, long long end, long end_off,
    const struct atsm_office *o);

#endif

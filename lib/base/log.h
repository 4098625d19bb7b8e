/* base/log.h -- logging for every atsmail component.
 *
 * Messages go to syslog (facility from the configuration, LOG_MAIL by
 * default) and, when the component runs in the foreground, to stderr.
 * Secrets are never passed to these functions.  Thread-safe.
 * A line on stderr reads "ident[pid]: warning: text" (no label for info);
 * control characters in a message are shown as '?'.  Before atsm_log_open,
 * messages go to stderr only.
 */
#ifndef ATSM_LOG_H
#define ATSM_LOG_H

#include <stdbool.h>
#include <stdarg.h>
#include <syslog.h>

/* Levels are syslog priorities: LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG. */

/* ident: program name ("atsmaild"); facility: LOG_MAIL etc.;
 * to_stderr: also write to stderr (foreground); to_syslog: openlog/syslog. */
void atsm_log_open(const char *ident, int facility, bool to_syslog, bool to_stderr);
void atsm_log_set_level(int max_priority);   /* drop messages above it */
int atsm_log_get_level(void);
void atsm_log_close(void);

void atsm_log(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void atsm_vlog(int priority, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Parse "error", "warning", "info", "debug" / "mail", "local0".."local7":
 * the value, or -1 when the name is unknown. */
int atsm_log_level_from_name(const char *name);
int atsm_log_facility_from_name(const char *name);

/* The same, from the index that struct atsm_conf holds for the enum
 * settings log_level and syslog_facility; -1 when out of range. */
int atsm_log_level_from_conf(unsigned log_level_index);
int atsm_log_facility_from_conf(unsigned syslog_facility_index);

#endif

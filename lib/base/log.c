/* base/log.c -- syslog and stderr logging for every component (see base/log.h).
 *
 * Interface: atsm_log_open, atsm_log_close, atsm_log_set_level,
 * atsm_log_get_level, atsm_log, atsm_vlog, atsm_log_level_from_name,
 * atsm_log_facility_from_name, atsm_log_level_from_conf,
 * atsm_log_facility_from_conf.
 *
 * A line reads like Postfix's: "atsmaild[1234]: warning: text" on
 * stderr, "warning: text" in syslog (which adds ident and pid itself).
 * Messages often quote mail headers, which an outsider writes: control
 * characters are replaced by '?' so that one message stays one log line, and
 * a message longer than LOG_LINE_MAX is cut.  Before atsm_log_open, messages
 * go to stderr, so that errors of start-up are not lost.
 */
#include "base/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define LOG_LINE_MAX 2048
#define LOG_IDENT_MAX 64

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
/* openlog() keeps the pointer: the ident lives here, not in the caller */
static char log_ident[LOG_IDENT_MAX] = "atsmail";
static bool log_to_syslog = false;
static bool log_to_stderr = true;
static int log_facility = LOG_MAIL;
static volatile int log_level = LOG_INFO;

static const char *const level_names[] = { "error", "warning", "info", "debug" };
static const int level_values[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

static const char *const facility_names[] = {
	"mail", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"
};
static const int facility_values[] = {
	LOG_MAIL, LOG_LOCAL0, LOG_LOCAL1, LOG_LOCAL2, LOG_LOCAL3, LOG_LOCAL4, LOG_LOCAL5,
	LOG_LOCAL6, LOG_LOCAL7
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

void
atsm_log_open(const char *ident, int facility, bool to_syslog, bool to_stderr)
{
	pthread_mutex_lock(&log_lock);
	if (log_to_syslog)
		closelog();
	snprintf(log_ident, sizeof(log_ident), "%s", ident != NULL ? ident : "atsmail");
	log_facility = facility & LOG_FACMASK;
	log_to_syslog = to_syslog;
	log_to_stderr = to_stderr;
	if (to_syslog)
		openlog(log_ident, LOG_PID | LOG_NDELAY, log_facility);
	pthread_mutex_unlock(&log_lock);
}

void
atsm_log_close(void)
{
	pthread_mutex_lock(&log_lock);
	if (log_to_syslog)
		closelog();
	snprintf(log_ident, sizeof(log_ident), "%s", "atsmail");
	log_to_syslog = false;
	log_to_stderr = true;
	log_facility = LOG_MAIL;
	pthread_mutex_unlock(&log_lock);
}

void
atsm_log_set_level(int max_priority)
{
	if (max_priority < LOG_EMERG)
		max_priority = LOG_EMERG;
	if (max_priority > LOG_DEBUG)
		max_priority = LOG_DEBUG;
	__atomic_store_n(&log_level, max_priority, __ATOMIC_RELAXED);
}

int
atsm_log_get_level(void)
{
	return __atomic_load_n(&log_level, __ATOMIC_RELAXED);
}

/* Postfix labels all but informational lines with their severity. */
static const char *
priority_label(int priority)
{
	switch (priority) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
		return "critical: ";
	case LOG_ERR:
		return "error: ";
	case LOG_WARNING:
		return "warning: ";
	case LOG_DEBUG:
		return "debug: ";
	default:
		return "";
	}
}

void
atsm_vlog(int priority, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX + LOG_IDENT_MAX + 64];
	char msg[LOG_LINE_MAX];
	size_t i, len;
	int n;

	/* a caller's stray facility bits must not redirect the message */
	priority &= LOG_PRIMASK;
	if (priority > atsm_log_get_level())
		return;
	n = snprintf(msg, sizeof(msg), "%s", priority_label(priority));
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	len = strlen(msg);
	for (i = 0; i < len; i++)
		if ((unsigned char)msg[i] < 0x20 || msg[i] == 0x7f)
			msg[i] = '?';

	pthread_mutex_lock(&log_lock);
	if (log_to_syslog)
		syslog(log_facility | priority, "%s", msg);
	if (log_to_stderr) {
		const char *p = line;
		ssize_t w;

		n = snprintf(line, sizeof(line), "%s[%ld]: %s\n", log_ident, (long)getpid(), msg);
		len = n < 0 ? 0 : (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
		/* one write per line, so that lines of processes sharing stderr do not mix */
		while (len > 0 && (w = write(STDERR_FILENO, p, len)) != 0) {
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				break;
			p += w;
			len -= (size_t)w;
		}
	}
	pthread_mutex_unlock(&log_lock);
}

void
atsm_log(int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	atsm_vlog(priority, fmt, ap);
	va_end(ap);
}

int
atsm_log_level_from_name(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < NELEM(level_names); i++)
		if (strcasecmp(name, level_names[i]) == 0)
			return level_values[i];
	return -1;
}

int
atsm_log_facility_from_name(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < NELEM(facility_names); i++)
		if (strcasecmp(name, facility_names[i]) == 0)
			return facility_values[i];
	return -1;
}

int
atsm_log_level_from_conf(unsigned log_level_index)
{
	return log_level_index < NELEM(level_values) ? level_values[log_level_index] : -1;
}

int
atsm_log_facility_from_conf(unsigned syslog_facility_index)
{
	return syslog_facility_index < NELEM(facility_values) ?
	    facility_values[syslog_facility_index] : -1;
}

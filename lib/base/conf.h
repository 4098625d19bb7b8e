/* base/conf.h -- atsmail.conf, the one configuration file of every component.
 *
 * "key = value" lines, Postfix style: '#' starts a comment line, a line that
 * starts with white space continues the previous one.  Every setting is
 * described once in the table atsm_conf_settings[] (conf-table.c): name,
 * type, default, limits, documentation and the reason for the default.
 * atsmail.conf(5) is generated from that table.  An unknown key or a bad
 * value is an error that names the key, the value and the line.
 */
#ifndef ATSM_CONF_H
#define ATSM_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

#ifndef ATSM_SYSCONFDIR
#define ATSM_SYSCONFDIR "/etc"
#endif
#define ATSM_CONF_DEFAULT_PATH ATSM_SYSCONFDIR "/atsmail/atsmail.conf"

/* Indexes of the enum settings (their order in the table's choices).
 * guard_action holds an enum atsm_guard_action (rules/guard.h): its choices
 * "reject|hold|allow" are in that enum's order. */
#define ATSM_NON_SMTP_CHECKED 0     /* non_smtp_senders = checked */
#define ATSM_NON_SMTP_UNTRUSTED 1   /* non_smtp_senders = untrusted */
#define ATSM_SHARED_ANSWERED_DONE 0      /* shared_answered_status = done */
#define ATSM_SHARED_ANSWERED_PROGRESS 1  /* shared_answered_status = progress */
#define ATSM_REPORT_LANG_RECIPIENT 0     /* report_mail_lang = recipient */
#define ATSM_REPORT_LANG_EN 1
#define ATSM_REPORT_LANG_JA 2

/* A logical line (with its continuation lines) longer than this is an error;
 * a file longer than ATSM_CONF_FILE_MAX is refused before it is parsed. */
#define ATSM_CONF_LINE_MAX (64u * 1024u)
#define ATSM_CONF_FILE_MAX (1024u * 1024u)

struct atsm_buf;

enum atsm_conf_type {
	ATSM_CONF_STRING,   /* any text */
	ATSM_CONF_PATH,     /* absolute file or directory name */
	ATSM_CONF_UINT,     /* decimal, within [min, max] */
	ATSM_CONF_BOOL,     /* yes/no, true/false, on/off, 1/0 */
	ATSM_CONF_TIME,     /* "250ms", "2s", "5m", "1h"; bare number = seconds; stored in ms */
	ATSM_CONF_SIZE,     /* "512", "64k", "10m"; stored in bytes */
	ATSM_CONF_ENUM,     /* one of the '|'-separated names in .choices; stored as index */
	ATSM_CONF_LIST      /* comma- and/or space-separated words */
};
/* C type of the field of each type: STRING, PATH: char * (NULL never after
 * init; "" when empty); UINT, TIME, ENUM: unsigned; SIZE: size_t;
 * BOOL: bool; LIST: struct atsm_conf_list. */

struct atsm_conf_list {
	size_t n;
	char **v;        /* n words, then NULL (v is never NULL after init) */
};

/* Field names match the setting names. */
struct atsm_conf {
	/* database */
	char *db_conninfo;
	unsigned db_statement_timeout;   /* ms */
	unsigned db_connect_timeout;     /* ms */
	/* site */
	char *ats_domain;                /* domain of the command addresses ats+...@ */
	struct atsm_conf_list company_domains;
	char *secret_file;               /* HMAC site secret */
	/* the service (atsmaild) */
	char *milter_socket;
	char *filing_socket;
	struct atsm_conf_list milter_peers;
	struct atsm_conf_list filing_peers;
	unsigned service_max_connections;
	/* outbound (the milter front) */
	char *command_localpart;         /* local part of command addresses: ats */
	struct atsm_conf_list internal_networks;
	unsigned guard_action;           /* enum: "reject|hold|allow" */
	unsigned non_smtp_senders;       /* enum: "checked|untrusted" (ATSM_NON_SMTP_*) */
	bool verp;
	char *verp_tag;
	char *recipient_delimiter;
	/* the explanation mail to a recruiter whose mail was refused (atsmaild) */
	bool explain_refusals;
	unsigned explain_window;         /* ms */
	char *explain_from;              /* "" = atsmail <postmaster@first company domain> */
	size_t explain_attach_max;
	char *explain_smtp;              /* host:port or unix:/path */
	unsigned default_language;       /* enum: "en|ja" (enum atsm_lang) */
	/* templates and bulk send (docs/templates.md, docs/bulk.md) */
	unsigned bulk_max_recipients;    /* mails of one bulk job */
	unsigned bulk_rate;              /* mails per second; 0 = as fast as Postfix takes them */
	char *bulk_smtp;                 /* host:port or unix:/path */
	unsigned bulk_connections;       /* SMTP sessions of one job */
	char *template_folder;           /* the IMAP folder of template drafts */
	/* shared mailboxes (docs/shared-mailboxes.md) */
	struct atsm_conf_list shared_mailboxes;  /* Dovecot users that are shared mailboxes */
	char *shared_folder_unhandled;
	char *shared_folder_progress;
	char *shared_folder_done;
	unsigned shared_answered_status; /* enum: "done|progress" (ATSM_SHARED_ANSWERED_*) */
	char *shared_doveadm;            /* command and options */
	/* notifications: atsmail's own mail (atsmaild/notify.c, docs/notifications.md) */
	struct atsm_conf_list notify_kinds;  /* the kinds sent; "all" */
	char *notify_from;               /* "" = as explain_from */
	char *notify_smtp;               /* host:port or unix:/path */
	unsigned notify_max_attempts;
	unsigned notify_retry_base;      /* ms */
	/* approval of held mail (docs/approval.md) */
	unsigned approval_remind_after;  /* ms */
	/* reports (atsmailctl report, docs/reports.md) */
	char *report_office_hours;       /* "09:00-18:00" (report/stats.h) */
	char *report_office_days;        /* "mon-fri" */
	unsigned report_statement_timeout; /* ms */
	char *report_gnuplot;            /* program */
	struct atsm_conf_list report_mail_to;   /* addresses or logins */
	unsigned report_mail_lang;       /* enum: "recipient|en|ja" (ATSM_REPORT_LANG_*) */
	/* inbound (Dovecot plugin) */
	size_t inbound_parse_max_bytes;
	unsigned intake_max_per_hour;
	struct atsm_conf_list bounce_forwarders;  /* non-null senders whose bounces are believed */
	/* events to the ATS (atsmail-notifyd) */
	struct atsm_conf_list webhook_urls;
	char *webhook_secret_file;
	unsigned webhook_connect_timeout; /* ms */
	unsigned webhook_timeout;         /* ms */
	unsigned webhook_max_attempts;
	unsigned webhook_retry_base;      /* ms */
	unsigned webhook_retry_max;       /* ms */
	/* journal */
	char *journal_dir;
	size_t journal_segment_size;     /* atsmaild's journal: bytes per segment */
	unsigned recorder_batch_max;     /* entries per transaction, <= ATSM_RECORDER_BATCH_MAX */
	/* the local snapshot of the directory (atsmaild, docs/snapshot.md) */
	char *snapshot_dir;
	size_t snapshot_map_size;
	unsigned snapshot_resync_interval;   /* ms; 0 = at start and reconnection only */
	/* logging */
	unsigned log_level;              /* enum: index into "error|warning|info|debug" */
	unsigned syslog_facility;        /* enum: "mail|local0|...|local7" */
	/* limits on input */
	size_t header_max_bytes;
	unsigned address_max_count;
	size_t decode_max_bytes;
};

struct atsm_conf_setting {
	const char *name;
	enum atsm_conf_type type;
	size_t offset;           /* offsetof(struct atsm_conf, field) */
	const char *defval;      /* default, as it would be written in the file */
	const char *choices;     /* ATSM_CONF_ENUM: "a|b|c" */
	unsigned long min, max;  /* UINT, TIME (ms), SIZE (bytes): bounds; 0,0 = none */
	bool secret;             /* never print the value */
	const char *doc;         /* what it does (one paragraph) */
	const char *reason;      /* why the default is what it is */
};

extern const struct atsm_conf_setting atsm_conf_settings[];
extern const size_t atsm_conf_nsettings;

const struct atsm_conf_setting *atsm_conf_find(const char *name);

/* Fill c with the defaults of every setting. */
int atsm_conf_init(struct atsm_conf *c, struct atsm_err *err);
/* Read a file / a text over the current values of c ("name" labels errors).
 * All or nothing: on error c keeps the values it had before the call. */
int atsm_conf_load(struct atsm_conf *c, const char *path, struct atsm_err *err);
int atsm_conf_load_text(struct atsm_conf *c, const char *text, size_t len,
                        const char *name, struct atsm_err *err);
/* Set one key from its text form (command-line overrides, Dovecot's plugin{}). */
int atsm_conf_set(struct atsm_conf *c, const char *key, const char *value, struct atsm_err *err);
void atsm_conf_free(struct atsm_conf *c);
/* A deep copy of src into dst (dst is overwritten, not freed first). */
int atsm_conf_copy(struct atsm_conf *dst, const struct atsm_conf *src, struct atsm_err *err);

/* Parse value per s->type and store it in the field at base + s->offset,
 * freeing what the field held (so it must be NULL/zero or valid).  For
 * tables of settings other than atsm_conf_settings (and for tests). */
int atsm_conf_set_field(void *base, const struct atsm_conf_setting *s,
                        const char *value, struct atsm_err *err);

/* Append the current value of s in c, as it would be written in the file
 * ("2s", "256k", "a.example, b.example"); "(secret)" for secret settings.
 * 0, or -1 when out fills up. */
int atsm_conf_write_value(const struct atsm_conf *c, const struct atsm_conf_setting *s,
                          struct atsm_buf *out);

/* For documentation and errors: the kind of value a type takes ("whole
 * number", "time"...) and the allowed bounds of s ("1..256", "50ms..20s",
 * "error, warning, info, debug"); the latter appends nothing when unbounded. */
const char *atsm_conf_type_name(enum atsm_conf_type type);
int atsm_conf_format_allowed(const struct atsm_conf_setting *s, struct atsm_buf *out);

#endif

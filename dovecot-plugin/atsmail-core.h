/* atsmail-core.h -- the half of the Dovecot plugin that talks to lib/ and
 * knows nothing of Dovecot (no Dovecot header is included by its files,
 * whose macros and types would otherwise meet libpq's and jansson's).
 *
 *	atsmail-site.c  a "site": the settings of atsmail.conf with the
 *	                plugin { atsmail_<setting> } overrides, the site
 *	                secret, the database pool and the journal.  Sites
 *	                are cached per process by their settings, so an LMTP
 *	                process that delivers to many users reads the file,
 *	                and opens connections, once.
 *	atsmail-file.c  one mail: facts, plan, record; the journal when the
 *	                database is unavailable; the keywords to set.
 *
 * Interface: atsmail_site_get, atsmail_site_release, atsmail_site_parse_max,
 * atsmail_sites_free, atsmail_file.
 */
#ifndef ATSMAIL_CORE_H
#define ATSMAIL_CORE_H

#include <stdbool.h>
#include <stddef.h>

#define ATSMAIL_NAME "atsmail"
#define ATSMAIL_SETTING_CONFIG "atsmail_config"
#define ATSMAIL_SETTING_PREFIX "atsmail_"
#define ATSMAIL_JOURNAL_COMPONENT "dovecot"
#define ATSMAIL_JOURNAL_KIND "inbound.message"
#define ATSMAIL_KW_MAX 8           /* == ATSM_IN_MAX_KEYWORDS (checked in atsmail-file.c) */
#define ATSMAIL_KW_LEN 32          /* bytes of one keyword and its NUL */
#define ATSMAIL_TEXT_MAX 1024      /* one log line */

struct atsmail_site;

/* Reads a plugin setting by name (Dovecot's mail_user_plugin_getenv);
 * NULL when it is not set. */
typedef const char *atsmail_getenv_fn(const char *name, void *ctx);

/* The site for the settings of one user: conf_path is the value of
 * atsmail_config; every atsmail_<setting> the getter returns overrides
 * that setting of the file.  NULL when a setting is bad: errbuf then holds
 * one sentence naming the setting and its value.  warnbuf receives a
 * warning that does not stop the plugin ("" when none), such as a journal
 * directory the mail user cannot write. */
struct atsmail_site *atsmail_site_get(const char *conf_path, atsmail_getenv_fn *getenv_fn,
    void *getenv_ctx, char *errbuf, size_t errlen, char *warnbuf, size_t warnlen);
/* The user is done with it (mail_user deinit). */
void atsmail_site_release(struct atsmail_site *s);
/* inbound_parse_max_bytes of the site: how much of a mail to read. */
size_t atsmail_site_parse_max(const struct atsmail_site *s);
/* Close every pool and journal (plugin deinit). */
void atsmail_sites_free(void);

/* One mail as the Dovecot side read it. */
struct atsmail_mail {
	bool append;               /* IMAP APPEND (else LMTP/LDA delivery) */
	const char *user;          /* Dovecot user name */
	const char *mailbox;       /* mailbox name */
	const char *env_from;      /* envelope sender, "" for <>, NULL unknown */
	const char *env_to;        /* envelope recipient, NULL unknown */
	const char *head;          /* the first bytes of the raw message... */
	size_t head_len;           /* ...at most atsmail_site_parse_max() */
	size_t size;               /* of the whole message */
	const char *sha256_hex;    /* of the whole message, "" unknown */
	long long received_at;     /* unix time */
};

enum atsmail_result {
	ATSMAIL_IGNORED,           /* not ATS mail */
	ATSMAIL_RECORDED,
	ATSMAIL_DUPLICATE,         /* already recorded (same idempotency key) */
	ATSMAIL_JOURNALED,         /* database unavailable: facts in the journal */
	ATSMAIL_FAILED             /* not even journaled: logged as an error */
};

struct atsmail_outcome {
	enum atsmail_result result;
	size_t n_keywords;
	char keywords[ATSMAIL_KW_MAX][ATSMAIL_KW_LEN];  /* set on the saved mail */
	int level;                 /* 0 info, 1 warning, 2 error */
	char text[ATSMAIL_TEXT_MAX];   /* what happened and why, for the log */
};

/* File one mail: never fails the caller; out says what happened.  The
 * database is waited for at most db_statement_timeout per statement and
 * for a pooled connection, and db_connect_timeout to connect. */
void atsmail_file(struct atsmail_site *s, const struct atsmail_mail *m,
    struct atsmail_outcome *out);

#endif

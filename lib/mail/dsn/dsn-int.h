/* mail/dsn/dsn-int.h -- what the files of lib/mail/dsn/ share, and nothing
 * outside them includes.
 *
 * atsm_dsn_parse() (dsn.c) tries its readers in order: a feedback report
 * is no bounce; an RFC 3464 report is read field by field (dsn-rfc3464.c);
 * any other notice is read as text, either as Amazon SES's JSON
 * (dsn-ses.c) or by the lines that name the failed recipients
 * (dsn-text.c).  Every reader fills one struct atsm_dsn through the
 * builders of dsn-result.c, reads the notice's layout with dsn-notice.c,
 * knows at which SMTP stage its format reports from dsn-mta.c,
 * and leaves the hard/soft verdict to dsn-classify.c, which reads its
 * patterns from dsn-tables.c: the wording of bounces is data, kept apart
 * from the code that applies it.
 */
#ifndef ATSM_MAIL_DSN_INT_H
#define ATSM_MAIL_DSN_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "mail/dsn/dsn.h"
#include "mail/mime.h"

/* Addresses of the bounce itself (its From, To): never a failed recipient. */
#define ATSM_DSN_MAX_SELF 8
/* Bytes of a notice read when a recipient's own paragraph said nothing:
 * the classification is a substring search per pattern, keep it cheap. */
#define ATSM_DSN_CLASSIFY_MAX 8192

/* One parse: the result, the message, and what the readers learn on the way. */
struct atsm_dsn_ctx {
	struct atsm_dsn *d;
	const struct atsm_mime_msg *m;
	char *self[ATSM_DSN_MAX_SELF];
	size_t nself;
	bool allow_self;	/* second try: the bounce was sent to the recipient */
	/* the reporting MTA's own verdict per recipient (PowerMTA's
	 * X-PowerMTA-BounceCategory): 'U' bad mailbox, 'H' bad domain; 'X' a
	 * Diagnostic-Code of type X-Unix (a local program failed) */
	char verdict[ATSM_DSN_MAX_RCPTS];
	bool success;	/* an RFC 3464 report said delivered / relayed / 2.x.x */
	/* the SMTP stage the notice's format reports when its text names
	 * no command (dsn-mta.c): 'R', 'A', 'F' or 0 */
	char stage;
};

/* ---- the tables (dsn-tables.c) ---- */

/* A wording found in a diagnostic or notice (matched case-insensitively
 * as a substring) and the reason it names.  Lists end with { NULL, NULL }. */
struct atsm_dsn_pattern {
	const char *text;
	const char *reason;
};

extern const struct atsm_dsn_pattern atsm_dsn_soft_first[];
extern const struct atsm_dsn_pattern atsm_dsn_soft_late[];
extern const struct atsm_dsn_pattern atsm_dsn_hard_patterns[];
extern const struct atsm_dsn_pattern atsm_dsn_temporary[];
extern const struct atsm_dsn_pattern atsm_dsn_fml_notices[];
/* status codes that name a dead address by themselves (exact match) */
extern const struct atsm_dsn_pattern atsm_dsn_status_reasons[];

/* A wording that tells which SMTP command a failure answered. */
struct atsm_dsn_phrase {
	const char *text;
	char cmd;	/* 'D' DATA, 'R' RCPT TO, 'M' MAIL FROM */
};

extern const struct atsm_dsn_phrase atsm_dsn_smtp_phrases[];
/* NULL-terminated word lists */
extern const char *const atsm_dsn_bounce_subjects[];
extern const char *const atsm_dsn_original_markers[];
extern const char *const atsm_dsn_recipient_leadins[];
extern const char *const atsm_dsn_delay_words[];
extern const char *const atsm_dsn_permanent_words[];

/* ---- scanning text and building the result (dsn-result.c) ---- */

const char *atsm_dsn_ci_find(const char *h, size_t hl, const char *n);
bool atsm_dsn_ci_has(const char *h, const char *n);
/* A NUL-terminated copy of at most max bytes that does not cut a UTF-8
 * character at the limit; NULL when memory runs out. */
char *atsm_dsn_dup(const char *p, size_t n, size_t max);
/* Set *dst to the trimmed v unless it is set already: -1 out of memory. */
int atsm_dsn_set_once(char **dst, const char *v, size_t n);
/* The first status code "X.Y.Z" of t (not inside a longer number or an IP
 * address), or a 4xx/5xx reply code at a word start as "X.0.0", into
 * status (16 bytes); false when there is none. */
bool atsm_dsn_find_status(const char *t, size_t n, char *status);
bool atsm_dsn_find_reply_code(const char *t, size_t n, char *status);
/* Replace a generic status (16 bytes) by the specific code of the same
 * class that diag (may be NULL) names, if any. */
void atsm_dsn_specific_status(char *status, const char *diag);
/* Add a failed recipient unless it is no address, is there already or the
 * list is full; classified by diag, else ctext.  -1 out of memory. */
int atsm_dsn_add_rcpt(struct atsm_dsn_ctx *c, const char *addr,
    const char *status, const char *action, const char *diag,
    size_t diag_len, const char *ctext);
/* Keep the original message's headers (first seen wins): -1 out of memory. */
int atsm_dsn_take_original(struct atsm_dsn_ctx *c,
    const struct atsm_mime_headers *h);

/* ---- classification (dsn-classify.c) ---- */

/* X.0.0 or none: the status says only the class of a failure, and the
 * diagnostic text may say more ("550 5.1.1 ..."). */
bool atsm_dsn_is_generic_status(const char *status);

/* 'D', 'M', 'R' or 0: the SMTP command text says the failure answered. */
char atsm_dsn_smtp_command(const char *text);
/* atsm_dsn_classify() with the failed SMTP command given (it may come
 * from another part of the notice than the text). */
bool atsm_dsn_classify_cmd(const char *status, const char *text, char cmd,
    char *reason);

/* ---- the notice's layout (dsn-notice.c) ---- */

/* The notice: the text parts outside any embedded message, LF line ends. */
void atsm_dsn_notice_text(const struct atsm_mime_msg *m, struct atsm_buf *out);
/* Where the copy of the original starts in t (n when nowhere); *hdr_at
 * where its header fields start (n when none). */
size_t atsm_dsn_original_start(const char *t, size_t n, size_t *hdr_at);
/* Read the header block of an inline original at t + at: -1 out of memory. */
int atsm_dsn_inline_original(struct atsm_dsn_ctx *c, const char *t, size_t n,
    size_t at);
/* The next address of t[0..n) from i: its bounds in *s, *e. */
bool atsm_dsn_next_addr(const char *t, size_t n, size_t i, size_t *s, size_t *e);
/* A Sendmail line "550 <addr>... reason" at t + i: its address's bounds. */
bool atsm_dsn_sendmail_line(const char *t, size_t n, size_t i, size_t *s,
    size_t *e);
/* Does the line start t[0..n) (up to an address) read "RCPT TO:"? */
bool atsm_dsn_rcpt_to_prefix(const char *t, size_t n);
/* The paragraph of t about the address at s (alen bytes): *ps, *pe. */
void atsm_dsn_paragraph(const char *t, size_t n, size_t s, size_t alen,
    size_t *ps, size_t *pe);

/* ---- the formats (dsn-mta.c) ---- */

/* The stage the bounce's format reports a failure at, from its header:
 * 'R' RCPT TO (the MTA refused the recipient itself), 'A' RCPT TO when
 * the quoted reply names an address, 'F' a filter's gateway (no RCPT TO
 * from the form of a reply), 0 unknown. */
char atsm_dsn_mta_stage(const struct atsm_mime_msg *m);
/* A 4xx/5xx reply in t that names an address on its own line ("550
 * <a@b>: User unknown", "550 a@b... No such user"). */
bool atsm_dsn_reply_names_addr(const char *t);
/* The command a diagnostic under status answered, by the stage of its
 * format: 'R' or 0. */
char atsm_dsn_stage_cmd(char stage, const char *status, const char *diag);

/* ---- the readers ---- */

/* dsn-rfc3464.c: the message/delivery-status parts, then the notice for
 * what they do not say.  *found when the message is such a report. */
int atsm_dsn_read_rfc3464(struct atsm_dsn_ctx *c, bool *found);

/* dsn-ses.c: a notice that is Amazon SES's JSON (SNS) is read only by
 * atsm_dsn_read_ses (a complaint sets is_feedback). */
bool atsm_dsn_is_ses(const char *t, size_t n);
int atsm_dsn_read_ses(struct atsm_dsn_ctx *c, const char *t, size_t n,
    bool *found);

/* dsn-text.c: any other notice.  atsm_dsn_notice_is_bounce() says whether
 * a message that is no report is a bounce at all; atsm_dsn_read_text()
 * reads the recipients its lines name, atsm_dsn_read_orig_to() takes the
 * original's only To when they name none. */
bool atsm_dsn_notice_is_bounce(const struct atsm_dsn_ctx *c, const char *t,
    size_t n);
int atsm_dsn_read_text(struct atsm_dsn_ctx *c, const char *t, size_t n,
    bool *found);
int atsm_dsn_read_orig_to(struct atsm_dsn_ctx *c, bool *found);
/* A plain-text notice that warns of a delay (its subject or text, and no
 * word of a permanent failure): its recipients are then delays. */
void atsm_dsn_text_delays(struct atsm_dsn_ctx *c, const char *t, size_t n);

/* dsn-fml.c: fml's error notices (a post the list refused): the list's
 * address, rejected or systemerror, soft. */
int atsm_dsn_read_fml(struct atsm_dsn_ctx *c, const char *t, size_t n,
    bool *found);

/* dsn-exim.c: the addresses of Exim's X-Failed-Recipients header, for a
 * notice whose lines name nobody (an alias, a pipe, a file). */
int atsm_dsn_read_exim(struct atsm_dsn_ctx *c, const char *t, size_t n,
    bool *found);

#endif

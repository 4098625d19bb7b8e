/* notify/webhook.h -- the decisions of atsmail-notifyd, as pure functions.
 *
 * What the ATS receives for one outbox row (the JSON body and its
 * signature), which endpoints are acceptable, how an HTTP result is
 * judged, and when a failed event is tried again or given up.  No network
 * and no database here: notifyd/ does the I/O and asks these functions.
 *
 * The body of an event (compact JSON, byte-identical on every attempt so
 * that a receiver may hash it):
 *
 *	{"id":"<outbox id>","type":"<event_type>","created_at":"<UTC ISO 8601>",
 *	 "data":<payload>}
 *
 * The id is the idempotency key (also sent as X-Atsmail-Event-Id): a
 * receiver that sees an id again answers 2xx and does nothing.  The
 * signature header is "sha256=" and the lower-case hex HMAC-SHA256 of the
 * body under the first key of webhook_secret_file.  See docs/notifyd.md.
 */
#ifndef ATSM_WEBHOOK_H
#define ATSM_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "rules/token.h"

/* A body (or an outbox payload) larger than this is refused: the event is
 * marked dead rather than sent.  1 MiB is far above any event atsmail writes. */
#define ATSM_WEBHOOK_BODY_MAX (1024u * 1024u)
/* "sha256=" + 64 hex digits + NUL */
#define ATSM_WEBHOOK_SIG_MAX 72
#define ATSM_WEBHOOK_SIG_PREFIX "sha256="
/* Endpoints per site; each event costs one request per endpoint. */
#define ATSM_WEBHOOK_URLS_MAX 16
#define ATSM_WEBHOOK_URL_MAX 2048

#define ATSM_WEBHOOK_HDR_EVENT_ID "X-Atsmail-Event-Id"
#define ATSM_WEBHOOK_HDR_EVENT_TYPE "X-Atsmail-Event-Type"
#define ATSM_WEBHOOK_HDR_SIGNATURE "X-Atsmail-Signature"

/* One row of atsmail.outbox as notifyd reads it (text forms). */
struct atsm_webhook_event {
	const char *id;           /* outbox id, decimal */
	const char *type;         /* event_type */
	const char *created_at;   /* UTC, "YYYY-MM-DDTHH:MI:SS.ffffffZ" */
	const char *payload;      /* payload, JSON text (jsonb's output) */
};

/* The JSON body of ev, a NUL-terminated string to free(); NULL and err
 * (naming the event id) when a field is missing, the payload is not JSON,
 * or the body would exceed ATSM_WEBHOOK_BODY_MAX. */
char *atsm_webhook_body(const struct atsm_webhook_event *ev, struct atsm_err *err);

/* out = "sha256=<hex>" of body under keys->key[0]; 0, or -1 when keys is
 * empty or the HMAC fails. */
int atsm_webhook_sign(const struct atsm_token_keys *keys, const char *body,
    size_t len, char out[ATSM_WEBHOOK_SIG_MAX]);
/* true when header is a valid signature of body under any of the keys (a
 * receiver's check, and rotation: the previous secrets still verify).
 * Compared in constant time. */
bool atsm_webhook_verify(const struct atsm_token_keys *keys, const char *body,
    size_t len, const char *header);

/* An endpoint atsmail will post to: https://, or http:// to the local host
 * only (localhost, 127.0.0.0/8, [::1]) since events carry personal data;
 * no spaces or control characters; at most ATSM_WEBHOOK_URL_MAX bytes.
 * 0, or -1 and err naming the URL (redacted). */
int atsm_webhook_url_check(const char *url, struct atsm_err *err);
/* url without user:password@, query and fragment, for logs and last_error
 * (a URL may carry a token); truncated to fit out. */
void atsm_webhook_url_redact(const char *url, char *out, size_t size);

/* How one HTTP exchange ended. */
enum atsm_webhook_verdict {
	ATSM_WEBHOOK_DELIVERED,   /* 2xx */
	ATSM_WEBHOOK_RETRY        /* anything else: try again later */
};
/* answered: the server sent a complete status line (no connection error or
 * timeout); status: the HTTP status code.  A timeout after the status
 * counts as not answered: the receiver may not have stored the event. */
enum atsm_webhook_verdict atsm_webhook_classify(bool answered, long status);

/* Backoff after a failed attempt: attempts is the number of attempts made
 * so far (>= 1).  The nominal delay is base_ms * 2^(attempts-1), capped at
 * max_ms; jitter (any 32-bit random value) takes off up to a quarter of it
 * so that instances and events do not retry in lockstep.  Never more than
 * max(base_ms, max_ms) nor less than three quarters of the nominal delay. */
unsigned long atsm_webhook_backoff_ms(unsigned attempts, unsigned base_ms,
    unsigned max_ms, uint32_t jitter);

/* true when an event that has failed attempts times is given up (dead). */
bool atsm_webhook_exhausted(unsigned attempts, unsigned max_attempts);

#endif

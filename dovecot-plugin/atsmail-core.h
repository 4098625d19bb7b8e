/* atsmail-core.h -- the half of the Dovecot plugin that knows nothing of
 * Dovecot: its settings and the client of atsmaild's filing socket.
 *
 *	atsmail-settings.c  the plugin { atsmail_* } settings, read and
 *	                    checked from strings (Dovecot hands them over)
 *	atsmail-client.c    one connection per process to the filing socket,
 *	                    kept across mails and users; one request, one
 *	                    answer, within a deadline (docs/filing-protocol.md)
 *
 * The plugin is a thin client (issue 8): it reads no file, no secret and
 * no journal and opens no database connection; everything it needs comes
 * from Dovecot's settings and from the service's answer.  Its only library
 * is lib/libatsmail-client.la (the protocol's codec).
 *
 * Interface: atsmail_settings_read, atsmail_ask, atsmail_client_close.
 */
#ifndef ATSMAIL_CORE_H
#define ATSMAIL_CORE_H

#include <stdbool.h>
#include <stddef.h>

#include "service/filing.h"

#define ATSMAIL_NAME "atsmail"
#define ATSMAIL_TEXT_MAX 1024          /* one log sentence */
#define ATSMAIL_SOCKET_MAX 108         /* sizeof(sun_path), NUL included */

/* The settings of one user, from plugin { } (or the userdb). */
struct atsmail_settings {
	char socket[ATSMAIL_SOCKET_MAX];   /* atsmail_socket; "" = stand aside */
	unsigned timeout_ms;               /* atsmail_timeout */
	bool deliver_on_failure;           /* atsmail_on_failure = deliver */
	size_t head_max;                   /* atsmail_head_max */
};

#define ATSMAIL_TIMEOUT_DEFAULT_MS 10000u
#define ATSMAIL_TIMEOUT_MIN_MS 100u
#define ATSMAIL_TIMEOUT_MAX_MS 300000u
#define ATSMAIL_HEAD_MAX_DEFAULT (1024u * 1024u)
#define ATSMAIL_HEAD_MAX_MIN (64u * 1024u)
#define ATSMAIL_HEAD_MAX_MAX (64u * 1024u * 1024u)

/* Reads a plugin setting by name (Dovecot's mail_user_plugin_getenv);
 * NULL when it is not set. */
typedef const char *atsmail_getenv_fn(const char *name, void *ctx);

/* Fill s from the settings, defaults for those not set.  -1 when one is
 * bad: errbuf then names it and its value, and s holds what could be read
 * (a bad atsmail_on_failure leaves it at tempfail). */
int atsmail_settings_read(atsmail_getenv_fn *getenv_fn, void *ctx, struct atsmail_settings *s,
    char *errbuf, size_t errlen);

/* Send req to the service of s and read its answer into ans, all within
 * s->timeout_ms.  0: an answer came (OK, TEMPFAIL or ERROR: see
 * ans->status).  -1: none did (the socket is missing or refuses, the
 * deadline passed, the answer was malformed); why says which, in a
 * sentence for the log.  The connection is kept for the next call; a
 * kept one found broken is replaced once, and the request sent again
 * (the service files a mail once whatever it is asked). */
int atsmail_ask(const struct atsmail_settings *s, const struct atsm_filing_request *req,
    struct atsm_filing_answer *ans, char *why, size_t whylen);

/* Close the connection (a broken one is replaced). */
void atsmail_client_close(void);
/* Close it and free the request buffer and the answer parser (plugin
 * deinit: Dovecot unloads the plugin, and with it the only pointers). */
void atsmail_client_free(void);

#endif

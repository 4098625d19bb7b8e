/* milter.c -- the libmilter callbacks of atsmail-milter and their table.
 *
 * Interface: milter_desc (milter.h), given to smfi_register() by main.c.
 *
 * Negotiation asks for exactly what is used -- the actions ADDHDRS,
 * CHGHDRS, DELRCPT, CHGFROM and QUARANTINE, the macros {auth_authen} at
 * MAIL and {i} at end of message -- and refuses the connection, naming
 * the missing action, when the MTA cannot do one of them (Postfix then
 * applies milter_default_action).  HELO, unknown commands and end of
 * headers are switched off.  The DATA callback does nothing but is
 * registered: without it Postfix sends DATA macros without waiting for
 * a reply, and on an inet socket that costs a Nagle stall per message.
 *
 * Direction is decided at MAIL by lib/ (atsm_direction_of) from the SASL
 * login, the client address, and whether the mail is non-SMTP.  Postfix
 * runs non_smtpd_milters (sendmail(1), pickup) on an emulated
 * connection from host "localhost", address 127.0.0.1, port 0
 * (cleanup_milter.c); a real TCP client never has port 0, so that triple
 * is what marks a non-SMTP submission here.
 */
#include "milter.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "base/buf.h"
#include "base/log.h"

#define NEED_ACTIONS (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_DELRCPT | SMFIF_CHGFROM | \
	SMFIF_QUARANTINE)

static const struct {
	unsigned long flag;
	const char *name;
} action_names[] = {
	{ SMFIF_ADDHDRS, "SMFIF_ADDHDRS (add header)" },
	{ SMFIF_CHGHDRS, "SMFIF_CHGHDRS (change/delete header)" },
	{ SMFIF_DELRCPT, "SMFIF_DELRCPT (delete recipient)" },
	{ SMFIF_CHGFROM, "SMFIF_CHGFROM (change envelope sender)" },
	{ SMFIF_QUARANTINE, "SMFIF_QUARANTINE (hold)" },
};

static sfsistat
atsm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
    unsigned long f3, unsigned long *pf0, unsigned long *pf1, unsigned long *pf2,
    unsigned long *pf3)
{
	unsigned long missing = NEED_ACTIONS & ~f0, steps;
	struct milter_ctx *m;
	size_t i;

	(void)f2;
	(void)f3;
	if (missing != 0) {
		char names[256] = "";

		for (i = 0; i < sizeof(action_names) / sizeof(action_names[0]); i++)
			if (missing & action_names[i].flag) {
				if (names[0] != '\0')
					strncat(names, ", ", sizeof(names) - strlen(names) - 1);
				strncat(names, action_names[i].name, sizeof(names) - strlen(names) - 1);
			}
		atsm_log(LOG_ERR, "the MTA does not offer the milter action(s) %s that atsmail "
		    "needs: connection refused (use milter_protocol = 6 in Postfix)", names);
		return SMFIS_REJECT;
	}
	m = milter_ctx_get(ctx);
	if (m == NULL) {
		atsm_log(LOG_ERR, "no configuration or memory for a new connection");
		return SMFIS_REJECT;
	}
	*pf0 = NEED_ACTIONS;
	/* Steps not used; SKIP lets inbound mail skip its body. */
	steps = (SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_NOEOH | SMFIP_SKIP) & f1;
	m->can_skip = (steps & SMFIP_SKIP) != 0;
	*pf1 = steps;
	*pf2 = 0;
	*pf3 = 0;
	/* Ask for the macros used, so that a trimmed milter_mail_macros in
	 * main.cf cannot make authenticated mail look inbound. */
	if (f0 & SMFIF_SETSYMLIST) {
		if (smfi_setsymlist(ctx, SMFIM_ENVFROM, "{auth_authen}") == MI_SUCCESS &&
		    smfi_setsymlist(ctx, SMFIM_EOM, "{i}") == MI_SUCCESS)
			*pf0 |= SMFIF_SETSYMLIST;
	}
	return SMFIS_CONTINUE;
}

static sfsistat
atsm_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	struct milter_ctx *m = milter_ctx_get(ctx);
	unsigned port = 0;

	if (m == NULL)
		return SMFIS_TEMPFAIL;
	m->client_addr[0] = '\0';
	snprintf(m->client_name, sizeof(m->client_name), "%s", hostname != NULL ? hostname : "");
	if (hostaddr != NULL && hostaddr->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)hostaddr;

		inet_ntop(AF_INET, &sin->sin_addr, m->client_addr, sizeof(m->client_addr));
		port = ntohs(sin->sin_port);
	} else if (hostaddr != NULL && hostaddr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)hostaddr;

		inet_ntop(AF_INET6, &sin6->sin6_addr, m->client_addr, sizeof(m->client_addr));
		port = ntohs(sin6->sin6_port);
	}
	m->non_smtp = port == 0 && strcmp(m->client_addr, "127.0.0.1") == 0 &&
	    strcmp(m->client_name, "localhost") == 0;
	atsm_log(LOG_DEBUG, "connect from %s[%s]:%u%s (configuration %lu)", m->client_name,
	    m->client_addr, port, m->non_smtp ? " (non-SMTP submission)" : "", m->gen->serial);
	return SMFIS_CONTINUE;
}

static sfsistat
atsm_envfrom(SMFICTX *ctx, char **argv)
{
	struct milter_ctx *m = milter_ctx_get(ctx);
	struct atsm_direction_input in;
	struct atsm_buf reason;
	const char *login;

	if (m == NULL)
		return SMFIS_TEMPFAIL;
	milter_ctx_reset_message(m);
	login = smfi_getsymval(ctx, "{auth_authen}");
	memset(&in, 0, sizeof(in));
	in.auth_authen = login;
	in.client_addr = m->client_addr[0] != '\0' ? m->client_addr : NULL;
	in.non_smtp = m->non_smtp;
	in.internal = &m->gen->internal;
	atsm_buf_init(&reason, 512);
	m->dir = atsm_direction_of(&in, &reason);
	atsm_log(LOG_DEBUG, "from=%s: %s: %s", argv[0], atsm_direction_name(m->dir),
	    atsm_buf_str(&reason));
	atsm_buf_free(&reason);
	if (milter_ctx_envfrom(m, argv[0], login) < 0)
		return SMFIS_TEMPFAIL;
	return SMFIS_CONTINUE;
}

static sfsistat
atsm_envrcpt(SMFICTX *ctx, char **argv)
{
	struct milter_ctx *m = milter_ctx_get(ctx);

	if (m == NULL)
		return SMFIS_TEMPFAIL;
	if (m->dir != ATSM_DIR_OUTBOUND)
		return SMFIS_CONTINUE;
	if (milter_ctx_rcpt(m, argv[0]) < 0)
		return SMFIS_TEMPFAIL;
	if (m->rcpt_overflow) {
		/* RFC 5321 4.5.3.1.10: the client sends the rest in another mail */
		milter_setreply(ctx, "452", "4.5.3", "too many recipients for one mail");
		m->rcpt_overflow = false;
		return SMFIS_TEMPFAIL;
	}
	return SMFIS_CONTINUE;
}

static sfsistat
atsm_data(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat
atsm_header(SMFICTX *ctx, char *name, char *value)
{
	struct milter_ctx *m = milter_ctx_get(ctx);

	if (m == NULL || milter_ctx_header(m, name, value != NULL ? value : "") < 0)
		return SMFIS_TEMPFAIL;
	return SMFIS_CONTINUE;
}

static sfsistat
atsm_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct milter_ctx *m = milter_ctx_get(ctx);

	if (m == NULL)
		return SMFIS_TEMPFAIL;
	if (m->dir != ATSM_DIR_OUTBOUND)
		return m->can_skip ? SMFIS_SKIP : SMFIS_CONTINUE;
	milter_ctx_body(m, chunk, len);
	return SMFIS_CONTINUE;
}

static sfsistat
atsm_eom(SMFICTX *ctx)
{
	struct milter_ctx *m = milter_ctx_get(ctx);
	sfsistat r;

	if (m == NULL)
		return SMFIS_TEMPFAIL;
	if (m->dir == ATSM_DIR_OUTBOUND)
		r = milter_eom_outbound(ctx, m);
	else
		r = milter_eom_inbound(ctx, m);
	milter_ctx_reset_message(m);
	return r;
}

static sfsistat
atsm_abort(SMFICTX *ctx)
{
	struct milter_ctx *m = smfi_getpriv(ctx);

	if (m != NULL)
		milter_ctx_reset_message(m);
	return SMFIS_CONTINUE;
}

static sfsistat
atsm_close(SMFICTX *ctx)
{
	milter_ctx_free(ctx);
	return SMFIS_CONTINUE;
}

struct smfiDesc milter_desc = {
	.xxfi_name = (char *)MILTER_NAME,
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = NEED_ACTIONS | SMFIF_SETSYMLIST,
	.xxfi_connect = atsm_connect,
	.xxfi_envfrom = atsm_envfrom,
	.xxfi_envrcpt = atsm_envrcpt,
	.xxfi_header = atsm_header,
	.xxfi_body = atsm_body,
	.xxfi_eom = atsm_eom,
	.xxfi_abort = atsm_abort,
	.xxfi_close = atsm_close,
	.xxfi_data = atsm_data,
	.xxfi_negotiate = atsm_negotiate,
};

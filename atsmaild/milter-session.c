/* milter-session.c -- one Postfix connection on the milter socket:
 * packets in, replies out, in the order of the protocol.
 *
 * Interface: atsmaild_milter_session (atsmaild.h).
 *
 * atsmaild speaks the milter protocol itself (lib/service/milter-proto.h,
 * docs/milter-protocol.md): the negotiation asks for exactly the actions
 * used -- add and change headers, delete recipients, change the envelope
 * sender, quarantine -- and refuses the connection, naming the missing
 * action, when the MTA cannot do one of them (Postfix then applies
 * milter_default_action).  It asks the MTA to leave out HELO, unknown
 * commands, end of headers and DATA, and not to wait for an answer to the
 * connection and to each header: a message costs a few round trips (MAIL,
 * each RCPT, the body chunks, end of message).  The macros asked for are
 * {auth_authen} at MAIL (who is sending) and {i} at the end (the queue id,
 * for logs and the idempotency key), so that a trimmed
 * milter_mail_macros in main.cf cannot make authenticated mail look
 * inbound.
 *
 * Direction is decided at MAIL by lib/ (atsm_direction_of) from the SASL
 * login, the client address, and whether the mail is non-SMTP.  Postfix
 * runs non_smtpd_milters (sendmail(1), pickup) on an emulated connection
 * from host "localhost", address 127.0.0.1, port 0 (cleanup_milter.c); a
 * real TCP client never has port 0, so that triple is what marks a
 * non-SMTP submission here.  Who submitted it is not told: Postfix hides
 * its own first Received header ("from userid N") from milters and sends
 * no macro with the uid; what a milter gets is the envelope sender, which
 * Postfix's local_login_sender_maps checked against the submitting login.
 * The decision attributes such mail by that sender alone
 * (docs/postfix-integration.md, "Local submissions").  Inbound mail skips its body (SMFIP_SKIP):
 * only its X-ATS-* headers matter.
 */
#include "atsm-build-config.h"
#include "milter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "outbound/decide.h"

#define BUF_FIRST (64u * 1024u)
#define BUF_MAX (ATSM_MILTER_PACKET_MAX + 5u)
#define OUT_MAX (4u * 1024u * 1024u)   /* replies of one command (actions of an EOM) */

#define NEED_ACTIONS (ATSM_MILTER_F_ADDHDRS | ATSM_MILTER_F_CHGHDRS | \
	ATSM_MILTER_F_DELRCPT | ATSM_MILTER_F_CHGFROM | ATSM_MILTER_F_QUARANTINE)
#define WANT_STEPS (ATSM_MILTER_P_NOHELO | ATSM_MILTER_P_NOUNKNOWN | ATSM_MILTER_P_NOEOH | \
	ATSM_MILTER_P_NODATA | ATSM_MILTER_P_NR_CONN | ATSM_MILTER_P_NR_HDR | ATSM_MILTER_P_SKIP)

static const struct {
	uint32_t flag;
	const char *name;
} action_names[] = {
	{ ATSM_MILTER_F_ADDHDRS, "SMFIF_ADDHDRS (add header)" },
	{ ATSM_MILTER_F_CHGHDRS, "SMFIF_CHGHDRS (change/delete header)" },
	{ ATSM_MILTER_F_DELRCPT, "SMFIF_DELRCPT (delete recipient)" },
	{ ATSM_MILTER_F_CHGFROM, "SMFIF_CHGFROM (change envelope sender)" },
	{ ATSM_MILTER_F_QUARANTINE, "SMFIF_QUARANTINE (hold)" },
};

static int
reply(struct milter_session *s, unsigned char code)
{
	return atsm_milter_put_simple(&s->out, code);
}

/* ---- the commands ----------------------------------------------------------- */

static int
on_optneg(struct milter_session *s, const struct atsm_milter_packet *pkt)
{
	static const char *const symlist[7] = {
		[ATSM_MILTER_M_ENVFROM] = "{auth_authen}",
		[ATSM_MILTER_M_EOM] = "{i}",
	};
	struct atsm_milter_optneg o, mine;
	struct atsm_err err;
	uint32_t missing;
	char names[256] = "";
	size_t i;

	if (atsm_milter_decode_optneg(pkt, &o, &err) < 0) {
		atsm_log(LOG_ERR, "milter connection %lu: %s", s->conn->id, err.msg);
		return -1;
	}
	missing = NEED_ACTIONS & ~o.actions;
	if (o.version < ATSM_MILTER_VERSION || missing != 0) {
		for (i = 0; i < sizeof(action_names) / sizeof(action_names[0]); i++)
			if (missing & action_names[i].flag) {
				if (names[0] != '\0')
					strncat(names, ", ", sizeof(names) - strlen(names) - 1);
				strncat(names, action_names[i].name, sizeof(names) - strlen(names) - 1);
			}
		atsm_log(LOG_ERR, "milter connection %lu: the MTA offers milter protocol version "
		    "%u%s%s: atsmaild needs version %d with every action it uses; connection "
		    "refused (use milter_protocol = 6 in Postfix)", s->conn->id, (unsigned)o.version,
		    names[0] != '\0' ? " without " : "", names, ATSM_MILTER_VERSION);
		return -1;
	}
	mine.version = ATSM_MILTER_VERSION;
	mine.actions = NEED_ACTIONS | (o.actions & ATSM_MILTER_F_SETSYMLIST);
	mine.protocol = WANT_STEPS & o.protocol;
	s->actions = mine.actions;
	s->protocol = mine.protocol;
	s->negotiated = true;
	return atsm_milter_put_optneg(&s->out, &mine,
	    (mine.actions & ATSM_MILTER_F_SETSYMLIST) ? symlist : NULL);
}

static int
on_connect(struct milter_session *s, const struct atsm_milter_packet *pkt)
{
	struct atsm_milter_connect cn;
	struct atsm_err err;

	if (atsm_milter_decode_connect(pkt, &cn, &err) < 0) {
		atsm_log(LOG_ERR, "milter connection %lu: %s", s->conn->id, err.msg);
		return -1;
	}
	snprintf(s->client_name, sizeof(s->client_name), "%s", cn.hostname);
	snprintf(s->client_addr, sizeof(s->client_addr), "%s",
	    cn.family == '4' || cn.family == '6' ? cn.address : "");
	s->non_smtp = cn.port == 0 && strcmp(s->client_addr, "127.0.0.1") == 0 &&
	    strcmp(s->client_name, "localhost") == 0;
	atsm_log(LOG_DEBUG, "milter connection %lu: client %s[%s]:%u%s", s->conn->id,
	    s->client_name, s->client_addr, (unsigned)cn.port,
	    s->non_smtp ? " (non-SMTP submission)" : "");
	return (s->protocol & ATSM_MILTER_P_NR_CONN) ? 0 : reply(s, ATSM_MILTER_R_CONTINUE);
}

/* The end of a message, whatever ended it (a new MAIL, ABORT, QUIT,
 * QUIT_NC, the connection lost).  A command address refused at RCPT whose
 * mail never reached its end (the client gave up, or had nothing else to
 * send) is explained by mail without it: the client still holds it. */
static void
end_message(struct milter_session *s)
{
	if (s->msg.rcpt_refused && s->gen != NULL) {
		milter_explain(s, &s->msg.rcpt_refusal, false);
		s->msg.rcpt_refused = false;
	}
	milter_msg_reset(&s->msg);
	atsmaild_gen_release(s->gen);
	s->gen = NULL;
}

static int
on_mail(struct milter_session *s, const struct atsm_milter_packet *pkt)
{
	struct atsm_direction_input in;
	struct atsm_buf reason;
	const char *v[ATSM_MILTER_ARGS_MAX], *login;
	struct atsm_err err;
	size_t n;

	end_message(s);
	if (atsm_milter_decode_strings(pkt, v, ATSM_MILTER_ARGS_MAX, &n, &err) < 0 || n == 0) {
		atsm_log(LOG_ERR, "milter connection %lu: MAIL: %s", s->conn->id,
		    n == 0 ? "no sender" : err.msg);
		return -1;
	}
	if ((s->gen = atsmaild_gen_acquire()) == NULL)
		return milter_reply(s, "451", "4.3.0", "atsmail: stopping, try again later");
	login = s->mail_macros.cmd == ATSM_MILTER_C_MAIL ?
	    milter_macro(&s->mail_macros, "{auth_authen}") : NULL;
	memset(&in, 0, sizeof(in));
	in.auth_authen = login != NULL && login[0] != '\0' ? login : NULL;
	in.client_addr = s->client_addr[0] != '\0' ? s->client_addr : NULL;
	in.non_smtp = s->non_smtp;
	in.internal = &s->gen->internal;
	atsm_buf_init(&reason, 512);
	s->msg.dir = atsm_direction_of(&in, &reason);
	atsm_log(LOG_DEBUG, "from=%s: %s: %s", v[0], atsm_direction_name(s->msg.dir),
	    atsm_buf_str(&reason));
	atsm_buf_free(&reason);
	if (milter_msg_envfrom(&s->msg, v[0], in.auth_authen) < 0)
		return milter_reply(s, "451", "4.3.0", "atsmail: out of memory");
	/* who submitted it is not in the protocol: the decision takes the
	 * envelope sender Postfix checked (docs/postfix-integration.md) */
	s->msg.facts.non_smtp = s->non_smtp && in.auth_authen == NULL;
	return reply(s, ATSM_MILTER_R_CONTINUE);
}

/* A command address that is wrong on its own (outbound/decide-rcpt.c),
 * decided over the snapshot as at the end of the message: 1 with r, 0 to
 * accept -- also when the snapshot cannot answer: the end decides. */
static int
rcpt_refusal(struct milter_session *s, const char *rcpt, struct atsm_refusal *r)
{
	struct atsm_snapshot_view *v;
	struct atsm_dir dir;
	struct atsm_err err;
	char *bare;
	int rc;

	if (!atsm_command_is_address(rcpt, s->gen->conf.command_localpart,
	    s->gen->conf.ats_domain))
		return 0;
	/* a snapshot never loaded knows nobody: the end of the message
	 * tempfails such mail (milter-eom.c) */
	if (!atsmaild_core_ready())
		return 0;
	if ((bare = milter_strip_brackets(rcpt)) == NULL)
		return 0;
	if (atsm_snapshot_view_begin(atsmaild_core.snap, &v, &dir, &err) < 0)
		rc = -1;
	else {
		rc = atsm_out_decide_rcpt(&dir, &s->gen->conf, &s->msg.facts, bare, r, &err);
		atsm_snapshot_view_end(v);
	}
	free(bare);
	if (rc < 0)
		atsm_log(LOG_INFO, "milter connection %lu: RCPT %s: not checked now (%s); the end "
		    "of the message decides", s->conn->id, rcpt, err.msg);
	return rc == 1;
}

static int
on_rcpt(struct milter_session *s, const struct atsm_milter_packet *pkt)
{
	const char *v[ATSM_MILTER_ARGS_MAX];
	struct atsm_refusal r;
	struct atsm_err err;
	size_t n;

	if (atsm_milter_decode_strings(pkt, v, ATSM_MILTER_ARGS_MAX, &n, &err) < 0 || n == 0) {
		atsm_log(LOG_ERR, "milter connection %lu: RCPT: %s", s->conn->id,
		    n == 0 ? "no recipient" : err.msg);
		return -1;
	}
	if (s->gen == NULL)
		return reply(s, ATSM_MILTER_R_CONTINUE);
	if (s->msg.dir != ATSM_DIR_OUTBOUND) {
		/* kept (bounded, never refused): a bulk runner's mail is decided
		 * as sent mail at its end, with its envelope (milter-eom.c);
		 * past address_max_count it is not (rcpt_overflow) */
		if (milter_msg_rcpt(&s->msg, &s->gen->conf, v[0]) < 0)
			s->msg.failed = true;
		return reply(s, ATSM_MILTER_R_CONTINUE);
	}
	if (rcpt_refusal(s, v[0], &r)) {
		/* the shape of the end of message's refusal (milter-eom.c) */
		atsm_log(LOG_INFO, "%s: reject 550 5.7.1: from=<%s>: RCPT %s (%s): %s",
		    milter_queue_id(s) != NULL ? milter_queue_id(s) : "NOQUEUE",
		    s->msg.facts.env_from != NULL ? s->msg.facts.env_from : "", v[0],
		    atsm_refusal_kind_name(r.kind), r.text);
		if (!s->msg.rcpt_refused) {
			s->msg.rcpt_refused = true;
			s->msg.rcpt_refusal = r;
			s->msg.rcpt_refusal.at_rcpt = true;
		}
		return milter_reply(s, "550", "5.7.1", r.text);
	}
	if (milter_msg_rcpt(&s->msg, &s->gen->conf, v[0]) < 0)
		return milter_reply(s, "451", "4.3.0", "atsmail: out of memory");
	if (s->msg.rcpt_overflow) {
		/* RFC 5321 4.5.3.1.10: the client sends the rest in another mail */
		s->msg.rcpt_overflow = false;
		return milter_reply(s, "452", "4.5.3", "too many recipients for one mail");
	}
	return reply(s, ATSM_MILTER_R_CONTINUE);
}

static int
on_header(struct milter_session *s, const struct atsm_milter_packet *pkt)
{
	const char *name, *value;
	struct atsm_err err;
	bool noreply = (s->protocol & ATSM_MILTER_P_NR_HDR) != 0;

	if (atsm_milter_decode_header(pkt, &name, &value, &err) < 0) {
		atsm_log(LOG_ERR, "milter connection %lu: %s", s->conn->id, err.msg);
		return -1;
	}
	if (s->gen != NULL && milter_msg_header(&s->msg, &s->gen->conf, name, value) < 0) {
		/* no reply to a header to carry the failure: the end says it */
		s->msg.failed = true;
	}
	return noreply ? 0 : reply(s, ATSM_MILTER_R_CONTINUE);
}

static int
on_body(struct milter_session *s, const struct atsm_milter_packet *pkt)
{
	if (s->msg.dir != ATSM_DIR_OUTBOUND)
		return reply(s, (s->protocol & ATSM_MILTER_P_SKIP) ? ATSM_MILTER_R_SKIP :
		    ATSM_MILTER_R_CONTINUE);
	milter_msg_body(&s->msg, pkt->data, pkt->len);
	return reply(s, ATSM_MILTER_R_CONTINUE);
}

static int
on_eom(struct milter_session *s, const struct atsm_milter_packet *pkt)
{
	int rc;

	if (pkt->len > 0)
		milter_msg_body(&s->msg, pkt->data, pkt->len);
	if (s->gen == NULL)
		rc = reply(s, ATSM_MILTER_R_CONTINUE);
	else if (s->msg.dir == ATSM_DIR_OUTBOUND)
		rc = milter_eom_outbound(s);
	else
		rc = milter_eom_inbound(s);
	end_message(s);
	milter_macros_forget(s);
	return rc;
}

/* 0: go on; 1: the MTA said goodbye; -1: the connection is of no use. */
static int
handle(struct milter_session *s, const struct atsm_milter_packet *pkt)
{
	struct atsm_milter_macro mv[ATSM_MILTER_MACROS_MAX];
	unsigned char for_cmd;
	struct atsm_err err;
	size_t n;

	if (!s->negotiated && pkt->cmd != ATSM_MILTER_C_OPTNEG) {
		atsm_log(LOG_ERR, "milter connection %lu: command '%c' before the negotiation",
		    s->conn->id, pkt->cmd);
		return -1;
	}
	switch (pkt->cmd) {
	case ATSM_MILTER_C_OPTNEG:
		return on_optneg(s, pkt);
	case ATSM_MILTER_C_MACRO:
		if (atsm_milter_decode_macros(pkt, &for_cmd, mv, ATSM_MILTER_MACROS_MAX, &n,
		    &err) < 0) {
			atsm_log(LOG_ERR, "milter connection %lu: %s", s->conn->id, err.msg);
			return -1;
		}
		if (for_cmd == ATSM_MILTER_C_MAIL)
			milter_macros_keep(&s->mail_macros, for_cmd, mv, n);
		else if (for_cmd == ATSM_MILTER_C_BODYEOB)
			milter_macros_keep(&s->eom_macros, for_cmd, mv, n);
		return 0;
	case ATSM_MILTER_C_CONNECT:
		return on_connect(s, pkt);
	case ATSM_MILTER_C_MAIL:
		return on_mail(s, pkt);
	case ATSM_MILTER_C_RCPT:
		return on_rcpt(s, pkt);
	case ATSM_MILTER_C_HEADER:
		return on_header(s, pkt);
	case ATSM_MILTER_C_BODY:
		return on_body(s, pkt);
	case ATSM_MILTER_C_BODYEOB:
		return on_eom(s, pkt);
	case ATSM_MILTER_C_ABORT:
		end_message(s);
		milter_macros_forget(s);
		return 0;
	case ATSM_MILTER_C_QUIT_NC:
		/* a new connection on the same socket */
		end_message(s);
		milter_macros_forget(s);
		s->client_addr[0] = s->client_name[0] = '\0';
		s->non_smtp = false;
		return 0;
	case ATSM_MILTER_C_QUIT:
		return 1;
	case ATSM_MILTER_C_HELO:
	case ATSM_MILTER_C_DATA:
	case ATSM_MILTER_C_EOH:
	case ATSM_MILTER_C_UNKNOWN:
		return reply(s, ATSM_MILTER_R_CONTINUE);
	}
	atsm_log(LOG_ERR, "milter connection %lu: unknown command 0x%02x", s->conn->id,
	    pkt->cmd);
	return -1;
}

void
atsmaild_milter_session(struct atsmaild_conn *c)
{
	struct milter_session *s;
	unsigned char *buf;
	size_t have = 0, cap = BUF_FIRST;
	int rc = 0;

	s = calloc(1, sizeof(*s));
	buf = malloc(cap);
	if (s == NULL || buf == NULL) {
		free(s);
		free(buf);
		return;
	}
	s->conn = c;
	atsm_buf_init(&s->out, OUT_MAX);
	milter_msg_reset(&s->msg);
	c->idle = true;
	while (rc == 0) {
		struct atsm_milter_packet pkt;
		struct atsm_err err;
		long k;
		ssize_t n;

		k = atsm_milter_packet_next(buf, have, ATSM_MILTER_PACKET_MAX, &pkt, &err);
		if (k < 0) {
			atsm_log(LOG_ERR, "milter connection %lu: %s", c->id, err.msg);
			break;
		}
		if (k > 0) {
			c->idle = false;
			rc = handle(s, &pkt);
			if (s->out.len > 0 && atsmaild_write(c, s->out.data, s->out.len) < 0)
				rc = -1;
			atsm_buf_reset(&s->out);
			memmove(buf, buf + k, have - (size_t)k);
			have -= (size_t)k;
			c->idle = !s->msg.in_message;
			if (c->idle && atsmaild_stopping())
				break;
			continue;
		}
		if (have == cap) {
			unsigned char *nb;

			if (cap >= BUF_MAX || (nb = realloc(buf, cap * 2 > BUF_MAX ? BUF_MAX :
			    cap * 2)) == NULL) {
				atsm_log(LOG_ERR, "milter connection %lu: a packet larger than "
				    "%u bytes", c->id, ATSM_MILTER_PACKET_MAX);
				break;
			}
			buf = nb;
			cap = cap * 2 > BUF_MAX ? BUF_MAX : cap * 2;
		}
		if ((n = atsmaild_read(c, buf + have, cap - have)) <= 0)
			break;
		have += (size_t)n;
	}
	end_message(s);
	atsm_buf_free(&s->out);
	free(s);
	free(buf);
}

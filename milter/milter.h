/* milter.h -- the parts of atsmail-milter and how they call each other.
 *
 * atsmail-milter is a thin adapter between Postfix (libmilter) and lib/:
 *
 *	main.c     options, socket, privileges, daemon life, signals
 *	socket.c   opening the libmilter socket (umask, TCP_NODELAY)
 *	reload.c   the configuration in force ("generation"): settings, site
 *	           secret, database pool, journal; swapped on SIGHUP, held by
 *	           each connection with a reference count
 *	context.c  per-connection and per-message state: the facts collected
 *	milter.c   the libmilter callbacks and their table
 *	apply.c    end of an outbound message: plan, apply, record, and the
 *	           failure policy when the database is unavailable
 *	hdredit.c  To/Cc header values without the command addresses
 *
 * Every decision (direction, commands, policy, guard, VERP, recording)
 * is made by lib/; these files only collect facts and apply results.
 */
#ifndef ATSM_MILTER_H
#define ATSM_MILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <libmilter/mfapi.h>
#include <openssl/evp.h>

#include "base/conf.h"
#include "store/db.h"
#include "rules/direction.h"
#include "base/err.h"
#include "store/journal.h"
#include "outbound/outbound.h"
#include "rules/token.h"

#define MILTER_NAME "atsmail-milter"
#define MILTER_JOURNAL_COMPONENT "milter"
#define MILTER_JOURNAL_KIND "outbound.message"
#define MILTER_HDR_PREFIX "X-ATS-"
#define MILTER_REF_HEADER "X-ATS-Ref"
#define MILTER_XATS_MAX 1000        /* X-ATS-* headers in one mail */

/* ---- reload.c: the configuration in force ------------------------------ */

struct milter_gen {
	unsigned long serial;           /* 1 for the first, +1 per reload */
	unsigned refs;                  /* owners: the global slot + connections */
	struct atsm_conf conf;
	struct atsm_netlist internal;   /* conf.internal_networks, parsed */
	struct atsm_token_keys keys;    /* from conf.secret_file */
	struct atsm_db_pool *pool;
	struct atsm_journal *journal;
};

/* conf_path: the file (NULL = the default path, built-in defaults when it
 * is missing); socket_override: -p (NULL = none), applied to every load. */
void milter_gen_setup(const char *conf_path, const char *socket_override);
/* Read the settings only (before the socket is open). */
int milter_gen_read_conf(struct atsm_conf *conf, struct atsm_err *err);
/* Build a generation from the file and make it current: 0, or -1 with err
 * and the current one (if any) kept. */
int milter_gen_load(struct atsm_err *err);
struct milter_gen *milter_gen_acquire(void);   /* the current one, ref++ */
void milter_gen_release(struct milter_gen *g); /* ref--, freed at 0 */
void milter_gen_shutdown(void);                /* drop the current one */
/* The path actually read (for messages). */
const char *milter_gen_conf_path(void);

/* ---- socket.c ------------------------------------------------------------ */

/* smfi_setconn + smfi_opensocket: a unix socket is made connectable by
 * other users (Postfix), an inet one gets TCP_NODELAY.  0 or -1 (logged). */
int milter_socket_open(const char *spec);

/* ---- context.c: one connection and its current message ----------------- */

struct milter_hdr {
	char *name;                     /* as the MTA sent it */
	char *value;
	int index;                      /* 1-based among headers of this name (any case) */
};

struct milter_ctx {
	struct milter_gen *gen;         /* held from connect to close */
	char client_addr[64];           /* "" when unknown */
	char client_name[256];
	bool non_smtp;                  /* Postfix's non_smtpd_milters emulation */
	bool can_skip;                  /* SMFIP_SKIP negotiated */
	/* the message */
	bool in_message;
	enum atsm_direction dir;
	struct atsm_out_facts facts;
	char **env_raw;                 /* RCPT TO arguments as received (delrcpt) */
	size_t env_cap;
	struct milter_hdr *xats;        /* X-ATS-* headers */
	size_t n_xats;
	struct milter_hdr *addr_hdrs;   /* To and Cc occurrences */
	size_t n_addr_hdrs;
	int n_to, n_cc;
	size_t hdr_bytes;               /* of the headers kept, against header_max_bytes */
	bool hdr_overflow;
	bool rcpt_overflow;
	bool xats_overflow;             /* more than MILTER_XATS_MAX X-ATS-* headers */
	EVP_MD_CTX *sha;
};

struct milter_ctx *milter_ctx_get(SMFICTX *ctx);   /* creates on first use */
void milter_ctx_free(SMFICTX *ctx);
void milter_ctx_reset_message(struct milter_ctx *m);
/* Collecting: 0, or -1 when memory is short.  The limits of the
 * configuration are applied here (flags hdr_overflow, rcpt_overflow). */
int milter_ctx_envfrom(struct milter_ctx *m, const char *arg, const char *login);
int milter_ctx_rcpt(struct milter_ctx *m, const char *arg);
int milter_ctx_header(struct milter_ctx *m, const char *name, const char *value);
void milter_ctx_body(struct milter_ctx *m, const unsigned char *p, size_t n);
/* At end of message: queue id, time, body hash, token and idempotency key. */
int milter_ctx_finish_facts(struct milter_ctx *m, const char *queue_id, struct atsm_err *err);
/* "<a@b>" -> "a@b" into a new string. */
char *milter_strip_brackets(const char *arg);

/* ---- apply.c --------------------------------------------------------------- */

sfsistat milter_eom_outbound(SMFICTX *ctx, struct milter_ctx *m);
sfsistat milter_eom_inbound(SMFICTX *ctx, struct milter_ctx *m);
/* smfi_setreply with the text made safe for it ('%' doubled, no controls). */
int milter_setreply(SMFICTX *ctx, const char *rcode, const char *xcode, const char *text);

/* ---- hdredit.c --------------------------------------------------------------- */

typedef bool (*milter_addr_pred)(const char *addr, void *arg);
/* The address header value without the items whose address drop() accepts.
 * 0: nothing to drop (*out NULL); 1: *out is the new value (malloc'd; ""
 * means the header is to be deleted); -1: out of memory. */
int milter_hdr_without(const char *value, milter_addr_pred drop, void *arg, char **out);

/* ---- milter.c ------------------------------------------------------------------ */

extern struct smfiDesc milter_desc;

#endif

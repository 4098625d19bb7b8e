/* atsmaild.h -- the parts of atsmaild and how they call each other.
 *
 * atsmaild is the one local service of a mail host (docs/atsmaild.md,
 * "What it holds"): it holds the configuration, the token secret, the journal
 * and the database logins; Postfix talks to it with the milter protocol,
 * the Dovecot plugin with the filing protocol (lib/service/filing.h).
 * Every mail is decided from the local snapshot (lib/store/snapshot.h)
 * and, when it is to be recorded, appended to the journal
 * (lib/store/jlog.h) before Postfix or Dovecot is answered; the recorder
 * thread drains the journal into PostgreSQL, the follower thread keeps the
 * snapshot fresh.  The decisions themselves are lib/'s, pure functions over
 * the directory; these files only translate.
 *
 *	main.c            options, start-up order, signals, orderly stop
 *	gen.c             the configuration in force (settings, secret,
 *	                  internal networks, allowed peers), swapped whole on
 *	                  SIGHUP, held by each connection with a reference
 *	core.c            what lives as long as the process: snapshot, journal,
 *	                  the recorder and follower threads, readiness
 *	listen.c          the two sockets, accepting, the peer check, a thread
 *	                  per connection (bounded)
 *	conn.c            a session's reads and writes, and whether to stop
 *	peer.c            which local users may connect to which socket
 *	record.c          journal first: one decided mail into the journal and
 *	                  its effects into the snapshot (both fronts use it)
 *	milter-session.c  one Postfix connection: packets in, replies out
 *	milter-message.c  the facts of the message being received
 *	milter-macros.c   the macros of a message ({auth_authen}, {i})
 *	milter-eom.c      the end of a message: decide, journal, act
 *	hdredit.c         To/Cc header values without the command addresses
 *	explain.c         the explanation mail to a refused recruiter, sent by
 *	                  SMTP from its own thread (docs/refusal-mail.md)
 *	filing-session.c  one Dovecot connection: filing requests and answers
 *	shared.c          shared mailboxes: an item per delivered mail, a
 *	                  member's move recorded (docs/shared-mailboxes.md)
 *	bulk.c            the bulk runner: jobs of bulk send, one mail per
 *	                  recipient by SMTP to bulk_smtp (docs/bulk.md)
 *	notify.c          the notification sender: atsmail.notifications by
 *	                  SMTP to notify_smtp (docs/notifications.md)
 */
#ifndef ATSMAILD_H
#define ATSMAILD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "base/buf.h"
#include "base/conf.h"
#include "base/err.h"
#include "rules/direction.h"
#include "rules/token.h"
#include "store/directory.h"
#include "store/jlog.h"
#include "store/snapshot.h"

#define ATSMAILD_NAME "atsmaild"
#define ATSMAILD_JOURNAL_COMPONENT "atsmaild"

/* ---- peer.c: who may connect ------------------------------------------- */

#define ATSMAILD_PEERS_MAX 64

struct atsmaild_peers {
	size_t n;
	uid_t uid[ATSMAILD_PEERS_MAX];  /* root (0) is always allowed, not listed */
};

/* Parse a list of user names and numeric uids ("postfix", "5000");
 * setting names it in err.  A user name that does not exist is an error. */
int atsmaild_peers_parse(const struct atsm_conf_list *l, const char *setting,
    struct atsmaild_peers *out, struct atsm_err *err);
bool atsmaild_peers_allow(const struct atsmaild_peers *p, uid_t uid);
/* The credentials of the process at the other end of a unix socket. */
int atsmaild_peer_cred(int fd, pid_t *pid, uid_t *uid, gid_t *gid, struct atsm_err *err);

/* ---- gen.c: the configuration in force -------------------------------- */

struct atsmaild_gen {
	unsigned long serial;           /* 1 for the first, +1 per reload */
	unsigned refs;
	struct atsm_conf conf;
	struct atsm_netlist internal;   /* conf.internal_networks, parsed */
	struct atsm_token_keys keys;    /* from conf.secret_file */
	struct atsmaild_peers milter_peers, filing_peers;
};

void atsmaild_gen_setup(const char *conf_path);
const char *atsmaild_gen_conf_path(void);
/* Read the settings only (before the sockets are open). */
int atsmaild_gen_read_conf(struct atsm_conf *conf, struct atsm_err *err);
/* Build a generation from the file and make it current; a setting that
 * needs a restart and changed is logged and keeps its old value. */
int atsmaild_gen_load(struct atsm_err *err);
struct atsmaild_gen *atsmaild_gen_acquire(void);
void atsmaild_gen_release(struct atsmaild_gen *g);
void atsmaild_gen_shutdown(void);

/* ---- core.c: snapshot, journal, recorder, follower --------------------- */

struct atsmaild_core {
	struct atsm_snapshot *snap;
	struct atsm_jlog *jlog;
	volatile bool stop;             /* set once: threads leave their loops */
};

extern struct atsmaild_core atsmaild_core;

/* Open the journal (its lock refuses a second atsmaild on the same
 * directories), then the snapshot, as the service user. */
int atsmaild_core_open(const struct atsm_conf *conf, struct atsm_err *err);
/* Start the recorder and follower threads. */
int atsmaild_core_start(const struct atsm_conf *conf, struct atsm_err *err);
/* Stop the threads and close everything: the recorder first records
 * what is journaled, unless the database is unavailable (the journal
 * keeps it for the next start). */
void atsmaild_core_stop(void);
/* The snapshot has been loaded from PostgreSQL at least once (now or
 * before a restart): decisions can be trusted.  Until then every mail is
 * answered with a temporary failure. */
bool atsmaild_core_ready(void);

/* ---- bulk.c: the bulk runner ------------------------------------------ */

/* Start the runner thread (after the core: it waits for the recorder) /
 * stop it (before the core: a job stopped midway is resumed at the next
 * start). */
int atsmaild_bulk_start(struct atsm_err *err);
void atsmaild_bulk_stop(void);

/* ---- notify.c: the notification sender ---------------------------------- */

/* Start the sender thread (after the core) / stop it (before the core: a
 * notification not yet sent stays queued in PostgreSQL). */
int atsmaild_notify_start(struct atsm_err *err);
void atsmaild_notify_stop(void);

/* ---- record.c: journal first ------------------------------------------ */

/* Append the decided mail (kind, its idempotency key, the payload) to the
 * journal -- on disk before this returns -- then apply its effects to the
 * snapshot.  -1 with err when the journal could not take it (the caller
 * answers with a temporary failure); a failure to apply the effects is
 * only logged (the follower brings the snapshot up to date). */
int atsmaild_record(const char *kind, const char *key, json_t *payload,
    const struct atsm_dir_effects *e, const char *what, struct atsm_err *err);

/* ---- listen.c ------------------------------------------------------------ */

enum atsmaild_front { ATSMAILD_MILTER, ATSMAILD_FILING };

/* Open the listening sockets named by the settings ("unix:/path" or a
 * path; the directory must exist), still as root.  0 or -1 with err. */
int atsmaild_listen_open(const struct atsm_conf *conf, struct atsm_err *err);
/* Accept until atsmaild_listen_stop(): peers are checked, each accepted
 * connection gets a thread (at most service_max_connections). */
int atsmaild_listen_run(void);
/* Stop accepting, end idle connections, wait for the others (bounded). */
void atsmaild_listen_stop(unsigned wait_ms);
void atsmaild_listen_close(void);

/* One connection, run by its thread; fd is closed by the caller after. */
struct atsmaild_conn {
	int fd;
	enum atsmaild_front front;
	pid_t pid;
	uid_t uid;
	unsigned long id;               /* for logs */
	volatile bool idle;             /* waiting for the next message / request:
	                                   a stop may end it at once */
};
void atsmaild_milter_session(struct atsmaild_conn *c);
void atsmaild_filing_session(struct atsmaild_conn *c);

/* ---- shared.c: shared mailboxes (docs/shared-mailboxes.md) ------------- */

struct atsm_in_facts;
struct atsm_filing_request;
struct atsm_filing_answer;
/* Record the mail of f, delivered to the shared mailbox f->mailbox_user
 * (shared_deliver): 0 and the status folder to file it in, or -1 when it
 * could not be recorded (folder ""; the mail stays where it is).  note
 * says what happened, for the log. */
int atsmaild_shared_deliver(const struct atsm_conf *conf, const struct atsm_in_facts *f,
    char *folder, size_t n, char *note, size_t notelen);
/* Record a member's move (a request with how move): the answer is always
 * OK ("recorded", "ignored" or "not-recorded"; never a reason to refuse). */
void atsmaild_shared_move(const struct atsm_conf *conf, const struct atsm_filing_request *q,
    struct atsm_filing_answer *a);
void atsmaild_shared_shutdown(void);

/* conn.c: the service is stopping (set once by atsmaild_conn_stop()): a
 * session leaves at its next message boundary. */
void atsmaild_conn_stop(void);
bool atsmaild_stopping(void);
/* Read up to len bytes: > 0 bytes read, 0 end of file, -1 error or stop. */
ssize_t atsmaild_read(struct atsmaild_conn *c, void *buf, size_t len);
/* Write everything: 0, or -1 (the peer went away). */
int atsmaild_write(struct atsmaild_conn *c, const void *buf, size_t len);

#endif

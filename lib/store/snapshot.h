/* store/snapshot.h -- the local snapshot of the directory that atsmaild
 * decides from: an LMDB environment (liblmdb) in snapshot_dir.
 *
 * It holds what store/directory.h offers -- users and their addresses,
 * resumes and contacts with their addresses, shared flags, phases and
 * owners, jobs, selection processes, phase codes and rules, exclusion
 * domains, intake addresses, recent intake senders, and the recorded
 * messages (Message-ID, token, links, participants, visibility, thread)
 * -- so that every decision is a few B-tree lookups in memory-mapped
 * pages, with PostgreSQL up or down, and survives a restart.
 *
 * Kept fresh three ways (docs/snapshot.md):
 *	- atsm_snapshot_apply(): the effects of each mail atsmaild decides,
 *	  at once, once the mail is in the journal;
 *	- atsm_snapshot_follow(): LISTEN on the channel that the triggers of
 *	  sql/009-snapshot-notify.sql notify on every change of a table the
 *	  directory reads (the row is then read again: idempotent, order does
 *	  not matter); messages recorded by other hosts arrive the same way;
 *	- a full resync at start (when the snapshot is empty or older than
 *	  snapshot_resync_interval), after every reconnection (notifications
 *	  may have been missed) and every snapshot_resync_interval.
 * The bound on staleness: a committed change is seen by decisions within
 * the notification's delivery plus one read (milliseconds); without a
 * listening connection, the snapshot is as old as the last successful
 * sync, and atsm_snapshot_info() says how old.
 *
 * Thread-safe: any number of views (readers) and one writer at a time
 * (LMDB's rule); apply and the sync serialise on the write transaction.
 */
#ifndef ATSM_STORE_SNAPSHOT_H
#define ATSM_STORE_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <libpq-fe.h>

#include "base/err.h"
#include "store/directory.h"

#define ATSM_SNAPSHOT_CHANNEL "atsmail_snapshot"   /* NOTIFY channel */
#define ATSM_SNAPSHOT_SCHEMA 2                     /* layout version kept in the env */

struct atsm_snapshot;
struct atsm_snapshot_view;

struct atsm_snapshot_params {
	const char *dir;              /* snapshot_dir: created (0700) when missing */
	size_t map_size;              /* snapshot_map_size: LMDB's map size (bytes) */
	unsigned max_readers;         /* concurrent views at most */
	bool readonly;                /* atsmailctl: look, never write */
};

int atsm_snapshot_open(const struct atsm_snapshot_params *p, struct atsm_snapshot **out,
    struct atsm_err *err);
void atsm_snapshot_close(struct atsm_snapshot *s);

/* A consistent view (one read transaction) as a directory: dir is filled
 * and valid until atsm_snapshot_view_end(). */
int atsm_snapshot_view_begin(struct atsm_snapshot *s, struct atsm_snapshot_view **v,
    struct atsm_dir *dir, struct atsm_err *err);
void atsm_snapshot_view_end(struct atsm_snapshot_view *v);

/* The effects of one decided mail, in one write transaction.  seq is the
 * mail's position in the journal (atsm_jlog_pos_pack): the effects are
 * "pending" until atsm_snapshot_recorded() says the recorder has put
 * everything up to seq into PostgreSQL; a full resync keeps pending
 * effects (PostgreSQL does not have them yet) and overwrites the rest. */
int atsm_snapshot_apply(struct atsm_snapshot *s, const struct atsm_dir_effects *e,
    unsigned long long seq, struct atsm_err *err);
/* The recorder has recorded (or set aside) every entry up to seq. */
void atsm_snapshot_recorded(struct atsm_snapshot *s, unsigned long long seq);

/* ---- keeping it fresh ------------------------------------------------- */

struct atsm_snapshot_info {
	long long last_full_sync;     /* unix time of the last complete resync, 0 never */
	long long last_change;        /* unix time of the last change applied from PostgreSQL */
	long long messages_seen;      /* highest messages.id read from PostgreSQL */
	size_t users, records, addresses, processes, messages;   /* entries held */
};
int atsm_snapshot_info(struct atsm_snapshot *s, struct atsm_snapshot_info *info,
    struct atsm_err *err);

/* Read every table the directory needs from conn (one REPEATABLE READ
 * transaction) and make the snapshot equal to it, keeping the effects of
 * mail that is journaled but not yet recorded (pending, see apply);
 * messages are read incrementally past messages_seen (with an overlap,
 * as identities may commit out of order) and never removed by it. */
int atsm_snapshot_sync_full(struct atsm_snapshot *s, PGconn *conn, struct atsm_err *err);

/* One notification of ATSM_SNAPSHOT_CHANNEL: read the rows it names
 * again from conn and apply them. */
int atsm_snapshot_sync_notify(struct atsm_snapshot *s, PGconn *conn, const char *payload,
    struct atsm_err *err);

/* The follower: connect with conninfo, LISTEN, resync when needed, then
 * apply notifications as they come, until *stop becomes true (checked at
 * least every poll_ms).  Reconnects after a failure (every retry_ms),
 * logging the failure once per outage.  Runs in a thread of its own;
 * returns 0 when stopped. */
struct atsm_snapshot_follow_params {
	const char *conninfo;
	unsigned connect_timeout_ms;
	unsigned statement_timeout_ms;
	unsigned resync_interval_ms;  /* snapshot_resync_interval; 0 = only at (re)connect */
	unsigned poll_ms;             /* how often *stop is looked at */
	unsigned retry_ms;            /* between connection attempts */
};
int atsm_snapshot_follow(struct atsm_snapshot *s, const struct atsm_snapshot_follow_params *p,
    volatile bool *stop);

#endif

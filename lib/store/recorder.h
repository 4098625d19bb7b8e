/* store/recorder.h -- the recorder: journal entries into PostgreSQL, in
 * batches, exactly once.  It is the only writer of mail records
 * (messages, recipients, links, copies, phase changes caused by mail,
 * intake records, outbox events, their audit entries).
 *
 * A journal entry names its kind and carries, as data, the one jsonb
 * parameter of the SQL function that records it:
 *
 *	outbound.record  atsmail.record_outbound(p)   (sql/005, sql/010)
 *	inbound.record   atsmail.record_inbound(p)    (sql/008, sql/010)
 *
 * A batch is one transaction (READ COMMITTED, as the audit chain wants)
 * holding one `SELECT atsmail.record_<kind>($1)` per entry, sent in
 * libpq's pipeline mode: one round trip for the batch.  Each function
 * starts by inserting the entry's idempotency key into
 * atsmail.journal_applied and does nothing when it is there already, so
 * an entry recorded twice (a crash between commit and checkpoint, the
 * same mail retried by Postfix) counts once.  When the server refuses one
 * entry (an SQL error that is not an outage), the batch is rolled back
 * and its entries are recorded one transaction each, so that only the bad
 * one is set aside (REJECTED, with the server's message).
 *
 * The payloads (built by atsm_out_record_payload / atsm_in_record_payload,
 * never by hand) refer to records by id and to messages by message
 * reference, {"id": messages.id or 0, "key": idempotency key or ""}
 * (atsmail.message_ref(): the id when it exists, else the message with
 * that key): a mail decided before the message it answers was recorded
 * still finds it, because the recorder keeps journal order.  A process
 * is {"kind": "process", "id": processes.id or 0, "resume": r, "job": j};
 * id 0 means "the process of resume r and job j" (made by an earlier
 * entry).  The full format: docs/journal.md, "Record payloads".
 */
#ifndef ATSM_STORE_RECORDER_H
#define ATSM_STORE_RECORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <libpq-fe.h>

#include "base/err.h"
#include "store/jlog.h"

#define ATSM_RECORDER_KIND_OUT "outbound.record"
#define ATSM_RECORDER_KIND_IN "inbound.record"
#define ATSM_RECORDER_BATCH_MAX 1000

enum atsm_record_outcome {
	ATSM_RECORDED,        /* recorded now */
	ATSM_RECORD_DUPLICATE,/* its key was recorded before: nothing done */
	ATSM_RECORD_REJECTED  /* the server refused it, or its kind is unknown */
};

/* Record entries v[0..n) (journal documents) on conn.  0 with out[i] for
 * every entry (and why[i], when not NULL, the server's message for a
 * rejected one, malloc'd); -1 when the database is unavailable (err class
 * ATSM_ERR_UNAVAILABLE: nothing was recorded, read them again later). */
int atsm_recorder_batch(PGconn *conn, json_t *const *v, size_t n,
    enum atsm_record_outcome *out, char **why, struct atsm_err *err);

/* The recorder's loop, for a thread of atsmaild: read durable entries
 * from j, record them in batches of at most batch_max, commit the
 * checkpoint, set rejected entries aside (atsm_jlog_reject) and tell
 * recorded(ctx, pos) how far it got; reconnect with conninfo after an
 * outage (every retry_ms), logging it once.  Returns when *stop is true
 * and nothing durable is left unrecorded (0), or when *stop is true and the
 * database is unavailable (-1; so is a journal that cannot be written:
 * what is left is recorded after the next start). */
struct atsm_recorder_params {
	const char *conninfo;
	unsigned connect_timeout_ms;
	unsigned statement_timeout_ms;
	size_t batch_max;             /* recorder_batch_max */
	unsigned wait_ms;             /* how long one read waits for entries */
	unsigned retry_ms;
	void (*recorded)(void *ctx, const struct atsm_jlog_pos *pos);
	void *ctx;
};
struct atsm_recorder_stats {
	unsigned long long batches, recorded, duplicates, rejected;
};
int atsm_recorder_follow(struct atsm_jlog *j, const struct atsm_recorder_params *p,
    volatile bool *stop, struct atsm_recorder_stats *st);

#endif

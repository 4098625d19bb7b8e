/* core.c -- what lives as long as atsmaild: the snapshot the decisions
 * read, the journal every decided mail goes to, the recorder thread that
 * drains the journal into PostgreSQL and the follower thread that keeps
 * the snapshot fresh from it.
 *
 * Interface: atsmaild_core, atsmaild_core_open, atsmaild_core_start,
 * atsmaild_core_stop, atsmaild_core_ready (atsmaild.h).
 *
 * The two threads are the only users of database logins; neither is on
 * the path of a mail: Postfix and Dovecot are answered once the journal
 * holds the mail, whatever PostgreSQL is doing.  The recorder reports how
 * far it got, and the snapshot then lets PostgreSQL's rows win over the
 * effects it applied from the journal (store/snapshot.h, "pending").
 *
 * Readiness: a snapshot that has never been loaded from PostgreSQL knows
 * no user and no record, so it would pass every ATS mail untouched and
 * unrecorded.  Until the first full sync (now, or before a restart: the
 * snapshot keeps it) mail is answered with a temporary failure.
 */
#include "atsm-build-config.h"
#include "atsmaild.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "store/recorder.h"

struct atsmaild_core atsmaild_core;

static pthread_t t_recorder, t_follower;
static bool recorder_started, follower_started;
static volatile bool stop_follower, stop_recorder;
static atomic_bool ready;
static struct atsm_snapshot_follow_params follow_params;
static struct atsm_recorder_params record_params;
static char *conninfo;

int
atsmaild_core_open(const struct atsm_conf *conf, struct atsm_err *err)
{
	struct atsm_snapshot_params sp;

	/* The journal first: its lock is what keeps a second atsmaild off
	 * these directories.  Opened the other way round, a second one
	 * refused by the lock would already have opened the snapshot, and
	 * closing it would remove the running one's open-boot marker (and
	 * write its own idea of the recorder's position). */
	if (atsm_jlog_open(conf->journal_dir, ATSMAILD_JOURNAL_COMPONENT,
	    conf->journal_segment_size, &atsmaild_core.jlog, err) < 0)
		return atsm_err_prefix(err, "journal_dir %s", conf->journal_dir);
	memset(&sp, 0, sizeof(sp));
	sp.dir = conf->snapshot_dir;
	sp.map_size = conf->snapshot_map_size;
	/* a view per connection, and the follower's and a few for tools */
	sp.max_readers = conf->service_max_connections + 16;
	if (atsm_snapshot_open(&sp, &atsmaild_core.snap, err) < 0) {
		atsm_jlog_close(atsmaild_core.jlog);
		atsmaild_core.jlog = NULL;
		return atsm_err_prefix(err, "snapshot_dir %s", conf->snapshot_dir);
	}
	return 0;
}

static void
recorded(void *ctx, const struct atsm_jlog_pos *pos)
{
	(void)ctx;
	atsm_snapshot_recorded(atsmaild_core.snap, atsm_jlog_pos_pack(pos));
}

static void *
recorder_main(void *arg)
{
	struct atsm_recorder_stats st;

	(void)arg;
	memset(&st, 0, sizeof(st));
	if (atsm_recorder_follow(atsmaild_core.jlog, &record_params, &stop_recorder, &st) < 0)
		atsm_log(LOG_ERR, "the recorder stopped with an error");
	atsm_log(LOG_INFO, "recorder: %llu batches, %llu recorded, %llu duplicates, "
	    "%llu set aside", st.batches, st.recorded, st.duplicates, st.rejected);
	return NULL;
}

static void *
follower_main(void *arg)
{
	(void)arg;
	if (atsm_snapshot_follow(atsmaild_core.snap, &follow_params, &stop_follower) < 0)
		atsm_log(LOG_ERR, "the snapshot follower stopped with an error");
	return NULL;
}

int
atsmaild_core_start(const struct atsm_conf *conf, struct atsm_err *err)
{
	if ((conninfo = strdup(conf->db_conninfo)) == NULL)
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "out of memory");
	memset(&follow_params, 0, sizeof(follow_params));
	follow_params.conninfo = conninfo;
	follow_params.connect_timeout_ms = conf->db_connect_timeout;
	follow_params.statement_timeout_ms = 0;   /* a full resync may take minutes */
	follow_params.resync_interval_ms = conf->snapshot_resync_interval;
	follow_params.poll_ms = 200;
	follow_params.retry_ms = 1000;
	memset(&record_params, 0, sizeof(record_params));
	record_params.conninfo = conninfo;
	record_params.connect_timeout_ms = conf->db_connect_timeout;
	record_params.statement_timeout_ms = conf->db_statement_timeout;
	record_params.batch_max = conf->recorder_batch_max;
	record_params.wait_ms = 200;
	record_params.retry_ms = 1000;
	record_params.recorded = recorded;
	if (pthread_create(&t_follower, NULL, follower_main, NULL) != 0)
		return atsm_err_setc(err, ATSM_ERR_INTERNAL, "cannot start the follower thread");
	follower_started = true;
	if (pthread_create(&t_recorder, NULL, recorder_main, NULL) != 0)
		return atsm_err_setc(err, ATSM_ERR_INTERNAL, "cannot start the recorder thread");
	recorder_started = true;
	return 0;
}

void
atsmaild_core_stop(void)
{
	atsmaild_core.stop = true;
	stop_follower = true;
	if (follower_started)
		pthread_join(t_follower, NULL);
	/* the recorder records what is durable, or leaves at once when the
	 * database is unavailable: the journal keeps the rest */
	stop_recorder = true;
	if (recorder_started)
		pthread_join(t_recorder, NULL);
	follower_started = recorder_started = false;
	if (atsmaild_core.jlog != NULL)
		atsm_jlog_close(atsmaild_core.jlog);
	if (atsmaild_core.snap != NULL)
		atsm_snapshot_close(atsmaild_core.snap);
	atsmaild_core.jlog = NULL;
	atsmaild_core.snap = NULL;
	free(conninfo);
	conninfo = NULL;
}

bool
atsmaild_core_ready(void)
{
	struct atsm_snapshot_info info;

	if (atomic_load(&ready))
		return true;
	if (atsm_snapshot_info(atsmaild_core.snap, &info, NULL) == 0 && info.last_full_sync > 0) {
		atomic_store(&ready, true);
		return true;
	}
	return false;
}

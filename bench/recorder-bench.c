/* recorder-bench.c -- what recording costs PostgreSQL, alone: the entries
 * of a journal recorded through the recorder's own batch call
 * (atsm_recorder_batch: libpq pipeline mode, one transaction per batch),
 * with the CPU time of the server process that did it.  Run by
 * bench/recorder-cost.sh, which captures a journal from real mail and
 * records it into identical copies of one database, once per variant of
 * the record functions, so that variants are compared side by side.
 *
 * usage: recorder-bench CONNINFO JOURNAL_DIR BATCH
 *
 * The journal (a copy: it is consumed) is read from its checkpoint to its
 * end in batches of at most BATCH entries.  Prints one line:
 *   entries=N recorded=N duplicates=N rejected=N batches=N seconds=S
 *   backend_ms=M backend_ms_per_entry=M
 * backend_ms is the user + system CPU time of the PostgreSQL backend that
 * served the connection (from /proc: same host, as root), triggers and
 * all; what it caused elsewhere (autovacuum, the checkpointer, listeners
 * of the notifications) is not in it.  backend is that process's id:
 * under callgrind (bench/recorder-cost.sh, ATSM_BENCH_CALLGRIND=1) its
 * instruction count is written when the connection ends.
 */
#include "bench-proc.h"

#include "store/jlog.h"
#include "store/recorder.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	struct atsm_jlog_entry *ents;
	struct atsm_jlog *j;
	struct atsm_err err;
	enum atsm_record_outcome *out;
	unsigned long long t0, t1, total = 0, rec = 0, dup = 0, rej = 0, batches = 0;
	json_t **docs;
	double w0, w1;
	size_t batch, n, i;
	PGconn *c;
	int pid;

	if (argc != 4) {
		fprintf(stderr, "usage: recorder-bench CONNINFO JOURNAL_DIR BATCH\n");
		return 64;
	}
	batch = strtoul(argv[3], NULL, 10);
	if (batch == 0 || batch > ATSM_RECORDER_BATCH_MAX) {
		fprintf(stderr, "recorder-bench: BATCH must be 1..%d\n", ATSM_RECORDER_BATCH_MAX);
		return 64;
	}
	c = PQconnectdb(argv[1]);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "recorder-bench: %s", PQerrorMessage(c));
		return 69;
	}
	if (atsm_jlog_open(argv[2], "atsmaild", ATSM_JLOG_SEGMENT_DEFAULT, &j, &err) < 0) {
		fprintf(stderr, "recorder-bench: %s\n", err.msg);
		return 66;
	}
	ents = calloc(batch, sizeof(*ents));
	docs = calloc(batch, sizeof(*docs));
	out = calloc(batch, sizeof(*out));
	if (ents == NULL || docs == NULL || out == NULL)
		return 70;
	pid = PQbackendPID(c);
	t0 = bench_ticks_of(pid);
	w0 = now_s();
	for (;;) {
		if (atsm_jlog_read(j, batch, 0, ents, &n, &err) < 0) {
			fprintf(stderr, "recorder-bench: %s\n", err.msg);
			return 74;
		}
		if (n == 0)
			break;
		for (i = 0; i < n; i++)
			docs[i] = ents[i].doc;
		if (atsm_recorder_batch(c, docs, n, out, NULL, &err) < 0) {
			fprintf(stderr, "recorder-bench: %s\n", err.msg);
			return 75;
		}
		for (i = 0; i < n; i++) {
			rec += out[i] == ATSM_RECORDED;
			dup += out[i] == ATSM_RECORD_DUPLICATE;
			rej += out[i] == ATSM_RECORD_REJECTED;
		}
		total += n;
		batches++;
		if (atsm_jlog_commit(j, &ents[n - 1].end, &err) < 0) {
			fprintf(stderr, "recorder-bench: %s\n", err.msg);
			return 74;
		}
		atsm_jlog_entries_free(ents, n);
	}
	w1 = now_s();
	t1 = bench_ticks_of(pid);
	printf("entries=%llu recorded=%llu duplicates=%llu rejected=%llu batches=%llu "
	    "seconds=%.3f backend_ms=%.0f backend_ms_per_entry=%.4f backend=%d\n", total, rec,
	    dup, rej, batches, w1 - w0, (t1 - t0) * 1000.0 / sysconf(_SC_CLK_TCK),
	    total > 0 ? (t1 - t0) * 1000.0 / sysconf(_SC_CLK_TCK) / total : 0.0, pid);
	atsm_jlog_close(j);
	PQfinish(c);
	free(ents);
	free(docs);
	free(out);
	return 0;
}

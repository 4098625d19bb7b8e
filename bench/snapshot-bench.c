/* snapshot-bench.c -- what the snapshot costs: a full resync from
 * PostgreSQL into an empty snapshot, a second one over an unchanged
 * database, and the directory lookups a decision makes, each in a view of
 * its own.  Run by bench/snapshot-sync.sh, which makes the database.
 *
 * usage: snapshot-bench CONNINFO DIR RESUMES LOOKUPS
 * The resumes are ids 100001..100000+RESUMES with the address
 * candN@bench.example (N = id - 100000), as the script makes them.
 * The lookups run twice, timed the second time: the first maps the pages
 * of the snapshot into the process (page faults), as a long-running
 * atsmaild has them mapped.  Prints one line of "key=value" pairs.
 */
#include "store/snapshot.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned long long rng = 88172645463325252ULL;

static unsigned long long
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int
fail(const char *what, const struct atsm_err *err)
{
	fprintf(stderr, "snapshot-bench: %s: %s\n", what, err->msg);
	return 1;
}

int
main(int argc, char **argv)
{
	struct atsm_snapshot_params p;
	struct atsm_snapshot *s;
	struct atsm_snapshot_info info;
	struct atsm_err err;
	struct stat st;
	char path[4096];
	PGconn *conn;
	long resumes, lookups, i, found = 0;
	int pass;
	double t0, t_full, t_again, t_look, t_miss;

	if (argc != 5) {
		fprintf(stderr, "usage: snapshot-bench CONNINFO DIR RESUMES LOOKUPS\n");
		return 2;
	}
	resumes = atol(argv[3]);
	lookups = atol(argv[4]);
	memset(&p, 0, sizeof(p));
	p.dir = argv[2];
	p.map_size = (size_t)4 << 30;
	p.max_readers = 16;
	if (atsm_snapshot_open(&p, &s, &err) < 0)
		return fail("open", &err);
	conn = PQconnectdb(argv[1]);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "snapshot-bench: %s", PQerrorMessage(conn));
		return 1;
	}
	t0 = now_s();
	if (atsm_snapshot_sync_full(s, conn, &err) < 0)
		return fail("full resync", &err);
	t_full = now_s() - t0;
	t0 = now_s();
	if (atsm_snapshot_sync_full(s, conn, &err) < 0)
		return fail("second full resync", &err);
	t_again = now_s() - t0;
	if (atsm_snapshot_info(s, &info, &err) < 0)
		return fail("info", &err);

	/* a decision's lookups: the sender's records, the first one's
	 * processes, the sending user, one view each */
	for (pass = 0; pass < 2; pass++) {
	found = 0;
	t0 = now_s();
	for (i = 0; i < lookups; i++) {
		struct atsm_snapshot_view *v;
		struct atsm_dir d;
		struct atsm_dir_record rec[8];
		struct atsm_dir_process proc[8];
		struct atsm_dir_user u;
		char addr[64];
		size_t n, np;

		snprintf(addr, sizeof(addr), "cand%llu@bench.example",
		    next_rand() % (unsigned long long)resumes + 1);
		if (atsm_snapshot_view_begin(s, &v, &d, &err) < 0)
			return fail("view", &err);
		if (d.ops->records_by_addr(d.ctx, addr, rec, 8, &n, &err) == 1) {
			found++;
			if (d.ops->processes_of_resume(d.ctx, rec[0].id, proc, 8, &np, &err) < 0)
				return fail("processes", &err);
		}
		if (d.ops->user_by_login(d.ctx, "alice@atsmail.test", &u, &err) < 0)
			return fail("user", &err);
		atsm_snapshot_view_end(v);
	}
	t_look = now_s() - t0;
	}
	/* addresses nobody has: the cost of "not found" */
	t0 = now_s();
	for (i = 0; i < lookups; i++) {
		struct atsm_snapshot_view *v;
		struct atsm_dir d;
		struct atsm_dir_record rec[8];
		char addr[64];
		size_t n;

		snprintf(addr, sizeof(addr), "nobody%llu@bench.example", next_rand() % 1000000);
		if (atsm_snapshot_view_begin(s, &v, &d, &err) < 0)
			return fail("view", &err);
		if (d.ops->records_by_addr(d.ctx, addr, rec, 8, &n, &err) < 0)
			return fail("records", &err);
		atsm_snapshot_view_end(v);
	}
	t_miss = now_s() - t0;
	snprintf(path, sizeof(path), "%s/data.mdb", argv[2]);
	if (stat(path, &st) < 0)
		st.st_size = 0;
	printf("resumes=%ld records=%zu addresses=%zu processes=%zu messages=%zu full_sync_s=%.2f "
	    "resync_unchanged_s=%.2f lookup_us=%.2f miss_us=%.2f found=%ld size_mb=%.0f\n",
	    resumes, info.records, info.addresses, info.processes, info.messages, t_full, t_again,
	    t_look / lookups * 1e6, t_miss / lookups * 1e6, found,
	    (double)st.st_size / (1024.0 * 1024.0));
	PQfinish(conn);
	atsm_snapshot_close(s);
	return found == lookups ? 0 : 1;
}

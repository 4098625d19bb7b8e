/* snapshot-probe.c -- watch atsmaild snapshots from outside, for the
 * test-bed tests (tests/e2e/atsmaild-hosts.sh, atsmaild-restart.sh).
 *
 * usage: snapshot-probe [-t TIMEOUT_MS] [-i INTERVAL_US] WHAT DIR... [-- COMMAND ARG...]
 *        snapshot-probe [-t TIMEOUT_MS] [-i INTERVAL_US] -d CONNINFO -s SQL WHAT DIR...
 *
 *   WHAT   addr:ADDRESS      a resume or contact holds ADDRESS
 *          msgid:out:ID      a message with Message-ID ID (no brackets),
 *          msgid:in:ID       sent or received
 *   DIR    a snapshot_dir; opened read-only, beside the atsmaild that
 *          keeps it (LMDB allows readers in other processes)
 *
 * Each DIR is looked at every INTERVAL_US (default 1000: 1 ms) through a
 * fresh view (a new read transaction sees the last commit of the writer)
 * until WHAT is there, for at most TIMEOUT_MS (default 5000).
 *
 * With a COMMAND (an `atsmailctl import`, a psql that commits a row):
 * WHAT must be absent from every DIR first (exit 2 otherwise); the clock
 * starts just before the command is started, and the snapshots are
 * polled while it runs.  The change cannot be seen before the command
 * commits it, and it commits before it exits, so the time from the start
 * is an upper bound of the staleness and the time from its exit a lower
 * bound (negative: seen before the command had exited).
 *
 * With -d and -s the probe commits the change itself: BEGIN, SQL, then
 * the clock starts just before COMMIT is sent, and the snapshots are
 * polled from there (the time is then the staleness itself, plus at most
 * one poll interval and the commit's own round trip).
 *
 * Prints one line per DIR:
 *   DIR found MS [AFTER_EXIT_MS] ANSWER      (ANSWER: r:ID / c:ID, or m:ID;
 *                                             AFTER_EXIT_MS with a COMMAND)
 *   DIR missing MS
 * Exit 0 when WHAT was found in every DIR (and the command exited 0),
 * 1 otherwise, 2 on a usage or set-up error.
 */
#include "atsm-build-config.h"

#include <errno.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/arena.h"
#include "base/err.h"
#include "mail/addr.h"
#include "store/directory.h"
#include "store/snapshot.h"

#define DIRS_MAX 8
#define MAP_SIZE (4ull * 1024 * 1024 * 1024)

struct probe {
	const char *dir;
	struct atsm_snapshot *snap;
	bool found;
	double ms;
	char answer[64];
};

static const char *what_kind;    /* "addr" or "msgid" */
static char *what_addr;          /* normalised */
static const char *what_msgid;
static enum atsm_dir_direction what_dir;

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void
usage(void)
{
	fprintf(stderr, "usage: snapshot-probe [-t TIMEOUT_MS] [-i INTERVAL_US] "
	    "[-d CONNINFO -s SQL] addr:ADDRESS|msgid:out:ID|msgid:in:ID DIR... "
	    "[-- COMMAND ARG...]\n");
	exit(2);
}

static int
parse_what(const char *w)
{
	struct atsm_err err;

	atsm_err_clear(&err);
	if (strncmp(w, "addr:", 5) == 0) {
		what_kind = "addr";
		if (atsm_addr_normalize(w + 5, &what_addr, &err) < 0) {
			fprintf(stderr, "snapshot-probe: %s: %s\n", w + 5, err.msg);
			return -1;
		}
		return 0;
	}
	if (strncmp(w, "msgid:out:", 10) == 0 || strncmp(w, "msgid:in:", 9) == 0) {
		what_kind = "msgid";
		what_dir = w[6] == 'o' ? ATSM_DIR_OUT : ATSM_DIR_IN;
		what_msgid = strchr(w + 6, ':') + 1;
		return 0;
	}
	return -1;
}

/* 1 there (answer filled), 0 not there, -1 the snapshot failed. */
static int
look(struct probe *p)
{
	struct atsm_snapshot_view *v;
	struct atsm_dir dir;
	struct atsm_err err;
	int rc;

	atsm_err_clear(&err);
	if (atsm_snapshot_view_begin(p->snap, &v, &dir, &err) < 0) {
		fprintf(stderr, "snapshot-probe: %s: %s\n", p->dir, err.msg);
		return -1;
	}
	if (strcmp(what_kind, "addr") == 0) {
		struct atsm_dir_record r[4];
		size_t n = 0;

		rc = dir.ops->records_by_addr(dir.ctx, what_addr, r, 4, &n, &err);
		if (rc > 0 && n > 0)
			snprintf(p->answer, sizeof(p->answer), "%c:%lld",
			    r[0].kind == ATSM_RECORD_CONTACT ? 'c' : 'r', r[0].id);
		else if (rc > 0)
			rc = 0;
	} else {
		struct atsm_arena a;
		struct atsm_dir_message m;

		atsm_arena_init(&a, 4u * 1024 * 1024);
		rc = dir.ops->message_by_msgid(dir.ctx, what_msgid, what_dir, &a, &m, &err);
		if (rc > 0)
			snprintf(p->answer, sizeof(p->answer), "m:%lld", m.ref.id);
		atsm_arena_free(&a);
	}
	atsm_snapshot_view_end(v);
	if (rc < 0)
		fprintf(stderr, "snapshot-probe: %s: %s\n", p->dir, err.msg);
	return rc;
}

/* BEGIN and sql on a new connection: the COMMIT is left to the caller. */
static PGconn *
begin_sql(const char *conninfo, const char *sql)
{
	PGconn *conn = PQconnectdb(conninfo);
	PGresult *r;
	const char *step[2] = { "BEGIN", sql };
	int i;

	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "snapshot-probe: %s", PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	for (i = 0; i < 2; i++) {
		r = PQexec(conn, step[i]);
		if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
			fprintf(stderr, "snapshot-probe: %s: %s", step[i], PQerrorMessage(conn));
			PQclear(r);
			PQfinish(conn);
			return NULL;
		}
		PQclear(r);
	}
	return conn;
}

static int
commit(PGconn *conn)
{
	PGresult *r = PQexec(conn, "COMMIT");
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK;

	if (!ok)
		fprintf(stderr, "snapshot-probe: COMMIT: %s", PQerrorMessage(conn));
	PQclear(r);
	PQfinish(conn);
	return ok ? 0 : -1;
}

int
main(int argc, char **argv)
{
	struct probe probes[DIRS_MAX];
	struct atsm_snapshot_params sp;
	struct atsm_err err;
	long timeout_ms = 5000, interval_us = 1000;
	char **cmd = NULL;
	const char *conninfo = NULL, *sql = NULL;
	PGconn *conn = NULL;
	size_t n = 0, i, left;
	double t0, t_exit = -1.0;
	pid_t child = -1;
	int c, status = 0, rc = 0;

	while ((c = getopt(argc, argv, "+d:i:s:t:")) != -1) {
		switch (c) {
		case 'd': conninfo = optarg; break;
		case 's': sql = optarg; break;
		case 't': timeout_ms = strtol(optarg, NULL, 10); break;
		case 'i': interval_us = strtol(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (optind >= argc || timeout_ms <= 0 || interval_us <= 0 ||
	    parse_what(argv[optind]) < 0)
		usage();
	for (optind++; optind < argc; optind++) {
		if (strcmp(argv[optind], "--") == 0) {
			cmd = &argv[optind + 1];
			if (*cmd == NULL)
				usage();
			break;
		}
		if (n == DIRS_MAX)
			usage();
		memset(&probes[n], 0, sizeof(probes[n]));
		probes[n++].dir = argv[optind];
	}
	if (n == 0 || (conninfo == NULL) != (sql == NULL) || (sql != NULL && cmd != NULL))
		usage();
	for (i = 0; i < n; i++) {
		memset(&sp, 0, sizeof(sp));
		sp.dir = probes[i].dir;
		sp.map_size = MAP_SIZE;
		sp.max_readers = 16;
		sp.readonly = true;
		atsm_err_clear(&err);
		if (atsm_snapshot_open(&sp, &probes[i].snap, &err) < 0) {
			fprintf(stderr, "snapshot-probe: %s: %s\n", probes[i].dir, err.msg);
			return 2;
		}
		if ((cmd != NULL || sql != NULL) && (rc = look(&probes[i])) != 0) {
			fprintf(stderr, "snapshot-probe: %s: %s\n", probes[i].dir,
			    rc > 0 ? "already there before the command" : "cannot look");
			return 2;
		}
	}
	if (sql != NULL && (conn = begin_sql(conninfo, sql)) == NULL)
		return 2;
	fflush(NULL);
	t0 = now_ms();
	if (conn != NULL && commit(conn) < 0)
		return 2;
	if (cmd != NULL) {
		if ((child = fork()) < 0) {
			perror("snapshot-probe: fork");
			return 2;
		}
		if (child == 0) {
			execvp(cmd[0], cmd);
			fprintf(stderr, "snapshot-probe: %s: %s\n", cmd[0], strerror(errno));
			_exit(127);
		}
	}
	for (left = n;;) {
		double t = now_ms();

		if (child > 0 && t_exit < 0 && waitpid(child, &status, WNOHANG) == child)
			t_exit = now_ms();
		for (i = 0; i < n; i++) {
			if (probes[i].found)
				continue;
			if ((rc = look(&probes[i])) < 0)
				return 2;
			if (rc > 0) {
				probes[i].found = true;
				probes[i].ms = now_ms() - t0;
				left--;
			}
		}
		if ((left == 0 && (child < 0 || t_exit >= 0)) || t - t0 > (double)timeout_ms)
			break;
		usleep((useconds_t)interval_us);
	}
	if (child > 0 && t_exit < 0) {
		if (waitpid(child, &status, 0) < 0)
			status = 1;
		t_exit = now_ms();
	}
	rc = 0;
	for (i = 0; i < n; i++) {
		if (!probes[i].found) {
			printf("%s missing %.1f\n", probes[i].dir, now_ms() - t0);
			rc = 1;
		} else if (child > 0)
			printf("%s found %.1f %.1f %s\n", probes[i].dir, probes[i].ms,
			    probes[i].ms - (t_exit - t0), probes[i].answer);
		else
			printf("%s found %.1f %s\n", probes[i].dir, probes[i].ms, probes[i].answer);
		atsm_snapshot_close(probes[i].snap);
	}
	if (child > 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		fprintf(stderr, "snapshot-probe: the command failed (status %d)\n", status);
		rc = 1;
	}
	free(what_addr);
	return rc;
}

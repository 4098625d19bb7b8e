/* record-watch.c -- when did each message row commit?  For the benchmarks
 * that count a rate "until the last mail is recorded" and the
 * delivery-to-record latency (bench/milter-throughput.sh,
 * bench/plugin-delivery.sh).
 *
 * usage: record-watch CONNINFO N TIMEOUT_S OUT
 *
 * It LISTENs on atsmail_snapshot, the channel sql/009 notifies for every
 * statement that touches a table of the directory, at commit: a message
 * row inserted by the recorder arrives as "messages:ID[,ID...]" (or, for
 * one statement of many rows, "messages:+LOWEST", then the ids are read
 * from the table).  Each new message id is written to OUT as
 * "EPOCH_SECONDS ID", the time this process received the notification
 * (CLOCK_REALTIME, the clock the load generators use).  It stops once it
 * has seen N distinct ids, or after TIMEOUT_S seconds, and prints
 * "seen=<n> last=<epoch of the N-th>" on stdout.
 *
 * Its first line on stdout is "backend=<pid> ticks=<t>", its last
 * "backend_ticks=<t>": the PostgreSQL backend that serves this connection
 * and its CPU time (utime + stime, clock ticks, from /proc) at the start
 * and at the end, which the scripts subtract from PostgreSQL's: every
 * NOTIFY is also delivered to this backend.  Waiting costs nothing here:
 * poll() on the connection's socket, no query.
 */
#include "bench-proc.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHANNEL "atsmail_snapshot"
#define PREFIX "messages:"

struct idset {
	uint64_t *v;           /* open addressing; 0 = empty (ids start at 1) */
	size_t cap, n;
};

static int
idset_add(struct idset *s, uint64_t id)
{
	size_t i;

	if (id == 0)
		return 0;
	if ((s->n + 1) * 2 > s->cap) {
		struct idset t = { .cap = s->cap ? s->cap * 2 : 4096 };

		if ((t.v = calloc(t.cap, sizeof(*t.v))) == NULL)
			return -1;
		for (i = 0; i < s->cap; i++)
			if (s->v[i] != 0)
				idset_add(&t, s->v[i]);
		free(s->v);
		*s = t;
	}
	for (i = (id * 0x9E3779B97F4A7C15ULL) & (s->cap - 1); s->v[i] != 0;
	    i = (i + 1) & (s->cap - 1))
		if (s->v[i] == id)
			return 0;
	s->v[i] = id;
	s->n++;
	return 1;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One new id: written when first seen; the time of the n-th kept. */
static void
seen(struct idset *s, FILE *out, double t, uint64_t id, double *last)
{
	int r = idset_add(s, id);

	if (r < 0) {
		fprintf(stderr, "record-watch: out of memory\n");
		exit(70);
	}
	if (r == 1) {
		fprintf(out, "%.6f %llu\n", t, (unsigned long long)id);
		*last = t;
	}
}

/* "messages:+LOWEST": one statement inserted more rows than a payload names */
static void
read_from(PGconn *c, struct idset *s, FILE *out, double t, const char *lo, double *last)
{
	const char *param[1] = { lo };
	PGresult *r;
	int i;

	r = PQexecParams(c, "SELECT id FROM atsmail.messages WHERE id >= $1::bigint ORDER BY id",
	    1, NULL, param, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fprintf(stderr, "record-watch: %s", PQerrorMessage(c));
	else
		for (i = 0; i < PQntuples(r); i++)
			seen(s, out, t, strtoull(PQgetvalue(r, i, 0), NULL, 10), last);
	PQclear(r);
}

int
main(int argc, char **argv)
{
	struct idset s = { 0 };
	unsigned long long want;
	double deadline, last = 0, t;
	PGnotify *nf;
	PGresult *r;
	PGconn *c;
	FILE *out;
	char *p, *end;

	if (argc != 5) {
		fprintf(stderr, "usage: record-watch CONNINFO N TIMEOUT_S OUT\n");
		return 64;
	}
	want = strtoull(argv[2], NULL, 10);
	deadline = now_s() + strtod(argv[3], NULL);
	if ((out = fopen(argv[4], "w")) == NULL) {
		fprintf(stderr, "record-watch: %s: %s\n", argv[4], strerror(errno));
		return 73;
	}
	c = PQconnectdb(argv[1]);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "record-watch: %s", PQerrorMessage(c));
		return 69;
	}
	r = PQexec(c, "LISTEN " CHANNEL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		fprintf(stderr, "record-watch: %s", PQerrorMessage(c));
		return 69;
	}
	PQclear(r);
	printf("backend=%d ticks=%llu\n", PQbackendPID(c), bench_ticks_of(PQbackendPID(c)));
	fflush(stdout);
	while (s.n < want) {
		struct pollfd pfd = { .fd = PQsocket(c), .events = POLLIN };
		double left = deadline - now_s();

		if (left <= 0)
			break;
		if (poll(&pfd, 1, (int)(left * 1000) + 1) < 0 && errno != EINTR)
			break;
		if (!PQconsumeInput(c)) {
			fprintf(stderr, "record-watch: %s", PQerrorMessage(c));
			break;
		}
		t = now_s();
		while ((nf = PQnotifies(c)) != NULL) {
			if (strcmp(nf->relname, CHANNEL) == 0 &&
			    strncmp(nf->extra, PREFIX, strlen(PREFIX)) == 0) {
				p = nf->extra + strlen(PREFIX);
				if (*p == '+')
					read_from(c, &s, out, t, p + 1, &last);
				else if (*p != '*')
					for (; *p != '\0'; p = *end == ',' ? end + 1 : end) {
						uint64_t id = strtoull(p, &end, 10);

						if (end == p)
							break;
						seen(&s, out, t, id, &last);
					}
			}
			PQfreemem(nf);
		}
	}
	fclose(out);
	printf("seen=%zu last=%.6f\n", s.n, last);
	printf("backend_ticks=%llu\n", bench_ticks_of(PQbackendPID(c)));
	PQfinish(c);
	free(s.v);
	return s.n >= want ? 0 : 1;
}

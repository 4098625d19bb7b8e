/* store/db.c -- PostgreSQL access over libpq: connections and the pool (see
 * store/db.h and docs/database-access.md); statements, transactions and
 * the classification of their failures are store/db-exec.c.
 *
 * Every connection is opened with PQconnectdbParams(expand_dbname = 1): the
 * user's conninfo is kept whole and our keywords (connect_timeout,
 * application_name, options with statement_timeout and
 * idle_in_transaction_session_timeout, TCP keepalives) follow it.  The pool
 * is an array of slots guarded by one mutex and one condition variable;
 * connecting, health checks and ROLLBACK on release happen outside the lock,
 * on a slot the thread owns, so a slow server never blocks the other
 * borrowers longer than their own wait_ms.  A failure to connect is
 * UNAVAILABLE and names the server, never the password; the messages of
 * libpq are made fit for a struct atsm_err here (store/db-int.h), for both
 * files.
 */
#include "store/db.h"
#include "store/db-int.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Keepalive and TCP user timeout: a peer that vanished without closing the
 * socket (host down, cable cut) is noticed after about idle + interval *
 * count seconds of silence, and unacknowledged writes fail after
 * DB_TCP_USER_TIMEOUT_MS, so no thread hangs on a dead server.  They apply
 * to TCP only; a unix-socket peer that dies closes the socket anyway. */
#define DB_KEEPALIVES_IDLE_S     "5"
#define DB_KEEPALIVES_INTERVAL_S "2"
#define DB_KEEPALIVES_COUNT      "3"
#define DB_TCP_USER_TIMEOUT_MS   "10000"

/* An idle transaction is ended by the server this long after the statement
 * timeout at the earliest: callers run a few statements back to back, never
 * wait on the network in between. */
#define DB_IDLE_TX_EXTRA_MIN_MS 1000u

#define DB_KEYWORDS_MAX 12

/* Where and how to connect: built once per pool, read-only afterwards. */
struct db_target {
	const char *kw[DB_KEYWORDS_MAX + 1];
	const char *val[DB_KEYWORDS_MAX + 1];
	char *conninfo;
	char *appname;
	char *options;
	char *password;          /* only to redact it from messages */
	char connect_timeout[16];
};

struct db_slot {
	PGconn *conn;            /* NULL until needed, or after being closed */
	bool busy;
};

struct atsm_db_pool {
	pthread_mutex_t lock;
	pthread_cond_t freed;    /* a slot became free */
	struct db_target target;
	struct db_slot *slots;
	unsigned size;
	unsigned busy;
	unsigned waiting;
	unsigned long acquired;
	unsigned long timeouts;
	unsigned long connects;
	unsigned long connect_failures;
};

/* ------------------------------------------------------------ messages */

void
atsm_db_redact(char *msg, size_t size, const char *secret)
{
	char out[ATSM_ERR_MAX];
	size_t n, slen, o = 0;
	const char *p, *hit;

	if (secret == NULL || *secret == '\0' || strstr(msg, secret) == NULL)
		return;
	slen = strlen(secret);
	for (p = msg; *p != '\0' && o < sizeof(out) - 1; ) {
		hit = strstr(p, secret);
		n = hit != NULL ? (size_t)(hit - p) : strlen(p);
		if (n > sizeof(out) - 1 - o)
			n = sizeof(out) - 1 - o;
		memcpy(out + o, p, n);
		o += n;
		p += n;
		if (hit == NULL || p != hit)
			continue;
		n = sizeof(out) - 1 - o < 3 ? sizeof(out) - 1 - o : 3;
		memcpy(out + o, "***", n);
		o += n;
		p += slen;
	}
	out[o] = '\0';
	snprintf(msg, size, "%s", out);
}

void
atsm_db_one_line(char *dst, size_t size, const char *src)
{
	size_t o = 0;
	bool space = false;

	for (; src != NULL && *src != '\0' && o < size - 1; src++) {
		if (*src == '\n' || *src == '\t' || *src == '\r') {
			space = o > 0;
			continue;
		}
		if (space && o < size - 2)
			dst[o++] = ' ';
		space = false;
		dst[o++] = *src;
	}
	dst[o] = '\0';
}

static const char *
or_default(const char *s)
{
	return s != NULL && *s != '\0' ? s : "(default)";
}

/* ------------------------------------------------------------ target */

static void
target_free(struct db_target *t)
{
	free(t->conninfo);
	free(t->appname);
	free(t->options);
	free(t->password);
	memset(t, 0, sizeof(*t));
}

static bool
is_uri(const char *s)
{
	return strncmp(s, "postgresql://", 13) == 0 ||
	    strncmp(s, "postgres://", 11) == 0;
}

/* Could the conninfo hold a password (keyword, or user:password@ of a URI)? */
static bool
mentions_password(const char *conninfo)
{
	const char *p;

	if (strchr(conninfo, '@') != NULL)
		return true;
	for (p = conninfo; *p != '\0'; p++)
		if (strncasecmp(p, "password", 8) == 0)
			return true;
	return false;
}

static void
target_add(struct db_target *t, int *n, const char *kw, const char *val)
{
	t->kw[*n] = kw;
	t->val[*n] = val;
	(*n)++;
}

static int
target_init(struct db_target *t, const struct atsm_db_params *p,
    struct atsm_err *err)
{
	PQconninfoOption *opts = NULL, *o;
	const char *user_options = NULL;
	bool has_ka = false, has_ka_idle = false, has_ka_intvl = false;
	bool has_ka_count = false, has_tcp_ut = false;
	unsigned secs, stmt, idle_tx;
	char *perr = NULL;
	int n = 0;

	memset(t, 0, sizeof(*t));
	if (p == NULL || p->conninfo == NULL)
		return atsm_err_setc(err, ATSM_ERR_INTERNAL, "database: no conninfo given");
	/* A bare word is a database name, which libpq takes as such but
	 * PQconninfoParse() refuses. */
	if (strchr(p->conninfo, '=') != NULL || is_uri(p->conninfo)) {
		opts = PQconninfoParse(p->conninfo, &perr);
		if (opts == NULL) {
			/* libpq quotes the fragment it could not parse, which may
			 * be the password: say so only when none can be in it. */
			if (perr != NULL && !mentions_password(p->conninfo)) {
				char line[ATSM_ERR_MAX];

				atsm_db_one_line(line, sizeof(line), perr);
				atsm_err_set(err, "database conninfo is not valid: %s", line);
			} else
				atsm_err_set(err, "database conninfo is not valid "
				    "(libpq's reason is withheld: it may quote the password)");
			PQfreemem(perr);
			return -1;
		}
		for (o = opts; o->keyword != NULL; o++) {
			if (o->val == NULL)
				continue;
			if (strcmp(o->keyword, "password") == 0 && o->val[0] != '\0')
				t->password = strdup(o->val);
			else if (strcmp(o->keyword, "options") == 0)
				user_options = o->val;
			else if (strcmp(o->keyword, "keepalives") == 0)
				has_ka = true;
			else if (strcmp(o->keyword, "keepalives_idle") == 0)
				has_ka_idle = true;
			else if (strcmp(o->keyword, "keepalives_interval") == 0)
				has_ka_intvl = true;
			else if (strcmp(o->keyword, "keepalives_count") == 0)
				has_ka_count = true;
			else if (strcmp(o->keyword, "tcp_user_timeout") == 0)
				has_tcp_ut = true;
		}
	}

	secs = p->connect_timeout_ms ? p->connect_timeout_ms :
	    ATSM_DB_CONNECT_TIMEOUT_DEFAULT_MS;
	secs = secs / 1000 + (secs % 1000 != 0);
	if (secs < 2)
		secs = 2;       /* libpq's minimum; say it rather than let 1 mean 2 */
	snprintf(t->connect_timeout, sizeof(t->connect_timeout), "%u", secs);

	stmt = p->statement_timeout_ms;
	idle_tx = stmt + (stmt > DB_IDLE_TX_EXTRA_MIN_MS ? stmt : DB_IDLE_TX_EXTRA_MIN_MS);
	if (idle_tx < stmt)
		idle_tx = UINT_MAX;
	t->conninfo = strdup(p->conninfo);
	if (p->application_name != NULL)
		t->appname = strdup(p->application_name);
	if (stmt > 0) {
		/* The user's own options (search_path...) stay, ours follow. */
		size_t len = (user_options ? strlen(user_options) : 0) + 96;

		if ((t->options = malloc(len)) != NULL)
			snprintf(t->options, len, "%s%s-c statement_timeout=%u "
			    "-c idle_in_transaction_session_timeout=%u",
			    user_options ? user_options : "",
			    user_options ? " " : "", stmt, idle_tx);
	} else if (user_options != NULL)
		t->options = strdup(user_options);
	PQconninfoFree(opts);
	if (t->conninfo == NULL ||
	    (p->application_name != NULL && t->appname == NULL) ||
	    ((stmt > 0 || user_options != NULL) && t->options == NULL)) {
		target_free(t);
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "database: out of memory");
	}

	/* expand_dbname applies to the first dbname only, and later keywords
	 * override what the conninfo said: ours come after it. */
	target_add(t, &n, "dbname", t->conninfo);
	target_add(t, &n, "connect_timeout", t->connect_timeout);
	if (t->appname != NULL)
		target_add(t, &n, "application_name", t->appname);
	if (t->options != NULL)
		target_add(t, &n, "options", t->options);
	if (!has_ka)
		target_add(t, &n, "keepalives", "1");
	if (!has_ka_idle)
		target_add(t, &n, "keepalives_idle", DB_KEEPALIVES_IDLE_S);
	if (!has_ka_intvl)
		target_add(t, &n, "keepalives_interval", DB_KEEPALIVES_INTERVAL_S);
	if (!has_ka_count)
		target_add(t, &n, "keepalives_count", DB_KEEPALIVES_COUNT);
	if (!has_tcp_ut)
		target_add(t, &n, "tcp_user_timeout", DB_TCP_USER_TIMEOUT_MS);
	t->kw[n] = NULL;
	t->val[n] = NULL;
	return 0;
}

/* libpq prints notices (e.g. "there is no transaction in progress") on
 * stderr by default, which a daemon's stderr is no place for. */
static void
quiet_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static PGconn *
target_connect(const struct db_target *t, struct atsm_err *err)
{
	char line[ATSM_ERR_MAX];
	PGconn *conn;

	conn = PQconnectdbParams(t->kw, t->val, 1);
	if (conn == NULL) {
		atsm_err_setc(err, ATSM_ERR_NOMEM,
		    "cannot connect to the database: out of memory");
		return NULL;
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		atsm_db_one_line(line, sizeof(line), PQerrorMessage(conn));
		atsm_err_setc(err, ATSM_ERR_UNAVAILABLE, "cannot connect to the "
		    "database (host=%s port=%s dbname=%s user=%s): %s", or_default(PQhost(conn)),
		    or_default(PQport(conn)), or_default(PQdb(conn)),
		    or_default(PQuser(conn)), line);
		if (err != NULL) {
			atsm_db_redact(err->msg, sizeof(err->msg), t->password);
			atsm_db_redact(err->msg, sizeof(err->msg), PQpass(conn));
		}
		PQfinish(conn);
		return NULL;
	}
	PQsetNoticeProcessor(conn, quiet_notice, NULL);
	return conn;
}

PGconn *
atsm_db_connect(const struct atsm_db_params *p, struct atsm_err *err)
{
	struct db_target t;
	PGconn *conn;

	if (target_init(&t, p, err) < 0)
		return NULL;
	conn = target_connect(&t, err);
	target_free(&t);
	return conn;
}

/* ------------------------------------------------------------ pool */

struct atsm_db_pool *
atsm_db_pool_new(const struct atsm_db_params *p, struct atsm_err *err)
{
	struct atsm_db_pool *pool;
	pthread_condattr_t ca;

	if (p == NULL || p->pool_size < 1 || p->pool_size > ATSM_DB_POOL_SIZE_MAX) {
		atsm_err_set(err, "database pool size %u is out of range 1..%u",
		    p != NULL ? p->pool_size : 0, ATSM_DB_POOL_SIZE_MAX);
		return NULL;
	}
	pool = calloc(1, sizeof(*pool));
	if (pool == NULL) {
		atsm_err_setc(err, ATSM_ERR_NOMEM, "database pool: out of memory");
		return NULL;
	}
	pool->slots = calloc(p->pool_size, sizeof(*pool->slots));
	if (pool->slots == NULL) {
		free(pool);
		atsm_err_setc(err, ATSM_ERR_NOMEM, "database pool: out of memory");
		return NULL;
	}
	if (target_init(&pool->target, p, err) < 0) {
		free(pool->slots);
		free(pool);
		return NULL;
	}
	pool->size = p->pool_size;
	/* The wait in acquire is a duration: measure it on a clock that
	 * setting the date cannot move. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&pool->freed, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&pool->lock, NULL);
	return pool;
}

void
atsm_db_pool_free(struct atsm_db_pool *pool)
{
	unsigned i;

	if (pool == NULL)
		return;
	for (i = 0; i < pool->size; i++)
		if (pool->slots[i].conn != NULL)
			PQfinish(pool->slots[i].conn);
	free(pool->slots);
	target_free(&pool->target);
	pthread_cond_destroy(&pool->freed);
	pthread_mutex_destroy(&pool->lock);
	free(pool);
}

/* Cheap health check of an idle connection, without a query: libpq only
 * learns that the server went away when it next reads, but a server that
 * shut down or restarted has sent its FATAL message and closed the socket,
 * so an idle socket with anything to read is drained to find out. */
static bool
conn_idle_ok(PGconn *conn)
{
	struct pollfd pfd;
	PGnotify *nf;
	int round;

	for (round = 0; round < 4; round++) {
		if (PQstatus(conn) != CONNECTION_OK ||
		    PQtransactionStatus(conn) != PQTRANS_IDLE)
			return false;
		pfd.fd = PQsocket(conn);
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (pfd.fd < 0)
			return false;
		if (poll(&pfd, 1, 0) == 0)
			return true;
		if ((pfd.revents & (POLLERR | POLLNVAL)) != 0)
			return false;
		if (!PQconsumeInput(conn))
			return false;
		while ((nf = PQnotifies(conn)) != NULL)
			PQfreemem(nf);
	}
	return false;   /* still talking while idle: do not trust it */
}

/* Pick a free slot, preferring one with an open connection. */
static struct db_slot *
slot_free(struct atsm_db_pool *pool)
{
	struct db_slot *empty = NULL;
	unsigned i;

	for (i = 0; i < pool->size; i++) {
		if (pool->slots[i].busy)
			continue;
		if (pool->slots[i].conn != NULL)
			return &pool->slots[i];
		if (empty == NULL)
			empty = &pool->slots[i];
	}
	return empty;
}

static void
deadline_after(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

PGconn *
atsm_db_acquire(struct atsm_db_pool *pool, unsigned wait_ms, struct atsm_err *err)
{
	struct db_slot *slot;
	struct timespec deadline;
	PGconn *conn;
	int rc = 0;

	if (pool == NULL) {
		atsm_err_setc(err, ATSM_ERR_INTERNAL, "database: no connection pool");
		return NULL;
	}
	deadline_after(&deadline, wait_ms);
	pthread_mutex_lock(&pool->lock);
	while ((slot = slot_free(pool)) == NULL) {
		if (rc == ETIMEDOUT || wait_ms == 0) {
			pool->timeouts++;
			pthread_mutex_unlock(&pool->lock);
			atsm_err_setc(err, ATSM_ERR_UNAVAILABLE, "no database connection "
			    "free within %u ms (pool of %u)", wait_ms, pool->size);
			return NULL;
		}
		pool->waiting++;
		rc = pthread_cond_timedwait(&pool->freed, &pool->lock, &deadline);
		pool->waiting--;
	}
	slot->busy = true;
	pool->busy++;
	conn = slot->conn;
	pthread_mutex_unlock(&pool->lock);

	/* The slot is ours now: check or open its connection unlocked. */
	if (conn != NULL && conn_idle_ok(conn)) {
		pthread_mutex_lock(&pool->lock);
		pool->acquired++;
		pthread_mutex_unlock(&pool->lock);
		return conn;
	}
	if (conn != NULL)
		PQfinish(conn);
	conn = target_connect(&pool->target, err);
	pthread_mutex_lock(&pool->lock);
	slot->conn = conn;
	if (conn == NULL) {
		pool->connect_failures++;
		slot->busy = false;
		pool->busy--;
		pthread_cond_signal(&pool->freed);
	} else {
		pool->connects++;
		pool->acquired++;
	}
	pthread_mutex_unlock(&pool->lock);
	return conn;
}

void
atsm_db_release(struct atsm_db_pool *pool, PGconn *conn)
{
	struct db_slot *slot = NULL;
	PGTransactionStatusType ts;
	PGresult *res;
	unsigned i;

	if (pool == NULL || conn == NULL)
		return;
	pthread_mutex_lock(&pool->lock);
	for (i = 0; i < pool->size; i++)
		if (pool->slots[i].busy && pool->slots[i].conn == conn)
			slot = &pool->slots[i];
	pthread_mutex_unlock(&pool->lock);
	if (slot == NULL)
		return;         /* not lent by this pool: not ours to close */

	/* A borrower that gave up mid-transaction must not leave its half
	 * done work, or its locks, to the next one. */
	ts = PQtransactionStatus(conn);
	if (PQstatus(conn) == CONNECTION_OK &&
	    (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR)) {
		res = PQexec(conn, "ROLLBACK");
		PQclear(res);
		ts = PQtransactionStatus(conn);
	}
	if (PQstatus(conn) != CONNECTION_OK || ts != PQTRANS_IDLE) {
		PQfinish(conn);
		conn = NULL;
	}
	pthread_mutex_lock(&pool->lock);
	slot->conn = conn;
	slot->busy = false;
	pool->busy--;
	pthread_cond_signal(&pool->freed);
	pthread_mutex_unlock(&pool->lock);
}

void
atsm_db_pool_stats(struct atsm_db_pool *pool, struct atsm_db_pool_stats *st)
{
	unsigned i;

	memset(st, 0, sizeof(*st));
	if (pool == NULL)
		return;
	pthread_mutex_lock(&pool->lock);
	st->size = pool->size;
	for (i = 0; i < pool->size; i++)
		if (pool->slots[i].conn != NULL)
			st->open++;
	st->busy = pool->busy;
	st->waiting = pool->waiting;
	st->acquired = pool->acquired;
	st->timeouts = pool->timeouts;
	st->connects = pool->connects;
	st->connect_failures = pool->connect_failures;
	pthread_mutex_unlock(&pool->lock);
}

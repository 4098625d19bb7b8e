/* report-fetch.c -- ctl_report_fetch(): the figures of atsmailctl report
 * read from PostgreSQL (ctl/report.h, docs/reports.md).
 *
 * One read-only transaction, under row-level security: with --as LOGIN it
 * runs SET LOCAL ROLE atsmail_app with atsmail.acting_user = LOGIN, as
 * `atsmailctl history --as` does; the report's zone is the session's
 * TimeZone (SET LOCAL), so the days and UTC offsets that sql/022-report.sql
 * returns are those of the zone.  The SQL returns one row per mail, held
 * mail and open item; this file groups them by recruiter, shared mailbox
 * and job and hands the arithmetic (median and p90, office hours, rates)
 * to lib/report/stats.c.
 */
#include "report.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-ops.h"
#include "report/stats.h"

/* ------------------------------------------------ rows by key (a hash) */

enum { G_RECRUITER = 0, G_MAILBOX, G_JOB, G_N };

struct group {
	struct atsm_report_rows *rows;
	long long *threads, *answered;   /* per row: sent threads, those answered */
	size_t *slot;                    /* hash: row index + 1, 0 = empty */
	size_t nslot;
};

struct fetch {
	struct atsm_report *r;
	struct group g[G_N];
	struct sample *s;
	size_t ns, caps;
	bool nomem;
};

/* one mail as seen by one row: the thread it belongs to and its answer */
struct sample {
	unsigned g : 2, out : 1;
	size_t row;
	long long thread, at, reply;     /* reply -1: none */
	int off, roff;
};

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static int
group_rehash(struct group *g, size_t nslot)
{
	size_t *slot = calloc(nslot, sizeof(*slot)), i, j;

	if (slot == NULL)
		return -1;
	for (i = 0; i < g->rows->n; i++) {
		for (j = hash_str(g->rows->v[i].key) & (nslot - 1); slot[j] != 0; j = (j + 1) & (nslot - 1))
			;
		slot[j] = i + 1;
	}
	free(g->slot);
	g->slot = slot;
	g->nslot = nslot;
	return 0;
}

/* the row of key, made when missing (label may be NULL); SIZE_MAX when
 * out of memory */
static size_t
group_row(struct group *g, const char *key, const char *label)
{
	struct atsm_report_rows *rows = g->rows;
	struct atsm_report_row *w;
	size_t j;

	if (g->nslot == 0 && group_rehash(g, 64) < 0)
		return SIZE_MAX;
	for (j = hash_str(key) & (g->nslot - 1); g->slot[j] != 0; j = (j + 1) & (g->nslot - 1))
		if (strcmp(rows->v[g->slot[j] - 1].key, key) == 0)
			return g->slot[j] - 1;
	if (rows->n == rows->cap) {
		size_t cap = rows->cap ? rows->cap * 2 : 16;
		void *v = realloc(rows->v, cap * sizeof(*rows->v));
		void *t = realloc(g->threads, cap * sizeof(*g->threads));
		void *a;

		if (v != NULL)
			rows->v = v;
		if (t != NULL)
			g->threads = t;
		if (v == NULL || t == NULL ||
		    (a = realloc(g->answered, cap * sizeof(*g->answered))) == NULL)
			return SIZE_MAX;
		g->answered = a;
		rows->cap = cap;
	}
	w = &rows->v[rows->n];
	memset(w, 0, sizeof(*w));
	w->reply_rate = -1;
	w->in_median = w->in_p90 = w->out_median = w->out_p90 = -1;
	if ((w->key = strdup(key)) == NULL ||
	    (w->label = strdup(label != NULL && *label != '\0' ? label : key)) == NULL) {
		free(w->key);
		return SIZE_MAX;
	}
	g->threads[rows->n] = g->answered[rows->n] = 0;
	g->slot[j] = ++rows->n;
	if (rows->n * 2 > g->nslot && group_rehash(g, g->nslot * 2) < 0)
		return SIZE_MAX;
	return rows->n - 1;
}

static void
group_free(struct group *g)
{
	free(g->threads);
	free(g->answered);
	free(g->slot);
}

static void
add_sample(struct fetch *f, unsigned g, size_t row, bool out, long long thread, long long at,
    int off, long long reply, int roff)
{
	if (f->ns == f->caps) {
		size_t cap = f->caps ? f->caps * 2 : 256;
		struct sample *s = realloc(f->s, cap * sizeof(*s));

		if (s == NULL) {
			f->nomem = true;
			return;
		}
		f->s = s;
		f->caps = cap;
	}
	f->s[f->ns++] = (struct sample){ g, out, row, thread, at, reply, off, roff };
}

static int
cmp_sample(const void *a, const void *b)
{
	const struct sample *x = a, *y = b;

	if (x->g != y->g)
		return x->g < y->g ? -1 : 1;
	if (x->row != y->row)
		return x->row < y->row ? -1 : 1;
	if (x->out != y->out)
		return x->out < y->out ? -1 : 1;
	if (x->thread != y->thread)
		return x->thread < y->thread ? -1 : 1;
	return x->at < y->at ? -1 : x->at > y->at;
}

/* The keys of one mail in each group: the owner, the mailboxes of its
 * thread (newline-separated), its jobs (space-separated ids).  fn is
 * called for each (group, row). */
typedef void (*each_fn)(struct fetch *f, unsigned g, size_t row, void *arg);

static void
each_key(struct fetch *f, const char *login, const char *name, const char *mailboxes,
    const char *jobs, each_fn fn, void *arg)
{
	char buf[512];
	const char *p, *e;
	size_t row, n;

	if (login != NULL && *login != '\0') {
		if ((row = group_row(&f->g[G_RECRUITER], login, name)) == SIZE_MAX)
			f->nomem = true;
		else
			fn(f, G_RECRUITER, row, arg);
	}
	for (p = mailboxes; p != NULL && *p != '\0'; p = *e != '\0' ? e + 1 : e) {
		e = strchr(p, '\n');
		if (e == NULL)
			e = p + strlen(p);
		if ((n = (size_t)(e - p)) == 0 || n >= sizeof(buf))
			continue;
		memcpy(buf, p, n);
		buf[n] = '\0';
		if ((row = group_row(&f->g[G_MAILBOX], buf, NULL)) == SIZE_MAX)
			f->nomem = true;
		else
			fn(f, G_MAILBOX, row, arg);
	}
	for (p = jobs; p != NULL && *p != '\0'; p = *e != '\0' ? e + 1 : e) {
		e = strchr(p, ' ');
		if (e == NULL)
			e = p + strlen(p);
		if ((n = (size_t)(e - p)) == 0 || n >= sizeof(buf))
			continue;
		memcpy(buf, p, n);
		buf[n] = '\0';
		if ((row = group_row(&f->g[G_JOB], buf, NULL)) == SIZE_MAX)
			f->nomem = true;
		else
			fn(f, G_JOB, row, arg);
	}
}

/* ------------------------------------------------------------- the mail */

struct mail {
	bool out, answers;
	long long thread, at, reply;
	int off, roff;
	int hard, soft;
};

static void
count_mail(struct fetch *f, unsigned g, size_t row, void *arg)
{
	const struct mail *m = arg;
	struct atsm_report_row *w = &f->g[g].rows->v[row];

	if (m->out) {
		w->sent++;
		w->bounces_hard += m->hard;
		w->bounces_soft += m->soft;
	} else if (m->answers) {
		w->replies++;
	}
	add_sample(f, g, row, m->out, m->thread, m->at, m->off, m->reply, m->roff);
}

static long long
duration(const struct sample *s, const struct atsm_office *office)
{
	if (office != NULL)
		return atsm_office_seconds(s->at, s->off, s->reply, s->roff, office);
	return s->reply - s->at;
}

/* The samples sorted by (group, row, direction, thread, time): the first
 * of each thread is the thread's first mail of that direction in the
 * period; its answer gives the thread's time to first reply. */
static int
durations(struct fetch *f, const struct atsm_office *office)
{
	long long *d = NULL;
	size_t i = 0, j, nd;

	if (f->ns > 1)		/* qsort's base may be NULL when empty */
		qsort(f->s, f->ns, sizeof(*f->s), cmp_sample);
	if (f->ns > 0 && (d = malloc(f->ns * sizeof(*d))) == NULL)
		return -1;
	while (i < f->ns) {
		const struct sample *s0 = &f->s[i];
		struct group *g = &f->g[s0->g];
		struct atsm_report_row *w = &g->rows->v[s0->row];

		nd = 0;
		for (j = i; j < f->ns && f->s[j].g == s0->g && f->s[j].row == s0->row &&
		    f->s[j].out == s0->out; j++) {
			const struct sample *s = &f->s[j];

			if (j > i && s->thread == f->s[j - 1].thread)
				continue;                 /* not the thread's first */
			if (s->out)
				g->threads[s->row]++;
			if (s->reply < 0)
				continue;
			if (s->out)
				g->answered[s->row]++;
			d[nd++] = duration(s, office);
		}
		if (s0->out) {
			w->in_median = atsm_report_percentile(d, nd, 0.5);
			w->in_p90 = atsm_report_percentile(d, nd, 0.9);
			w->reply_rate = atsm_report_rate(g->answered[s0->row], g->threads[s0->row]);
		} else {
			w->out_median = atsm_report_percentile(d, nd, 0.5);
			w->out_p90 = atsm_report_percentile(d, nd, 0.9);
		}
		i = j;
	}
	free(d);
	return 0;
}

static struct atsm_report_day *
day_of(struct atsm_report *r, const char *date)
{
	size_t lo = 0, hi = r->ndays;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(date, r->days[mid].date);

		if (c == 0)
			return &r->days[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static const char mail_sql[] =
	"SELECT direction = 'out', at, at_off, day, owner_login, owner_name, thread,"
	" array_to_string(jobs, ' '), array_to_string(mailboxes, E'\\n'), answers,"
	" coalesce(reply_at, -1), coalesce(reply_off, 0), bounces_hard, bounces_soft"
	" FROM atsmail.report_mail(to_timestamp($1::bigint), to_timestamp($2::bigint))";

static const char *
val(const PGresult *res, int i, int j)
{
	return PQgetisnull(res, i, j) ? NULL : PQgetvalue(res, i, j);
}

static int
fetch_mail(struct fetch *f, PGconn *conn, const char *const *p, struct atsm_err *err)
{
	PGresult *res;
	int i;

	if ((res = atsm_db_exec(conn, mail_sql, 2, p, err)) == NULL)
		return -1;
	for (i = 0; i < PQntuples(res) && !f->nomem; i++) {
		struct mail m;
		struct atsm_report_day *day;

		m.out = PQgetvalue(res, i, 0)[0] == 't';
		m.at = strtoll(PQgetvalue(res, i, 1), NULL, 10);
		m.off = atoi(PQgetvalue(res, i, 2));
		m.thread = strtoll(PQgetvalue(res, i, 6), NULL, 10);
		m.answers = PQgetvalue(res, i, 9)[0] == 't';
		m.reply = strtoll(PQgetvalue(res, i, 10), NULL, 10);
		m.roff = atoi(PQgetvalue(res, i, 11));
		m.hard = atoi(PQgetvalue(res, i, 12));
		m.soft = atoi(PQgetvalue(res, i, 13));
		if ((day = day_of(f->r, PQgetvalue(res, i, 3))) != NULL) {
			if (m.out)
				day->sent++;
			else if (m.answers)
				day->replies++;
		}
		each_key(f, val(res, i, 4), val(res, i, 5), val(res, i, 8), val(res, i, 7),
		    count_mail, &m);
	}
	PQclear(res);
	return 0;
}

/* ----------------------------------------------------- now: held, open */

static void
count_held(struct fetch *f, unsigned g, size_t row, void *arg)
{
	f->g[g].rows->v[row].held++;
}

static void
count_open(struct fetch *f, unsigned g, size_t row, void *arg)
{
	f->g[g].rows->v[row].open++;
}

static int
fetch_now(struct fetch *f, PGconn *conn, struct atsm_err *err)
{
	struct atsm_report *r = f->r;
	PGresult *res;
	int i;

	if ((res = atsm_db_exec(conn, "SELECT owner_login, owner_name,"
	    " array_to_string(mailboxes, E'\\n'), array_to_string(jobs, ' ')"
	    " FROM atsmail.report_held()", 0, NULL, err)) == NULL)
		return -1;
	for (i = 0; i < PQntuples(res) && !f->nomem; i++)
		each_key(f, val(res, i, 0), val(res, i, 1), val(res, i, 2), val(res, i, 3),
		    count_held, NULL);
	PQclear(res);
	if ((res = atsm_db_exec(conn, "SELECT mailbox, assignee_login, assignee_name,"
	    " array_to_string(jobs, ' '), age FROM atsmail.report_open_items(now())",
	    0, NULL, err)) == NULL)
		return -1;
	for (i = 0; i < PQntuples(res) && !f->nomem; i++) {
		const char *mb = PQgetvalue(res, i, 0);
		long long age = strtoll(PQgetvalue(res, i, 4), NULL, 10);
		struct atsm_report_aging *a;
		int k;

		each_key(f, val(res, i, 1), val(res, i, 2), NULL, val(res, i, 3), count_open, NULL);
		/* the mailbox itself (each_key's mailbox list is a thread's) */
		{
			size_t row = group_row(&f->g[G_MAILBOX], mb, NULL);

			if (row == SIZE_MAX) {
				f->nomem = true;
				break;
			}
			f->g[G_MAILBOX].rows->v[row].open++;
		}
		/* rows come ordered by mailbox: a new mailbox starts an entry */
		if (r->naging == 0 || strcmp(r->aging[r->naging - 1].mailbox, mb) != 0) {
			a = realloc(r->aging, (r->naging + 1) * sizeof(*a));
			if (a == NULL) {
				f->nomem = true;
				break;
			}
			r->aging = a;
			a = &r->aging[r->naging];
			memset(a, 0, sizeof(*a));
			if ((a->mailbox = strdup(mb)) == NULL) {
				f->nomem = true;
				break;
			}
			r->naging++;
		}
		k = age < 86400 ? ATSM_AGE_1D : age < 3 * 86400 ? ATSM_AGE_3D :
		    age < 7 * 86400 ? ATSM_AGE_7D : ATSM_AGE_OLDER;
		r->aging[r->naging - 1].n[k]++;
	}
	PQclear(res);
	return 0;
}

/* --------------------------------------------------- days, funnel, jobs */

static int
fetch_days(struct atsm_report *r, PGconn *conn, const char *const *p, struct atsm_err *err)
{
	PGresult *res;
	int i, n;

	if ((res = atsm_db_exec(conn, "SELECT d FROM atsmail.report_days(to_timestamp($1::bigint),"
	    " to_timestamp($2::bigint)) AS d", 2, p, err)) == NULL)
		return -1;
	n = PQntuples(res);
	if (n > 0 && (r->days = calloc((size_t)n, sizeof(*r->days))) == NULL) {
		PQclear(res);
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "report: out of memory");
	}
	for (i = 0; i < n; i++)
		snprintf(r->days[i].date, sizeof(r->days[i].date), "%s", PQgetvalue(res, i, 0));
	r->ndays = (size_t)n;
	PQclear(res);
	return 0;
}

static int
fetch_funnel(struct atsm_report *r, PGconn *conn, const char *const *p, struct atsm_err *err)
{
	PGresult *res;
	int i, n;

	if ((res = atsm_db_exec(conn, "SELECT job_id, job_title, phase, phase_label, sort_order,"
	    " processes FROM atsmail.report_funnel(to_timestamp($1::bigint),"
	    " to_timestamp($2::bigint))", 2, p, err)) == NULL)
		return -1;
	n = PQntuples(res);
	if (n > 0 && (r->funnel = calloc((size_t)n, sizeof(*r->funnel))) == NULL) {
		PQclear(res);
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "report: out of memory");
	}
	for (i = 0; i < n; i++) {
		struct atsm_report_step *s = &r->funnel[i];

		r->nfunnel++;
		s->job_key = strdup(PQgetvalue(res, i, 0));
		s->job_label = strdup(PQgetvalue(res, i, 1));
		s->phase = strdup(PQgetvalue(res, i, 2));
		s->phase_label = strdup(PQgetvalue(res, i, 3));
		s->order = atoi(PQgetvalue(res, i, 4));
		s->count = strtoll(PQgetvalue(res, i, 5), NULL, 10);
		if (s->job_key == NULL || s->job_label == NULL || s->phase == NULL ||
		    s->phase_label == NULL) {
			PQclear(res);
			return atsm_err_setc(err, ATSM_ERR_NOMEM, "report: out of memory");
		}
	}
	PQclear(res);
	return 0;
}

/* the jobs' titles as their labels */
static int
fetch_job_titles(struct fetch *f, PGconn *conn, struct atsm_err *err)
{
	struct atsm_report_rows *jobs = f->g[G_JOB].rows;
	struct atsm_buf ids;
	const char *p[1];
	PGresult *res;
	size_t i, row;
	int k;

	if (jobs->n == 0)
		return 0;
	atsm_buf_init(&ids, 64u * 1024u * 1024u);
	atsm_buf_putc(&ids, '{');
	for (i = 0; i < jobs->n; i++)
		atsm_buf_printf(&ids, "%s%s", i > 0 ? "," : "", jobs->v[i].key);
	if (atsm_buf_putc(&ids, '}') < 0) {
		atsm_buf_free(&ids);
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "report: out of memory");
	}
	p[0] = atsm_buf_str(&ids);
	res = atsm_db_exec(conn, "SELECT id, title FROM atsmail.report_job_titles($1::bigint[])",
	    1, p, err);
	atsm_buf_free(&ids);
	if (res == NULL)
		return -1;
	for (k = 0; k < PQntuples(res); k++) {
		char *t;

		if ((row = group_row(&f->g[G_JOB], PQgetvalue(res, k, 0), NULL)) == SIZE_MAX ||
		    (t = strdup(PQgetvalue(res, k, 1))) == NULL) {
			PQclear(res);
			return atsm_err_setc(err, ATSM_ERR_NOMEM, "report: out of memory");
		}
		free(jobs->v[row].label);
		jobs->v[row].label = t;
	}
	PQclear(res);
	return 0;
}

static int
cmp_key(const void *a, const void *b)
{
	return strcmp(((const struct atsm_report_row *)a)->key,
	    ((const struct atsm_report_row *)b)->key);
}

static int
cmp_job(const void *a, const void *b)
{
	long long x = strtoll(((const struct atsm_report_row *)a)->key, NULL, 10);
	long long y = strtoll(((const struct atsm_report_row *)b)->key, NULL, 10);

	return x < y ? -1 : x > y;
}

/* ---------------------------------------------------------------- fetch */

static int
office_of(const struct ctl *ctx, struct atsm_office *o, struct atsm_err *err)
{
	if (atsm_office_hours_parse(ctx->conf.report_office_hours, o, err) < 0 ||
	    atsm_office_days_parse(ctx->conf.report_office_days, o, err) < 0)
		return atsm_err_prefix(err, "setting report_office_%s",
		    strstr(err->msg, "days") != NULL ? "days" : "hours");
	return 0;
}

static int
begin(struct ctl *ctx, const struct ctl_report_opts *o, struct atsm_report *r,
    struct atsm_err *err)
{
	PGconn *conn = ctx->conn;
	PGresult *res;
	const char *p[1];
	char t[32];

	if (atsm_db_command(conn, "BEGIN READ ONLY", 0, NULL, err) < 0)
		return -1;
	snprintf(t, sizeof(t), "%u", ctx->conf.report_statement_timeout);
	p[0] = t;
	if (atsm_db_command(conn, "SELECT set_config('statement_timeout', $1, true)", 1, p,
	    err) < 0)
		return -1;
	if (o->zone != NULL && *o->zone != '\0') {
		p[0] = o->zone;
		if (atsm_db_command(conn, "SELECT set_config('TimeZone', $1, true)", 1, p, err) < 0)
			return atsm_err_prefix(err, "--tz %s", o->zone);
	}
	if ((res = atsm_db_exec(conn, "SELECT current_setting('TimeZone')", 0, NULL, err)) == NULL)
		return -1;
	snprintf(r->zone, sizeof(r->zone), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if (o->as_login == NULL)
		return 0;
	snprintf(r->as_login, sizeof(r->as_login), "%s", o->as_login);
	p[0] = o->as_login;
	if (atsm_db_command(conn, "SET LOCAL ROLE atsmail_app", 0, NULL, err) < 0 ||
	    atsm_db_command(conn, "SELECT set_config('atsmail.acting_user', $1, true)", 1, p,
	    err) < 0)
		return -1;
	if ((res = atsm_db_exec(conn, "SELECT atsmail.acting_user_id() IS NOT NULL", 0, NULL,
	    err)) == NULL)
		return -1;
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		PQclear(res);
		return atsm_err_setc(err, ATSM_ERR_INPUT, "--as %s: no active user with that "
		    "login, or the connecting login may not act for others (it must be a member "
		    "of atsmail_app and not mapped to a user itself)", o->as_login);
	}
	PQclear(res);
	return 0;
}

int
ctl_report_fetch(struct ctl *ctx, const struct ctl_report_opts *o, struct atsm_report *r,
    struct atsm_err *err)
{
	struct fetch f;
	struct atsm_office office;
	char from[32], to[32];
	const char *p[2] = { from, to };
	int rc = -1;
	unsigned g;

	if (o->office_hours && office_of(ctx, &office, err) < 0)
		return -1;
	memset(&f, 0, sizeof(f));
	f.r = r;
	f.g[G_RECRUITER].rows = &r->recruiters;
	f.g[G_MAILBOX].rows = &r->mailboxes;
	f.g[G_JOB].rows = &r->jobs;
	r->from = o->from;
	r->to = o->to;
	r->office_hours = o->office_hours;
	snprintf(from, sizeof(from), "%lld", o->from);
	snprintf(to, sizeof(to), "%lld", o->to);
	if (begin(ctx, o, r, err) < 0 ||
	    fetch_days(r, ctx->conn, p, err) < 0 ||
	    fetch_mail(&f, ctx->conn, p, err) < 0 ||
	    fetch_now(&f, ctx->conn, err) < 0 ||
	    fetch_funnel(r, ctx->conn, p, err) < 0)
		goto out;
	if (f.nomem || durations(&f, o->office_hours ? &office : NULL) < 0) {
		atsm_err_setc(err, ATSM_ERR_NOMEM, "report: out of memory");
		goto out;
	}
	if (fetch_job_titles(&f, ctx->conn, err) < 0)
		goto out;
	/* an empty group has no array (NULL), which qsort must not get */
	if (r->recruiters.n > 1)
		qsort(r->recruiters.v, r->recruiters.n, sizeof(*r->recruiters.v), cmp_key);
	if (r->mailboxes.n > 1)
		qsort(r->mailboxes.v, r->mailboxes.n, sizeof(*r->mailboxes.v), cmp_key);
	if (r->jobs.n > 1)
		qsort(r->jobs.v, r->jobs.n, sizeof(*r->jobs.v), cmp_job);
	rc = 0;
out:
	atsm_db_rollback(ctx->conn);
	for (g = 0; g < G_N; g++)
		group_free(&f.g[g]);
	free(f.s);
	return rc;
}

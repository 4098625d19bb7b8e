/* milter-take.c -- a mail the outbound decision TAKES (ats+bulk,
 * ats+template.<code>): made into a bulk job in PostgreSQL, then
 * discarded; atsmaild's bulk runner sends one mail per recipient
 * (docs/bulk.md, "SMTP-time checks").
 *
 * Interface: milter_take (milter.h).
 *
 * The decision (lib/outbound/decide-take.c) has checked what the snapshot
 * shows: the sender, the commands, the envelope recipients and their
 * records, the limit.  What only PostgreSQL knows is checked here, on a
 * connection of a small pool of our own (the recorder and the follower
 * have theirs): the template exists for this user, the list
 * (ats+bulk.<list>) exists, the recipients of an attached CSV, every
 * merge tag has a value for every recipient (the mail merged once per
 * recipient into a scratch buffer, thrown away: the runner merges again
 * when it sends).  Then atsm_bulk_db_create() in one transaction, and
 * the original is discarded: the client saw 250, and the job is the
 * mail.
 *
 * What goes wrong: a sentence the sender can act on is 550 5.7.1 (and an
 * explanation mail, as for every refusal); PostgreSQL unreachable or a
 * statement failing is 451 4.3.0 -- the client keeps the mail and
 * retries, nothing is lost, no job is half made.
 */
#include "atsm-build-config.h"
#include "milter.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/csv.h"
#include "base/log.h"
#include "mail/addr.h"
#include "mail/mime.h"
#include "outbound/decide.h"
#include "store/bulk-db.h"
#include "store/db.h"
#include "store/template-db.h"
#include "template/template.h"

#define TAKE_POOL_SIZE 2          /* mails taken at once; more wait */
#define TAKE_WAIT_MS 5000         /* for a free connection */
#define MERGE_MAX (64u * 1024u * 1024u)   /* one merged mail, thrown away */
#define CSV_TEXT_MAX (16u * 1024u * 1024u)

/* ---- the pool, made at the first mail taken ------------------------------- */

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct atsm_db_pool *pool;

static PGconn *
acquire(const struct atsm_conf *conf, struct atsm_err *err)
{
	struct atsm_db_params prm;
	struct atsm_db_pool *p;

	pthread_mutex_lock(&pool_lock);
	if (pool == NULL) {
		memset(&prm, 0, sizeof(prm));
		prm.conninfo = conf->db_conninfo;
		prm.pool_size = TAKE_POOL_SIZE;
		prm.statement_timeout_ms = conf->db_statement_timeout;
		prm.connect_timeout_ms = conf->db_connect_timeout;
		prm.application_name = "atsmaild-take";
		pool = atsm_db_pool_new(&prm, err);
	}
	p = pool;
	pthread_mutex_unlock(&pool_lock);
	if (p == NULL)
		return NULL;
	return atsm_db_acquire(p, TAKE_WAIT_MS, err);
}

static void
release(PGconn *c)
{
	if (c != NULL)
		atsm_db_release(pool, c);
}

void
milter_take_shutdown(void)
{
	pthread_mutex_lock(&pool_lock);
	if (pool != NULL)
		atsm_db_pool_free(pool);
	pool = NULL;
	pthread_mutex_unlock(&pool_lock);
}

/* ---- the recipients -------------------------------------------------------- */

struct take_rcpt {
	char *addr;               /* normalised */
	char kind;                /* 'r', 'c', 0 = unmatched */
	long long id;
};

struct take {
	struct milter_session *s;
	const struct atsm_out_plan *p;
	PGconn *conn;
	struct take_rcpt *v;
	size_t n, cap, matched;
	size_t no_addr;           /* list members without an address: not sendable */
	char cmd_addr[ATSM_REFUSAL_ADDR_MAX];   /* the command named in sentences */
	bool again;               /* the job exists already (the same template mail) */
	struct atsm_refusal r;    /* 550 */
	struct atsm_err err;      /* 451 */
};

static char
kind_char(enum atsm_record_kind k)
{
	return k == ATSM_RECORD_RESUME ? 'r' : k == ATSM_RECORD_CONTACT ? 'c' : 0;
}

/* Add addr once (the first kind/id wins); -1 when memory runs out. */
static int
add_rcpt(struct take *t, const char *addr, char kind, long long id)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->v[i].addr, addr) == 0)
			return 0;
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		struct take_rcpt *a = realloc(t->v, cap * sizeof(*a));

		if (a == NULL)
			return -1;
		t->v = a;
		t->cap = cap;
	}
	if ((t->v[t->n].addr = strdup(addr)) == NULL)
		return -1;
	t->v[t->n].kind = id != 0 ? kind : 0;
	t->v[t->n].id = id != 0 ? id : 0;
	t->matched += t->v[t->n].kind != 0;
	t->n++;
	return 0;
}

static void
refuse(struct take *t, enum atsm_refusal_kind kind, const char *a0, const char *a1)
{
	const struct atsm_conf *conf = &t->s->gen->conf;
	const char *lp = conf->command_localpart != NULL && conf->command_localpart[0] != '\0' ?
	    conf->command_localpart : ATSM_COMMAND_LOCALPART_DEFAULT;

	atsm_refusal_set(&t->r, kind, lp, conf->ats_domain, t->cmd_addr, a0, a1);
}

/* ats+bulk.<list>: 0, 1 refused (no such list), -1 (err). */
static int
list_rcpts(struct take *t)
{
	struct atsm_bulk_rcpt *v = NULL;
	size_t n = 0, i;
	int rc;

	rc = atsm_bulk_db_list(t->conn, t->p->take.list, t->p->user_id, t->p->take.limit, &v,
	    &n, &t->err);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		refuse(t, ATSM_REFUSAL_NO_LIST, t->p->take.list, NULL);
		return 1;
	}
	for (i = 0; i < n && rc >= 0; i++) {
		if (v[i].addr == NULL || v[i].addr[0] == '\0') {
			t->no_addr++;
			continue;
		}
		if (add_rcpt(t, v[i].addr, v[i].kind, v[i].id) < 0)
			rc = atsm_err_setc(&t->err, ATSM_ERR_NOMEM, "out of memory");
	}
	atsm_bulk_rcpts_free(v, n);
	return rc < 0 ? -1 : 0;
}

/* The column of a CSV header line that holds addresses, or -1. */
static int
address_column(const struct atsm_csv_record *h)
{
	static const char *const names[] = { "email", "e-mail", "mail", "address",
	    "email address", "メールアドレス", "メール", "アドレス" };
	size_t i, k;

	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		for (i = 0; i < h->n; i++) {
			const char *f = h->fields[i];

			while (*f == ' ')
				f++;
			if (strncasecmp(f, names[k], strlen(names[k])) == 0 &&
			    (f[strlen(names[k])] == '\0' || f[strlen(names[k])] == ' '))
				return (int)i;
		}
	return -1;
}

/* The addresses of a CSV's text, with the records PostgreSQL gives them. */
static int
csv_addrs(struct take *t, const char *text, size_t len)
{
	struct atsm_csv_reader rd;
	struct atsm_csv_record rec = { 0 };
	char **addrs = NULL, what[160];
	struct atsm_bulk_rcpt *found = NULL;
	size_t n = 0, cap = 0, i;
	int col = -1, rc;

	atsm_csv_reader_init(&rd, text, len);
	while ((rc = atsm_csv_next(&rd, &rec, &t->err)) == 1) {
		char *norm = NULL;

		if (col < 0) {
			if ((col = address_column(&rec)) < 0) {
				refuse(t, ATSM_REFUSAL_CSV_BAD, "its first line names no email or "
				    "address column", NULL);
				rc = 1;
				break;
			}
			continue;
		}
		if ((size_t)col >= rec.n || rec.fields[col][0] == '\0')
			continue;
		if (atsm_addr_normalize(rec.fields[col], &norm, NULL) < 0) {
			snprintf(what, sizeof(what), "line %u: \"%.60s\" is not an address",
			    rec.line, rec.fields[col]);
			refuse(t, ATSM_REFUSAL_CSV_BAD, what, NULL);
			rc = 1;
			break;
		}
		if (n == cap) {
			char **a = realloc(addrs, (cap = cap ? 2 * cap : 64) * sizeof(*a));

			if (a == NULL) {
				free(norm);
				rc = atsm_err_setc(&t->err, ATSM_ERR_NOMEM, "out of memory");
				break;
			}
			addrs = a;
		}
		addrs[n++] = norm;
		if (n > t->p->take.limit)
			break;                  /* the limit refuses it anyway */
	}
	atsm_csv_record_free(&rec);
	if (rc < 0 && t->err.cls != ATSM_ERR_NOMEM) {
		/* the reader's error names the line */
		refuse(t, ATSM_REFUSAL_CSV_BAD, t->err.msg, NULL);
		rc = 1;
	}
	if (rc == 0 || (rc == 1 && t->r.kind == ATSM_REFUSAL_NONE)) {
		rc = 0;
		if (n > 0 && (found = calloc(n, sizeof(*found))) == NULL)
			rc = atsm_err_setc(&t->err, ATSM_ERR_NOMEM, "out of memory");
		else if (n > 0 && atsm_bulk_db_by_addr(t->conn, t->p->user_id, n,
		    (const char *const *)addrs, found, &t->err) < 0)
			rc = -1;
		for (i = 0; i < n && rc == 0; i++)
			if (add_rcpt(t, addrs[i], found[i].kind, found[i].id) < 0)
				rc = atsm_err_setc(&t->err, ATSM_ERR_NOMEM, "out of memory");
		if (found != NULL)
			atsm_bulk_rcpts_free(found, n);
	}
	for (i = 0; i < n; i++)
		free(addrs[i]);
	free(addrs);
	return rc;
}

/* ats+bulk with a text/csv part: its recipients.  0, 1 refused, -1. */
static int
attached_csv(struct take *t)
{
	const struct atsm_buf *raw = &t->s->msg.raw;
	struct atsm_mime_msg m;
	struct atsm_buf body, text;
	size_t i;
	int rc = 0;

	if (atsm_mime_parse(raw->data, raw->len, NULL, &m, &t->err) < 0) {
		atsm_mime_free(&m);
		return -1;
	}
	for (i = 0; i < m.n && rc == 0; i++) {
		if (strcmp(m.v[i].type, "text/csv") != 0 &&
		    strcmp(m.v[i].type, "application/csv") != 0)
			continue;
		atsm_buf_init(&body, CSV_TEXT_MAX);
		atsm_buf_init(&text, CSV_TEXT_MAX);
		if (atsm_mime_body_decode(&m.v[i], &body) < 0) {
			refuse(t, ATSM_REFUSAL_CSV_BAD, "larger than 16 MiB", NULL);
			rc = 1;
		} else if (atsm_csv_decode(body.data, body.len, ATSM_CSV_AUTO, &text, NULL, NULL,
		    &t->err) < 0) {
			refuse(t, ATSM_REFUSAL_CSV_BAD, "larger than 16 MiB once decoded", NULL);
			rc = 1;
		} else
			rc = csv_addrs(t, text.data != NULL ? text.data : "", text.len);
		atsm_buf_free(&body);
		atsm_buf_free(&text);
	}
	atsm_mime_free(&m);
	return rc;
}

/* ---- the merge check ------------------------------------------------------- */

/* Every matched recipient's tags have a value (or the template says
 * "empty"): one statement for the values of all, then one merge each into
 * a scratch buffer.  0, 1 refused, -1. */
static int
merge_check(struct take *t, const struct atsm_template *tpl)
{
	const struct atsm_buf *raw = &t->s->msg.raw;
	enum atsm_tpl_missing missing = tpl != NULL ? tpl->on_missing : ATSM_TPL_MISSING_REFUSE;
	long long job = t->p->commands.njobs > 0 ? (long long)t->p->commands.jobs[0] : 0;
	struct atsm_tpl_fields *fields = NULL;
	const char **rcpts = NULL;
	long long *ids = NULL;
	char *kinds = NULL;
	size_t i, n = 0;
	int rc = 0;

	if (t->matched == 0)
		return 0;
	fields = calloc(t->matched, sizeof(*fields));
	rcpts = calloc(t->matched, sizeof(*rcpts));
	ids = calloc(t->matched, sizeof(*ids));
	kinds = calloc(t->matched + 1, 1);
	if (fields == NULL || rcpts == NULL || ids == NULL || kinds == NULL)
		rc = atsm_err_setc(&t->err, ATSM_ERR_NOMEM, "out of memory");
	for (i = 0; i < t->n && rc == 0; i++) {
		if (t->v[i].kind == 0)
			continue;
		atsm_tpl_fields_init(&fields[n]);
		kinds[n] = t->v[i].kind;
		ids[n] = t->v[i].id;
		rcpts[n++] = t->v[i].addr;
	}
	if (rc == 0 && atsm_tpl_db_fields(t->conn, n, kinds, ids, rcpts, job, t->p->user_id,
	    fields, &t->err) < 0)
		rc = -1;
	for (i = 0; i < n && rc == 0; i++) {
		struct atsm_buf out;
		struct atsm_tpl_fault fault;
		struct atsm_err e;

		memset(&fault, 0, sizeof(fault));
		atsm_err_clear(&e);
		atsm_buf_init(&out, MERGE_MAX);
		if (atsm_tpl_merge_message(raw->data, raw->len, &fields[i], missing, &out, &fault,
		    &e) < 0) {
			rc = 1;
			if (fault.code == ATSM_TPL_FAULT_MISSING)
				refuse(t, ATSM_REFUSAL_TAG_MISSING, fault.tag, fields[i].what[0] !=
				    '\0' ? fields[i].what : rcpts[i]);
			else if (fault.code == ATSM_TPL_FAULT_UNKNOWN_TAG)
				refuse(t, ATSM_REFUSAL_TAG_UNKNOWN, fault.tag, NULL);
			else if (fault.code != ATSM_TPL_FAULT_NONE)
				refuse(t, ATSM_REFUSAL_TAG_SYNTAX, e.msg, NULL);
			else {
				/* memory, or the merged mail past MERGE_MAX */
				t->err = e;
				rc = -1;
			}
		}
		atsm_buf_free(&out);
	}
	for (i = 0; i < n; i++)
		atsm_tpl_fields_free(&fields[i]);
	free(fields);
	free(rcpts);
	free(ids);
	free(kinds);
	return rc;
}

/* ---- the job ----------------------------------------------------------------- */

static int
create_job(struct take *t, long long *job_id, size_t *n_items)
{
	const struct atsm_out_plan *p = t->p;
	struct atsm_bulk_job_new j;
	struct atsm_bulk_item_new *items;
	const char **extra = NULL;
	size_t i, k, n = 0;
	int rc;

	if ((items = calloc(t->n + 1, sizeof(*items))) == NULL ||
	    (extra = calloc(t->n + 1, sizeof(*extra))) == NULL) {
		free(items);
		return atsm_err_setc(&t->err, ATSM_ERR_NOMEM, "out of memory");
	}
	if (p->take.bulk) {
		for (i = 0; i < t->n; i++) {
			items[n].rcpt = t->v[i].addr;
			items[n].kind = t->v[i].kind;
			items[n].record_id = t->v[i].id;
			items[n++].unmatched = t->v[i].kind == 0;
		}
	} else {
		/* one mail merged for its one record, to every original
		 * recipient: the record's address is the item, the others go
		 * with it */
		for (i = 0; i < t->n && n == 0; i++) {
			if (t->v[i].kind == 0)
				continue;
			items[0].rcpt = t->v[i].addr;
			items[0].kind = t->v[i].kind;
			items[0].record_id = t->v[i].id;
			/* the merged mail keeps the client's Message-ID: its Sent
			 * copy, the reply and the record are one thread */
			items[0].message_id = p->message_id;
			n = 1;
			for (k = 0; k < t->n; k++)
				if (k != i)
					extra[items[0].n_extra++] = t->v[k].addr;
			items[0].extra_rcpts = extra;
		}
	}
	memset(&j, 0, sizeof(j));
	j.user_id = p->user_id;
	j.origin = p->take.bulk ? "mail" : "template";
	j.template_code = p->take.template_code[0] != '\0' ? p->take.template_code : NULL;
	j.subject = p->subject;
	j.source = t->s->msg.raw.data;
	j.source_len = t->s->msg.raw.len;
	j.commands_json = p->take.commands_json;
	j.job_id = p->commands.njobs > 0 ? (long long)p->commands.jobs[0] : 0;
	j.items = items;
	j.n_items = n;
	/* 0: the client sent this template mail again (after a 451 whose
	 * job was made after all): the first job stands, nothing twice */
	if ((rc = atsm_bulk_db_create(t->conn, &j, job_id, &t->err)) == 0)
		t->again = true;
	rc = rc < 0 ? -1 : 0;
	*n_items = n;
	free(items);
	free(extra);
	return rc;
}

static int
run(struct take *t, long long *job_id, size_t *n_items)
{
	const struct atsm_out_plan *p = t->p;
	struct atsm_template tpl;
	bool have_tpl = false;
	size_t i;
	int rc;

	for (i = 0; i < p->take.n_rcpts; i++)
		if (add_rcpt(t, p->take.rcpts[i].addr, kind_char(p->take.rcpts[i].kind),
		    p->take.rcpts[i].id) < 0)
			return atsm_err_setc(&t->err, ATSM_ERR_NOMEM, "out of memory");
	if ((t->conn = acquire(&t->s->gen->conf, &t->err)) == NULL)
		return -1;
	memset(&tpl, 0, sizeof(tpl));
	if (p->take.template_code[0] != '\0') {
		if ((rc = atsm_tpl_db_load(t->conn, p->take.template_code, p->user_id, &tpl,
		    &t->err)) < 0)
			return -1;
		if (rc == 0) {
			refuse(t, ATSM_REFUSAL_NO_TEMPLATE, p->take.template_code, NULL);
			return 1;
		}
		have_tpl = true;
	}
	rc = 0;
	if (p->take.bulk && p->take.list[0] != '\0')
		rc = list_rcpts(t);
	if (rc == 0 && p->take.bulk && t->s->msg.facts.csv_attached)
		rc = attached_csv(t);
	if (rc == 0 && atsm_out_take_check(&t->s->gen->conf, p, t->n, t->matched, &t->r) == 1)
		rc = 1;
	if (rc == 0)
		rc = merge_check(t, have_tpl ? &tpl : NULL);
	if (rc == 0)
		rc = create_job(t, job_id, n_items);
	if (have_tpl)
		atsm_template_free(&tpl);
	return rc;
}

int
milter_take(struct milter_session *s, const struct atsm_out_plan *p)
{
	const struct atsm_conf *conf = &s->gen->conf;
	const char *qid = s->msg.facts.queue_id != NULL && s->msg.facts.queue_id[0] != '\0' ?
	    s->msg.facts.queue_id : "NOQUEUE";
	const char *lp = conf->command_localpart != NULL && conf->command_localpart[0] != '\0' ?
	    conf->command_localpart : ATSM_COMMAND_LOCALPART_DEFAULT;
	struct take t;
	long long job_id = 0;
	size_t n_items = 0, i;
	char num[64];
	int rc;

	memset(&t, 0, sizeof(t));
	t.s = s;
	t.p = p;
	atsm_err_clear(&t.err);
	if (p->take.bulk && p->take.list[0] != '\0')
		snprintf(t.cmd_addr, sizeof(t.cmd_addr), "%s+bulk.%s@%s", lp, p->take.list,
		    conf->ats_domain);
	else if (p->take.bulk)
		snprintf(t.cmd_addr, sizeof(t.cmd_addr), "%s+bulk@%s", lp, conf->ats_domain);
	else
		snprintf(t.cmd_addr, sizeof(t.cmd_addr), "%s+template.%s@%s", lp,
		    p->take.template_code, conf->ats_domain);
	if (!s->msg.keep_raw || s->msg.raw_overflow) {
		/* the job is the mail: a mail not kept whole cannot be taken */
		snprintf(num, sizeof(num), "%zu", conf->explain_attach_max);
		refuse(&t, ATSM_REFUSAL_TAKE_TOO_LARGE, num, NULL);
		atsm_log(LOG_INFO, "%s: reject 552 5.3.4: from=<%s>: %s", qid,
		    s->msg.facts.env_from, t.r.text);
		return milter_reply(s, "552", "5.3.4", t.r.text);
	}
	rc = run(&t, &job_id, &n_items);
	release(t.conn);
	for (i = 0; i < t.n; i++)
		free(t.v[i].addr);
	free(t.v);
	if (rc < 0) {
		atsm_log(LOG_ERR, "%s: cannot make the bulk job of %s (mail tempfailed): %s", qid,
		    t.cmd_addr, t.err.msg);
		return milter_reply(s, "451", "4.3.0", "atsmail: cannot take this bulk or "
		    "template mail now, try again later");
	}
	if (rc == 1) {
		atsm_log(LOG_INFO, "%s: reject 550 5.7.1: from=<%s>: %s", qid,
		    s->msg.facts.env_from, t.r.text);
		if (milter_reply(s, "550", "5.7.1", t.r.text) < 0)
			return -1;
		milter_explain(s, &t.r, true);
		return 0;
	}
	if (t.again) {
		atsm_log(LOG_INFO, "%s: sent again: bulk job %lld has this mail already: original "
		    "discarded", qid, job_id);
		return atsm_milter_put_simple(&s->out, ATSM_MILTER_R_DISCARD);
	}
	snprintf(num, sizeof(num), " without_address=%zu", t.no_addr);
	atsm_log(LOG_INFO, "%s: taken: bulk job %lld (%s): user=%s recipients=%zu matched=%zu "
	    "unmatched=%zu items=%zu%s: original discarded", qid, job_id,
	    p->take.bulk ? "mail" : "template", p->user_login, t.n, t.matched, t.n - t.matched,
	    n_items, t.no_addr > 0 ? num : "");
	return atsm_milter_put_simple(&s->out, ATSM_MILTER_R_DISCARD);
}

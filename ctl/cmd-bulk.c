/* cmd-bulk.c -- atsmailctl bulk: bulk send from the command line
 * (docs/bulk.md, docs/atsmailctl.md).
 *
 *   atsmailctl bulk send --template CODE (--query Q | --csv FILE | --ids r12,c7 |
 *                        --list NAME) --as LOGIN [--job ID] [--dry-run] [--no-wait]
 *   atsmailctl bulk status ID [--csv]
 *   atsmailctl bulk list
 *   atsmailctl bulk cancel ID
 *
 * send finds the recipients, checks them (the limit bulk_max_recipients,
 * every tag of the template has a value for every record unless the
 * template merges a missing one as empty) and makes the job (origin 'ctl')
 * in one transaction; atsmaild's bulk runner sends it.  Nothing is sent
 * when a check fails.  Then it follows the job until it ends: a progress
 * bar on a terminal, a line per change otherwise (on stderr), and the
 * result CSV on stdout.
 */
#include "atsm-build-config.h"
#include "ctl-ops.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/csv.h"
#include "bulk/attach.h"
#include "bulk/compose.h"
#include "bulk/result.h"
#include "mail/addr.h"
#include "store/bulk-db.h"
#include "store/template-db.h"
#include "template/template.h"

#define CSV_FILE_MAX (64u * 1024u * 1024u)
#define SHOWN_MAX 20                     /* unmatched rows named */
#define ATTACH_MAX (16u * 1024u * 1024u)  /* bytes of all --attach files */

void
ctl_cmd_bulk_usage(FILE *fp)
{
	fputs(
	    "usage: " CTL_PROGNAME " [OPTIONS] bulk send --template CODE\n"
	    "                     (--query Q | --csv FILE | --ids r12,c7 | --list NAME)\n"
	    "                     --as LOGIN [--job ID] [--attach FILE]... [--dry-run] [--no-wait]\n"
	    "       " CTL_PROGNAME " [OPTIONS] bulk status ID [--csv]\n"
	    "       " CTL_PROGNAME " [OPTIONS] bulk list\n"
	    "       " CTL_PROGNAME " [OPTIONS] bulk cancel ID\n"
	    "\n"
	    "  send     one mail per recipient, made from the template and merged from\n"
	    "           the recipient's record, sent by atsmaild's bulk runner through\n"
	    "           Postfix as LOGIN; follows the job until it ends and prints the\n"
	    "           result CSV (recipient, record, message_id, queue_id, status, reason)\n"
	    "  status   counts by status and bounced; --csv: one row per recipient with\n"
	    "           what became of it later (delivery, status_code, bounced_at,\n"
	    "           diagnostic)\n"
	    "  list     the jobs, newest first\n"
	    "  cancel   stop a queued or running job before its next mail\n"
	    "\n"
	    "  --template CODE  the template (LOGIN's own or shared)\n"
	    "  --query Q        records by query: \"phase=interview1, job=12,\n"
	    "                   phase-older-than=30d, kind=resume, owner=LOGIN\"\n"
	    "  --csv FILE       a column \"email\" or \"address\" (optional \"kind\" and \"id\"):\n"
	    "                   rows matched to records by address; unmatched rows are\n"
	    "                   reported and not sent\n"
	    "  --ids LIST       records: r<id> a resume, c<id> a contact, comma separated\n"
	    "  --list NAME      a recipient list (its members or its saved query)\n"
	    "  --as LOGIN       the sender: an active user with an address\n"
	    "  --job ID         the job the {{job.*}} tags name\n"
	    "  --attach FILE    attach FILE to every mail (repeatable; 16 MB in all)\n"
	    "  --dry-run        print what would go (count, the first merged mail); make nothing\n"
	    "  --no-wait        make the job and print its id; do not follow it\n"
	    "\n"
	    "At most bulk_max_recipients recipients per job.\n"
	    "Exit codes: 0 done, 1 refused or failed (nothing sent), 2 usage,\n"
	    "3 configuration, 4 database unavailable.\n", fp);
}

/* ---- finding the recipients ------------------------------------------------ */

struct rcpts {
	struct atsm_bulk_rcpt *v;        /* records (id 0: unmatched) */
	size_t n;
	size_t unmatched;
	char **why;                      /* per unmatched row: its text */
};

static void
rcpts_free(struct rcpts *r)
{
	size_t i;

	if (r->why != NULL)
		for (i = 0; i < r->n; i++)
			free(r->why[i]);
	free(r->why);
	atsm_bulk_rcpts_free(r->v, r->n);
	memset(r, 0, sizeof(*r));
}

static int
parse_ids(const char *list, char **kinds, long long **ids, size_t *n)
{
	char *copy = strdup(list), *p, *t, *end;
	size_t cap = 1;

	*n = 0;
	if (copy == NULL)
		return -1;
	for (p = copy; *p != '\0'; p++)
		cap += *p == ',';
	*kinds = calloc(cap, 1);
	*ids = calloc(cap, sizeof(**ids));
	if (*kinds == NULL || *ids == NULL) {
		free(copy);
		return -1;
	}
	for (p = copy; (t = strsep(&p, ",")) != NULL;) {
		while (*t == ' ')
			t++;
		if (*t == '\0')
			continue;
		if ((t[0] != 'r' && t[0] != 'c') || t[1] < '1' || t[1] > '9') {
			ctl_error("bulk send: --ids %s: '%s' is not r<id> (a resume) or c<id> "
			    "(a contact)", list, t);
			free(copy);
			return -2;
		}
		errno = 0;
		(*ids)[*n] = strtoll(t + 1, &end, 10);
		if (errno != 0 || (*end != '\0' && *end != ' ')) {
			ctl_error("bulk send: --ids %s: '%s' is not r<id> or c<id>", list, t);
			free(copy);
			return -2;
		}
		(*kinds)[(*n)++] = t[0];
	}
	free(copy);
	if (*n == 0) {
		ctl_error("bulk send: --ids %s: no record", list);
		return -2;
	}
	return 0;
}

static int
from_ids(PGconn *c, const char *list, long long uid, const char *login, struct rcpts *out)
{
	struct atsm_err err;
	char *kinds = NULL;
	long long *ids = NULL;
	size_t n, i;
	int rc;

	if ((rc = parse_ids(list, &kinds, &ids, &n)) < 0) {
		free(kinds);
		free(ids);
		return rc == -2 ? CTL_EXIT_USAGE : CTL_EXIT_FAIL;
	}
	if ((out->v = calloc(n, sizeof(*out->v))) == NULL) {
		free(kinds);
		free(ids);
		return CTL_EXIT_FAIL;
	}
	out->n = n;
	atsm_err_clear(&err);
	if (atsm_bulk_db_records(c, uid, n, kinds, ids, out->v, &err) < 0) {
		free(kinds);
		free(ids);
		return ctl_ops_db_fail("bulk send", &err);
	}
	rc = CTL_EXIT_OK;
	for (i = 0; i < n; i++)
		if (out->v[i].id == 0) {
			ctl_error("bulk send: %c%lld: no such %s, or %s may not see it",
			    kinds[i], ids[i], kinds[i] == 'r' ? "resume" : "contact", login);
			rc = CTL_EXIT_FAIL;
		}
	free(kinds);
	free(ids);
	return rc;
}

static int
column(const struct atsm_csv_record *h, const char *a, const char *b)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (strcasecmp(h->fields[i], a) == 0 || (b != NULL && strcasecmp(h->fields[i], b) == 0))
			return (int)i;
	return -1;
}

static int
from_csv(PGconn *c, const char *path, long long uid, struct rcpts *out)
{
	struct atsm_csv_reader rd;
	struct atsm_csv_record rec = { 0 }, head = { 0 };
	struct atsm_buf raw, text;
	struct atsm_err err;
	char **addrs = NULL, chunk[65536];
	size_t n = 0, cap = 0, i;
	int col_addr, col_kind, col_id, got, rc = CTL_EXIT_FAIL;
	FILE *fp;

	if ((fp = fopen(path, "rb")) == NULL) {
		ctl_error("bulk send: --csv %s: %s", path, strerror(errno));
		return CTL_EXIT_FAIL;
	}
	atsm_buf_init(&raw, CSV_FILE_MAX);
	atsm_buf_init(&text, CSV_FILE_MAX * 2);
	for (;;) {
		size_t k = fread(chunk, 1, sizeof(chunk), fp);

		if (k > 0 && atsm_buf_append(&raw, chunk, k) < 0) {
			ctl_error("bulk send: --csv %s: larger than %u bytes", path, CSV_FILE_MAX);
			fclose(fp);
			goto out;
		}
		if (k < sizeof(chunk))
			break;
	}
	fclose(fp);
	atsm_err_clear(&err);
	if (atsm_csv_decode(raw.data != NULL ? raw.data : "", raw.len, ATSM_CSV_AUTO, &text,
	    NULL, NULL, &err) < 0) {
		ctl_error("bulk send: --csv %s: %s", path, err.msg);
		goto out;
	}
	atsm_csv_reader_init(&rd, atsm_buf_str(&text), text.len);
	if (atsm_csv_next(&rd, &head, &err) != 1) {
		ctl_error("bulk send: --csv %s: no header line", path);
		goto out;
	}
	if ((col_addr = column(&head, "email", "address")) < 0) {
		ctl_error("bulk send: --csv %s: no column \"email\" or \"address\" in the header "
		    "line", path);
		goto out;
	}
	col_kind = column(&head, "kind", NULL);
	col_id = column(&head, "id", NULL);
	while ((got = atsm_csv_next(&rd, &rec, &err)) != 0) {
		char *a = NULL;

		if (got < 0) {
			ctl_error("bulk send: --csv %s: %s", path, err.msg);
			goto out;
		}
		if ((size_t)col_addr >= rec.n || rec.fields[col_addr][0] == '\0')
			continue;
		if (atsm_addr_normalize(rec.fields[col_addr], &a, &err) < 0 || a == NULL) {
			ctl_error("bulk send: --csv %s line %u: '%s' is not an address", path,
			    rec.line, rec.fields[col_addr]);
			free(a);
			goto out;
		}
		if (n == cap) {
			char **nv = realloc(addrs, (cap = cap ? 2 * cap : 256) * sizeof(*addrs));

			if (nv == NULL) {
				free(a);
				goto out;
			}
			addrs = nv;
		}
		addrs[n++] = a;
		(void)col_kind;
		(void)col_id;
	}
	if (n == 0) {
		ctl_error("bulk send: --csv %s: no address in column %s", path,
		    head.fields[col_addr]);
		goto out;
	}
	out->v = calloc(n, sizeof(*out->v));
	out->why = calloc(n, sizeof(*out->why));
	if (out->v == NULL || out->why == NULL)
		goto out;
	out->n = n;
	if (atsm_bulk_db_by_addr(c, uid, n, (const char *const *)addrs, out->v, &err) < 0) {
		rc = ctl_ops_db_fail("bulk send", &err);
		goto out;
	}
	rc = CTL_EXIT_OK;
out:
	for (i = 0; i < n; i++)
		free(addrs[i]);
	free(addrs);
	atsm_csv_record_free(&rec);
	atsm_csv_record_free(&head);
	atsm_buf_free(&raw);
	atsm_buf_free(&text);
	return rc;
}

/* ---- send ---------------------------------------------------------------- */

struct send_opts {
	const char *tpl, *query, *csv, *ids, *list, *login, *job;
	const char *attach[ATSM_BULK_ATTACH_FILES_MAX];
	size_t n_attach;
	bool dry_run, no_wait;
};

/* The draft with the --attach files into out: 0, or the exit code. */
static int
attach_files(const struct send_opts *o, const struct atsm_buf *draft, struct atsm_buf *out)
{
	struct atsm_bulk_file f[ATSM_BULK_ATTACH_FILES_MAX];
	struct atsm_buf data[ATSM_BULK_ATTACH_FILES_MAX];
	struct atsm_err err;
	char boundary[64], chunk[65536];
	size_t i, total = 0;
	int rc = CTL_EXIT_FAIL;

	for (i = 0; i < o->n_attach; i++)
		atsm_buf_init(&data[i], ATTACH_MAX);
	for (i = 0; i < o->n_attach; i++) {
		FILE *fp = fopen(o->attach[i], "rb");
		const char *base = strrchr(o->attach[i], '/');
		size_t k;

		if (fp == NULL) {
			ctl_error("bulk send: --attach %s: %s", o->attach[i], strerror(errno));
			goto out;
		}
		while ((k = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
			if ((total += k) > ATTACH_MAX || atsm_buf_append(&data[i], chunk, k) < 0) {
				ctl_error("bulk send: --attach: the files are larger than %u bytes in all",
				    ATTACH_MAX);
				fclose(fp);
				goto out;
			}
		}
		fclose(fp);
		f[i].name = base != NULL ? base + 1 : o->attach[i];
		f[i].data = data[i].data != NULL ? data[i].data : "";
		f[i].len = data[i].len;
	}
	snprintf(boundary, sizeof(boundary), "=_atsmail_attach_%ld_%ld", (long)time(NULL),
	    (long)getpid());
	atsm_err_clear(&err);
	if (atsm_bulk_attach(draft->data, draft->len, f, o->n_attach, boundary, out, &err) < 0) {
		ctl_error("bulk send: --attach: %s", err.msg);
		goto out;
	}
	rc = CTL_EXIT_OK;
out:
	for (i = 0; i < o->n_attach; i++)
		atsm_buf_free(&data[i]);
	return rc;
}

static int
user_by_login(PGconn *c, const char *login, long long *uid, char **addr)
{
	struct atsm_err err;
	const char *p[1] = { login };
	PGresult *r;

	atsm_err_clear(&err);
	if ((r = atsm_db_exec(c, "SELECT u.id, u.active, (SELECT a.addr_norm FROM"
	    " atsmail.addresses a WHERE a.owner_kind = 'user' AND a.owner_id = u.id"
	    " ORDER BY a.is_primary DESC, a.id LIMIT 1) FROM atsmail.users u WHERE u.login = $1",
	    1, p, &err)) == NULL)
		return ctl_ops_db_fail("bulk send", &err);
	if (PQntuples(r) == 0 || strcmp(PQgetvalue(r, 0, 1), "t") != 0 ||
	    PQgetisnull(r, 0, 2)) {
		ctl_error("bulk send: --as %s: %s", login, PQntuples(r) == 0 ? "no such user" :
		    strcmp(PQgetvalue(r, 0, 1), "t") != 0 ? "the user is not active" :
		    "the user has no address");
		PQclear(r);
		return CTL_EXIT_FAIL;
	}
	*uid = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	*addr = strdup(PQgetvalue(r, 0, 2));
	PQclear(r);
	return *addr == NULL ? CTL_EXIT_FAIL : CTL_EXIT_OK;
}

static void
progress(long long id, const struct atsm_bulk_counts *k, int total, bool tty, const char *st)
{
	int done = k->n[ATSM_BULK_ACCEPTED] + k->n[ATSM_BULK_REFUSED] + k->n[ATSM_BULK_CANCELLED];
	int width = 30, fill = total > 0 ? done * width / total : width, i;

	if (tty) {
		fprintf(stderr, "\rbulk %lld [", id);
		for (i = 0; i < width; i++)
			fputc(i < fill ? '#' : ' ', stderr);
		fprintf(stderr, "] %d/%d sent %d refused %d %s   ", done, total,
		    k->n[ATSM_BULK_ACCEPTED], k->n[ATSM_BULK_REFUSED], st);
	} else {
		fprintf(stderr, "bulk %lld: %d/%d done, %d accepted, %d refused, %s\n", id, done,
		    total, k->n[ATSM_BULK_ACCEPTED], k->n[ATSM_BULK_REFUSED], st);
	}
	fflush(stderr);
}

/* Follow job id until it ends; then the CSV on stdout. */
static int
follow(PGconn *c, long long id)
{
	struct atsm_bulk_counts k, last;
	struct atsm_bulk_item *items;
	struct atsm_buf csv;
	struct atsm_err err;
	char status[12] = "", last_status[12] = "";
	bool tty = isatty(STDERR_FILENO) == 1;
	int total = 0;
	size_t n;

	memset(&last, 0xff, sizeof(last));
	atsm_err_clear(&err);
	for (;;) {
		if (atsm_bulk_db_status(c, id, status, &err) < 0 ||
		    atsm_bulk_db_counts(c, id, &k, &err) < 0)
			return ctl_ops_db_fail("bulk send", &err);
		total = k.n[ATSM_BULK_PENDING] + k.n[ATSM_BULK_SENDING] + k.n[ATSM_BULK_ACCEPTED] +
		    k.n[ATSM_BULK_REFUSED] + k.n[ATSM_BULK_CANCELLED];
		if (memcmp(&k, &last, sizeof(k)) != 0 || strcmp(status, last_status) != 0)
			progress(id, &k, total, tty, status);
		last = k;
		memcpy(last_status, status, sizeof(last_status));
		if (strcmp(status, "done") == 0 || strcmp(status, "cancelled") == 0 ||
		    strcmp(status, "failed") == 0)
			break;
		sleep(1);
	}
	if (tty)
		fputc('\n', stderr);
	if (atsm_bulk_db_items(c, id, false, &items, &n, &err) < 0)
		return ctl_ops_db_fail("bulk send", &err);
	atsm_buf_init(&csv, ATSM_BULK_RESULT_MAX);
	if (atsm_bulk_result_csv(items, n, false, &csv) == 0)
		fwrite(atsm_buf_str(&csv), 1, csv.len, stdout);
	atsm_buf_free(&csv);
	atsm_bulk_items_free(items, n);
	if (strcmp(status, "done") != 0) {
		ctl_error("bulk %lld: %s", id, status);
		return CTL_EXIT_FAIL;
	}
	return CTL_EXIT_OK;
}


static int
send_parse(int argc, char **argv, struct send_opts *o)
{
	int i, given = 0;

	memset(o, 0, sizeof(*o));
	for (i = 1; i < argc; i++) {
		const char *v = NULL;

		if (ctl_ops_option(argc, argv, &i, "--template", &v))
			o->tpl = v;
		else if (ctl_ops_option(argc, argv, &i, "--query", &v))
			o->query = v, given++;
		else if (ctl_ops_option(argc, argv, &i, "--csv", &v))
			o->csv = v, given++;
		else if (ctl_ops_option(argc, argv, &i, "--ids", &v))
			o->ids = v, given++;
		else if (ctl_ops_option(argc, argv, &i, "--list", &v))
			o->list = v, given++;
		else if (ctl_ops_option(argc, argv, &i, "--as", &v))
			o->login = v;
		else if (ctl_ops_option(argc, argv, &i, "--job", &v))
			o->job = v;
		else if (strcmp(argv[i], "--dry-run") == 0) {
			o->dry_run = true;
			continue;
		} else if (strcmp(argv[i], "--no-wait") == 0) {
			o->no_wait = true;
			continue;
		} else if (ctl_ops_option(argc, argv, &i, "--attach", &v)) {
			if (v != NULL && o->n_attach >= ATSM_BULK_ATTACH_FILES_MAX) {
				ctl_error("bulk send: more than %d --attach", ATSM_BULK_ATTACH_FILES_MAX);
				return CTL_EXIT_USAGE;
			}
			if (v != NULL)
				o->attach[o->n_attach++] = v;
		} else {
			ctl_error("bulk send: unknown argument '%s'", argv[i]);
			return CTL_EXIT_USAGE;
		}
		if (v == NULL)
			return CTL_EXIT_USAGE;
	}
	if (o->tpl == NULL || o->login == NULL || given != 1) {
		ctl_error("bulk send: needs --template CODE, --as LOGIN and one of --query, "
		    "--csv, --ids, --list");
		return CTL_EXIT_USAGE;
	}
	return CTL_EXIT_OK;
}

static int
bulk_send(struct ctl *ctx, int argc, char **argv)
{
	struct send_opts o;
	struct atsm_template t;
	struct atsm_tpl_fields *fields = NULL;
	struct atsm_bulk_item_new *items = NULL;
	struct atsm_bulk_job_new jn;
	struct rcpts rc_ = { 0 };
	struct atsm_err err;
	struct atsm_buf draft, mail, with;
	char *user_addr = NULL, *kinds = NULL, jobs_json[64], date[64], from[400];
	const char **addrs = NULL;
	long long uid = 0, *ids = NULL, job = 0, id;
	size_t i, n = 0, max;
	bool have_tpl = false;
	int rc, got;

	if ((rc = send_parse(argc, argv, &o)) != 0)
		return rc;
	if (o.job != NULL && (job = strtoll(o.job, NULL, 10)) <= 0) {
		ctl_error("bulk send: --job %s: not a job id", o.job);
		return CTL_EXIT_USAGE;
	}
	if ((rc = ctl_connect(ctx)) != 0)
		return rc;
	max = ctx->conf.bulk_max_recipients;
	if ((rc = user_by_login(ctx->conn, o.login, &uid, &user_addr)) != 0)
		return rc;
	atsm_err_clear(&err);
	atsm_buf_init(&draft, 64u * 1024u * 1024u);
	atsm_buf_init(&mail, 64u * 1024u * 1024u);
	atsm_buf_init(&with, 64u * 1024u * 1024u);
	if ((got = atsm_tpl_db_load(ctx->conn, o.tpl, uid, &t, &err)) <= 0) {
		if (got < 0)
			rc = ctl_ops_db_fail("bulk send", &err);
		else {
			ctl_error("bulk send: --template %s: no such template for %s", o.tpl,
			    o.login);
			rc = CTL_EXIT_FAIL;
		}
		goto out;
	}
	have_tpl = true;
	rc = CTL_EXIT_FAIL;
	if (o.ids != NULL) {
		if ((rc = from_ids(ctx->conn, o.ids, uid, o.login, &rc_)) != 0)
			goto out;
	} else if (o.csv != NULL) {
		if ((rc = from_csv(ctx->conn, o.csv, uid, &rc_)) != 0)
			goto out;
	} else if (o.query != NULL) {
		if (atsm_bulk_db_query(ctx->conn, o.query, uid, max, &rc_.v, &rc_.n, &err) < 0) {
			if (err.cls == ATSM_ERR_INPUT)
				ctl_error("bulk send: --query: %s", err.msg);
			rc = err.cls == ATSM_ERR_INPUT ? CTL_EXIT_FAIL :
			    ctl_ops_db_fail("bulk send", &err);
			goto out;
		}
	} else {
		if ((got = atsm_bulk_db_list(ctx->conn, o.list, uid, max, &rc_.v, &rc_.n,
		    &err)) <= 0) {
			if (got == 0)
				ctl_error("bulk send: --list %s: no such list for %s", o.list, o.login);
			rc = got == 0 ? CTL_EXIT_FAIL : ctl_ops_db_fail("bulk send", &err);
			goto out;
		}
	}
	rc = CTL_EXIT_FAIL;
	/* one mail per address: the first record of each; records without one */
	for (i = 0; i < rc_.n; i++) {
		size_t k;

		if (rc_.v[i].addr == NULL) {
			if (rc_.v[i].id != 0)
				fprintf(stderr, "bulk send: %s %lld has no address: left out\n",
				    rc_.v[i].kind == 'c' ? "contact" : "resume", rc_.v[i].id);
			continue;
		}
		for (k = 0; k < i; k++)
			if (rc_.v[k].addr != NULL && strcmp(rc_.v[k].addr, rc_.v[i].addr) == 0)
				break;
		if (k < i) {
			free(rc_.v[i].addr);
			rc_.v[i].addr = NULL;
			continue;
		}
		if (rc_.v[i].id == 0)
			rc_.unmatched++;
		else
			n++;
	}
	if (n > max) {
		ctl_error("bulk send refused: %zu%s recipients, more than bulk_max_recipients "
		    "(%zu); nothing was sent", n, o.query != NULL || o.list != NULL ? " or more" : "",
		    max);
		goto out;
	}
	if (rc_.unmatched > 0) {
		size_t shown = 0;

		fprintf(stderr, "bulk send: %zu address%s matched no record and will not be sent:\n",
		    rc_.unmatched, rc_.unmatched == 1 ? "" : "es");
		for (i = 0; i < rc_.n && shown < SHOWN_MAX; i++)
			if (rc_.v[i].id == 0 && rc_.v[i].addr != NULL) {
				fprintf(stderr, "  %s\n", rc_.v[i].addr);
				shown++;
			}
	}
	if (n == 0) {
		ctl_error("bulk send refused: no recipient with a record; nothing was sent");
		goto out;
	}
	/* the tags of every recipient, checked before anything is made */
	items = calloc(rc_.n, sizeof(*items));
	fields = calloc(rc_.n, sizeof(*fields));
	kinds = calloc(rc_.n, 1);
	ids = calloc(rc_.n, sizeof(*ids));
	addrs = calloc(rc_.n, sizeof(*addrs));
	if (items == NULL || fields == NULL || kinds == NULL || ids == NULL || addrs == NULL)
		goto out;
	for (i = 0; i < rc_.n; i++) {
		atsm_tpl_fields_init(&fields[i]);
		kinds[i] = rc_.v[i].id != 0 ? rc_.v[i].kind : '-';
		ids[i] = rc_.v[i].id;
		addrs[i] = rc_.v[i].addr != NULL ? rc_.v[i].addr : "";
	}
	if (atsm_tpl_db_fields(ctx->conn, rc_.n, kinds, ids, addrs, job, uid, fields, &err) < 0) {
		rc = ctl_ops_db_fail("bulk send", &err);
		goto out;
	}
	{
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	}
	snprintf(from, sizeof(from), "<%s>", user_addr);
	if (atsm_tpl_draft(&t, from, NULL, date, "bulk.draft@atsmail", &draft, &err) < 0) {
		ctl_error("bulk send: template %s: %s", o.tpl, err.msg);
		goto out;
	}
	if (o.n_attach > 0) {
		struct atsm_buf swap;

		if ((rc = attach_files(&o, &draft, &with)) != 0)
			goto out;
		rc = CTL_EXIT_FAIL;
		swap = draft;
		draft = with;
		with = swap;
	}
	{
		bool first = true;
		size_t bad = 0;

		for (i = 0; i < rc_.n; i++) {
			struct atsm_bulk_compose_in in;
			struct atsm_tpl_fault fault;

			if (rc_.v[i].id == 0 || rc_.v[i].addr == NULL)
				continue;
			memset(&in, 0, sizeof(in));
			in.source = draft.data;
			in.source_len = draft.len;
			in.fields = &fields[i];
			in.missing = t.on_missing;
			in.rcpt = rc_.v[i].addr;
			in.rcpt_name = atsm_tpl_fields_get(&fields[i], kinds[i] == 'c' ?
			    "contact.name" : "resume.name", NULL);
			in.message_id = "bulk.dry-run@atsmail";
			in.now = (long long)time(NULL);
			atsm_err_clear(&err);
			if (atsm_bulk_compose(&in, &mail, &fault, &err) < 0) {
				if (bad++ < SHOWN_MAX)
					ctl_error("bulk send refused: %s", err.msg);
				continue;
			}
			if (first && o.dry_run) {
				printf("bulk send --dry-run: %zu mail%s from %s with template %s\n"
				    "the first one:\n\n", n, n == 1 ? "" : "s", user_addr, o.tpl);
				fwrite(mail.data, 1, mail.len, stdout);
				printf("\n");
			}
			first = false;
		}
		if (bad > 0) {
			ctl_error("bulk send refused: %zu recipient%s with a tag that has no value "
			    "(the template says on_missing refuse); nothing was sent", bad,
			    bad == 1 ? "" : "s");
			goto out;
		}
	}
	if (o.dry_run) {
		printf("nothing was made (--dry-run)\n");
		rc = CTL_EXIT_OK;
		goto out;
	}
	for (i = 0; i < rc_.n; i++) {
		items[i].rcpt = rc_.v[i].addr;
		items[i].kind = rc_.v[i].id != 0 ? rc_.v[i].kind : 0;
		items[i].record_id = rc_.v[i].id;
		items[i].unmatched = rc_.v[i].id == 0;
	}
	/* leave out the duplicates and the records without an address */
	{
		size_t k = 0;

		for (i = 0; i < rc_.n; i++)
			if (items[i].rcpt != NULL)
				items[k++] = items[i];
		memset(&jn, 0, sizeof(jn));
		jn.n_items = k;
	}
	jn.user_id = uid;
	jn.origin = "ctl";
	jn.template_code = o.tpl;
	jn.subject = t.subject;
	snprintf(jobs_json, sizeof(jobs_json), "{}");
	jn.commands_json = jobs_json;
	jn.job_id = job;
	jn.items = items;
	if (o.n_attach > 0) {
		/* the draft with its files travels in the job (origin ctl) */
		jn.source = draft.data;
		jn.source_len = draft.len;
	}
	if ((got = atsm_bulk_db_create(ctx->conn, &jn, &id, &err)) < 0) {
		rc = ctl_ops_db_fail("bulk send", &err);
		goto out;
	}
	fprintf(stderr, "bulk %lld: %zu mail%s queued for atsmaild's bulk runner\n", id, n,
	    n == 1 ? "" : "s");
	if (o.no_wait) {
		printf("%lld\n", id);
		rc = CTL_EXIT_OK;
		goto out;
	}
	rc = follow(ctx->conn, id);
out:
	if (fields != NULL)
		for (i = 0; i < rc_.n; i++)
			atsm_tpl_fields_free(&fields[i]);
	free(fields);
	free(items);
	free(kinds);
	free(ids);
	free(addrs);
	rcpts_free(&rc_);
	if (have_tpl)
		atsm_template_free(&t);
	atsm_buf_free(&draft);
	atsm_buf_free(&mail);
	atsm_buf_free(&with);
	free(user_addr);
	return rc;
}

/* ---- status, list, cancel ---------------------------------------------------- */

static int
job_id_arg(int argc, char **argv, const char *what, long long *id)
{
	char *end;

	if (argc < 2 || (*id = strtoll(argv[1], &end, 10)) <= 0 || *end != '\0') {
		ctl_error("bulk %s: needs a job id", what);
		return CTL_EXIT_USAGE;
	}
	return 0;
}

static int
bulk_status(struct ctl *ctx, int argc, char **argv)
{
	struct atsm_bulk_job j;
	struct atsm_bulk_counts k;
	struct atsm_bulk_item *items;
	struct atsm_err err;
	bool csv = argc > 2 && strcmp(argv[2], "--csv") == 0;
	long long id;
	size_t n;
	int rc, got;

	if ((rc = job_id_arg(argc, argv, "status", &id)) != 0)
		return rc;
	if (argc > (csv ? 3 : 2)) {
		ctl_error("bulk status: unknown argument '%s'", argv[csv ? 3 : 2]);
		return CTL_EXIT_USAGE;
	}
	if ((rc = ctl_connect(ctx)) != 0)
		return rc;
	atsm_err_clear(&err);
	if ((got = atsm_bulk_db_job(ctx->conn, id, &j, &err)) <= 0) {
		if (got == 0)
			ctl_error("bulk status: no job %lld", id);
		return got == 0 ? CTL_EXIT_FAIL : ctl_ops_db_fail("bulk status", &err);
	}
	if (csv) {
		struct atsm_buf b;

		if (atsm_bulk_db_items(ctx->conn, id, true, &items, &n, &err) < 0) {
			atsm_bulk_job_free(&j);
			return ctl_ops_db_fail("bulk status", &err);
		}
		atsm_buf_init(&b, ATSM_BULK_RESULT_MAX);
		rc = atsm_bulk_result_csv(items, n, true, &b);
		if (rc == 0)
			fwrite(atsm_buf_str(&b), 1, b.len, stdout);
		atsm_buf_free(&b);
		atsm_bulk_items_free(items, n);
		atsm_bulk_job_free(&j);
		return rc == 0 ? CTL_EXIT_OK : CTL_EXIT_FAIL;
	}
	if (atsm_bulk_db_counts(ctx->conn, id, &k, &err) < 0) {
		atsm_bulk_job_free(&j);
		return ctl_ops_db_fail("bulk status", &err);
	}
	printf("job\t%lld\nstatus\t%s\nuser\t%s\norigin\t%s\ntemplate\t%s\nsubject\t%s\n"
	    "created\t%s\ntotal\t%d\npending\t%d\nsending\t%d\naccepted\t%d\nrefused\t%d\n"
	    "unmatched\t%d\ncancelled\t%d\nbounced\t%d\n", j.id, j.status, j.login, j.origin,
	    j.template_code != NULL ? j.template_code : "-", j.subject != NULL ? j.subject : "",
	    j.created_at, j.total, k.n[ATSM_BULK_PENDING], k.n[ATSM_BULK_SENDING],
	    k.n[ATSM_BULK_ACCEPTED], k.n[ATSM_BULK_REFUSED], k.n[ATSM_BULK_UNMATCHED],
	    k.n[ATSM_BULK_CANCELLED], k.bounced);
	atsm_bulk_job_free(&j);
	if (k.bounced == 0)
		return CTL_EXIT_OK;
	/* who bounced, one a line */
	if (atsm_bulk_db_items(ctx->conn, id, true, &items, &n, &err) < 0)
		return ctl_ops_db_fail("bulk status", &err);
	for (size_t i = 0; i < n; i++)
		if (items[i].delivery != NULL && strcmp(items[i].delivery, "bounced") == 0)
			printf("bounced\t%s\t%s\t%s\t%s\n", items[i].rcpt,
			    items[i].status_code != NULL ? items[i].status_code : "-",
			    items[i].bounced_at != NULL ? items[i].bounced_at : "-",
			    items[i].diagnostic != NULL ? items[i].diagnostic : "");
	atsm_bulk_items_free(items, n);
	return CTL_EXIT_OK;
}

static int
bulk_list(struct ctl *ctx)
{
	struct atsm_bulk_job *v;
	struct atsm_err err;
	size_t n, i;
	int rc;

	if ((rc = ctl_connect(ctx)) != 0)
		return rc;
	atsm_err_clear(&err);
	if (atsm_bulk_db_jobs(ctx->conn, 1000, &v, &n, &err) < 0)
		return ctl_ops_db_fail("bulk list", &err);
	printf("id\tstatus\tuser\torigin\ttemplate\ttotal\tcreated\tsubject\n");
	for (i = 0; i < n; i++) {
		printf("%lld\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", v[i].id, v[i].status, v[i].login,
		    v[i].origin, v[i].template_code != NULL ? v[i].template_code : "-", v[i].total,
		    v[i].created_at, v[i].subject != NULL ? v[i].subject : "");
		atsm_bulk_job_free(&v[i]);
	}
	free(v);
	return CTL_EXIT_OK;
}

static int
bulk_cancel(struct ctl *ctx, int argc, char **argv)
{
	struct atsm_err err;
	long long id;
	int rc, got;

	if ((rc = job_id_arg(argc, argv, "cancel", &id)) != 0)
		return rc;
	if ((rc = ctl_connect(ctx)) != 0)
		return rc;
	atsm_err_clear(&err);
	if ((got = atsm_bulk_db_cancel(ctx->conn, id, &err)) < 0)
		return ctl_ops_db_fail("bulk cancel", &err);
	if (got == 0) {
		ctl_error("bulk cancel: job %lld is not queued or running", id);
		return CTL_EXIT_FAIL;
	}
	printf("bulk %lld: cancelled; the runner stops before its next mail\n", id);
	return CTL_EXIT_OK;
}

int
ctl_cmd_bulk(struct ctl *ctx, int argc, char **argv)
{
	if (argc < 2 || ctl_is_help(argv[1])) {
		ctl_cmd_bulk_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CTL_EXIT_USAGE : CTL_EXIT_OK;
	}
	if (strcmp(argv[1], "send") == 0)
		return bulk_send(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "status") == 0)
		return bulk_status(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0)
		return bulk_list(ctx);
	if (strcmp(argv[1], "cancel") == 0)
		return bulk_cancel(ctx, argc - 1, argv + 1);
	ctl_error("bulk: unknown subcommand '%s' (send, status, list, cancel)", argv[1]);
	return CTL_EXIT_USAGE;
}

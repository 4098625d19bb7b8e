/* milter-message.c -- the facts of the message Postfix is passing us.
 *
 * Interface: milter_msg_reset, milter_msg_envfrom, milter_msg_rcpt,
 * milter_msg_header, milter_msg_body, milter_msg_finish,
 * milter_strip_brackets (milter.h).
 *
 * What is kept is bounded by the configuration in force for the message:
 * the headers that matter (From, To, Cc, Message-ID, Subject,
 * In-Reply-To, References, Date, X-ATS-*) by header_max_bytes, the
 * envelope recipients by address_max_count (and ATSM_OUT_MAX_RCPTS).  The
 * body is not kept (only its size and SHA-256) except while an explanation
 * could follow a refusal (explain.c): the mail of a known local sender (a
 * SASL login, or non-SMTP) is kept whole, headers as "Name: value", up to
 * explain_attach_max (also while commands are on: a mail taken for ats+bulk
 * is kept whole in its job).  Inbound mail keeps the same headers and
 * envelope recipients (a bulk runner's mail is decided as sent mail when
 * its X-ATS-Bulk verifies), never its body.
 */
#include "atsm-build-config.h"
#include "milter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "explain/compose.h"
#include "notify/compose.h"
#include "store/journal.h"

#define KEY_COMPONENT "milter"      /* the idempotency keys of sent mail */

static void
hdrs_free(struct milter_hdr *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].value);
	}
	free(v);
}

void
milter_msg_reset(struct milter_msg *m)
{
	size_t i;

	for (i = 0; i < m->facts.n_env_rcpts && m->env_raw != NULL; i++)
		free(m->env_raw[i]);
	free(m->env_raw);
	atsm_out_facts_free(&m->facts);
	hdrs_free(m->xats, m->n_xats);
	hdrs_free(m->addr_hdrs, m->n_addr_hdrs);
	if (m->sha != NULL)
		EVP_MD_CTX_free(m->sha);
	atsm_buf_free(&m->raw);
	memset(m, 0, sizeof(*m));
	atsm_out_facts_init(&m->facts);
	m->dir = ATSM_DIR_INBOUND;
}

char *
milter_strip_brackets(const char *arg)
{
	size_t n;

	while (*arg == ' ' || *arg == '\t')
		arg++;
	n = strlen(arg);
	while (n > 0 && (arg[n - 1] == ' ' || arg[n - 1] == '\t'))
		n--;
	if (n >= 2 && arg[0] == '<' && arg[n - 1] == '>') {
		arg++;
		n -= 2;
	}
	return strndup(arg, n);
}

int
milter_msg_envfrom(struct milter_msg *m, const char *arg, const char *login)
{
	m->in_message = true;
	if ((m->facts.env_from = milter_strip_brackets(arg != NULL ? arg : "")) == NULL)
		return -1;
	if (login != NULL && *login != '\0' && (m->facts.login = strdup(login)) == NULL)
		return -1;
	if (m->dir == ATSM_DIR_OUTBOUND) {
		m->sha = EVP_MD_CTX_new();
		if (m->sha == NULL || EVP_DigestInit_ex(m->sha, EVP_sha256(), NULL) != 1)
			return -1;
	}
	return 0;
}

int
milter_msg_rcpt(struct milter_msg *m, const struct atsm_conf *conf, const char *arg)
{
	size_t max = conf->address_max_count;
	size_t n = m->facts.n_env_rcpts;
	char *raw, *bare;

	if (max == 0 || max > ATSM_OUT_MAX_RCPTS)
		max = ATSM_OUT_MAX_RCPTS;
	if (n >= max) {
		m->rcpt_overflow = true;
		return 0;
	}
	if (n == m->env_cap) {
		size_t cap = m->env_cap ? 2 * m->env_cap : 8;
		char **a = realloc(m->env_raw, cap * sizeof(*a)), **b;

		if (a == NULL)
			return -1;
		m->env_raw = a;
		if ((b = realloc(m->facts.env_rcpts, cap * sizeof(*b))) == NULL)
			return -1;
		m->facts.env_rcpts = b;
		m->env_cap = cap;
	}
	raw = strdup(arg);
	bare = milter_strip_brackets(arg);
	if (raw == NULL || bare == NULL) {
		free(raw);
		free(bare);
		return -1;
	}
	m->env_raw[n] = raw;
	m->facts.env_rcpts[n] = bare;
	m->facts.n_env_rcpts = n + 1;
	return 0;
}

static int
hdr_push(struct milter_hdr **v, size_t *n, const char *name, const char *value)
{
	struct milter_hdr *a;
	size_t i;
	int index = 1;

	for (i = 0; i < *n; i++)
		if (strcasecmp((*v)[i].name, name) == 0)
			index++;
	if ((a = realloc(*v, (*n + 1) * sizeof(*a))) == NULL)
		return -1;
	*v = a;
	a[*n].name = strdup(name);
	a[*n].value = strdup(value);
	a[*n].index = index;
	if (a[*n].name == NULL || a[*n].value == NULL) {
		free(a[*n].name);
		free(a[*n].value);
		return -1;
	}
	(*n)++;
	return 0;
}

/* Keep the first occurrence (a second From or Subject is not the one a
 * reader sees first). */
static int
set_first(char **field, const char *value)
{
	if (*field != NULL)
		return 0;
	*field = strdup(value);
	return *field != NULL ? 0 : -1;
}

/* To and Cc may occur more than once: the facts get them joined. */
static int
append_list(char **field, const char *value)
{
	size_t a, b;
	char *s;

	if (*field == NULL)
		return set_first(field, value);
	a = strlen(*field);
	b = strlen(value);
	if ((s = realloc(*field, a + b + 3)) == NULL)
		return -1;
	memcpy(s + a, ", ", 2);
	memcpy(s + a + 2, value, b + 1);
	*field = s;
	return 0;
}

static bool
kept_header(const char *name)
{
	static const char *const names[] = {
		"From", "Message-ID", "Subject", "In-Reply-To", "References", "Date",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(name, names[i]) == 0)
			return true;
	return false;
}

/* The raw mail is kept for sent mail of a known local sender, while
 * explain_refusals is on (the only mail an explanation can be sent for)
 * or commands are (ats_domain): a mail taken for ats+bulk or
 * ats+template is kept whole in its bulk job (milter-take.c). */
static void
raw_start(struct milter_msg *m, const struct atsm_conf *conf)
{
	m->raw_checked = true;
	m->keep_raw = (conf->explain_refusals || (conf->ats_domain != NULL &&
	    conf->ats_domain[0] != '\0')) && m->dir == ATSM_DIR_OUTBOUND &&
	    ((m->facts.login != NULL && m->facts.login[0] != '\0') || m->facts.non_smtp) &&
	    m->facts.env_from != NULL && m->facts.env_from[0] != '\0';
	if (m->keep_raw)
		atsm_buf_init(&m->raw, conf->explain_attach_max);
}

static void
raw_add(struct milter_msg *m, const char *p, size_t n)
{
	if (!m->keep_raw || m->raw_overflow)
		return;
	if (atsm_buf_append(&m->raw, p, n) < 0)
		m->raw_overflow = true;
}

static bool
automatic_header(const char *name, const char *value)
{
	if (strcasecmp(name, ATSM_EXPLAIN_MARKER) == 0 ||
	    strcasecmp(name, ATSM_NOTIFY_MARKER) == 0)
		return true;
	if (strcasecmp(name, "Auto-Submitted") != 0)
		return false;
	while (*value == ' ' || *value == '\t')
		value++;
	return strncasecmp(value, "no", 2) != 0 || (value[2] != '\0' && value[2] != ' ' &&
	    value[2] != ';' && value[2] != '\t' && value[2] != '(');
}

int
milter_msg_header(struct milter_msg *m, const struct atsm_conf *conf, const char *name,
    const char *value)
{
	bool xats = strncasecmp(name, MILTER_HDR_PREFIX, strlen(MILTER_HDR_PREFIX)) == 0;
	bool is_to = strcasecmp(name, "To") == 0, is_cc = strcasecmp(name, "Cc") == 0;
	bool is_bcc = strcasecmp(name, "Bcc") == 0;
	struct atsm_out_facts *f = &m->facts;
	size_t cost, *used;

	if (!m->raw_checked)
		raw_start(m, conf);
	if (m->keep_raw && !m->raw_overflow) {
		raw_add(m, name, strlen(name));
		raw_add(m, ": ", 2);
		raw_add(m, value, strlen(value));
		raw_add(m, "\r\n", 2);
	}
	if (automatic_header(name, value))
		m->automatic = true;
	if (is_to)
		m->n_to++;
	if (is_cc)
		m->n_cc++;
	if (is_bcc)
		m->n_bcc++;
	/* inbound mail keeps them too: a bulk runner's mail (its X-ATS-Bulk
	 * verified at the end) is decided as sent mail (milter-eom.c) */
	if (!xats && !is_to && !is_cc && !is_bcc && !kept_header(name))
		return 0;
	cost = strlen(name) + strlen(value) + 4;
	if (xats) {
		/* Every X-ATS-* header must be known to be removed; its value
		 * only matters for a genuine X-ATS-Ref, which is short. */
		if (m->n_xats >= MILTER_XATS_MAX) {
			m->xats_overflow = true;
			return 0;
		}
		if (m->hdr_bytes + cost > conf->header_max_bytes)
			value = "";
		else
			m->hdr_bytes += cost;
		return hdr_push(&m->xats, &m->n_xats, name, value);
	}
	/* inbound, these count apart: a large To must not cut the value of
	 * a genuine X-ATS-Ref (the X-ATS-* budget above stays theirs) */
	used = m->dir == ATSM_DIR_OUTBOUND ? &m->hdr_bytes : &m->in_hdr_bytes;
	if (m->hdr_overflow || *used + cost > conf->header_max_bytes) {
		m->hdr_overflow = true;
		return 0;
	}
	*used += cost;
	if (is_to || is_cc || is_bcc) {
		/* the occurrence index counts every To (Cc, Bcc) seen, kept or
		 * not; a Bcc header (some clients leave it) is cut of its
		 * command addresses like To and Cc */
		if (hdr_push(&m->addr_hdrs, &m->n_addr_hdrs, name, value) < 0)
			return -1;
		m->addr_hdrs[m->n_addr_hdrs - 1].index = is_to ? m->n_to : is_cc ? m->n_cc : m->n_bcc;
		return append_list(is_to ? &f->hdr_to : is_cc ? &f->hdr_cc : &f->hdr_bcc, value);
	}
	if (strcasecmp(name, "From") == 0)
		return set_first(&f->hdr_from, value);
	if (strcasecmp(name, "Message-ID") == 0)
		return set_first(&f->hdr_message_id, value);
	if (strcasecmp(name, "Subject") == 0)
		return set_first(&f->hdr_subject, value);
	if (strcasecmp(name, "In-Reply-To") == 0)
		return set_first(&f->hdr_in_reply_to, value);
	if (strcasecmp(name, "References") == 0)
		return set_first(&f->hdr_references, value);
	return set_first(&f->hdr_date, value);
}

void
milter_msg_body(struct milter_msg *m, const unsigned char *p, size_t n)
{
	m->facts.body_size += n;
	if (m->keep_raw && !m->raw_in_body) {
		m->raw_in_body = true;
		raw_add(m, "\r\n", 2);
	}
	raw_add(m, (const char *)p, n);
	if (m->sha != NULL)
		EVP_DigestUpdate(m->sha, p, n);
}

/* A Content-Type of text/csv (or application/csv) in the kept mail: its
 * recipients may be in a CSV (ats+bulk).  Only a hint for the decision:
 * milter-take.c parses the MIME structure. */
static bool
has_csv(const struct atsm_buf *raw)
{
	const char *p = raw->data;
	size_t i;

	for (i = 0; p != NULL && i + 13 < raw->len; i++) {
		if (strncasecmp(raw->data + i, "content-type:", 13) != 0)
			continue;
		p = raw->data + i + 13;
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (strncasecmp(p, "text/csv", 8) == 0 || strncasecmp(p, "application/csv", 15) == 0)
			return true;
	}
	return false;
}

int
milter_msg_finish(struct milter_msg *m, const struct atsm_token_keys *keys,
    const char *queue_id, struct atsm_err *err)
{
	struct atsm_out_facts *f = &m->facts;
	unsigned char md[EVP_MAX_MD_SIZE], id[ATSM_TOKEN_ID_LEN];
	unsigned int mdlen = 0, i;
	char *unique;
	size_t n;
	int rc;

	if ((f->queue_id = strdup(queue_id != NULL ? queue_id : "")) == NULL)
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "out of memory");
	f->submitted_at = (long long)time(NULL);
	f->csv_attached = m->keep_raw && !m->raw_overflow && has_csv(&m->raw);
	f->body_sha256[0] = '\0';
	if (m->sha != NULL && EVP_DigestFinal_ex(m->sha, md, &mdlen) == 1 && mdlen == 32) {
		for (i = 0; i < mdlen; i++)
			snprintf(f->body_sha256 + 2 * i, 3, "%02x", md[i]);
	}
	if (atsm_token_new_id(id, err) < 0)
		return -1;
	if (atsm_token_make(keys, id, f->token) < 0)
		return atsm_err_setc(err, ATSM_ERR_INTERNAL,
		    "cannot sign the message token (secret_file)");
	/* The same mail always gets the same key: a journal entry recorded
	 * twice (a crash between commit and checkpoint) counts once. */
	n = strlen(f->queue_id) + (f->hdr_message_id != NULL ? strlen(f->hdr_message_id) : 0) + 32;
	if ((unique = malloc(n)) == NULL)
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "out of memory");
	snprintf(unique, n, "%s\n%s\n%lld", f->queue_id,
	    f->hdr_message_id != NULL ? f->hdr_message_id : "", f->submitted_at);
	rc = atsm_journal_make_key(KEY_COMPONENT, unique, f->idem_key);
	free(unique);
	if (rc < 0)
		return atsm_err_setc(err, ATSM_ERR_INTERNAL, "cannot compute the idempotency key");
	return 0;
}

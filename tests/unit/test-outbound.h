/* test-outbound.h -- what the unit tests of the outbound pipeline share
 * (tests/unit/test-outbound-*.c): the configuration of the seeded domains,
 * the directory of plain arrays seeded like tests/data/seed.sql
 * (fake-dir.c), mails made in one call, and a decision that fails the test
 * when the directory fails.  No server is needed: every decision reads
 * the fake directory only.
 *
 * Included by one .c file per program: the state is static, the helpers
 * static inline.  The checked fixture runs in each test's own process
 * (Check's fork mode), so a test may change the directory or the
 * configuration freely.
 */
#ifndef ATSM_TEST_OUTBOUND_H
#define ATSM_TEST_OUTBOUND_H

#include "atsm-check.h"
#include "fake-dir.h"
#include "base/conf.h"
#include "outbound/decide.h"
#include "outbound/facts.h"
#include "outbound/record.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD(c) "ats+" c "@ats.atsmail.test"
#define SENT_AT 1795000000LL

static struct atsm_conf conf;
static struct fake_dir fd;
static struct atsm_dir dir;
static int serial;      /* makes Message-IDs and keys unique within a test */

static inline void
setup(void)
{
	struct atsm_err err;

	serial = 0;
	ck_assert_msg(atsm_conf_init(&conf, &err) == 0, "%s", err.msg);
	ck_assert(atsm_conf_set(&conf, "ats_domain", "ats.atsmail.test", &err) == 0);
	ck_assert(atsm_conf_set(&conf, "company_domains", "atsmail.test", &err) == 0);
	fake_dir_init(&fd);
	fake_dir_seed(&fd);
	dir = fake_dir_dir(&fd);
}

static inline void
teardown(void)
{
	fake_dir_free(&fd);
	atsm_conf_free(&conf);
}

static inline void
set_conf(const char *name, const char *value)
{
	struct atsm_err err;

	ck_assert_msg(atsm_conf_set(&conf, name, value, &err) == 0, "%s: %s", name, err.msg);
}

static inline char *
xstrdup(const char *s)
{
	char *p = s != NULL ? strdup(s) : NULL;

	ck_assert(s == NULL || p != NULL);
	return p;
}

/* A mail: from (login, envelope sender), To, Cc, then NULL-terminated
 * envelope recipients (at most 64).  Message-ID <tN@atsmail.test> and key
 * key-N count up from 1 in each test; subject "Interview". */
static inline void
mail(struct atsm_out_facts *f, const char *login, const char *env_from, const char *to,
    const char *cc, ...)
{
	const char *r;
	va_list ap;

	atsm_out_facts_init(f);
	serial++;
	f->login = xstrdup(login);
	f->env_from = xstrdup(env_from != NULL ? env_from : "");
	f->hdr_to = xstrdup(to);
	f->hdr_cc = xstrdup(cc);
	f->hdr_message_id = malloc(64);
	ck_assert(f->hdr_message_id != NULL);
	snprintf(f->hdr_message_id, 64, "<t%d@atsmail.test>", serial);
	f->hdr_subject = xstrdup("Interview");
	ck_assert((f->env_rcpts = calloc(64, sizeof(char *))) != NULL);
	va_start(ap, cc);
	while ((r = va_arg(ap, const char *)) != NULL && f->n_env_rcpts < 64)
		f->env_rcpts[f->n_env_rcpts++] = xstrdup(r);
	va_end(ap);
	f->submitted_at = SENT_AT;
	snprintf(f->idem_key, sizeof(f->idem_key), "key-%d", serial);
}

/* The simplest ATS mail: alice to taro, plus the commands given. */
#define TARO_MAIL(f, ...) mail((f), "alice@atsmail.test", "alice@atsmail.test", \
    "taro@candidate.test", NULL, "taro@candidate.test", __VA_ARGS__)

static inline void
decide_with(const struct atsm_out_facts *f, enum atsm_out_mode mode,
    const struct atsm_token_keys *keys, struct atsm_out_plan *p)
{
	struct atsm_err err = { .msg = "" };

	ck_assert_msg(atsm_out_decide(&dir, &conf, keys, f, mode, p, &err) == 0, "decide: %s",
	    err.msg);
}

static inline void
decide(const struct atsm_out_facts *f, enum atsm_out_mode mode, struct atsm_out_plan *p)
{
	decide_with(f, mode, NULL, p);
}

static inline const struct atsm_out_link *
link_of(const struct atsm_out_plan *p, enum atsm_record_kind kind, long long id)
{
	size_t i;

	for (i = 0; i < p->n_links; i++)
		if (p->links[i].id == id && p->links[i].kind == kind)
			return &p->links[i];
	return NULL;
}

static inline const struct atsm_out_rcpt *
rcpt_of(const struct atsm_out_plan *p, const char *norm)
{
	size_t i;

	for (i = 0; i < p->n_rcpts; i++)
		if (strcmp(p->rcpts[i].norm, norm) == 0)
			return &p->rcpts[i];
	return NULL;
}

static inline void
done(struct atsm_out_facts *f, struct atsm_out_plan *p)
{
	atsm_out_plan_free(p);
	atsm_out_facts_free(f);
}

/* Decide a LIVE mail and expect a rejection whose sentence holds want,
 * with nothing to record. */
static inline void
expect_reject(struct atsm_out_facts *f, const char *want)
{
	struct atsm_out_plan p;

	decide(f, ATSM_OUT_LIVE, &p);
	ck_assert_msg(p.verdict == ATSM_OUT_REJECT, "verdict %s (%s)",
	    atsm_out_verdict_name(p.verdict), p.reply_text);
	ck_assert_msg(strstr(p.reply_text, want) != NULL, "reply \"%s\" lacks \"%s\"",
	    p.reply_text, want);
	ck_assert_uint_eq(p.n_links, 0);
	ck_assert_uint_eq(p.n_procs, 0);
	ck_assert_uint_eq(p.n_phases, 0);
	done(f, &p);
}

#endif

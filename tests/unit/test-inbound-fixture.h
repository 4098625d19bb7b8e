/* test-inbound-fixture.h -- what the unit tests of the inbound pipeline
 * (tests/unit/test-inbound-*.c) share: the fake directory seeded like
 * tests/data/seed.sql and seed-inbound.sql, with the seeded sent mail
 * 5001..5004 given tokens made with this program's test secret; a
 * configuration for the seeded domains; facts of a delivered mail; and
 * asserting helpers around atsm_in_decide, the payload and the effects.
 *
 * No server: every test runs in its own process (Check's fork mode), so
 * the static state is each test's own.  Included by one .c file per
 * program: the helpers are static.
 */
#ifndef ATSM_TEST_INBOUND_FIXTURE_H
#define ATSM_TEST_INBOUND_FIXTURE_H

#include "atsm-check.h"
#include "fake-dir.h"
#include "inbound/decide.h"
#include "inbound/facts.h"
#include "inbound/record.h"
#include "store/journal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET "inbound-test-secret-0123456789abcdefghijklmnop\n"
#define NOW 1795000000LL           /* the time of every test mail */

static struct fake_dir fd;
static struct atsm_dir dir;
static struct atsm_conf conf;
static struct atsm_token_keys keys;
static char tok[4][ATSM_TOKEN_MAX];   /* tokens of sent messages 5001..5004 */
static struct atsm_arena arena;       /* effects */
static int serial;

static inline struct atsm_dir_message *
seeded(const char *msgid)
{
	size_t i;

	for (i = 0; i < fd.n_msgs; i++)
		if (strcmp(fd.msgs[i].msgid, msgid) == 0)
			return &fd.msgs[i].m;
	ck_abort_msg("no seeded message %s", msgid);
	return NULL;
}

static inline void
setup(void)
{
	struct atsm_err err;
	unsigned char id[ATSM_TOKEN_ID_LEN];
	char msgid[64];
	int i;

	fake_dir_init(&fd);
	fake_dir_seed(&fd);
	dir = fake_dir_dir(&fd);
	ck_assert_msg(atsm_conf_init(&conf, &err) == 0, "%s", err.msg);
	ck_assert(atsm_conf_set(&conf, "ats_domain", "ats.atsmail.test", &err) == 0);
	ck_assert(atsm_conf_set(&conf, "company_domains", "atsmail.test", &err) == 0);
	ck_assert_msg(atsm_token_keys_from_string(SECRET, &keys, &err) == 0, "%s", err.msg);
	for (i = 0; i < 4; i++) {
		memset(id, 0x40 + i, sizeof(id));
		ck_assert(atsm_token_make(&keys, id, tok[i]) == 0);
		snprintf(msgid, sizeof(msgid), "out-%d@atsmail.test", 5001 + i);
		snprintf(seeded(msgid)->token, ATSM_DIR_TOKEN_MAX, "%.*s", ATSM_TOKEN_MAX - 1, tok[i]);
	}
	atsm_arena_init(&arena, 4 * 1024 * 1024);
}

static inline void
teardown(void)
{
	atsm_arena_free(&arena);
	atsm_token_keys_wipe(&keys);
	atsm_conf_free(&conf);
	fake_dir_free(&fd);
}

static inline void
set(char **field, const char *v)
{
	free(*field);
	*field = v != NULL ? strdup(v) : NULL;
}

/* Re-key after the mailbox or Message-ID changed. */
static inline void
rekey(struct atsm_in_facts *f)
{
	f->idem_key[0] = '\0';
	ck_assert(atsm_in_facts_make_key(f) == 0);
}

/* A delivered mail: mailbox user, From, To (also the envelope recipient),
 * with a Message-ID and body hash of its own. */
static inline void
mail(struct atsm_in_facts *f, const char *user, const char *from, const char *to)
{
	char buf[128];

	atsm_in_facts_init(f);
	f->how = ATSM_IN_DELIVERY;
	f->mailbox_user = strdup(user);
	f->mailbox = strdup("INBOX");
	f->imap_uid = (unsigned long)(++serial);
	f->env_from = strdup(from);
	f->env_to = strdup(to);
	f->hdr_from = strdup(from);
	f->hdr_to = strdup(to);
	snprintf(buf, sizeof(buf), "<in%d@sender.test>", serial);
	f->hdr_message_id = strdup(buf);
	f->hdr_subject = strdup("Re: Interview");
	f->size = 1234;
	snprintf(buf, sizeof(buf), "body %d", serial);
	ck_assert(atsm_journal_make_key("test", buf, f->body_sha256) == 0);
	f->received_at = NOW;
	ck_assert(atsm_in_facts_make_key(f) == 0);
}

static inline void
decide_mode(const struct atsm_in_facts *f, enum atsm_in_mode mode,
    const struct atsm_token_keys *k, struct atsm_in_plan *p)
{
	struct atsm_err err = { .msg = "" };

	ck_assert_msg(atsm_in_decide(&dir, &conf, k, f, mode, p, &err) == 0, "decide: %s",
	    err.msg);
}

static inline void
decide(const struct atsm_in_facts *f, struct atsm_in_plan *p)
{
	decide_mode(f, ATSM_IN_LIVE, &keys, p);
}

/* What atsmaild does once the mail is journaled. */
static inline void
apply(const struct atsm_in_facts *f, const struct atsm_in_plan *p)
{
	struct atsm_dir_effects e;
	struct atsm_err err = { .msg = "" };

	ck_assert_msg(atsm_in_effects(f, p, &arena, &e, &err) == 0, "effects: %s", err.msg);
	fake_dir_apply(&fd, &e);
}

/* The payload as compact JSON with sorted keys (free() it). */
static inline char *
payload_text(const struct atsm_in_facts *f, const struct atsm_in_plan *p)
{
	struct atsm_err err = { .msg = "" };
	json_t *j = atsm_in_record_payload(f, p, &err);
	char *s;

	ck_assert_msg(j != NULL, "payload: %s", err.msg);
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	ck_assert_ptr_nonnull(s);
	return s;
}

static inline const struct atsm_in_link *
link_of(const struct atsm_in_plan *p, enum atsm_record_kind kind, long long id)
{
	size_t i;

	for (i = 0; i < p->n_links; i++)
		if (p->links[i].id == id && p->links[i].kind == kind)
			return &p->links[i];
	return NULL;
}

static inline bool
has_keyword(const struct atsm_in_plan *p, const char *kw)
{
	size_t i;

	for (i = 0; i < ATSM_IN_MAX_KEYWORDS && p->keywords[i] != NULL; i++)
		if (strcmp(p->keywords[i], kw) == 0)
			return true;
	return false;
}

static inline void
expect_link(const struct atsm_in_plan *p, enum atsm_record_kind kind, long long id,
    const char *rule)
{
	const struct atsm_in_link *l = link_of(p, kind, id);

	ck_assert_msg(l != NULL, "no link to %s %lld (%s)", atsm_record_kind_name(kind), id,
	    p->notes);
	ck_assert_str_eq(l->rule, rule);
}

static inline void
expect_note(const struct atsm_in_plan *p, const char *part)
{
	ck_assert_msg(strstr(p->notes, part) != NULL, "notes \"%s\" lack \"%s\"", p->notes, part);
}

static inline void
done(struct atsm_in_facts *f, struct atsm_in_plan *p)
{
	atsm_in_plan_free(p);
	atsm_in_facts_free(f);
}

#endif

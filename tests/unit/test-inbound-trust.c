/* test-inbound-trust.c -- the sender's evidence in the inbound decision
 * (lib/inbound/decide-match.c, decide-bounce.c, decide-owner.c; issue 10
 * items 1, 2 and the APPEND half of 3), against the fake directory:
 *
 *	a Message-ID (In-Reply-To, References) counts only when the sender
 *	takes part in that message: a participant, an address of a record it
 *	is linked to, or a user; otherwise the mail is matched as if the
 *	reference were absent, no phase rule fires, a note says why; the
 *	author's own record is linked as well
 *	a bounce is believed only from the null sender (or bounce_forwarders)
 *	and for recipients of the sent item; a VERP stamp that names its
 *	recipient is believed for that one only
 *	an APPEND links a copy only of a message the appender may read
 */
#include "test-inbound-fixture.h"

#include "rules/verp.h"

/* Replace the participants of a message the fake holds (its heap copies). */
static void
set_participants(struct atsm_dir_message *m, const char *a, const char *b)
{
	size_t i;

	for (i = 0; i < m->n_participants; i++)
		free((char *)m->participants[i]);
	free(m->participants);
	m->participants = calloc(3, sizeof(char *));
	ck_assert_ptr_nonnull(m->participants);
	m->participants[0] = strdup(a);
	m->participants[1] = b != NULL ? strdup(b) : NULL;
	m->n_participants = b != NULL ? 2 : 1;
}

/* A private thread: carol (private mode) wrote to saburo (resume 1006,
 * not shared); message 5201. */
static void
private_thread(void)
{
	struct atsm_dir_message m;
	struct atsm_dir_link l;
	const char *parts[1] = { "saburo@candidate.test" };

	memset(&m, 0, sizeof(m));
	memset(&l, 0, sizeof(l));
	m.ref.id = 5201;
	snprintf(m.ref.key, sizeof(m.ref.key), "seed-out-5201");
	m.thread = m.ref;
	m.direction = ATSM_DIR_OUT;
	m.visibility = ATSM_VIS_PRIVATE;
	m.owner_id = 3;
	l.kind = ATSM_RECORD_RESUME;
	l.id = 1006;
	m.links = &l;
	m.n_links = 1;
	m.participants = parts;
	m.n_participants = 1;
	fake_dir_add_message(&fd, "private-5201@atsmail.test", &m);
}

/* ------------------------------------------------ thread and sender */

START_TEST(stranger_in_reply_to_files_nothing)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	private_thread();
	/* a stranger who learned the Message-ID */
	mail(&f, "carol@atsmail.test", "mallory@evil.example", "carol@atsmail.test");
	set(&f.hdr_in_reply_to, "<private-5201@atsmail.test>");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	ck_assert_int_eq(p.n_links, 0);
	ck_assert_int_eq(p.n_phases, 0);
	ck_assert_int_eq(p.thread.id, 0);
	expect_note(&p, "In-Reply-To <private-5201@atsmail.test> ignored: the sender "
	    "mallory@evil.example takes no part in that thread");
	done(&f, &p);
	/* the same in References */
	mail(&f, "carol@atsmail.test", "mallory@evil.example", "carol@atsmail.test");
	set(&f.hdr_references, "<private-5201@atsmail.test>");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	expect_note(&p, "References <private-5201@atsmail.test> ignored");
	done(&f, &p);
	/* the candidate himself answers: filed, and the reply rule fires */
	mail(&f, "carol@atsmail.test", "saburo@candidate.test", "carol@atsmail.test");
	set(&f.hdr_in_reply_to, "<private-5201@atsmail.test>");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	expect_link(&p, ATSM_RECORD_RESUME, 1006, "in_reply_to");
	ck_assert_int_eq(p.n_phases, 1);
	ck_assert_int_eq(p.phases[0].rule_id, 9001);
	done(&f, &p);
}
END_TEST

START_TEST(known_candidate_in_a_foreign_thread_is_filed_on_her_own_record)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	/* jiro (resume 1003) sets In-Reply-To to alice's mail to taro: not
	 * his thread -- filed on his own resume, by his address, and taro's
	 * resume 1001 is neither linked nor moved */
	mail(&f, "alice@atsmail.test", "jiro@candidate.test", "alice@atsmail.test");
	set(&f.hdr_in_reply_to, "<out-5001@atsmail.test>");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	ck_assert_int_eq(p.n_links, 1);
	expect_link(&p, ATSM_RECORD_RESUME, 1003, "sender_address");
	ck_assert_ptr_null(link_of(&p, ATSM_RECORD_RESUME, 1001));
	ck_assert_int_eq(p.thread.id, 0);
	ck_assert_int_eq(p.n_phases, 1);
	ck_assert_int_eq(p.phases[0].record_id, 1003);
	expect_note(&p, "In-Reply-To <out-5001@atsmail.test> ignored");
	done(&f, &p);
}
END_TEST

START_TEST(a_later_reference_the_sender_takes_part_in_still_counts)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	/* In-Reply-To names a thread taro is no part of; References name his
	 * own: that one decides */
	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	set(&f.hdr_in_reply_to, "<out-5003@atsmail.test>");
	set(&f.hdr_references, "<out-5001@atsmail.test> <out-5003@atsmail.test>");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	ck_assert_int_eq(p.n_links, 1);
	expect_link(&p, ATSM_RECORD_RESUME, 1001, "references");
	ck_assert_int_eq(p.thread.id, 5001);
	expect_note(&p, "In-Reply-To <out-5003@atsmail.test> ignored");
	done(&f, &p);
}
END_TEST

START_TEST(a_user_takes_part_in_any_thread)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	/* bob answers alice's thread with taro (internal mail): a user */
	mail(&f, "alice@atsmail.test", "bob@atsmail.test", "alice@atsmail.test");
	set(&f.hdr_in_reply_to, "<out-5001@atsmail.test>");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	expect_link(&p, ATSM_RECORD_RESUME, 1001, "in_reply_to");
	done(&f, &p);
	/* an inactive user's address counts for nothing */
	fake_dir_add_user(&fd, 77, "gone@atsmail.test", ATSM_SHARING_PUBLIC, true, false);
	fd.users[fd.n_users - 1].active = false;
	mail(&f, "alice@atsmail.test", "gone@atsmail.test", "alice@atsmail.test");
	set(&f.hdr_in_reply_to, "<out-5001@atsmail.test>");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	done(&f, &p);
}
END_TEST

START_TEST(a_participant_of_a_received_reply_takes_part)
{
	struct atsm_in_facts f, g;
	struct atsm_in_plan p, q;

	/* taro answers 5001 copying his agent; the agent answers taro's
	 * reply: a participant of the message he names */
	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	set(&f.hdr_cc, "agent@agency.example");
	set(&f.hdr_in_reply_to, "<out-5001@atsmail.test>");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	apply(&f, &p);
	mail(&g, "alice@atsmail.test", "agent@agency.example", "alice@atsmail.test");
	set(&g.hdr_in_reply_to, f.hdr_message_id);
	decide(&g, &q);
	ck_assert_int_eq(q.verdict, ATSM_IN_FILE);
	expect_link(&q, ATSM_RECORD_RESUME, 1001, "in_reply_to");
	done(&g, &q);
	done(&f, &p);
}
END_TEST

START_TEST(author_with_several_records_linked_ambiguous)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	/* family@ (resumes 1004 and 1005) answers carol's private thread to
	 * which she was copied: the thread's record, and both her own,
	 * marked ambiguous */
	private_thread();
	set_participants(seeded("private-5201@atsmail.test"), "saburo@candidate.test",
	    "family@candidate.test");
	mail(&f, "carol@atsmail.test", "family@candidate.test", "carol@atsmail.test");
	set(&f.hdr_in_reply_to, "<private-5201@atsmail.test>");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	expect_link(&p, ATSM_RECORD_RESUME, 1006, "in_reply_to");
	expect_link(&p, ATSM_RECORD_RESUME, 1004, "sender_address");
	expect_link(&p, ATSM_RECORD_RESUME, 1005, "sender_address");
	ck_assert(link_of(&p, ATSM_RECORD_RESUME, 1004)->ambiguous);
	ck_assert(!link_of(&p, ATSM_RECORD_RESUME, 1006)->ambiguous);
	done(&f, &p);
}
END_TEST

/* ------------------------------------------------------------ bounces */

static void
bounce(struct atsm_in_facts *f, const char *env_from, const char *env_to, const char *failed)
{
	mail(f, "bob@atsmail.test", "MAILER-DAEMON@mx.client.test", env_to);
	set(&f->env_from, env_from);
	set(&f->hdr_subject, "Undelivered Mail Returned to Sender");
	f->is_bounce = true;
	f->from_mailer_daemon = true;
	f->bounced = calloc(1, sizeof(*f->bounced));
	f->n_bounced = 1;
	f->bounced[0].addr = strdup(failed);
	snprintf(f->bounced[0].status, sizeof(f->bounced[0].status), "5.1.1");
	f->bounced[0].hard = true;
	f->bounced[0].diagnostic = strdup("550 5.1.1 user unknown");
}

/* bob's VERP address of message 5003, naming rcpt ("" = format 1) */
static void
verp_of_5003(char *out, size_t size, const char *rcpt)
{
	char rmac[ATSM_VERP_RMAC_LEN + 1];

	if (rcpt[0] == '\0') {
		snprintf(out, size, "bob+ats-%s@atsmail.test", tok[2]);
		return;
	}
	ck_assert_int_eq(atsm_verp_rcpt_mac(&keys, 0, tok[2], rcpt, rmac), 0);
	snprintf(out, size, "bob+ats-%s-%s@atsmail.test", tok[2], rmac);
}

START_TEST(forged_bounce_from_a_non_null_sender_marks_nothing)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	char addr[160];
	struct atsm_err err;
	char *s;

	verp_of_5003(addr, sizeof(addr), "suzuki@client.test");
	bounce(&f, "mallory@evil.example", addr, "suzuki@client.test");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	ck_assert_int_eq(p.n_phases, 0);
	ck_assert_ptr_null(p.keywords[0]);
	expect_note(&p, "a bounce from the envelope sender mallory@evil.example: not believed");
	done(&f, &p);
	/* an envelope sender not known at all is not believed either */
	bounce(&f, "", addr, "suzuki@client.test");
	set(&f.env_from, NULL);
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	done(&f, &p);
	/* a forwarder the administrator names is believed, by domain or address */
	ck_assert(atsm_conf_set(&conf, "bounce_forwarders", "bounces.relay.example, fb@ses.example",
	    &err) == 0);
	bounce(&f, "x-123@eu.bounces.relay.example", addr, "suzuki@client.test");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_BOUNCE);
	done(&f, &p);
	bounce(&f, "FB@ses.example", addr, "suzuki@client.test");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_BOUNCE);
	s = payload_text(&f, &p);
	ck_assert_msg(strstr(s, "\"bounced_rcpts\":[{\"a\":\"suzuki@client.test\"") != NULL, "%s", s);
	free(s);
	done(&f, &p);
	bounce(&f, "other@ses.example", addr, "suzuki@client.test");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	done(&f, &p);
}
END_TEST

START_TEST(real_bounce_from_the_null_sender_is_believed)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	char addr[160];
	char *s;

	verp_of_5003(addr, sizeof(addr), "suzuki@client.test");
	bounce(&f, "", addr, "suzuki@client.test");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_BOUNCE);
	ck_assert_int_eq(p.bounced.id, 5003);
	expect_link(&p, ATSM_RECORD_CONTACT, 2001, "verp");
	ck_assert_int_eq(p.n_phases, 1);
	ck_assert(p.bounce_ok[0]);
	s = payload_text(&f, &p);
	ck_assert_msg(strstr(s, "\"bounced_rcpts\":[{\"a\":\"suzuki@client.test\"") != NULL, "%s", s);
	free(s);
	done(&f, &p);
	/* "<>" is the null sender too */
	bounce(&f, "<>", addr, "suzuki@client.test");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_BOUNCE);
	done(&f, &p);
}
END_TEST

START_TEST(bounce_naming_no_recipient_of_the_item_marks_nothing)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	char addr[160];

	/* a format-1 stamp (old mail): the failed recipient must be one of
	 * the item's */
	verp_of_5003(addr, sizeof(addr), "");
	bounce(&f, "", addr, "sato@client.test");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	ck_assert_int_eq(p.n_phases, 0);
	expect_note(&p, "names no recipient it went to");
	expect_note(&p, "1 failed recipient not among the sent item's");
	done(&f, &p);
	verp_of_5003(addr, sizeof(addr), "");
	bounce(&f, "", addr, "suzuki@client.test");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_BOUNCE);
	done(&f, &p);
	/* found by the original's Message-ID: the same */
	bounce(&f, "", "bob@atsmail.test", "sato@client.test");
	set(&f.orig_message_id, "<out-5003@atsmail.test>");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	done(&f, &p);
}
END_TEST

START_TEST(stamp_naming_its_recipient_believes_that_one_only)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	char addr[160], forged[160];
	char *s;

	/* 5003 went to suzuki and sato; the stamp of suzuki's copy */
	set_participants(seeded("out-5003@atsmail.test"), "suzuki@client.test", "sato@client.test");
	verp_of_5003(addr, sizeof(addr), "suzuki@client.test");
	/* suzuki's copy's stamp cannot report sato */
	bounce(&f, "", addr, "sato@client.test");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	expect_note(&p, "not the one the VERP stamp names");
	done(&f, &p);
	/* a forged rmac (a recipient guessing sato's) is not believed */
	snprintf(forged, sizeof(forged), "bob+ats-%s-aaaaaaaa@atsmail.test", tok[2]);
	bounce(&f, "", forged, "sato@client.test");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	done(&f, &p);
	/* a report of both recipients through suzuki's stamp marks suzuki */
	bounce(&f, "", addr, "suzuki@client.test");
	f.bounced = realloc(f.bounced, 2 * sizeof(*f.bounced));
	memset(&f.bounced[1], 0, sizeof(f.bounced[1]));
	f.bounced[1].addr = strdup("sato@client.test");
	snprintf(f.bounced[1].status, sizeof(f.bounced[1].status), "5.1.1");
	f.n_bounced = 2;
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_BOUNCE);
	ck_assert(p.bounce_ok[0] && !p.bounce_ok[1]);
	s = payload_text(&f, &p);
	ck_assert_msg(strstr(s, "sato@") == NULL, "%s", s);
	free(s);
	done(&f, &p);
	/* a replay without the secret cannot check the rmac: the item's
	 * recipients count */
	bounce(&f, "", addr, "sato@client.test");
	decide_mode(&f, ATSM_IN_REPLAY, NULL, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_BOUNCE);
	done(&f, &p);
}
END_TEST

START_TEST(bounce_of_a_mail_to_several_moves_the_failed_recipients_records_only)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	struct atsm_dir_message m;
	struct atsm_dir_link l[2];
	const char *parts[2] = { "suzuki@client.test", "hanako@candidate.test" };

	/* bob wrote to contact 2001 and resume 1002 (process 4001) at once */
	memset(&m, 0, sizeof(m));
	memset(l, 0, sizeof(l));
	m.ref.id = 5301;
	snprintf(m.ref.key, sizeof(m.ref.key), "seed-out-5301");
	m.thread = m.ref;
	m.direction = ATSM_DIR_OUT;
	m.visibility = ATSM_VIS_SHARED;
	m.owner_id = 2;
	l[0].kind = ATSM_RECORD_CONTACT;
	l[0].id = 2001;
	l[1].kind = ATSM_RECORD_RESUME;
	l[1].id = 1002;
	m.links = l;
	m.n_links = 2;
	m.participants = parts;
	m.n_participants = 2;
	fake_dir_add_message(&fd, "two-5301@atsmail.test", &m);
	bounce(&f, "", "bob@atsmail.test", "hanako@candidate.test");
	set(&f.orig_message_id, "<two-5301@atsmail.test>");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_BOUNCE);
	expect_link(&p, ATSM_RECORD_RESUME, 1002, "references");
	/* the contact did not bounce: not linked, its bounce rule (9004) not fired */
	ck_assert_ptr_null(link_of(&p, ATSM_RECORD_CONTACT, 2001));
	ck_assert_int_eq(p.n_phases, 0);
	expect_note(&p, "filed on the failed recipients' records only");
	done(&f, &p);
	bounce(&f, "", "bob@atsmail.test", "suzuki@client.test");
	set(&f.orig_message_id, "<two-5301@atsmail.test>");
	decide(&f, &p);
	expect_link(&p, ATSM_RECORD_CONTACT, 2001, "references");
	ck_assert_ptr_null(link_of(&p, ATSM_RECORD_RESUME, 1002));
	ck_assert_int_eq(p.n_phases, 1);
	ck_assert_int_eq(p.phases[0].rule_id, 9004);
	done(&f, &p);
}
END_TEST

/* ------------------------------------------------------------ APPEND */

static void
append(struct atsm_in_facts *f, const char *user, const char *msgid)
{
	mail(f, user, user, "saburo@candidate.test");
	f->how = ATSM_IN_APPEND;
	set(&f->mailbox, "Sent");
	set(&f->env_to, NULL);
	set(&f->hdr_message_id, msgid);
	rekey(f);
}

START_TEST(append_of_another_recruiters_private_mail_adds_no_copy)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	unsigned char id[ATSM_TOKEN_ID_LEN];
	char t[ATSM_TOKEN_MAX];

	private_thread();
	append(&f, "alice@atsmail.test", "<private-5201@atsmail.test>");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	ck_assert_ptr_null(p.keywords[0]);
	expect_note(&p, "an APPEND of sent message 5201, which alice@atsmail.test may not read"
	    " (private, owner 3): no copy row");
	done(&f, &p);
	/* by its X-ATS-Ref token: the same */
	memset(id, 0x52, sizeof(id));
	ck_assert(atsm_token_make(&keys, id, t) == 0);
	snprintf(seeded("private-5201@atsmail.test")->token, ATSM_DIR_TOKEN_MAX, "%s", t);
	append(&f, "alice@atsmail.test", "<rewritten@client.example>");
	set(&f.hdr_ats_ref, t);
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	expect_note(&p, "may not read");
	done(&f, &p);
	/* the owner's own copy is hers */
	append(&f, "carol@atsmail.test", "<private-5201@atsmail.test>");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_SENT_COPY);
	ck_assert_int_eq(p.message.id, 5201);
	done(&f, &p);
	/* delivered to another mailbox (she was a recipient): a copy */
	mail(&f, "alice@atsmail.test", "carol@atsmail.test", "alice@atsmail.test");
	set(&f.hdr_message_id, "<private-5201@atsmail.test>");
	rekey(&f);
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_SENT_COPY);
	done(&f, &p);
}
END_TEST

START_TEST(append_of_shared_or_admins_mail)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	/* 5001 is alice's, shared: bob may read it */
	append(&f, "bob@atsmail.test", "<out-5001@atsmail.test>");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_SENT_COPY);
	ck_assert_int_eq(p.message.id, 5001);
	done(&f, &p);
	/* admins-only: its owner only (the directory knows no roles) */
	seeded("out-5001@atsmail.test")->visibility = ATSM_VIS_ADMINS;
	append(&f, "bob@atsmail.test", "<out-5001@atsmail.test>");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	done(&f, &p);
	append(&f, "alice@atsmail.test", "<out-5001@atsmail.test>");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_SENT_COPY);
	done(&f, &p);
	/* a private message whose owner is not known: fails closed */
	seeded("out-5001@atsmail.test")->visibility = ATSM_VIS_PRIVATE;
	seeded("out-5001@atsmail.test")->owner_id = 0;
	append(&f, "alice@atsmail.test", "<out-5001@atsmail.test>");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	done(&f, &p);
}
END_TEST

START_TEST(second_copy_is_the_same_mail_only_from_its_sender)
{
	struct atsm_in_facts f, g;
	struct atsm_in_plan p, q;

	/* taro's reply reached carol (private mode) first */
	mail(&f, "carol@atsmail.test", "taro@candidate.test", "carol@atsmail.test");
	set(&f.hdr_in_reply_to, "<out-5001@atsmail.test>");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	ck_assert_int_eq(p.visibility, ATSM_VIS_PRIVATE);
	apply(&f, &p);
	/* a stranger sends bob a mail with its Message-ID: not that mail */
	mail(&g, "bob@atsmail.test", "mallory@evil.example", "bob@atsmail.test");
	set(&g.hdr_message_id, f.hdr_message_id);
	rekey(&g);
	decide(&g, &q);
	ck_assert_int_eq(q.verdict, ATSM_IN_IGNORE);
	ck_assert(!q.already_recorded);
	expect_note(&q, "who takes no part in it: not the same mail, ignored");
	done(&g, &q);
	/* the real second copy (taro wrote to both) is */
	mail(&g, "bob@atsmail.test", "taro@candidate.test", "bob@atsmail.test");
	set(&g.hdr_message_id, f.hdr_message_id);
	rekey(&g);
	decide(&g, &q);
	ck_assert_int_eq(q.verdict, ATSM_IN_FILE);
	ck_assert(q.already_recorded);
	done(&g, &q);
	/* bob's APPEND of carol's private received mail: no copy row */
	append(&g, "bob@atsmail.test", f.hdr_message_id);
	set(&g.hdr_from, "taro@candidate.test");
	decide(&g, &q);
	ck_assert_int_eq(q.verdict, ATSM_IN_IGNORE);
	expect_note(&q, "an APPEND of received message");
	expect_note(&q, "which bob@atsmail.test may not read (private, owner 3)");
	done(&g, &q);
	/* carol's own APPEND of it (a copy into another folder) is hers */
	append(&g, "carol@atsmail.test", f.hdr_message_id);
	set(&g.hdr_from, "taro@candidate.test");
	decide(&g, &q);
	ck_assert(q.already_recorded);
	ck_assert_int_ne(q.verdict, ATSM_IN_IGNORE);
	done(&g, &q);
	done(&f, &p);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("inbound-trust");
	TCase *tc = tcase_create("trust");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, stranger_in_reply_to_files_nothing);
	tcase_add_test(tc, known_candidate_in_a_foreign_thread_is_filed_on_her_own_record);
	tcase_add_test(tc, a_later_reference_the_sender_takes_part_in_still_counts);
	tcase_add_test(tc, a_user_takes_part_in_any_thread);
	tcase_add_test(tc, a_participant_of_a_received_reply_takes_part);
	tcase_add_test(tc, author_with_several_records_linked_ambiguous);
	tcase_add_test(tc, forged_bounce_from_a_non_null_sender_marks_nothing);
	tcase_add_test(tc, real_bounce_from_the_null_sender_is_believed);
	tcase_add_test(tc, bounce_naming_no_recipient_of_the_item_marks_nothing);
	tcase_add_test(tc, stamp_naming_its_recipient_believes_that_one_only);
	tcase_add_test(tc, bounce_of_a_mail_to_several_moves_the_failed_recipients_records_only);
	tcase_add_test(tc, append_of_another_recruiters_private_mail_adds_no_copy);
	tcase_add_test(tc, append_of_shared_or_admins_mail);
	tcase_add_test(tc, second_copy_is_the_same_mail_only_from_its_sender);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()

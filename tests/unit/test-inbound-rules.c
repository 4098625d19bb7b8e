/* test-inbound-rules.c -- the phase rules of the inbound decision
 * (lib/inbound/decide-rules.c) against the fake directory: which rule
 * fires (its from phase, priority, a specific rule before an any-phase
 * one, inactive rules ignored), which records are targets (linked ones,
 * the thread's processes or the open processes of the resume, never an
 * ambiguous record, never for an auto-reply, a read receipt, list mail
 * or a second copy), list mail and read receipts filed only inside a
 * recorded thread (never on a record by the sender's address, never as
 * intake), records gone from the directory, and processes not yet
 * recorded.  No server.
 */
#include "test-inbound-fixture.h"

static struct fake_rule *
rule(long long id)
{
	size_t i;

	for (i = 0; i < fd.n_rules; i++)
		if (fd.rules[i].id == id)
			return &fd.rules[i];
	ck_abort_msg("no rule %lld", id);
	return NULL;
}

static const struct atsm_in_phase_change *
change_of(const struct atsm_in_plan *p, enum atsm_record_kind kind, long long id)
{
	size_t i;

	for (i = 0; i < p->n_phases; i++)
		if (p->phases[i].kind == kind && p->phases[i].record_id == id)
			return &p->phases[i];
	return NULL;
}

static void
add_message(const char *msgid, long long id, const struct atsm_dir_link *links, size_t n,
    const char *to)
{
	struct atsm_dir_message m;
	const char *parts[1] = { to };

	memset(&m, 0, sizeof(m));
	m.ref.id = id;
	snprintf(m.ref.key, sizeof(m.ref.key), "key-%lld", id);
	m.thread = m.ref;
	m.direction = ATSM_DIR_OUT;
	m.links = (struct atsm_dir_link *)links;
	m.n_links = n;
	m.participants = parts;
	m.n_participants = 1;
	fake_dir_add_message(&fd, msgid, &m);
}

START_TEST(reply_applies_phase_rules)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	set(&f.hdr_in_reply_to, "<out-5001@atsmail.test>");
	decide(&f, &p);
	ck_assert_int_eq(p.n_phases, 1);
	ck_assert_int_eq(p.phases[0].kind, ATSM_RECORD_RESUME);
	ck_assert_int_eq(p.phases[0].record_id, 1001);
	ck_assert_str_eq(p.phases[0].from_phase, "new");
	ck_assert_str_eq(p.phases[0].to_phase, "active");
	ck_assert_int_eq(p.phases[0].rule_id, 9001);
	ck_assert_str_eq(p.phases[0].cause, "reply");
	done(&f, &p);
}
END_TEST

START_TEST(phase_rule_needs_its_from_phase_and_to_be_active)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	/* 1001 is placed: rule 9001 is for new, 9005 (placed) is not active */
	fake_dir_add_record(&fd, ATSM_RECORD_RESUME, 1001, true, "placed");
	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	ck_assert_int_eq(p.n_phases, 0);
	done(&f, &p);
	/* the data decides: activate 9005 and the same mail moves it */
	rule(9005)->active = true;
	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	decide(&f, &p);
	ck_assert_int_eq(p.n_phases, 1);
	ck_assert_int_eq(p.phases[0].rule_id, 9005);
	ck_assert_str_eq(p.phases[0].from_phase, "placed");
	ck_assert_str_eq(p.phases[0].to_phase, "inactive");
	done(&f, &p);
}
END_TEST

START_TEST(specific_rule_before_any_phase_priority_first)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	/* 9003: contact, any phase -> active; 9010: contact, new -> inactive */
	fake_dir_add_rule(&fd, 9010, ATSM_RECORD_CONTACT, "reply", "new", "inactive", 0, true);
	mail(&f, "bob@atsmail.test", "suzuki@client.test", "bob@atsmail.test");
	decide(&f, &p);
	ck_assert_int_eq(p.n_phases, 1);
	ck_assert_int_eq(p.phases[0].rule_id, 9010);
	ck_assert_str_eq(p.phases[0].to_phase, "inactive");
	done(&f, &p);
	/* a higher priority wins over the specific rule */
	rule(9003)->priority = 5;
	mail(&f, "bob@atsmail.test", "suzuki@client.test", "bob@atsmail.test");
	decide(&f, &p);
	ck_assert_int_eq(p.phases[0].rule_id, 9003);
	ck_assert_str_eq(p.phases[0].to_phase, "active");
	done(&f, &p);
	/* a rule that would not move the record does not fire */
	fake_dir_add_record(&fd, ATSM_RECORD_CONTACT, 2001, true, "active");
	mail(&f, "bob@atsmail.test", "suzuki@client.test", "bob@atsmail.test");
	decide(&f, &p);
	ck_assert_int_eq(p.n_phases, 0);
	done(&f, &p);
}
END_TEST

START_TEST(ambiguous_records_never_moved)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	/* 5004 went to family@, linked (ambiguously) to 1004 and 1005 */
	mail(&f, "alice@atsmail.test", "family@candidate.test", "alice@atsmail.test");
	set(&f.hdr_in_reply_to, "<out-5004@atsmail.test>");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	ck_assert_int_eq(p.n_links, 2);
	expect_link(&p, ATSM_RECORD_RESUME, 1004, "in_reply_to");
	ck_assert(link_of(&p, ATSM_RECORD_RESUME, 1005)->ambiguous);
	ck_assert(p.ambiguous);
	ck_assert_int_eq(p.n_phases, 0);
	done(&f, &p);
}
END_TEST

START_TEST(reply_moves_processes_of_the_thread_or_the_resume)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	const struct atsm_in_phase_change *pc;

	/* replied-to message linked to process 4001 */
	mail(&f, "alice@atsmail.test", "hanako@candidate.test", "alice@atsmail.test");
	set(&f.hdr_in_reply_to, "<out-5002@atsmail.test>");
	decide(&f, &p);
	ck_assert_int_eq(p.n_phases, 2);
	ck_assert_ptr_nonnull(change_of(&p, ATSM_RECORD_RESUME, 1002));
	pc = change_of(&p, ATSM_RECORD_PROCESS, 4001);
	ck_assert_ptr_nonnull(pc);
	ck_assert_str_eq(pc->from_phase, "screening");
	ck_assert_str_eq(pc->to_phase, "interview1");
	ck_assert_int_eq(pc->rule_id, 9002);
	ck_assert_int_eq(pc->resume_id, 1002);
	ck_assert_int_eq(pc->job_id, 3001);
	done(&f, &p);
	/* no thread: the open processes of the sender's resume, moved, not linked */
	mail(&f, "alice@atsmail.test", "hanako@candidate.test", "alice@atsmail.test");
	decide(&f, &p);
	ck_assert_ptr_nonnull(change_of(&p, ATSM_RECORD_PROCESS, 4001));
	ck_assert_ptr_null(link_of(&p, ATSM_RECORD_PROCESS, 4001));
	expect_link(&p, ATSM_RECORD_RESUME, 1002, "sender_address");
	done(&f, &p);
	/* a process whose job is closed is left alone */
	fake_dir_add_job(&fd, 3001, false);
	fake_dir_add_process(&fd, 4001, 1002, 3001, "screening");
	mail(&f, "alice@atsmail.test", "hanako@candidate.test", "alice@atsmail.test");
	decide(&f, &p);
	ck_assert_int_eq(p.n_phases, 1);
	ck_assert_ptr_null(change_of(&p, ATSM_RECORD_PROCESS, 4001));
	done(&f, &p);
}
END_TEST

START_TEST(autoreply_filed_without_phase_rule)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	mail(&f, "alice@atsmail.test", "hanako@candidate.test", "alice@atsmail.test");
	set(&f.hdr_in_reply_to, "<out-5002@atsmail.test>");
	f.is_autoreply = true;
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	ck_assert(has_keyword(&p, ATSM_KW_AUTOREPLY));
	ck_assert_int_eq(p.n_links, 2);
	ck_assert_int_eq(p.n_phases, 0);
	expect_note(&p, "auto-reply");
	done(&f, &p);
}
END_TEST

START_TEST(list_mail_only_inside_a_thread_and_moves_nothing)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	/* a list post answering a recorded message: filed there, $ATSList */
	mail(&f, "alice@atsmail.test", "hanako@candidate.test", "alice@atsmail.test");
	set(&f.hdr_references, "<unknown@lists.example> <out-5002@atsmail.test>");
	f.is_list = true;
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	expect_link(&p, ATSM_RECORD_PROCESS, 4001, "references");
	ck_assert(has_keyword(&p, ATSM_KW_FILED) && has_keyword(&p, ATSM_KW_LIST));
	ck_assert_int_eq(p.n_phases, 0);
	expect_note(&p, "list mail in a recorded thread");
	done(&f, &p);
	/* the same post outside a thread: not on hanako's resume */
	mail(&f, "alice@atsmail.test", "hanako@candidate.test", "alice@atsmail.test");
	f.is_list = true;
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	ck_assert_int_eq(p.n_links, 0);
	ck_assert_ptr_null(p.keywords[0]);
	expect_note(&p, "not filed on the sender's records");
	done(&f, &p);
	/* the person's own mail, the same sender: filed, and the rule fires */
	mail(&f, "alice@atsmail.test", "hanako@candidate.test", "alice@atsmail.test");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	ck_assert_int_gt(p.n_phases, 0);
	done(&f, &p);
	/* a list a newcomer posts to, subscribed by an intake address: no record */
	mail(&f, "recruit@atsmail.test", "poster@lists-user.example", "recruit@atsmail.test");
	f.is_list = true;
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	expect_note(&p, "list mail outside a recorded thread: not filed");
	done(&f, &p);
}
END_TEST

START_TEST(read_receipt_only_inside_a_thread_and_moves_nothing)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	set(&f.hdr_in_reply_to, "<out-5001@atsmail.test>");
	f.is_mdn = true;
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	expect_link(&p, ATSM_RECORD_RESUME, 1001, "in_reply_to");
	ck_assert(has_keyword(&p, ATSM_KW_RECEIPT));
	ck_assert(!has_keyword(&p, ATSM_KW_AUTOREPLY) && !has_keyword(&p, ATSM_KW_LIST));
	ck_assert_int_eq(p.n_phases, 0);
	done(&f, &p);
	/* a receipt of a message nobody recorded is about nothing of ours */
	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	f.is_mdn = true;
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	expect_note(&p, "read receipt (MDN) outside a recorded thread");
	done(&f, &p);
}
END_TEST

START_TEST(second_copy_fires_no_rule)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	struct atsm_dir_message m;
	char id[64];

	/* another mailbox recorded this mail first (ids stored without <>) */
	mail(&f, "bob@atsmail.test", "taro@candidate.test", "bob@atsmail.test");
	snprintf(id, sizeof(id), "%.*s", (int)strlen(f.hdr_message_id) - 2, f.hdr_message_id + 1);
	memset(&m, 0, sizeof(m));
	m.ref.id = 7001;
	m.thread = m.ref;
	m.direction = ATSM_DIR_IN;
	fake_dir_add_message(&fd, id, &m);
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	ck_assert(p.already_recorded);
	ck_assert_int_eq(p.message.id, 7001);
	expect_link(&p, ATSM_RECORD_RESUME, 1001, "sender_address");
	ck_assert_int_eq(p.n_phases, 0);
	done(&f, &p);
}
END_TEST

START_TEST(records_gone_from_the_directory_are_dropped)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	struct atsm_dir_link l[2] = {
		{ .kind = ATSM_RECORD_RESUME, .id = 1099 },
		{ .kind = ATSM_RECORD_RESUME, .id = 1001 },
	};

	add_message("gone@atsmail.test", 5300, l, 2, "taro@candidate.test");
	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	set(&f.hdr_in_reply_to, "<gone@atsmail.test>");
	decide(&f, &p);
	ck_assert_int_eq(p.n_links, 1);
	expect_link(&p, ATSM_RECORD_RESUME, 1001, "in_reply_to");
	done(&f, &p);
	/* nothing left: not ATS mail (the later rules are not tried) */
	add_message("gone2@atsmail.test", 5301, l, 1, "stranger@example.org");
	mail(&f, "alice@atsmail.test", "stranger@example.org", "alice@atsmail.test");
	set(&f.hdr_in_reply_to, "<gone2@atsmail.test>");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	done(&f, &p);
}
END_TEST

START_TEST(process_not_yet_recorded_is_named_by_resume_and_job)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	const struct atsm_in_phase_change *pc = NULL;
	struct atsm_dir_link l[2] = {
		{ .kind = ATSM_RECORD_RESUME, .id = 1003 },
		{ .kind = ATSM_RECORD_PROCESS, .id = 0, .resume_id = 1003, .job_id = 3005 },
	};
	size_t i;

	/* made by a mail still in the journal: id 0 */
	fake_dir_add_process(&fd, 0, 1003, 3005, "screening");
	add_message("to-jiro@atsmail.test", 0, l, 2, "jiro@candidate.test");
	mail(&f, "alice@atsmail.test", "jiro@candidate.test", "alice@atsmail.test");
	set(&f.hdr_in_reply_to, "<to-jiro@atsmail.test>");
	decide(&f, &p);
	ck_assert_int_eq(p.n_links, 2);
	ck_assert_int_eq(link_of(&p, ATSM_RECORD_PROCESS, 0)->resume_id, 1003);
	ck_assert_int_eq(link_of(&p, ATSM_RECORD_PROCESS, 0)->job_id, 3005);
	for (i = 0; i < p.n_phases; i++)
		if (p.phases[i].kind == ATSM_RECORD_PROCESS)
			pc = &p.phases[i];
	ck_assert_ptr_nonnull(pc);
	ck_assert_int_eq(pc->record_id, 0);
	ck_assert_int_eq(pc->resume_id, 1003);
	ck_assert_int_eq(pc->job_id, 3005);
	ck_assert_str_eq(pc->to_phase, "interview1");
	/* applied to the snapshot, the next reply sees the new phase */
	apply(&f, &p);
	ck_assert_str_eq(fake_dir_process(&fd, 1003, 3005)->phase, "interview1");
	done(&f, &p);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("inbound-rules");
	TCase *tc = tcase_create("rules");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, reply_applies_phase_rules);
	tcase_add_test(tc, phase_rule_needs_its_from_phase_and_to_be_active);
	tcase_add_test(tc, specific_rule_before_any_phase_priority_first);
	tcase_add_test(tc, ambiguous_records_never_moved);
	tcase_add_test(tc, reply_moves_processes_of_the_thread_or_the_resume);
	tcase_add_test(tc, autoreply_filed_without_phase_rule);
	tcase_add_test(tc, list_mail_only_inside_a_thread_and_moves_nothing);
	tcase_add_test(tc, read_receipt_only_inside_a_thread_and_moves_nothing);
	tcase_add_test(tc, second_copy_fires_no_rule);
	tcase_add_test(tc, records_gone_from_the_directory_are_dropped);
	tcase_add_test(tc, process_not_yet_recorded_is_named_by_resume_and_job);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()

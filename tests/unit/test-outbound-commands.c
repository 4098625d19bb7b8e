/* test-outbound-commands.c -- the sender's ats+ commands in the outbound
 * decision (lib/outbound/decide-commands.c) against the fake directory:
 * what each command does to the plan, every sentence that refuses a LIVE
 * mail, the bounds, ambiguity, and REPLAY, which skips what LIVE refuses
 * and says so in notes. */
#include "test-outbound.h"

static const struct atsm_out_process *
proc_of(const struct atsm_out_plan *p, long long resume, long long job)
{
	size_t i;

	for (i = 0; i < p->n_procs; i++)
		if (p->procs[i].resume_id == resume && p->procs[i].job_id == job)
			return &p->procs[i];
	return NULL;
}

/* ------------------------------------------------------------ what they do */

START_TEST(command_phase_sets_the_resume_phase)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	TARO_MAIL(&f, CMD("phase.active"), NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_uint_eq(p.n_phases, 1);
	ck_assert_int_eq(p.phases[0].kind, ATSM_RECORD_RESUME);
	ck_assert_int_eq(p.phases[0].id, 1001);
	ck_assert_str_eq(p.phases[0].from_phase, "new");
	ck_assert_str_eq(p.phases[0].to_phase, "active");
	/* the command address is consumed: never a counterpart */
	ck_assert_uint_eq(p.n_counterparts, 1);
	done(&f, &p);
	/* a record already in that phase: no change */
	TARO_MAIL(&f, CMD("phase.new"), NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_uint_eq(p.n_phases, 0);
	done(&f, &p);
}
END_TEST

START_TEST(command_job_creates_processes)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	TARO_MAIL(&f, CMD("job.3002.3003"), NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_uint_eq(p.n_procs, 2);
	ck_assert_int_eq(p.procs[0].resume_id, 1001);
	ck_assert_int_eq(p.procs[0].job_id, 3002);
	ck_assert(!p.procs[0].exists);
	ck_assert_int_eq(p.procs[0].process_id, 0);
	ck_assert_str_eq(p.procs[0].to_phase, "entry");   /* first process phase */
	ck_assert_str_eq(p.procs[1].to_phase, "entry");
	ck_assert_uint_eq(p.n_jobs, 2);
	ck_assert_str_eq(link_of(&p, ATSM_RECORD_JOB, 3002)->rule, "command");
	ck_assert(link_of(&p, ATSM_RECORD_JOB, 3003) != NULL);
	/* new processes are linked when they are made, not in the plan's links */
	ck_assert_uint_eq(p.n_links, 3);
	ck_assert_uint_eq(p.n_phases, 0);
	done(&f, &p);
	/* a job of any status: closed jobs exist too */
	fake_dir_add_job(&fd, 3030, false);
	TARO_MAIL(&f, CMD("job.3030"), NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_uint_eq(p.n_procs, 1);
	done(&f, &p);
}
END_TEST

START_TEST(command_job_first_phase_is_the_directorys)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	struct atsm_err err = { .msg = "" };
	size_t i;

	/* the first active process phase by sort order, then code */
	fake_dir_add_phase(&fd, ATSM_RECORD_PROCESS, "applied", 5, true);
	fake_dir_add_phase(&fd, ATSM_RECORD_PROCESS, "aaa", 1, false);
	TARO_MAIL(&f, CMD("job.3002"), NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_str_eq(p.procs[0].to_phase, "applied");
	done(&f, &p);
	/* none configured: the decision cannot be made */
	for (i = 0; i < fd.n_phases; i++)
		if (fd.phases[i].kind == ATSM_RECORD_PROCESS)
			fd.phases[i].active = false;
	TARO_MAIL(&f, CMD("job.3002"), NULL);
	ck_assert_int_eq(atsm_out_decide(&dir, &conf, NULL, &f, ATSM_OUT_LIVE, &p, &err), -1);
	ck_assert_int_eq(err.cls, ATSM_ERR_INTERNAL);
	ck_assert_msg(strstr(err.msg, "no active selection-process phase") != NULL, "%s", err.msg);
	ck_assert_uint_eq(p.n_procs, 0);
	done(&f, &p);
}
END_TEST

START_TEST(command_job_with_phase_moves_the_existing_process)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	const struct atsm_out_link *l;

	mail(&f, "bob@atsmail.test", "bob@atsmail.test", "hanako@candidate.test", NULL,
	    "hanako@candidate.test", CMD("job.3001"), CMD("phase.interview1"), NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_uint_eq(p.n_procs, 1);
	ck_assert(p.procs[0].exists);
	ck_assert_int_eq(p.procs[0].process_id, 4001);
	ck_assert_str_eq(p.procs[0].from_phase, "screening");
	ck_assert_str_eq(p.procs[0].to_phase, "interview1");
	ck_assert((l = link_of(&p, ATSM_RECORD_PROCESS, 4001)) != NULL);
	ck_assert_int_eq(l->resume_id, 1002);
	ck_assert_int_eq(l->job_id, 3001);
	ck_assert_str_eq(l->rule, "command");
	/* the resume's own phase is not the process's */
	ck_assert_uint_eq(p.n_phases, 0);
	done(&f, &p);
	/* without ats+phase an existing process is linked, not moved */
	mail(&f, "bob@atsmail.test", "bob@atsmail.test", "hanako@candidate.test", NULL,
	    "hanako@candidate.test", CMD("job.3001"), NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert(p.procs[0].exists);
	ck_assert_str_eq(p.procs[0].to_phase, "");
	ck_assert(link_of(&p, ATSM_RECORD_PROCESS, 4001) != NULL);
	done(&f, &p);
}
END_TEST

START_TEST(command_job_process_made_by_a_journaled_mail)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	const struct atsm_out_link *l;

	/* in the directory with no id yet: exists, named by resume and job */
	fake_dir_add_process(&fd, 0, 1001, 3009, "entry");
	TARO_MAIL(&f, CMD("job.3009"), CMD("phase.final"), NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert(p.procs[0].exists);
	ck_assert_int_eq(p.procs[0].process_id, 0);
	ck_assert_str_eq(p.procs[0].from_phase, "entry");
	ck_assert_str_eq(p.procs[0].to_phase, "final");
	ck_assert((l = link_of(&p, ATSM_RECORD_PROCESS, 0)) != NULL);
	ck_assert_int_eq(l->resume_id, 1001);
	ck_assert_int_eq(l->job_id, 3009);
	done(&f, &p);
}
END_TEST

START_TEST(command_private_and_share)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	TARO_MAIL(&f, CMD("private"), NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_str_eq(p.vis.name, "private");
	ck_assert_int_eq(p.commands.share, -1);
	done(&f, &p);
	/* carol's mode is private; ats+share shares this one mail */
	mail(&f, "carol@atsmail.test", "carol@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", CMD("share"), NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_str_eq(p.vis.name, "shared");
	done(&f, &p);
}
END_TEST

START_TEST(command_explicit_links)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	const struct atsm_out_link *l;

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "bob@atsmail.test", NULL,
	    "bob@atsmail.test", CMD("resume.1001"), CMD("contact.2001"), NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_uint_eq(p.n_links, 2);
	ck_assert((l = link_of(&p, ATSM_RECORD_RESUME, 1001)) != NULL);
	ck_assert_str_eq(l->rule, "command");
	ck_assert((l = link_of(&p, ATSM_RECORD_CONTACT, 2001)) != NULL);
	ck_assert_str_eq(l->rule, "command");
	done(&f, &p);
	/* naming one of an ambiguous pair lets its phase be set */
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "family@candidate.test", NULL,
	    "family@candidate.test", CMD("resume.1005"), CMD("phase.active"), NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert(!link_of(&p, ATSM_RECORD_RESUME, 1005)->ambiguous);
	ck_assert_str_eq(link_of(&p, ATSM_RECORD_RESUME, 1005)->rule, "command");
	ck_assert(link_of(&p, ATSM_RECORD_RESUME, 1004)->ambiguous);
	ck_assert_uint_eq(p.n_phases, 1);
	ck_assert_int_eq(p.phases[0].id, 1005);
	done(&f, &p);
}
END_TEST

START_TEST(commands_combined)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	TARO_MAIL(&f, CMD("phase.active"), CMD("private"), CMD("contact.2001"), NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_str_eq(p.vis.name, "private");
	ck_assert_str_eq(link_of(&p, ATSM_RECORD_CONTACT, 2001)->rule, "command");
	/* both linked records get the phase: resume and contact both have "active" */
	ck_assert_uint_eq(p.n_phases, 2);
	ck_assert_int_eq(p.phases[1].kind, ATSM_RECORD_CONTACT);
	ck_assert_int_eq(p.phases[1].id, 2001);
	done(&f, &p);
	/* a phase only resumes have: the contact keeps its phase */
	TARO_MAIL(&f, CMD("phase.placed"), CMD("contact.2001"), NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_uint_eq(p.n_phases, 1);
	ck_assert_int_eq(p.phases[0].kind, ATSM_RECORD_RESUME);
	done(&f, &p);
}
END_TEST

/* ------------------------------------------------------------ sentences */

START_TEST(reject_unknown_command)
{
	struct atsm_out_facts f;

	TARO_MAIL(&f, CMD("frobnicate"), NULL);
	expect_reject(&f, "unknown command");
}
END_TEST

START_TEST(reject_unknown_job)
{
	struct atsm_out_facts f;

	TARO_MAIL(&f, CMD("job.3001.3099"), NULL);
	expect_reject(&f, "no job 3099: ats+job.3001.3099@ats.atsmail.test names a job that does not exist");
}
END_TEST

START_TEST(reject_unknown_phase)
{
	struct atsm_out_facts f;

	TARO_MAIL(&f, CMD("phase.nosuch"), NULL);
	expect_reject(&f, "no phase \"nosuch\": ats+phase.nosuch@ats.atsmail.test names no active phase");
	/* with a job, the phase must be a process phase */
	TARO_MAIL(&f, CMD("phase.placed"), CMD("job.3004"), NULL);
	expect_reject(&f, "no selection-process phase \"placed\": ats+phase.placed@ats.atsmail.test with ats+job sets the process's phase");
	/* an inactive phase is no phase */
	fake_dir_add_phase(&fd, ATSM_RECORD_RESUME, "retired", 99, false);
	TARO_MAIL(&f, CMD("phase.retired"), NULL);
	expect_reject(&f, "no phase \"retired\": ats+phase.retired@ats.atsmail.test");
}
END_TEST

START_TEST(reject_phase_with_nothing_to_set)
{
	struct atsm_out_facts f;

	/* the only record is ambiguous and named by none: refused as such */
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "family@candidate.test", NULL,
	    "family@candidate.test", CMD("phase.active"), NULL);
	expect_reject(&f, "ambiguous address: family@candidate.test belongs to several records, so ats+phase.active@ats.atsmail.test cannot choose; name the one meant with ats+resume.<id>@ats.atsmail.test or ats+contact.<id>@ats.atsmail.test");
	/* no record at all */
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "friend@example.com", NULL,
	    "friend@example.com", CMD("phase.active"), NULL);
	expect_reject(&f, "no record to set phase \"active\": ats+phase.active@ats.atsmail.test, but the mail is linked to no resume or contact");
}
END_TEST

START_TEST(reject_unknown_record_ids)
{
	struct atsm_out_facts f;

	TARO_MAIL(&f, CMD("resume.1999"), NULL);
	expect_reject(&f, "no resume 1999: ats+resume.1999@ats.atsmail.test names a resume that does not exist");
	TARO_MAIL(&f, CMD("contact.2999"), NULL);
	expect_reject(&f, "no contact 2999: ats+contact.2999@ats.atsmail.test names a contact that does not exist");
}
END_TEST

START_TEST(reject_21_jobs_accept_20)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	TARO_MAIL(&f, CMD("job.3001.3002.3003.3004.3005.3006.3007.3008.3009.3010"),
	    CMD("job.3011.3012.3013.3014.3015.3016.3017.3018.3019.3020.3021"), NULL);
	expect_reject(&f, "at most 20");
	TARO_MAIL(&f, CMD("job.3001.3002.3003.3004.3005.3006.3007.3008.3009.3010"),
	    CMD("job.3011.3012.3013.3014.3015.3016.3017.3018.3019.3020"), NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_uint_eq(p.n_jobs, 20);
	ck_assert_uint_eq(p.n_procs, 20);
	done(&f, &p);
}
END_TEST

START_TEST(reject_more_than_100_processes)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	char addr[64];
	long long id;

	/* six candidates x 17 jobs = 102 processes; x 16 = 96 */
	for (id = 6001; id <= 6006; id++) {
		snprintf(addr, sizeof(addr), "c%lld@candidate.test", id);
		fake_dir_add_record(&fd, ATSM_RECORD_RESUME, id, true, "new");
		fake_dir_add_addr(&fd, ATSM_RECORD_RESUME, id, addr);
	}
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "alice@atsmail.test", NULL,
	    "c6001@candidate.test", "c6002@candidate.test", "c6003@candidate.test",
	    "c6004@candidate.test", "c6005@candidate.test", "c6006@candidate.test",
	    CMD("job.3001.3002.3003.3004.3005.3006.3007.3008.3009.3010.3011.3012.3013.3014"),
	    CMD("job.3015.3016.3017"), NULL);
	expect_reject(&f, "too many selection processes: ats+job.3001@ats.atsmail.test would make 102, at most 100 per mail");
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "alice@atsmail.test", NULL,
	    "c6001@candidate.test", "c6002@candidate.test", "c6003@candidate.test",
	    "c6004@candidate.test", "c6005@candidate.test", "c6006@candidate.test",
	    CMD("job.3001.3002.3003.3004.3005.3006.3007.3008.3009.3010.3011.3012.3013.3014"),
	    CMD("job.3015.3016"), NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_uint_eq(p.n_procs, 96);
	ck_assert(proc_of(&p, 6006, 3016) != NULL);
	done(&f, &p);
}
END_TEST

START_TEST(reject_private_with_share)
{
	struct atsm_out_facts f;

	TARO_MAIL(&f, CMD("private"), CMD("share"), NULL);
	expect_reject(&f, "both \"share\" and \"private\" in one mail: ats+");
}
END_TEST

START_TEST(reject_job_without_resume)
{
	struct atsm_out_facts f;

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "suzuki@client.test", NULL,
	    "suzuki@client.test", CMD("job.3005"), NULL);
	expect_reject(&f, "no candidate for job 3005: ats+job.3005@ats.atsmail.test needs one to make a selection process; put the candidate in To, Cc or Bcc, or add ats+resume.<id>@ats.atsmail.test");
	/* an ambiguous address must be resolved before a job is applied */
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "family@candidate.test", NULL,
	    "family@candidate.test", CMD("job.3005"), NULL);
	expect_reject(&f, "ambiguous address: family@candidate.test belongs to several records, so ats+job.");
}
END_TEST

START_TEST(reject_commands_from_non_user)
{
	struct atsm_out_facts f;

	mail(&f, NULL, "stranger@example.com", "friend@example.com", NULL,
	    "friend@example.com", CMD("share"), NULL);
	expect_reject(&f, "not a recruiter: stranger@example.com is no registered user and may not use ats+share@ats.atsmail.test");
	mail(&f, "intern", "alice@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", CMD("share"), NULL);
	expect_reject(&f, "not a recruiter: intern is no registered user");
}
END_TEST

START_TEST(reject_commands_that_link_nothing)
{
	struct atsm_out_facts f;

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "friend@example.com", NULL,
	    "friend@example.com", CMD("private"), NULL);
	expect_reject(&f, "no record linked: ats+private@ats.atsmail.test given, but the mail is linked to no resume or contact; add the record's address or ats+resume.<id>@ats.atsmail.test");
}
END_TEST

START_TEST(command_localpart_is_the_configured_one)
{
	struct atsm_out_facts f;

	set_conf("command_localpart", "cmd");
	TARO_MAIL(&f, "cmd+job.3099@ats.atsmail.test", NULL);
	expect_reject(&f, "no job 3099: cmd+job.3099@ats.atsmail.test names a job that does not exist");
	/* ats+ is then no command, but the command domain takes nothing
	 * else: refused, never recorded as a recipient or delivered */
	TARO_MAIL(&f, CMD("job.3099"), NULL);
	expect_reject(&f, "not a command address: ats+job.3099@ats.atsmail.test");
}
END_TEST

/* Quoted, escaped, mixed-case and routed command addresses, in the
 * envelope and in To/Cc, are commands: applied, counted once, never
 * recorded as recipients. */
START_TEST(quoted_commands_applied_never_recorded)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	size_t i;

	mail(&f, "alice@atsmail.test", "alice@atsmail.test",
	    "taro@candidate.test, \"ATS+Phase.Interview1\"@ATS.ATSMAIL.TEST",
	    "<\"ats+job\\.3003\"@ats.atsmail.test>", "taro@candidate.test",
	    "\"ats+job.3002\"@ats.atsmail.test", "ATS+Phase.Interview1@ats.atsmail.test.",
	    "ats+job.3003%ats.atsmail.test@mx.atsmail.test", NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_msg(p.verdict == ATSM_OUT_RECORD, "verdict %s (%s)",
	    atsm_out_verdict_name(p.verdict), p.reply_text);
	ck_assert(p.commands.any);
	ck_assert_uint_eq(p.commands.njobs, 2);
	ck_assert_str_eq(p.commands.phase, "interview1");
	for (i = 0; i < p.n_rcpts; i++)
		ck_assert_msg(p.rcpts[i].is_command == (strstr(p.rcpts[i].norm, "ats") != NULL &&
		    strstr(p.rcpts[i].norm, "taro") == NULL), "%s", p.rcpts[i].norm);
	ck_assert_uint_eq(p.n_counterparts, 1);
	ck_assert_str_eq(p.counterparts[0], "taro@candidate.test");
	ck_assert_ptr_nonnull(link_of(&p, ATSM_RECORD_JOB, 3002));
	ck_assert_ptr_nonnull(link_of(&p, ATSM_RECORD_JOB, 3003));
	done(&f, &p);
}
END_TEST

/* A Bcc header left in the mail: its commands count, its other addresses
 * do not (the envelope says who gets the mail); a display name that looks
 * like a command, encoded or not, is not one. */
START_TEST(bcc_header_and_display_names)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	mail(&f, "alice@atsmail.test", "alice@atsmail.test",
	    "\"ats+job.3009@ats.atsmail.test\" <taro@candidate.test>", NULL,
	    "taro@candidate.test", NULL);
	f.hdr_bcc = xstrdup("=?UTF-8?B?5o6h55So?= <\"ATS+private\"@ats.atsmail.test>, "
	    "hanako@candidate.test");
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_msg(p.verdict == ATSM_OUT_RECORD, "verdict %s (%s)",
	    atsm_out_verdict_name(p.verdict), p.reply_text);
	ck_assert_int_eq(p.commands.share, -1);
	ck_assert_uint_eq(p.commands.njobs, 0);
	ck_assert_ptr_null(rcpt_of(&p, "hanako@candidate.test"));
	ck_assert_ptr_nonnull(rcpt_of(&p, "ats+private@ats.atsmail.test"));
	ck_assert(rcpt_of(&p, "ats+private@ats.atsmail.test")->is_command);
	ck_assert_uint_eq(p.n_counterparts, 1);
	ck_assert_str_eq(p.vis.name, "private");
	done(&f, &p);
}
END_TEST

/* A quoted command that does not parse, or another name at the command
 * domain, refuses the mail with the address as it was written. */
START_TEST(quoted_malformed_command_refused)
{
	struct atsm_out_facts f;

	TARO_MAIL(&f, "\"ats+job.30x2\"@ats.atsmail.test", NULL);
	expect_reject(&f, "invalid job id \"30x2\": \"ats+job.30x2\"@ats.atsmail.test");
	TARO_MAIL(&f, "\"ats job.3002\"@ats.atsmail.test", NULL);
	expect_reject(&f, "not a command address");
}
END_TEST

/* --------------------------------------------------------------- replay */

START_TEST(replay_skips_invalid_commands_and_records)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	/* a bad job, and two candidates in To/Cc: LIVE would reject both */
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test",
	    "hanako@candidate.test", "taro@candidate.test", "hanako@candidate.test",
	    CMD("job.3099"), CMD("phase.active"), NULL);
	decide(&f, ATSM_OUT_REPLAY, &p);
	ck_assert_msg(p.verdict == ATSM_OUT_RECORD, "verdict %s", atsm_out_verdict_name(p.verdict));
	ck_assert_msg(strstr(p.notes, "skipped: no job 3099: ats+job.3099@ats.atsmail.test names a job that does not exist") != NULL,
	    "notes: %s", p.notes);
	ck_assert_uint_eq(p.n_jobs, 0);
	ck_assert_uint_eq(p.n_procs, 0);
	ck_assert_str_eq(p.verp_sender, "");
	ck_assert_str_eq(p.reply_text, "");
	done(&f, &p);
	/* a syntax error in REPLAY: noted, the rest applied */
	TARO_MAIL(&f, CMD("frobnicate"), CMD("phase.active"), NULL);
	decide(&f, ATSM_OUT_REPLAY, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_msg(strstr(p.notes, "unknown command") != NULL, "notes: %s", p.notes);
	ck_assert_uint_eq(p.n_phases, 1);
	done(&f, &p);
}
END_TEST

START_TEST(replay_notes_every_skip)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	/* an unknown resume, a job of no candidate and a process phase that is
	 * none: three notes, the mail still recorded on what it names */
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "suzuki@client.test", NULL,
	    "suzuki@client.test", CMD("resume.1999"), CMD("job.3005"), CMD("phase.placed"), NULL);
	decide(&f, ATSM_OUT_REPLAY, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_msg(strstr(p.notes, "no resume 1999: ats+resume.1999@ats.atsmail.test") != NULL, "%s", p.notes);
	ck_assert_msg(strstr(p.notes, "no selection-process phase \"placed\"") != NULL, "%s",
	    p.notes);
	ck_assert_msg(strstr(p.notes, "no candidate for job") != NULL, "%s", p.notes);
	ck_assert(link_of(&p, ATSM_RECORD_CONTACT, 2001) != NULL);
	ck_assert_uint_eq(p.n_procs, 0);
	done(&f, &p);
	/* REPLAY never moves an existing process to a phase it skipped */
	mail(&f, "bob@atsmail.test", "bob@atsmail.test", "hanako@candidate.test", NULL,
	    "hanako@candidate.test", CMD("job.3001.3002"), CMD("phase.placed"), NULL);
	decide(&f, ATSM_OUT_REPLAY, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_str_eq(proc_of(&p, 1002, 3001)->to_phase, "");
	ck_assert_str_eq(proc_of(&p, 1002, 3002)->to_phase, "entry");
	done(&f, &p);
	/* commands of a non-user: noted, and the mail is nobody's: PASS */
	mail(&f, NULL, "stranger@example.com", "taro@candidate.test", NULL,
	    "taro@candidate.test", CMD("share"), NULL);
	decide(&f, ATSM_OUT_REPLAY, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_PASS);
	ck_assert_msg(strstr(p.notes, "not a recruiter: stranger@example.com") != NULL, "%s", p.notes);
	done(&f, &p);
	/* commands that link nothing: noted, nothing recorded */
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "friend@example.com", NULL,
	    "friend@example.com", CMD("private"), NULL);
	decide(&f, ATSM_OUT_REPLAY, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_PASS);
	ck_assert_msg(strstr(p.notes, "linked to no resume or contact") != NULL, "%s", p.notes);
	done(&f, &p);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("outbound-commands");
	TCase *tc = tcase_create("commands");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, command_phase_sets_the_resume_phase);
	tcase_add_test(tc, command_job_creates_processes);
	tcase_add_test(tc, command_job_first_phase_is_the_directorys);
	tcase_add_test(tc, command_job_with_phase_moves_the_existing_process);
	tcase_add_test(tc, command_job_process_made_by_a_journaled_mail);
	tcase_add_test(tc, command_private_and_share);
	tcase_add_test(tc, command_explicit_links);
	tcase_add_test(tc, commands_combined);
	tcase_add_test(tc, reject_unknown_command);
	tcase_add_test(tc, reject_unknown_job);
	tcase_add_test(tc, reject_unknown_phase);
	tcase_add_test(tc, reject_phase_with_nothing_to_set);
	tcase_add_test(tc, reject_unknown_record_ids);
	tcase_add_test(tc, reject_21_jobs_accept_20);
	tcase_add_test(tc, reject_more_than_100_processes);
	tcase_add_test(tc, reject_private_with_share);
	tcase_add_test(tc, reject_job_without_resume);
	tcase_add_test(tc, reject_commands_from_non_user);
	tcase_add_test(tc, reject_commands_that_link_nothing);
	tcase_add_test(tc, command_localpart_is_the_configured_one);
	tcase_add_test(tc, quoted_commands_applied_never_recorded);
	tcase_add_test(tc, quoted_malformed_command_refused);
	tcase_add_test(tc, bcc_header_and_display_names);
	tcase_add_test(tc, replay_skips_invalid_commands_and_records);
	tcase_add_test(tc, replay_notes_every_skip);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()

/* test-command.c -- unit tests of recruiter command addresses (lib/rules/command.c). */
#include "atsm-check.h"
#include "rules/command.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DOM "ats.example.com"

static struct atsm_command_set set;
static struct atsm_err err;

static void
setup(void)
{
	atsm_command_set_init(&set);
	memset(&err, 0, sizeof(err));
}

static int
add(const char *addr)
{
	return atsm_command_add(&set, addr, NULL, DOM, &err);
}

/* The sentence must fit a 550 reply line: printable ASCII, < 400 chars. */
static void
assert_reply_line(const char *msg)
{
	size_t i;

	ck_assert_uint_gt(strlen(msg), 0);
	ck_assert_uint_lt(strlen(msg), 400);
	for (i = 0; msg[i] != '\0'; i++)
		ck_assert_msg(msg[i] >= 0x20 && msg[i] < 0x7f,
		    "byte %zu of \"%s\" is not printable ASCII", i, msg);
}

START_TEST(test_is_address_forms)
{
	ck_assert(atsm_command_is_address("ats+share@" DOM, NULL, DOM));
	ck_assert(atsm_command_is_address("<ats+job.1@" DOM ">", NULL, DOM));
	ck_assert(atsm_command_is_address("ats@" DOM, "", DOM));
	ck_assert(atsm_command_is_address("ATS+Share@ATS.Example.COM.", NULL,
	    DOM));
	/* every address at the command domain is one: never recorded */
	ck_assert(atsm_command_is_address("atsx+share@" DOM, NULL, DOM));
	ck_assert(!atsm_command_is_address("ats+share@example.com", NULL, DOM));
	ck_assert(!atsm_command_is_address("ats+share@sub." DOM, NULL, DOM));
	ck_assert(!atsm_command_is_address("taro@candidate.example", NULL, DOM));
	ck_assert(!atsm_command_is_address("no-at-sign", NULL, DOM));
}
END_TEST

START_TEST(test_empty_ats_domain_disables_commands)
{
	ck_assert(!atsm_command_is_address("ats+share@" DOM, NULL, ""));
	ck_assert(!atsm_command_is_address("ats+share@" DOM, NULL, NULL));
	ck_assert_int_eq(atsm_command_add(&set, "ats+share@" DOM, NULL, "",
	    &err), 1);
	ck_assert(!set.any);
	ck_assert_int_eq(set.share, 0);
}
END_TEST

START_TEST(test_other_recipient_is_left_alone)
{
	ck_assert_int_eq(add("taro@candidate.example"), 1);
	ck_assert(!set.any);
}
END_TEST

START_TEST(test_custom_localpart)
{
	ck_assert_int_eq(atsm_command_add(&set, "recruit+private@" DOM,
	    "recruit", DOM, &err), 0);
	ck_assert_int_eq(set.share, -1);
	/* ats+ is then no command, but still an address at the command
	 * domain: refused, not left to be recorded or delivered */
	ck_assert_int_eq(atsm_command_add(&set, "ats+share@" DOM, "recruit",
	    DOM, &err), -1);
	ck_assert_msg(strstr(err.msg, "ats+share@" DOM ": not a command address") != NULL,
	    "%s", err.msg);
	ck_assert_int_eq(set.share, -1);
}
END_TEST

/* canon(addr): the local part it reads, or NULL when addr is not at DOM */
static const char *
canon(const char *addr)
{
	static char local[512];

	return atsm_command_canon(addr, DOM, local, sizeof(local)) == 1 ? local : NULL;
}

START_TEST(test_canon_quoted_and_escaped)
{
	ck_assert_str_eq(canon("\"ats+job.3002\"@" DOM), "ats+job.3002");
	ck_assert_str_eq(canon("<\"ats+job\\.3002\"@" DOM ">"), "ats+job.3002");
	ck_assert_str_eq(canon("\"ats\"+job.3002@" DOM), "ats+job.3002");
	ck_assert_str_eq(canon("ats+\"job.3002\"@" DOM), "ats+job.3002");
	/* an '@' inside the quotes is not the one that splits */
	ck_assert_str_eq(canon("\"ats+job.1@x\"@" DOM), "ats+job.1@x");
	ck_assert_str_eq(canon("\"ats+job. 3002\"@" DOM), "ats+job. 3002");
}
END_TEST

START_TEST(test_canon_case_dot_route)
{
	ck_assert_str_eq(canon("ATS+Job.3002@ATS.EXAMPLE.COM"), "ats+job.3002");
	ck_assert_str_eq(canon("  <ats+share@" DOM ".>  "), "ats+share");
	ck_assert_str_eq(canon("<@relay.example,@b.example:ats+share@" DOM ">"), "ats+share");
	ck_assert_ptr_null(canon("ats+share@" DOM ".evil.example"));
	ck_assert_ptr_null(canon("ats+share@x" DOM));
	ck_assert_ptr_null(canon("\"ats+share@" DOM));
}
END_TEST

START_TEST(test_canon_routing_forms)
{
	/* the percent hack, an inner address, a bang path */
	ck_assert_str_eq(canon("ats+job.3002%" DOM "@mx.example.com"), "ats+job.3002");
	ck_assert_str_eq(canon("\"ats+job.3002@" DOM "\"@mx.example.com"), "ats+job.3002");
	ck_assert_str_eq(canon(DOM "!ats+job.3002@mx.example.com"), "ats+job.3002");
	ck_assert_str_eq(canon("ats+job.3002%ATS.Example.Com.%other.example@mx.example.com"),
	    "ats+job.3002");
	ck_assert_ptr_null(canon("ats+job.3002%other.example@mx.example.com"));
	ck_assert_ptr_null(canon("other.example!ats+job.3002@mx.example.com"));
}
END_TEST

START_TEST(test_canon_idn_domain)
{
	char local[64];

	/* an SMTPUTF8 client writes the U-label of an IDN command domain */
	ck_assert_int_eq(atsm_command_canon("ats+share@\xe6\x8e\xa1\xe7\x94\xa8.example",
	    "xn--czu130b.example", local, sizeof(local)), 1);
	ck_assert_str_eq(local, "ats+share");
	ck_assert_int_eq(atsm_command_canon("ats+share@\xe6\x8e\xa1.example",
	    "xn--czu130b.example", local, sizeof(local)), 0);
}
END_TEST

START_TEST(test_canon_hostile_inputs)
{
	static const char *const odd[] = {
		"", "@", "<>", "\"", "\"\"", "\\", "@" DOM, "\"@" DOM, "ats+x\\",
		"@:@" DOM, "@a,@b:", "%%%%@" DOM ".", "!!!@x", "\"a\\\"@" DOM,
	};
	char *big;
	size_t i, n = 100000;

	for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		(void)canon(odd[i]);
		(void)add(odd[i]);
	}
	/* "@" DOM alone has an empty local part: at DOM, but no command */
	ck_assert_str_eq(canon("@" DOM), "");
	ck_assert_int_eq(add("@" DOM), -1);
	/* a local part far past any buffer: still at DOM, refused as too long */
	ck_assert((big = malloc(n + sizeof(DOM) + 16)) != NULL);
	memcpy(big, "ats+job.", 8);
	memset(big + 8, '1', n);
	snprintf(big + 8 + n, sizeof(DOM) + 8, "@%s", DOM);
	ck_assert_ptr_nonnull(canon(big));
	ck_assert_int_eq(add(big), -1);
	ck_assert_msg(strstr(err.msg, "command longer than") != NULL, "%s", err.msg);
	assert_reply_line(err.msg);
	/* a cut command is never applied, even behind a long command_localpart
	 * (here the cut falls inside the ids, which would otherwise look valid) */
	{
		char lp[102], addr[1024];
		size_t k;

		memset(lp, 'c', 101);
		lp[101] = '\0';
		k = (size_t)snprintf(addr, sizeof(addr), "%s+job.", lp);
		while (k < 600)
			k += (size_t)snprintf(addr + k, sizeof(addr) - k, "1.");
		snprintf(addr + k, sizeof(addr) - k, "2@%s", DOM);
		ck_assert_int_eq(atsm_command_add(&set, addr, lp, DOM, &err), -1);
		assert_reply_line(err.msg);
		ck_assert(!set.any);
	}
	/* more routing hops than are followed: not taken for a command */
	ck_assert_ptr_null(canon("ats+x%a%b%c%d%e%f%g%h%i%j@mx.example"));
	/* a hop too many in front of the command domain still counts: the
	 * hop nearest the end is read first */
	ck_assert_str_eq(canon("ats+x%" DOM "%a%b%c%d%e%f@mx.example"), "ats+x");
	free(big);
}
END_TEST

START_TEST(test_quoted_command_applied)
{
	ck_assert_int_eq(add("\"ats+job.3002\"@" DOM), 0);
	ck_assert_int_eq(add("\"ats+job\\.3003\"@" DOM), 0);
	ck_assert_int_eq(add("ATS+Phase.Interview@ATS.Example.Com"), 0);
	ck_assert_int_eq(add("ats+private%" DOM "@mx.example.com"), 0);
	ck_assert_uint_eq(set.njobs, 2);
	ck_assert_uint_eq(set.jobs[0], 3002);
	ck_assert_uint_eq(set.jobs[1], 3003);
	ck_assert_str_eq(set.phase, "interview");
	ck_assert_int_eq(set.share, -1);
}
END_TEST

START_TEST(test_malformed_quoted_command_refused)
{
	/* the sentence names the address as it was written */
	ck_assert_int_eq(add("\"ats+job. 3002\"@" DOM), -1);
	ck_assert_msg(strstr(err.msg, "\"ats+job. 3002\"@" DOM ": job id \" 3002\" is not valid")
	    != NULL, "%s", err.msg);
	assert_reply_line(err.msg);
	ck_assert_int_eq(add("\"postmaster\"@" DOM), -1);
	ck_assert_msg(strstr(err.msg, "not a command address") != NULL, "%s", err.msg);
	ck_assert_int_eq(add("\"ats-job.1\"@" DOM), -1);
	ck_assert_int_eq(add("\"ats+\"@" DOM), -1);
	ck_assert_msg(strstr(err.msg, "no command given") != NULL, "%s", err.msg);
	ck_assert(!set.any);
}
END_TEST

START_TEST(test_phase_command)
{
	ck_assert_int_eq(add("ats+phase.interview_1@" DOM), 0);
	ck_assert(set.any);
	ck_assert(set.has_phase);
	ck_assert_str_eq(set.phase, "interview_1");
}
END_TEST

START_TEST(test_phase_case_insensitive_and_lowered)
{
	ck_assert_int_eq(add("ATS+PHASE.Offer-2@ATS.EXAMPLE.COM"), 0);
	ck_assert_str_eq(set.phase, "offer-2");
	/* the same phase in another case is a repetition, not a contradiction */
	ck_assert_int_eq(add("ats+phase.offer-2@" DOM), 0);
	ck_assert_str_eq(set.phase, "offer-2");
}
END_TEST

START_TEST(test_phase_code_32_ok_33_rejected)
{
	char addr[128];

	snprintf(addr, sizeof(addr), "ats+phase.%s@" DOM,
	    "a234567890123456789012345678901b");
	ck_assert_int_eq(add(addr), 0);
	ck_assert_uint_eq(strlen(set.phase), 32);
	setup();
	snprintf(addr, sizeof(addr), "ats+phase.%s@" DOM,
	    "a234567890123456789012345678901bc");
	ck_assert_int_eq(add(addr), -1);
	ck_assert(!set.has_phase);
}
END_TEST

START_TEST(test_phase_malformed_sentences)
{
	ck_assert_int_eq(add("ats+phase._x@" DOM), -1);
	ck_assert_str_eq(err.msg, "ats+phase._x@" DOM ": phase code \"_x\" is "
	    "not valid; use 1 to 32 letters, digits, '_' or '-', starting "
	    "with a letter or digit");
	ck_assert_int_eq(add("ats+phase.@" DOM), -1);
	ck_assert_str_eq(err.msg, "ats+phase.@" DOM ": phase code missing; "
	    "write phase.<code> with 1 to 32 letters, digits, '_' or '-', "
	    "starting with a letter or digit");
	ck_assert_int_eq(add("ats+phase.a.b@" DOM), -1);
	ck_assert(!set.any);
}
END_TEST

START_TEST(test_two_phases_contradict)
{
	ck_assert_int_eq(add("ats+phase.interview@" DOM), 0);
	ck_assert_int_eq(add("ats+phase.offer@" DOM), -1);
	ck_assert_str_eq(err.msg, "ats+phase.offer@" DOM ": phase \"offer\" "
	    "contradicts phase \"interview\" named in the same mail; give one "
	    "phase per mail");
	ck_assert_str_eq(set.phase, "interview");
}
END_TEST

START_TEST(test_job_single_and_several)
{
	ck_assert_int_eq(add("ats+job.12@" DOM), 0);
	ck_assert_int_eq(add("ats+job.13.999999999999999999@" DOM), 0);
	ck_assert_uint_eq(set.njobs, 3);
	ck_assert(set.jobs[0] == 12);
	ck_assert(set.jobs[1] == 13);
	ck_assert(set.jobs[2] == 999999999999999999ULL);
}
END_TEST

START_TEST(test_job_duplicates_collapse)
{
	ck_assert_int_eq(add("ats+job.7.7.8@" DOM), 0);
	ck_assert_int_eq(add("ats+job.8.7@" DOM), 0);
	ck_assert_uint_eq(set.njobs, 2);
	ck_assert(set.jobs[0] == 7);
	ck_assert(set.jobs[1] == 8);
}
END_TEST

START_TEST(test_job_ids_malformed)
{
	static const char *const bad[] = {
		"ats+job.0@" DOM, "ats+job.012@" DOM, "ats+job.1x@" DOM,
		"ats+job.-1@" DOM, "ats+job.1234567890123456789@" DOM,
		"ats+job.1..2@" DOM, "ats+job.1.@" DOM, "ats+job.@" DOM,
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.msg[0] = '\0';
		ck_assert_msg(add(bad[i]) == -1, "%s accepted", bad[i]);
		ck_assert_msg(strncmp(err.msg, bad[i], strlen(bad[i])) == 0,
		    "\"%s\" does not name %s", err.msg, bad[i]);
		assert_reply_line(err.msg);
	}
	ck_assert_uint_eq(set.njobs, 0);
	add("ats+job.012@" DOM);
	ck_assert_str_eq(err.msg, "ats+job.012@" DOM ": job id \"012\" is not "
	    "valid; write a positive number without leading zeros, at most 18 "
	    "digits");
}
END_TEST

START_TEST(test_job_limit_20_ok_21_rejected)
{
	char addr[512];
	size_t i, len;

	len = (size_t)snprintf(addr, sizeof(addr), "ats+job");
	for (i = 1; i <= 20; i++)
		len += (size_t)snprintf(addr + len, sizeof(addr) - len, ".%zu",
		    100 + i);
	snprintf(addr + len, sizeof(addr) - len, "@" DOM);
	ck_assert_int_eq(add(addr), 0);
	ck_assert_uint_eq(set.njobs, 20);
	/* a job already named still fits */
	ck_assert_int_eq(add("ats+job.101@" DOM), 0);
	ck_assert_int_eq(add("ats+job.500@" DOM), -1);
	ck_assert_str_eq(err.msg, "ats+job.500@" DOM ": 21 jobs named; at most "
	    "20 per mail");
	ck_assert_uint_eq(set.njobs, 20);
}
END_TEST

START_TEST(test_job_limit_counts_over_all_addresses)
{
	ck_assert_int_eq(add("ats+job.1.2.3.4.5.6.7.8.9.10@" DOM), 0);
	ck_assert_int_eq(add("ats+job.11.12.13.14.15.16.17.18.19.20.21.22.23."
	    "1.2@" DOM), -1);
	ck_assert_str_eq(err.msg, "ats+job.11.12.13.14.15.16.17.18.19.20.21.22."
	    "23.1.2@" DOM ": 23 jobs named; at most 20 per mail");
	/* the rejected address added nothing */
	ck_assert_uint_eq(set.njobs, 10);
}
END_TEST

START_TEST(test_private_and_share)
{
	ck_assert_int_eq(add("ats+private@" DOM), 0);
	ck_assert_int_eq(set.share, -1);
	ck_assert_int_eq(add("Ats+PRIVATE@" DOM), 0);
	ck_assert_int_eq(set.share, -1);
	setup();
	ck_assert_int_eq(add("ats+share@" DOM), 0);
	ck_assert_int_eq(set.share, 1);
}
END_TEST

START_TEST(test_private_share_contradict)
{
	ck_assert_int_eq(add("ats+private@" DOM), 0);
	ck_assert_int_eq(add("ats+share@" DOM), -1);
	ck_assert_str_eq(err.msg, "ats+share@" DOM ": \"share\" contradicts "
	    "\"private\" named in the same mail; give only one of them");
	ck_assert_int_eq(set.share, -1);
	setup();
	ck_assert_int_eq(add("ats+share@" DOM), 0);
	ck_assert_int_eq(add("ats+private@" DOM), -1);
	ck_assert_int_eq(set.share, 1);
}
END_TEST

START_TEST(test_resume_and_contact_links)
{
	ck_assert_int_eq(add("ats+resume.42@" DOM), 0);
	ck_assert_int_eq(add("ats+resume.43@" DOM), 0);
	ck_assert_int_eq(add("ats+resume.42@" DOM), 0);
	ck_assert_int_eq(add("ats+contact.7@" DOM), 0);
	ck_assert_uint_eq(set.nresumes, 2);
	ck_assert(set.resumes[0] == 42 && set.resumes[1] == 43);
	ck_assert_uint_eq(set.ncontacts, 1);
	ck_assert(set.contacts[0] == 7);
	ck_assert_int_eq(add("ats+contact.07@" DOM), -1);
	ck_assert_str_eq(err.msg, "ats+contact.07@" DOM ": contact id \"07\" is "
	    "not valid; write a positive number without leading zeros, at "
	    "most 18 digits");
	ck_assert_int_eq(add("ats+resume.1.2@" DOM), -1);
	ck_assert_uint_eq(set.nresumes, 2);
}
END_TEST

START_TEST(test_link_limit)
{
	char addr[64];
	int i;

	for (i = 1; i <= 20; i++) {
		snprintf(addr, sizeof(addr), "ats+resume.%d@" DOM, i);
		ck_assert_int_eq(add(addr), 0);
	}
	ck_assert_int_eq(add("ats+resume.21@" DOM), -1);
	ck_assert_str_eq(err.msg, "ats+resume.21@" DOM ": more than 20 resumes "
	    "named; at most 20 per mail");
	ck_assert_uint_eq(set.nresumes, 20);
}
END_TEST

START_TEST(test_unknown_command_lists_known)
{
	ck_assert_int_eq(add("ats+jbo.12@" DOM), -1);
	ck_assert_str_eq(err.msg, "ats+jbo.12@" DOM ": unknown command "
	    "\"jbo.12\"; known commands: phase.<code>, job.<id>[.<id>...], "
	    "private, share, resume.<id>, contact.<id>, template.<code>, bulk, "
	    "bulk.<list>, force");
	ck_assert_int_eq(add("ats+shared@" DOM), -1);
	ck_assert_int_eq(add("ats+phase@" DOM), -1);
	ck_assert(!set.any);
}
END_TEST

/* ats+force: over the shared mailbox's guard; alone it concerns no record */
START_TEST(test_force)
{
	struct atsm_buf b;

	ck_assert(!atsm_command_set_records(&set));
	ck_assert_int_eq(add("ats+force@" DOM), 0);
	ck_assert(set.any);
	ck_assert(set.force);
	ck_assert(!atsm_command_set_records(&set));
	/* repeated, or in another case: the same command */
	ck_assert_int_eq(add("ATS+Force@" DOM), 0);
	atsm_buf_init(&b, 256);
	ck_assert_int_eq(atsm_command_describe(&set, &b), 0);
	ck_assert_str_eq(atsm_buf_str(&b), "force");
	ck_assert_int_eq(add("ats+share@" DOM), 0);
	ck_assert(atsm_command_set_records(&set));
	atsm_buf_reset(&b);
	ck_assert_int_eq(atsm_command_describe(&set, &b), 0);
	ck_assert_str_eq(atsm_buf_str(&b), "share force");
	atsm_buf_free(&b);
	/* force takes no argument */
	setup();
	ck_assert_int_eq(add("ats+force.1@" DOM), -1);
	ck_assert(!set.force);
	ck_assert_int_eq(add("ats+forced@" DOM), -1);
}
END_TEST

START_TEST(test_empty_command)
{
	ck_assert_int_eq(add("ats@" DOM), -1);
	ck_assert_str_eq(err.msg, "ats@" DOM ": no command given; write "
	    "ats+<command>@" DOM " with one of: phase.<code>, "
	    "job.<id>[.<id>...], private, share, resume.<id>, contact.<id>, "
	    "template.<code>, bulk, bulk.<list>, force");
	ck_assert_int_eq(add("<ats+@" DOM ">"), -1);
	ck_assert_msg(strncmp(err.msg, "ats+@" DOM ": no command given",
	    strlen("ats+@" DOM ": no command given")) == 0, "%s", err.msg);
	ck_assert(!set.any);
}
END_TEST

START_TEST(test_hostile_bytes_give_ascii_sentence)
{
	char addr[1200];

	ck_assert_int_eq(add("ats+\xe6\x8e\xa1\xe7\x94\xa8\r\n@" DOM), -1);
	assert_reply_line(err.msg);
	memset(addr, 'x', sizeof(addr));
	memcpy(addr, "ats+", 4);
	snprintf(addr + 1000, 200, "@" DOM);
	ck_assert_int_eq(add(addr), -1);
	assert_reply_line(err.msg);
	ck_assert(strstr(err.msg, "longer than") != NULL);
}
END_TEST

START_TEST(test_combination_and_describe)
{
	struct atsm_buf b;

	ck_assert_int_eq(add("ats+phase.interview@" DOM), 0);
	ck_assert_int_eq(add("ats+job.12.13@" DOM), 0);
	ck_assert_int_eq(add("ats+share@" DOM), 0);
	ck_assert_int_eq(add("ats+resume.4@" DOM), 0);
	ck_assert_int_eq(add("ats+contact.7@" DOM), 0);
	atsm_buf_init(&b, 0);
	ck_assert_int_eq(atsm_command_describe(&set, &b), 0);
	ck_assert_str_eq(atsm_buf_str(&b),
	    "phase=interview jobs=12,13 share resumes=4 contacts=7");
	atsm_buf_reset(&b);
	setup();
	atsm_command_describe(&set, &b);
	ck_assert_str_eq(atsm_buf_str(&b), "none");
	atsm_buf_free(&b);
}
END_TEST

START_TEST(test_template_and_bulk)
{
	struct atsm_command_fault f;
	struct atsm_buf b;

	ck_assert_int_eq(add("ats+template.Offer-1@" DOM), 0);
	ck_assert(set.has_template);
	ck_assert_str_eq(set.template_code, "offer-1");
	/* the same code again collapses; another one contradicts it */
	ck_assert_int_eq(add("ats+template.offer-1@" DOM), 0);
	ck_assert_int_eq(atsm_command_add_fault(&set, "ats+template.reject@" DOM, NULL, DOM, &f,
	    &err), -1);
	ck_assert_int_eq(f.code, ATSM_COMMAND_FAULT_TEMPLATE_CONFLICT);
	ck_assert_str_eq(f.word[0], "reject");
	ck_assert_str_eq(f.word[1], "offer-1");
	ck_assert_str_eq(f.addr, "ats+template.reject@" DOM);
	assert_reply_line(err.msg);
	ck_assert_str_eq(set.template_code, "offer-1");
	ck_assert(!set.bulk);
	ck_assert_int_eq(add("ats+bulk@" DOM), 0);
	ck_assert(set.bulk);
	ck_assert_str_eq(set.bulk_list, "");
	ck_assert_int_eq(add("ats+bulk.spring_2026@" DOM), 0);
	ck_assert_str_eq(set.bulk_list, "spring_2026");
	ck_assert_int_eq(add("ats+bulk@" DOM), 0);
	ck_assert_str_eq(set.bulk_list, "spring_2026");
	ck_assert_int_eq(atsm_command_add_fault(&set, "ats+bulk.autumn@" DOM, NULL, DOM, &f,
	    &err), -1);
	ck_assert_int_eq(f.code, ATSM_COMMAND_FAULT_LIST_CONFLICT);
	atsm_buf_init(&b, 1024);
	ck_assert_int_eq(atsm_command_describe(&set, &b), 0);
	ck_assert_str_eq(atsm_buf_str(&b), "template=offer-1 bulk=list:spring_2026");
	atsm_buf_free(&b);
}
END_TEST

START_TEST(test_template_and_bulk_faults)
{
	struct atsm_command_fault f;
	static const struct { const char *addr; enum atsm_command_fault_code code;
	    const char *word; } cases[] = {
		{ "ats+template.@" DOM, ATSM_COMMAND_FAULT_TEMPLATE_MISSING, "" },
		{ "ats+template@" DOM, ATSM_COMMAND_FAULT_TEMPLATE_MISSING, "" },
		{ "ats+template._x@" DOM, ATSM_COMMAND_FAULT_TEMPLATE_INVALID, "_x" },
		{ "ats+template.a.b@" DOM, ATSM_COMMAND_FAULT_TEMPLATE_INVALID, "a.b" },
		{ "ats+template.abcdefghijabcdefghijabcdefghijabc@" DOM,
		  ATSM_COMMAND_FAULT_TEMPLATE_INVALID, "abcdefghijabcdefghijabcdefghijabc" },
		{ "ats+bulk.@" DOM, ATSM_COMMAND_FAULT_LIST_MISSING, "" },
		{ "ats+bulk.x y@" DOM, ATSM_COMMAND_FAULT_LIST_INVALID, "x y" },
		{ "ats+bulkx@" DOM, ATSM_COMMAND_FAULT_UNKNOWN, "bulkx" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		setup();
		ck_assert_msg(atsm_command_add_fault(&set, cases[i].addr, NULL, DOM, &f, &err) == -1,
		    "%s accepted", cases[i].addr);
		ck_assert_msg(f.code == cases[i].code, "%s: fault %d", cases[i].addr, f.code);
		ck_assert_str_eq(f.word[0], cases[i].word);
		assert_reply_line(err.msg);
		ck_assert(!set.any && !set.bulk && !set.has_template);
	}
	/* 32 characters is the longest code */
	setup();
	ck_assert_int_eq(add("ats+template.abcdefghijabcdefghijabcdefghijab@" DOM), 0);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("command");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_is_address_forms);
	tcase_add_test(tc, test_canon_quoted_and_escaped);
	tcase_add_test(tc, test_canon_case_dot_route);
	tcase_add_test(tc, test_canon_routing_forms);
	tcase_add_test(tc, test_canon_idn_domain);
	tcase_add_test(tc, test_canon_hostile_inputs);
	tcase_add_test(tc, test_quoted_command_applied);
	tcase_add_test(tc, test_malformed_quoted_command_refused);
	tcase_add_test(tc, test_empty_ats_domain_disables_commands);
	tcase_add_test(tc, test_force);
	tcase_add_test(tc, test_other_recipient_is_left_alone);
	tcase_add_test(tc, test_custom_localpart);
	tcase_add_test(tc, test_phase_command);
	tcase_add_test(tc, test_phase_case_insensitive_and_lowered);
	tcase_add_test(tc, test_phase_code_32_ok_33_rejected);
	tcase_add_test(tc, test_phase_malformed_sentences);
	tcase_add_test(tc, test_two_phases_contradict);
	tcase_add_test(tc, test_job_single_and_several);
	tcase_add_test(tc, test_job_duplicates_collapse);
	tcase_add_test(tc, test_job_ids_malformed);
	tcase_add_test(tc, test_job_limit_20_ok_21_rejected);
	tcase_add_test(tc, test_job_limit_counts_over_all_addresses);
	tcase_add_test(tc, test_private_and_share);
	tcase_add_test(tc, test_private_share_contradict);
	tcase_add_test(tc, test_resume_and_contact_links);
	tcase_add_test(tc, test_link_limit);
	tcase_add_test(tc, test_unknown_command_lists_known);
	tcase_add_test(tc, test_empty_command);
	tcase_add_test(tc, test_hostile_bytes_give_ascii_sentence);
	tcase_add_test(tc, test_combination_and_describe);
	tcase_add_test(tc, test_template_and_bulk);
	tcase_add_test(tc, test_template_and_bulk_faults);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()

/* test-pipeline.c -- unit tests of what both decisions share
 * (lib/pipeline/: the record set and the visibility through the
 * directory), and of the fake directory the decisions' tests use. */
#include "atsm-check.h"
#include "fake-dir.h"
#include "pipeline/recset.h"
#include "pipeline/visibility.h"

#include <string.h>

static struct fake_dir fd;
static struct atsm_dir dir;
static struct atsm_arena arena;

static void
setup(void)
{
	fake_dir_init(&fd);
	fake_dir_seed(&fd);
	dir = fake_dir_dir(&fd);
	atsm_arena_init(&arena, 1024 * 1024);
}

static void
teardown(void)
{
	atsm_arena_free(&arena);
	fake_dir_free(&fd);
}

START_TEST(test_recset_adds_once_and_ors_link)
{
	struct atsm_recset s;
	struct atsm_rec *a, *b;

	atsm_recset_init(&s, 8);
	a = atsm_recset_add(&s, ATSM_RECORD_RESUME, 1001, "sender_address", false);
	b = atsm_recset_add(&s, ATSM_RECORD_RESUME, 1001, "token", true);
	ck_assert_ptr_eq(a, b);
	ck_assert_uint_eq(s.n, 1);
	ck_assert(b->link);
	ck_assert_str_eq(b->rule, "sender_address");
	atsm_recset_free(&s);
}
END_TEST

START_TEST(test_recset_bound_sets_truncated)
{
	struct atsm_recset s;
	long long i;

	atsm_recset_init(&s, 3);
	for (i = 0; i < 3; i++)
		ck_assert_ptr_nonnull(atsm_recset_add(&s, ATSM_RECORD_RESUME, 1000 + i, "x", true));
	ck_assert(!s.truncated);
	ck_assert_ptr_null(atsm_recset_add(&s, ATSM_RECORD_RESUME, 2000, "x", true));
	ck_assert(s.truncated);
	ck_assert_uint_eq(s.n, 3);
	atsm_recset_free(&s);
}
END_TEST

START_TEST(test_recset_process_by_resume_and_job)
{
	struct atsm_recset s;
	struct atsm_rec *p, *q;

	atsm_recset_init(&s, 8);
	p = atsm_recset_add_process(&s, 0, 1001, 3002, "command", true);
	q = atsm_recset_add_process(&s, 0, 1001, 3002, "in_reply_to", false);
	ck_assert_ptr_eq(p, q);
	ck_assert_ptr_eq(atsm_recset_find_process(&s, 1001, 3002), p);
	/* id 0 never matches by id */
	ck_assert_ptr_null(atsm_recset_find(&s, ATSM_RECORD_PROCESS, 0));
	/* the id learned later names the same entry */
	q = atsm_recset_add_process(&s, 4711, 1001, 3002, "command", true);
	ck_assert_ptr_eq(p, q);
	ck_assert_int_eq(p->id, 4711);
	atsm_recset_free(&s);
}
END_TEST

START_TEST(test_excluded_walks_parent_domains)
{
	char *cps[] = { "a@mail.rival.example", "b@candidate.test", "c@rival.example" };
	char **ex;
	size_t n;

	ck_assert_int_eq(atsm_pipeline_excluded(&dir, cps, 3, &arena, &ex, &n, NULL), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(ex[0], "rival.example");
}
END_TEST

START_TEST(test_visibility_custom_mode_uses_linked_records)
{
	struct atsm_recset s;
	struct atsm_vis_input in;
	struct atsm_vis v;
	char *cps[] = { "saburo@candidate.test" };
	struct atsm_rec *r;
	struct atsm_dir_record d;

	atsm_recset_init(&s, 8);
	r = atsm_recset_add(&s, ATSM_RECORD_RESUME, 1006, "recipient_address", true);
	ck_assert_int_eq(dir.ops->record(dir.ctx, ATSM_RECORD_RESUME, 1006, &d, NULL), 1);
	atsm_rec_load_record(r, &d);
	memset(&in, 0, sizeof(in));
	in.mode_known = true;
	in.mode = ATSM_SHARING_CUSTOM;
	in.recs = &s;
	in.counterparts = cps;
	in.ncounterparts = 1;
	ck_assert_int_eq(atsm_pipeline_visibility(&dir, &in, &arena, &v, NULL), 0);
	ck_assert_str_eq(v.name, "private");
	ck_assert_str_eq(v.reason, "custom mode: resume 1006 not shared");
	/* a target that is not a link does not count */
	r->link = false;
	ck_assert_int_eq(atsm_pipeline_visibility(&dir, &in, &arena, &v, NULL), 0);
	ck_assert_str_eq(v.reason, "custom mode: default share off");
	atsm_recset_free(&s);
}
END_TEST

START_TEST(test_visibility_unknown_mode_fails_closed)
{
	struct atsm_vis_input in;
	struct atsm_vis v;

	memset(&in, 0, sizeof(in));
	in.mode_known = false;
	ck_assert_int_eq(atsm_pipeline_visibility(&dir, &in, &arena, &v, NULL), 0);
	ck_assert_str_eq(v.name, "private");
}
END_TEST

START_TEST(test_visibility_reports_a_failing_directory)
{
	struct atsm_vis_input in;
	struct atsm_vis v;
	struct atsm_err err;
	char *cps[] = { "taro@candidate.test" };

	memset(&in, 0, sizeof(in));
	in.mode_known = true;
	in.counterparts = cps;
	in.ncounterparts = 1;
	fake_dir_fail(&fd, true);
	ck_assert_int_eq(atsm_pipeline_visibility(&dir, &in, &arena, &v, &err), -1);
	ck_assert_int_eq(err.cls, ATSM_ERR_UNAVAILABLE);
}
END_TEST

START_TEST(test_fake_dir_answers_like_the_seed)
{
	struct atsm_dir_record recs[4];
	struct atsm_dir_user u;
	struct atsm_dir_rule rule;
	struct atsm_dir_message m;
	char first[ATSM_DIR_PHASE_MAX];
	size_t n;

	ck_assert_int_eq(dir.ops->records_by_addr(dir.ctx, "family@candidate.test", recs, 4, &n,
	    NULL), 1);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(recs[0].id, 1004);
	ck_assert_int_eq(dir.ops->user_by_addr(dir.ctx, "alice.sales@atsmail.test", &u, NULL), 1);
	ck_assert_str_eq(u.login, "alice@atsmail.test");
	ck_assert_int_eq(dir.ops->phase_rule(dir.ctx, ATSM_RECORD_PROCESS, "reply", "screening",
	    &rule, NULL), 1);
	ck_assert_str_eq(rule.to_phase, "interview1");
	ck_assert_int_eq(dir.ops->phase_rule(dir.ctx, ATSM_RECORD_RESUME, "reply", "placed",
	    &rule, NULL), 0);
	ck_assert_int_eq(dir.ops->phase_first(dir.ctx, ATSM_RECORD_PROCESS, first, NULL), 1);
	ck_assert_str_eq(first, "entry");
	ck_assert_int_eq(dir.ops->message_by_msgid(dir.ctx, "out-5002@atsmail.test", ATSM_DIR_OUT,
	    &arena, &m, NULL), 1);
	ck_assert_uint_eq(m.n_links, 2);
	ck_assert_int_eq(m.links[1].kind, ATSM_RECORD_PROCESS);
	ck_assert_int_eq(m.links[1].resume_id, 1002);
}
END_TEST

START_TEST(test_fake_dir_applies_effects)
{
	struct atsm_dir_phase_set ps[2];
	struct atsm_dir_effects e;

	memset(ps, 0, sizeof(ps));
	ps[0].kind = ATSM_RECORD_PROCESS;
	ps[0].resume_id = 1001;
	ps[0].job_id = 3005;
	strcpy(ps[0].phase, "screening");
	ps[1].kind = ATSM_RECORD_RESUME;
	ps[1].id = 1001;
	strcpy(ps[1].phase, "active");
	memset(&e, 0, sizeof(e));
	e.phases = ps;
	e.n_phases = 2;
	fake_dir_apply(&fd, &e);
	ck_assert_ptr_nonnull(fake_dir_process(&fd, 1001, 3005));
	ck_assert_int_eq(fake_dir_process(&fd, 1001, 3005)->id, 0);
	ck_assert(fake_dir_process(&fd, 1001, 3005)->job_open);
	ck_assert_str_eq(fake_dir_record(&fd, ATSM_RECORD_RESUME, 1001)->phase, "active");
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("pipeline");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_recset_adds_once_and_ors_link);
	tcase_add_test(tc, test_recset_bound_sets_truncated);
	tcase_add_test(tc, test_recset_process_by_resume_and_job);
	tcase_add_test(tc, test_excluded_walks_parent_domains);
	tcase_add_test(tc, test_visibility_custom_mode_uses_linked_records);
	tcase_add_test(tc, test_visibility_unknown_mode_fails_closed);
	tcase_add_test(tc, test_visibility_reports_a_failing_directory);
	tcase_add_test(tc, test_fake_dir_answers_like_the_seed);
	tcase_add_test(tc, test_fake_dir_applies_effects);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()

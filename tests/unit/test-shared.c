/* test-shared.c -- shared/shared.c: the folder of a delivered mail, what a
 * move into a folder means, member folder names, the thread key. */
#include <stdlib.h>
#include <string.h>

#include "atsm-check.h"
#include "shared/shared.h"

static struct atsm_conf conf;
static struct atsm_err err;

static void
setup(void)
{
	ck_assert_int_eq(atsm_conf_init(&conf, &err), 0);
	ck_assert_int_eq(atsm_conf_set(&conf, "shared_mailboxes",
	    "recruit@atsmail.test, Sales@Corp.test", &err), 0);
}

static void
teardown(void)
{
	atsm_conf_free(&conf);
}

START_TEST(test_shared_defaults_are_japanese)
{
	ck_assert_str_eq(conf.shared_folder_unhandled, "未対応");
	ck_assert_str_eq(conf.shared_folder_progress, "対応中");
	ck_assert_str_eq(conf.shared_folder_done, "完了");
	ck_assert_uint_eq(conf.shared_answered_status, ATSM_SHARED_ANSWERED_DONE);
}
END_TEST

START_TEST(test_shared_is_mailbox)
{
	ck_assert(atsm_shared_is_mailbox(&conf, "recruit@atsmail.test"));
	ck_assert(atsm_shared_is_mailbox(&conf, "sales@corp.TEST"));
	ck_assert(!atsm_shared_is_mailbox(&conf, "alice@atsmail.test"));
	ck_assert(!atsm_shared_is_mailbox(&conf, ""));
	ck_assert(!atsm_shared_is_mailbox(&conf, NULL));
}
END_TEST

START_TEST(test_shared_member_leaf)
{
	char leaf[ATSM_SHARED_LEAF_MAX], small[4];

	ck_assert_int_eq(atsm_shared_member_leaf("alice@atsmail.test", leaf, sizeof(leaf), &err), 0);
	ck_assert_str_eq(leaf, "alice");
	ck_assert_int_eq(atsm_shared_member_leaf("bob", leaf, sizeof(leaf), &err), 0);
	ck_assert_str_eq(leaf, "bob");
	ck_assert_int_eq(atsm_shared_member_leaf("@x.test", leaf, sizeof(leaf), &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "@x.test"));
	ck_assert_int_eq(atsm_shared_member_leaf("a/b@x.test", leaf, sizeof(leaf), &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "'/'"));
	ck_assert_int_eq(atsm_shared_member_leaf("carol@x.test", small, sizeof(small), &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "too long"));
}
END_TEST

START_TEST(test_shared_delivery_folder)
{
	char f[ATSM_SHARED_FOLDER_MAX];

	ck_assert_int_eq(atsm_shared_folder_of(&conf, ATSM_SHARED_UNHANDLED, NULL, f, sizeof(f),
	    &err), 0);
	ck_assert_str_eq(f, "未対応");
	ck_assert_int_eq(atsm_shared_folder_of(&conf, ATSM_SHARED_UNHANDLED,
	    "bob@atsmail.test", f, sizeof(f), &err), 0);
	ck_assert_str_eq(f, "未対応/bob");
	ck_assert_int_eq(atsm_shared_folder_of(&conf, ATSM_SHARED_PROGRESS,
	    "alice@atsmail.test", f, sizeof(f), &err), 0);
	ck_assert_str_eq(f, "対応中/alice");
	/* done keeps no member subfolder */
	ck_assert_int_eq(atsm_shared_folder_of(&conf, ATSM_SHARED_DONE, "alice@atsmail.test",
	    f, sizeof(f), &err), 0);
	ck_assert_str_eq(f, "完了");
	ck_assert_int_eq(atsm_shared_folder_of(&conf, ATSM_SHARED_UNHANDLED, "x/y@z", f,
	    sizeof(f), &err), -1);
	ck_assert_int_eq(atsm_conf_set(&conf, "shared_folder_unhandled", "Open", &err), 0);
	ck_assert_int_eq(atsm_shared_folder_of(&conf, ATSM_SHARED_UNHANDLED, "bob@a.test", f,
	    sizeof(f), &err), 0);
	ck_assert_str_eq(f, "Open/bob");
}
END_TEST

START_TEST(test_shared_move_sources)
{
	char src[ATSM_SHARED_MOVE_SOURCES][ATSM_SHARED_FOLDER_MAX];

	ck_assert_int_eq(atsm_shared_move_sources(&conf, ATSM_SHARED_DONE, src, &err), 0);
	ck_assert_str_eq(src[0], "INBOX");
	ck_assert_str_eq(src[1], "未対応*");
	ck_assert_str_eq(src[2], "対応中*");
	ck_assert_int_eq(atsm_shared_move_sources(&conf, ATSM_SHARED_PROGRESS, src, &err), 0);
	ck_assert_str_eq(src[0], "INBOX");
	ck_assert_str_eq(src[1], "未対応*");
	ck_assert_str_eq(src[2], "完了*");
	ck_assert_int_eq(atsm_conf_set(&conf, "shared_folder_done", "Closed", &err), 0);
	ck_assert_int_eq(atsm_shared_move_sources(&conf, ATSM_SHARED_PROGRESS, src, &err), 0);
	ck_assert_str_eq(src[2], "Closed*");
	ck_assert_int_eq(atsm_shared_move_sources(&conf, (enum atsm_shared_status)7, src, &err),
	    -1);
}
END_TEST

static struct atsm_shared_move mv;

static int
decide(const char *folder, const char *mover)
{
	return atsm_shared_move_decide(&conf, folder, mover, &mv, &err);
}

START_TEST(test_shared_move_into_status_folders)
{
	ck_assert_int_eq(decide("未対応", "alice@atsmail.test"), 1);
	ck_assert_int_eq(mv.status, ATSM_SHARED_UNHANDLED);
	ck_assert_int_eq(mv.assign, ATSM_SHARED_ASSIGN_NONE);

	ck_assert_int_eq(decide("対応中", "alice@atsmail.test"), 1);
	ck_assert_int_eq(mv.status, ATSM_SHARED_PROGRESS);
	ck_assert_int_eq(mv.assign, ATSM_SHARED_ASSIGN_MEMBER);
	ck_assert_str_eq(mv.member, "alice@atsmail.test");

	ck_assert_int_eq(decide("完了", "alice@atsmail.test"), 1);
	ck_assert_int_eq(mv.status, ATSM_SHARED_DONE);
	ck_assert_int_eq(mv.assign, ATSM_SHARED_ASSIGN_KEEP);

	ck_assert_int_eq(decide("対応中/bob", "alice@atsmail.test"), 1);
	ck_assert_int_eq(mv.status, ATSM_SHARED_PROGRESS);
	ck_assert_int_eq(mv.assign, ATSM_SHARED_ASSIGN_MEMBER);
	ck_assert_str_eq(mv.member, "bob");

	ck_assert_int_eq(decide("未対応/carol", "alice@atsmail.test"), 1);
	ck_assert_int_eq(mv.status, ATSM_SHARED_UNHANDLED);
	ck_assert_str_eq(mv.member, "carol");
}
END_TEST

START_TEST(test_shared_move_elsewhere_is_nothing)
{
	ck_assert_int_eq(decide("INBOX", "alice@atsmail.test"), 0);
	ck_assert_int_eq(decide("対応中2", "alice@atsmail.test"), 0);
	ck_assert_int_eq(decide("対応中/bob/old", "alice@atsmail.test"), 0);
	ck_assert_int_eq(decide("対応中/", "alice@atsmail.test"), 0);
	ck_assert_int_eq(decide("Archive/未対応", "alice@atsmail.test"), 0);
	ck_assert_int_eq(decide("", "alice@atsmail.test"), -1);
	ck_assert_int_eq(decide("対応中", ""), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "対応中"));
}
END_TEST

START_TEST(test_shared_status_words)
{
	enum atsm_shared_status s;

	ck_assert_str_eq(atsm_shared_status_name(ATSM_SHARED_PROGRESS), "progress");
	ck_assert_int_eq(atsm_shared_status_parse("done", &s), 0);
	ck_assert_int_eq(s, ATSM_SHARED_DONE);
	ck_assert_int_eq(atsm_shared_status_parse("closed", &s), -1);
}
END_TEST

START_TEST(test_shared_thread_key)
{
	char *k;

	ck_assert_int_eq(atsm_shared_thread_key("<root@a> <mid@b>", "<mid@b>", "<me@c>", &k), 0);
	ck_assert_str_eq(k, "root@a");
	free(k);
	ck_assert_int_eq(atsm_shared_thread_key(NULL, "<parent@b>", "<me@c>", &k), 0);
	ck_assert_str_eq(k, "parent@b");
	free(k);
	ck_assert_int_eq(atsm_shared_thread_key("", "", "<me@c>", &k), 0);
	ck_assert_str_eq(k, "me@c");
	free(k);
	ck_assert_int_eq(atsm_shared_thread_key(NULL, NULL, NULL, &k), 0);
	ck_assert_ptr_null(k);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("shared");
	TCase *tc = tcase_create("shared");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_shared_defaults_are_japanese);
	tcase_add_test(tc, test_shared_is_mailbox);
	tcase_add_test(tc, test_shared_member_leaf);
	tcase_add_test(tc, test_shared_delivery_folder);
	tcase_add_test(tc, test_shared_move_sources);
	tcase_add_test(tc, test_shared_move_into_status_folders);
	tcase_add_test(tc, test_shared_move_elsewhere_is_nothing);
	tcase_add_test(tc, test_shared_status_words);
	tcase_add_test(tc, test_shared_thread_key);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()

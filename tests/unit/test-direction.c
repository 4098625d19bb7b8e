/* test-direction.c -- unit tests of mail direction and network lists
 * (lib/rules/direction.c). */
#include "atsm-check.h"
#include "rules/direction.h"

#include <stdio.h>
#include <string.h>

static struct atsm_netlist nets;
static struct atsm_err err;
static struct atsm_buf reason;

static void
setup(void)
{
	memset(&nets, 0, sizeof(nets));
	memset(&err, 0, sizeof(err));
	atsm_buf_init(&reason, 0);
}

static void
teardown(void)
{
	atsm_netlist_free(&nets);
	atsm_buf_free(&reason);
}

static int
parse1(const char *text)
{
	char *w[1];

	w[0] = (char *)text;
	return atsm_netlist_parse(w, 1, &nets, &err);
}

START_TEST(test_parse_comma_list_in_one_word)
{
	ck_assert_int_eq(parse1("10.0.0.0/8, 192.168.1.0/24, ::1/128"), 0);
	ck_assert_uint_eq(nets.n, 3);
	ck_assert_str_eq(nets.v[0].text, "10.0.0.0/8");
	ck_assert_str_eq(nets.v[1].text, "192.168.1.0/24");
	ck_assert_str_eq(nets.v[2].text, "::1/128");
}
END_TEST

START_TEST(test_parse_several_words_and_bare_hosts)
{
	char *w[] = { "172.16.0.0/12", "", "  2001:DB8::/32,", "192.0.2.7",
	    "[2001:db8:1::5]" };

	ck_assert_int_eq(atsm_netlist_parse(w, 5, &nets, &err), 0);
	ck_assert_uint_eq(nets.n, 4);
	ck_assert_str_eq(nets.v[1].text, "2001:db8::/32");
	ck_assert_str_eq(nets.v[2].text, "192.0.2.7/32");
	ck_assert_str_eq(nets.v[3].text, "2001:db8:1::5/128");
}
END_TEST

START_TEST(test_ipv4_membership)
{
	ck_assert_int_eq(parse1("10.0.0.0/8 192.168.1.0/24"), 0);
	ck_assert(atsm_netlist_contains(&nets, "10.1.2.3"));
	ck_assert(atsm_netlist_contains(&nets, "10.255.255.255"));
	ck_assert(!atsm_netlist_contains(&nets, "11.0.0.1"));
	ck_assert(atsm_netlist_contains(&nets, "192.168.1.200"));
	ck_assert(!atsm_netlist_contains(&nets, "192.168.2.1"));
	ck_assert(!atsm_netlist_contains(&nets, "not-an-ip"));
	ck_assert(!atsm_netlist_contains(&nets, NULL));
}
END_TEST

START_TEST(test_odd_prefix_boundaries)
{
	ck_assert_int_eq(parse1("192.168.0.0/23 2001:db8:8000::/33"), 0);
	ck_assert(atsm_netlist_contains(&nets, "192.168.1.9"));
	ck_assert(!atsm_netlist_contains(&nets, "192.168.2.0"));
	ck_assert(atsm_netlist_contains(&nets, "2001:db8:ffff::1"));
	ck_assert(!atsm_netlist_contains(&nets, "2001:db8:7fff::1"));
}
END_TEST

START_TEST(test_prefix_32_is_one_host)
{
	ck_assert_int_eq(parse1("198.51.100.7/32"), 0);
	ck_assert(atsm_netlist_contains(&nets, "198.51.100.7"));
	ck_assert(!atsm_netlist_contains(&nets, "198.51.100.8"));
}
END_TEST

START_TEST(test_prefix_0_holds_its_family_only)
{
	ck_assert_int_eq(parse1("0.0.0.0/0"), 0);
	ck_assert(atsm_netlist_contains(&nets, "203.0.113.5"));
	ck_assert(!atsm_netlist_contains(&nets, "2001:db8::1"));
	atsm_netlist_free(&nets);
	ck_assert_int_eq(parse1("::/0"), 0);
	ck_assert(atsm_netlist_contains(&nets, "2001:db8::1"));
}
END_TEST

START_TEST(test_ipv6_forms_of_client_address)
{
	ck_assert_int_eq(parse1("::1/128, fe80::/10, 2001:db8::/32"), 0);
	ck_assert(atsm_netlist_contains(&nets, "::1"));
	ck_assert(atsm_netlist_contains(&nets, "IPv6:::1"));
	ck_assert(atsm_netlist_contains(&nets, "[2001:db8::42]"));
	ck_assert(atsm_netlist_contains(&nets, "fe80::1%eth0"));
	ck_assert(!atsm_netlist_contains(&nets, "::2"));
	ck_assert(!atsm_netlist_contains(&nets, "2001:db9::1"));
}
END_TEST

START_TEST(test_ipv4_mapped_ipv6_matches_ipv4_network)
{
	ck_assert_int_eq(parse1("10.0.0.0/8"), 0);
	ck_assert(atsm_netlist_contains(&nets, "::ffff:10.9.8.7"));
	ck_assert(!atsm_netlist_contains(&nets, "::ffff:11.9.8.7"));
}
END_TEST

START_TEST(test_bad_words_are_named)
{
	ck_assert_int_eq(parse1("10.0.0.0/8, 10.0.0.0/33"), -1);
	ck_assert_str_eq(err.msg, "internal network \"10.0.0.0/33\": prefix "
	    "length must be 0 to 32 for IPv4");
	ck_assert_uint_eq(nets.n, 0);
	ck_assert_int_eq(parse1("::1/129"), -1);
	ck_assert_str_eq(err.msg, "internal network \"::1/129\": prefix "
	    "length must be 0 to 128 for IPv6");
	ck_assert_int_eq(parse1("intranet.example"), -1);
	ck_assert_str_eq(err.msg, "internal network \"intranet.example\": not "
	    "an IPv4 or IPv6 address");
	ck_assert_int_eq(parse1("10.0.0.0/"), -1);
	ck_assert_int_eq(parse1("10.0.0.0/8x"), -1);
	ck_assert_int_eq(parse1("10.0.0.0/-8"), -1);
	ck_assert_int_eq(parse1("300.1.1.1/32"), -1);
	ck_assert_uint_eq(nets.n, 0);
}
END_TEST

START_TEST(test_host_bits_set_is_refused_with_hint)
{
	ck_assert_int_eq(parse1("192.168.1.1/24"), -1);
	ck_assert_str_eq(err.msg, "internal network \"192.168.1.1/24\": host "
	    "bits set; did you mean 192.168.1.0/24?");
	ck_assert_int_eq(parse1("2001:db8::1/64"), -1);
	ck_assert_str_eq(err.msg, "internal network \"2001:db8::1/64\": host "
	    "bits set; did you mean 2001:db8::/64?");
}
END_TEST

START_TEST(test_authenticated_is_outbound_and_wins)
{
	struct atsm_direction_input in = {
		.auth_authen = "alice@x", .client_addr = "203.0.113.5",
		.non_smtp = true, .internal = NULL,
	};

	ck_assert_int_eq(atsm_direction_of(&in, &reason), ATSM_DIR_OUTBOUND);
	ck_assert_str_eq(atsm_buf_str(&reason), "authenticated as alice@x");
}
END_TEST

START_TEST(test_internal_network_is_outbound)
{
	struct atsm_direction_input in = { .auth_authen = "",
	    .client_addr = "10.1.2.3", .internal = &nets };

	ck_assert_int_eq(parse1("192.168.1.0/24 10.0.0.0/8"), 0);
	ck_assert_int_eq(atsm_direction_of(&in, &reason), ATSM_DIR_OUTBOUND);
	ck_assert_str_eq(atsm_buf_str(&reason),
	    "client 10.1.2.3 in internal network 10.0.0.0/8");
}
END_TEST

START_TEST(test_non_smtp_is_outbound)
{
	struct atsm_direction_input in = { .auth_authen = NULL,
	    .client_addr = NULL, .non_smtp = true, .internal = &nets };

	ck_assert_int_eq(atsm_direction_of(&in, &reason), ATSM_DIR_OUTBOUND);
	ck_assert_str_eq(atsm_buf_str(&reason), "non-SMTP submission");
}
END_TEST

START_TEST(test_stranger_is_inbound)
{
	struct atsm_direction_input in = { .auth_authen = "",
	    .client_addr = "203.0.113.5", .internal = &nets };

	ck_assert_int_eq(parse1("10.0.0.0/8"), 0);
	ck_assert_int_eq(atsm_direction_of(&in, &reason), ATSM_DIR_INBOUND);
	ck_assert_str_eq(atsm_buf_str(&reason),
	    "unauthenticated client 203.0.113.5");
	in.client_addr = NULL;
	in.internal = NULL;
	ck_assert_int_eq(atsm_direction_of(&in, &reason), ATSM_DIR_INBOUND);
	ck_assert_str_eq(atsm_buf_str(&reason),
	    "unauthenticated client (address unknown)");
	ck_assert_str_eq(atsm_direction_name(ATSM_DIR_INBOUND), "inbound");
	ck_assert_str_eq(atsm_direction_name(ATSM_DIR_OUTBOUND), "outbound");
}
END_TEST

START_TEST(test_list_limit)
{
	static char text[(ATSM_NETLIST_MAX + 1) * 16];
	size_t i, len = 0;

	for (i = 0; i <= ATSM_NETLIST_MAX; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
		    "10.%zu.%zu.0/24 ", i / 256, i % 256);
	ck_assert_int_eq(parse1(text), -1);
	ck_assert(strstr(err.msg, "more than 4096 networks") != NULL);
	ck_assert_uint_eq(nets.n, 0);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("direction");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_parse_comma_list_in_one_word);
	tcase_add_test(tc, test_parse_several_words_and_bare_hosts);
	tcase_add_test(tc, test_ipv4_membership);
	tcase_add_test(tc, test_odd_prefix_boundaries);
	tcase_add_test(tc, test_prefix_32_is_one_host);
	tcase_add_test(tc, test_prefix_0_holds_its_family_only);
	tcase_add_test(tc, test_ipv6_forms_of_client_address);
	tcase_add_test(tc, test_ipv4_mapped_ipv6_matches_ipv4_network);
	tcase_add_test(tc, test_bad_words_are_named);
	tcase_add_test(tc, test_host_bits_set_is_refused_with_hint);
	tcase_add_test(tc, test_authenticated_is_outbound_and_wins);
	tcase_add_test(tc, test_internal_network_is_outbound);
	tcase_add_test(tc, test_non_smtp_is_outbound);
	tcase_add_test(tc, test_stranger_is_inbound);
	tcase_add_test(tc, test_list_limit);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()

/* test-milter-proto.c -- unit tests of the milter codec
 * (lib/service/milter-proto.c): framing, each decoder on the packets
 * Postfix 3.7 sends and on malformed ones, and round trips; the exact
 * bytes of each encoder are tested in test-milter-proto-put.c, in the
 * same program.  Packets under test are copied into allocations of their
 * exact size, so that the sanitizer build catches a decoder that reads
 * one byte too far.
 */
#include "test-milter-proto.h"

#include <stdlib.h>
#include <string.h>

/* ---- helpers (test-milter-proto.h) ---- */

struct atsm_milter_packet
pkt_of(unsigned char cmd, const void *data, size_t n)
{
	struct atsm_milter_packet p;
	unsigned char *copy = malloc(n ? n : 1);

	ck_assert_ptr_nonnull(copy);
	if (n > 0)
		memcpy(copy, data, n);
	p.cmd = cmd;
	p.data = copy;
	p.len = n;
	return p;
}

void
pkt_free(struct atsm_milter_packet *p)
{
	free((void *)p->data);
	p->data = NULL;
}

/* A framed packet: length (cmd + data), cmd, data; returns its size. */
size_t
frame(unsigned char *buf, unsigned char cmd, const void *data, size_t n)
{
	uint32_t len = (uint32_t)n + 1;

	buf[0] = (unsigned char)(len >> 24);
	buf[1] = (unsigned char)(len >> 16);
	buf[2] = (unsigned char)(len >> 8);
	buf[3] = (unsigned char)len;
	buf[4] = cmd;
	if (n > 0)
		memcpy(buf + 5, data, n);
	return n + 5;
}

void
assert_bytes(const struct atsm_buf *b, const void *want, size_t n)
{
	ck_assert_uint_eq(b->len, n);
	ck_assert_int_eq(memcmp(b->data, want, n), 0);
}

/* ---- framing ---- */

START_TEST(test_packet_needs_whole_header_and_data)
{
	unsigned char buf[64];
	struct atsm_milter_packet p;
	struct atsm_err err;
	size_t n = frame(buf, 'H', LIT("mail.example.jp\0")), i;

	for (i = 0; i < n; i++)
		ck_assert_int_eq(atsm_milter_packet_next(buf, i, ATSM_MILTER_PACKET_MAX, &p, &err), 0);
	ck_assert_int_eq(atsm_milter_packet_next(buf, n, ATSM_MILTER_PACKET_MAX, &p, &err), (long)n);
	ck_assert_int_eq(p.cmd, 'H');
	ck_assert_uint_eq(p.len, 16);
	ck_assert_ptr_eq(p.data, buf + 5);
	ck_assert_str_eq((const char *)p.data, "mail.example.jp");
}
END_TEST

START_TEST(test_packet_several_in_one_buffer)
{
	unsigned char buf[128];
	struct atsm_milter_packet p;
	struct atsm_err err;
	size_t n = 0, off = 0;
	long r;
	const char *want = "DMRQ";
	int k = 0;

	n += frame(buf + n, 'D', LIT("M{auth_authen}\0alice\0"));
	n += frame(buf + n, 'M', LIT("<a@example.jp>\0SIZE=10\0"));
	n += frame(buf + n, 'R', LIT("<b@example.com>\0"));
	n += frame(buf + n, 'Q', NULL, 0);
	/* and the start of another, which is not whole yet */
	buf[n++] = 0;
	buf[n++] = 0;
	while ((r = atsm_milter_packet_next(buf + off, n - off, ATSM_MILTER_PACKET_MAX, &p, &err)) > 0) {
		ck_assert_int_eq(p.cmd, want[k]);
		k++;
		off += (size_t)r;
	}
	ck_assert_int_eq(r, 0);
	ck_assert_int_eq(k, 4);
	ck_assert_uint_eq(n - off, 2);
	ck_assert_uint_eq(p.len, 0);   /* QUIT has no data */
}
END_TEST

START_TEST(test_packet_zero_length_refused)
{
	static const unsigned char buf[] = { 0, 0, 0, 0, 'Q' };
	struct atsm_milter_packet p;
	struct atsm_err err;

	ck_assert_int_eq(atsm_milter_packet_next(buf, sizeof(buf), 100, &p, &err), -1);
	ck_assert_int_eq(err.cls, ATSM_ERR_INPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "length 0"));
	/* refused as soon as the length is known, without waiting for more */
	ck_assert_int_eq(atsm_milter_packet_next(buf, 4, 100, &p, &err), -1);
}
END_TEST

START_TEST(test_packet_oversized_refused_before_data)
{
	unsigned char buf[16] = { 0, 0, 0, 11, 'B' };
	static const unsigned char huge[] = { 0xff, 0xff, 0xff, 0xff };
	struct atsm_milter_packet p;
	struct atsm_err err;

	/* 10 bytes of data: over a limit of 9, at a limit of 10 */
	ck_assert_int_eq(atsm_milter_packet_next(buf, 4, 9, &p, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "over the limit of 9"));
	ck_assert_int_eq(atsm_milter_packet_next(buf, 15, 10, &p, &err), 15);
	ck_assert_uint_eq(p.len, 10);
	ck_assert_int_eq(atsm_milter_packet_next(huge, sizeof(huge), ATSM_MILTER_PACKET_MAX, &p, &err),
	    -1);
	ck_assert_int_eq(err.cls, ATSM_ERR_INPUT);
}
END_TEST

/* ---- decoders ---- */

START_TEST(test_optneg_as_postfix_sends_it)
{
	/* Postfix 3.7, milter_protocol = 6: every action, every event */
	static const unsigned char d[] = { 0, 0, 0, 6, 0, 0, 0x01, 0xff, 0, 0x1f, 0xff, 0xff };
	struct atsm_milter_packet p = pkt_of('O', d, sizeof(d));
	struct atsm_milter_optneg o;
	struct atsm_err err;

	ck_assert_int_eq(atsm_milter_decode_optneg(&p, &o, &err), 0);
	ck_assert_uint_eq(o.version, 6);
	ck_assert_uint_eq(o.actions, 0x1ff);
	ck_assert_uint_eq(o.protocol, 0x1fffff);
	pkt_free(&p);
}
END_TEST

START_TEST(test_optneg_malformed)
{
	static const unsigned char d[16] = { 0, 0, 0, 6 };
	struct atsm_milter_packet p = pkt_of('O', d, 11), q = pkt_of('O', d, 16);
	struct atsm_milter_packet r = pkt_of('C', d, 12), e = pkt_of('O', d, 0);
	struct atsm_milter_optneg o;
	struct atsm_err err;

	ck_assert_int_eq(atsm_milter_decode_optneg(&p, &o, &err), -1);
	ck_assert_int_eq(err.cls, ATSM_ERR_INPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "OPTNEG"));
	ck_assert_int_eq(atsm_milter_decode_optneg(&e, &o, &err), -1);
	/* what follows the three words is ignored, as libmilter does */
	ck_assert_int_eq(atsm_milter_decode_optneg(&q, &o, &err), 0);
	ck_assert_uint_eq(o.version, 6);
	ck_assert_int_eq(atsm_milter_decode_optneg(&r, &o, &err), -1);
	ck_assert_int_eq(err.cls, ATSM_ERR_INTERNAL);
	pkt_free(&p);
	pkt_free(&q);
	pkt_free(&r);
	pkt_free(&e);
}
END_TEST

START_TEST(test_connect_inet_port_is_network_order)
{
	struct atsm_milter_packet p = pkt_of('C', LIT("client.example.jp\0" "4\x01\xbb" "192.0.2.7\0"));
	struct atsm_milter_packet q = pkt_of('C', LIT("[2001:db8::1]\0" "6\xc3\x50" "2001:db8::1\0"));
	struct atsm_milter_connect c;
	struct atsm_err err;

	ck_assert_int_eq(atsm_milter_decode_connect(&p, &c, &err), 0);
	ck_assert_str_eq(c.hostname, "client.example.jp");
	ck_assert_int_eq(c.family, '4');
	ck_assert_uint_eq(c.port, 443);
	ck_assert_str_eq(c.address, "192.0.2.7");
	ck_assert_int_eq(atsm_milter_decode_connect(&q, &c, &err), 0);
	ck_assert_str_eq(c.hostname, "[2001:db8::1]");
	ck_assert_int_eq(c.family, '6');
	ck_assert_uint_eq(c.port, 50000);
	ck_assert_str_eq(c.address, "2001:db8::1");
	pkt_free(&p);
	pkt_free(&q);
}
END_TEST

START_TEST(test_connect_unix_and_unknown)
{
	/* Postfix sends port 0 and the address for AF_UNIX, nothing after
	 * 'U' (milter8_conn_event) */
	struct atsm_milter_packet p = pkt_of('C', LIT("localhost\0L\0\0/run/sock\0"));
	struct atsm_milter_packet q = pkt_of('C', LIT("unknown\0U"));
	struct atsm_milter_connect c;
	struct atsm_err err;

	ck_assert_int_eq(atsm_milter_decode_connect(&p, &c, &err), 0);
	ck_assert_int_eq(c.family, 'L');
	ck_assert_uint_eq(c.port, 0);
	ck_assert_str_eq(c.address, "/run/sock");
	ck_assert_int_eq(atsm_milter_decode_connect(&q, &c, &err), 0);
	ck_assert_str_eq(c.hostname, "unknown");
	ck_assert_int_eq(c.family, 'U');
	ck_assert_uint_eq(c.port, 0);
	ck_assert_str_eq(c.address, "");
	pkt_free(&p);
	pkt_free(&q);
}
END_TEST

START_TEST(test_connect_malformed)
{
	static const struct {
		const char *d;
		size_t n;
		const char *why;
	} bad[] = {
		{ LIT(""), "host name" },
		{ LIT("host"), "host name" },                    /* no NUL */
		{ LIT("host\0"), "family" },                     /* no family */
		{ LIT("host\0X\0\0" "1.2.3.4\0"), "unknown address family" },
		{ LIT("host\0" "4"), "port" },                   /* no port */
		{ LIT("host\0" "4\0"), "port" },                 /* half a port */
		{ LIT("host\0" "4\0\x19"), "address" },          /* no address */
		{ LIT("host\0" "4\0\x19" "1.2.3.4"), "address" },/* no NUL */
		{ LIT("host\0" "4\0\x19" "1.2.3.4\0x"), "after the address" },
		{ LIT("host\0U\0"), "after family 'U'" },
	};
	struct atsm_milter_connect c;
	struct atsm_err err;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct atsm_milter_packet p = pkt_of('C', bad[i].d, bad[i].n);

		ck_assert_msg(atsm_milter_decode_connect(&p, &c, &err) == -1, "case %zu accepted", i);
		ck_assert_int_eq(err.cls, ATSM_ERR_INPUT);
		ck_assert_msg(strstr(err.msg, bad[i].why) != NULL, "case %zu: %s", i, err.msg);
		ck_assert_ptr_nonnull(strstr(err.msg, "CONNECT"));
		pkt_free(&p);
	}
}
END_TEST

START_TEST(test_strings_mail_with_esmtp_args)
{
	struct atsm_milter_packet p = pkt_of('M', LIT("<a@example.jp>\0SIZE=120\0BODY=8BITMIME\0"));
	struct atsm_milter_packet h = pkt_of('H', LIT("mail.example.jp\0"));
	struct atsm_milter_packet r = pkt_of('R', LIT("\0"));
	const char *v[ATSM_MILTER_ARGS_MAX];
	struct atsm_err err;
	size_t n;

	ck_assert_int_eq(atsm_milter_decode_strings(&p, v, ATSM_MILTER_ARGS_MAX, &n, &err), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(v[0], "<a@example.jp>");
	ck_assert_str_eq(v[1], "SIZE=120");
	ck_assert_str_eq(v[2], "BODY=8BITMIME");
	ck_assert_int_eq(atsm_milter_decode_strings(&h, v, 1, &n, &err), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(v[0], "mail.example.jp");
	/* one empty string is a string */
	ck_assert_int_eq(atsm_milter_decode_strings(&r, v, 4, &n, &err), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(v[0], "");
	pkt_free(&p);
	pkt_free(&h);
	pkt_free(&r);
}
END_TEST

START_TEST(test_strings_malformed)
{
	struct atsm_milter_packet empty = pkt_of('H', NULL, 0);
	struct atsm_milter_packet open = pkt_of('M', LIT("<a@example.jp>\0SIZE=1"));
	struct atsm_milter_packet many = pkt_of('R', LIT("a\0b\0c\0"));
	struct atsm_milter_packet wrong = pkt_of('L', LIT("a\0b\0"));
	const char *v[2];
	struct atsm_err err;
	size_t n = 99;

	ck_assert_int_eq(atsm_milter_decode_strings(&empty, v, 2, &n, &err), -1);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "HELO"));
	ck_assert_int_eq(atsm_milter_decode_strings(&open, v, 2, &n, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "NUL"));
	ck_assert_int_eq(atsm_milter_decode_strings(&many, v, 2, &n, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "more than 2 strings"));
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(atsm_milter_decode_strings(&wrong, v, 2, &n, &err), -1);
	ck_assert_int_eq(err.cls, ATSM_ERR_INTERNAL);
	pkt_free(&empty);
	pkt_free(&open);
	pkt_free(&many);
	pkt_free(&wrong);
}
END_TEST

START_TEST(test_header_folded_and_empty_values)
{
	/* Postfix sends a folded header with LF between its lines */
	struct atsm_milter_packet p = pkt_of('L', LIT("Subject\0Re: offer\n\tfor the role\0"));
	struct atsm_milter_packet q = pkt_of('L', LIT("X-Empty\0\0"));
	const char *name, *value;
	struct atsm_err err;

	ck_assert_int_eq(atsm_milter_decode_header(&p, &name, &value, &err), 0);
	ck_assert_str_eq(name, "Subject");
	ck_assert_str_eq(value, "Re: offer\n\tfor the role");
	ck_assert_int_eq(atsm_milter_decode_header(&q, &name, &value, &err), 0);
	ck_assert_str_eq(name, "X-Empty");
	ck_assert_str_eq(value, "");
	pkt_free(&p);
	pkt_free(&q);
}
END_TEST

START_TEST(test_header_malformed)
{
	static const struct {
		const char *d;
		size_t n;
		const char *why;
	} bad[] = {
		{ LIT(""), "name has no NUL" },
		{ LIT("Subject"), "name has no NUL" },
		{ LIT("Subject\0"), "value has no NUL" },
		{ LIT("Subject\0hello"), "value has no NUL" },
		{ LIT("\0hello\0"), "empty header name" },
		{ LIT("Subject\0hello\0extra\0"), "after the header value" },
	};
	const char *name, *value;
	struct atsm_err err;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct atsm_milter_packet p = pkt_of('L', bad[i].d, bad[i].n);

		ck_assert_msg(atsm_milter_decode_header(&p, &name, &value, &err) == -1, "case %zu", i);
		ck_assert_msg(strstr(err.msg, bad[i].why) != NULL, "case %zu: %s", i, err.msg);
		ck_assert_ptr_nonnull(strstr(err.msg, "HEADER"));
		pkt_free(&p);
	}
}
END_TEST

START_TEST(test_macros_pairs_and_empty_list)
{
	struct atsm_milter_packet p = pkt_of('D', LIT("Mi\0" "4XyZ1\0{auth_authen}\0alice\0"));
	struct atsm_milter_packet e = pkt_of('D', LIT("T"));
	struct atsm_milter_macro v[ATSM_MILTER_MACROS_MAX];
	unsigned char for_cmd = 0;
	struct atsm_err err;
	size_t n;

	ck_assert_int_eq(atsm_milter_decode_macros(&p, &for_cmd, v, ATSM_MILTER_MACROS_MAX, &n,
	    &err), 0);
	ck_assert_int_eq(for_cmd, 'M');
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(v[0].name, "i");
	ck_assert_str_eq(v[0].value, "4XyZ1");
	ck_assert_str_eq(v[1].name, "{auth_authen}");
	ck_assert_str_eq(v[1].value, "alice");
	/* no macro had a value: Postfix still sends the packet */
	ck_assert_int_eq(atsm_milter_decode_macros(&e, &for_cmd, v, 4, &n, &err), 0);
	ck_assert_int_eq(for_cmd, 'T');
	ck_assert_uint_eq(n, 0);
	pkt_free(&p);
	pkt_free(&e);
}
END_TEST

START_TEST(test_macros_malformed)
{
	static const struct {
		const char *d;
		size_t n;
		const char *why;
	} bad[] = {
		{ LIT(""), "no command byte" },
		{ LIT("Q"), "takes none" },
		{ LIT("Mi"), "name has no NUL" },
		{ LIT("Mi\0"), "without a NUL-terminated value" },
		{ LIT("Mi\0value"), "without a NUL-terminated value" },
		{ LIT("M\0value\0"), "empty macro name" },
		{ LIT("Ma\0" "1\0b\0" "2\0c\0" "3\0"), "more than 2 macros" },
	};
	struct atsm_milter_macro v[2];
	unsigned char for_cmd = 0;
	struct atsm_err err;
	size_t i, n = 7;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct atsm_milter_packet p = pkt_of('D', bad[i].d, bad[i].n);

		ck_assert_msg(atsm_milter_decode_macros(&p, &for_cmd, v, 2, &n, &err) == -1,
		    "case %zu", i);
		ck_assert_uint_eq(n, 0);
		ck_assert_msg(strstr(err.msg, bad[i].why) != NULL, "case %zu: %s", i, err.msg);
		ck_assert_ptr_nonnull(strstr(err.msg, "MACRO"));
		pkt_free(&p);
	}
	ck_assert_int_eq(for_cmd, 0);
}
END_TEST

/* ---- round trips ---- */

START_TEST(test_round_trip_encoders_through_framing)
{
	struct atsm_buf b;
	struct atsm_milter_packet p;
	struct atsm_err err;
	const unsigned char *u;
	const char *name, *value;
	size_t off = 0;
	long r;
	const char *want = "hmy-ec";
	int k = 0;

	atsm_buf_init(&b, 0);
	ck_assert_int_eq(atsm_milter_put_addheader(&b, "X-ATS", "v\r\n\tw"), 0);
	ck_assert_int_eq(atsm_milter_put_chgheader(&b, 3, "Subject", "s"), 0);
	ck_assert_int_eq(atsm_milter_put_replycode(&b, "550", "5.7.1", "no"), 0);
	ck_assert_int_eq(atsm_milter_put_delrcpt(&b, "<b@example.com>"), 0);
	ck_assert_int_eq(atsm_milter_put_chgfrom(&b, "<>", NULL), 0);
	ck_assert_int_eq(atsm_milter_put_simple(&b, ATSM_MILTER_R_CONTINUE), 0);
	u = (const unsigned char *)b.data;
	while ((r = atsm_milter_packet_next(u + off, b.len - off, ATSM_MILTER_PACKET_MAX, &p,
	    &err)) > 0) {
		ck_assert_int_eq(p.cmd, want[k]);
		if (p.cmd == ATSM_MILTER_R_ADDHEADER) {
			/* the filter's ADDHEADER has the MTA's HEADER layout */
			struct atsm_milter_packet h = pkt_of('L', p.data, p.len);

			ck_assert_int_eq(atsm_milter_decode_header(&h, &name, &value, &err), 0);
			ck_assert_str_eq(name, "X-ATS");
			ck_assert_str_eq(value, "v\n\tw");
			pkt_free(&h);
		}
		if (p.cmd == ATSM_MILTER_R_CHGHEADER)
			ck_assert_int_eq(p.data[3], 3);
		k++;
		off += (size_t)r;
	}
	ck_assert_int_eq(r, 0);
	ck_assert_int_eq(k, 6);
	ck_assert_uint_eq(off, b.len);
	atsm_buf_free(&b);
}
END_TEST

START_TEST(test_round_trip_optneg)
{
	struct atsm_milter_optneg o = { 6, ATSM_MILTER_F_ADDHDRS | ATSM_MILTER_F_CHGHDRS,
		ATSM_MILTER_P_NOHELO | ATSM_MILTER_P_NR_HDR }, back;
	struct atsm_milter_packet p;
	struct atsm_err err;
	struct atsm_buf b;

	atsm_buf_init(&b, 0);
	ck_assert_int_eq(atsm_milter_put_optneg(&b, &o, NULL), 0);
	ck_assert_int_eq(atsm_milter_packet_next((const unsigned char *)b.data, b.len, 64, &p, &err),
	    17);
	ck_assert_int_eq(atsm_milter_decode_optneg(&p, &back, &err), 0);
	ck_assert_uint_eq(back.version, o.version);
	ck_assert_uint_eq(back.actions, o.actions);
	ck_assert_uint_eq(back.protocol, o.protocol);
	atsm_buf_free(&b);
}
END_TEST

START_TEST(test_cmd_names)
{
	ck_assert_str_eq(atsm_milter_cmd_name('C'), "CONNECT");
	ck_assert_str_eq(atsm_milter_cmd_name('K'), "QUIT_NC");
	ck_assert_ptr_null(atsm_milter_cmd_name('z'));
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("milter-proto");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_packet_needs_whole_header_and_data);
	tcase_add_test(tc, test_packet_several_in_one_buffer);
	tcase_add_test(tc, test_packet_zero_length_refused);
	tcase_add_test(tc, test_packet_oversized_refused_before_data);
	tcase_add_test(tc, test_optneg_as_postfix_sends_it);
	tcase_add_test(tc, test_optneg_malformed);
	tcase_add_test(tc, test_connect_inet_port_is_network_order);
	tcase_add_test(tc, test_connect_unix_and_unknown);
	tcase_add_test(tc, test_connect_malformed);
	tcase_add_test(tc, test_strings_mail_with_esmtp_args);
	tcase_add_test(tc, test_strings_malformed);
	tcase_add_test(tc, test_header_folded_and_empty_values);
	tcase_add_test(tc, test_header_malformed);
	tcase_add_test(tc, test_macros_pairs_and_empty_list);
	tcase_add_test(tc, test_macros_malformed);
	tcase_add_test(tc, test_round_trip_encoders_through_framing);
	tcase_add_test(tc, test_round_trip_optneg);
	tcase_add_test(tc, test_cmd_names);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, milter_put_tcase());
	return s;
}

ATSM_CHECK_MAIN()

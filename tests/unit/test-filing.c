/* test-filing.c -- unit tests of the filing protocol's codec
 * (lib/service/filing.c): byte-exact encodings, round trips, escaping,
 * feeds split anywhere, requests back to back, and every malformation
 * the parsers name.  Linked with lib/libatsmail-client.la alone. */
#define _GNU_SOURCE 1   /* memmem */
#include "atsm-check.h"
#include "service/filing.h"

#include <stdio.h>
#include <string.h>

#define HEAD_MAX 4096

static const char sha_hex[] =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/* A request with every field set. */
static void
full_request(struct atsm_filing_request *r)
{
	static unsigned char head[] = "Message-ID: <a@b>\r\nSubject: hi\r\n\r\nbody\0\xff";

	memset(r, 0, sizeof(*r));
	r->append = false;
	r->user = "alice@atsmail.test";
	r->mailbox = "INBOX";
	r->env_from = "taro@candidate.test";
	r->env_to = "alice+x@atsmail.test";
	r->size = 12345;
	memcpy(r->sha256, sha_hex, sizeof(r->sha256));
	r->received_at = 1700000000;
	r->uid = 42;
	r->head = head;
	r->head_len = sizeof(head) - 1;
}

static const char full_request_wire[] =
    "FILE\t1\n"
    "user\talice@atsmail.test\n"
    "mailbox\tINBOX\n"
    "how\tdelivery\n"
    "env-from\ttaro@candidate.test\n"
    "env-to\talice+x@atsmail.test\n"
    "size\t12345\n"
    "sha256\t0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
    "received\t1700000000\n"
    "uid\t42\n"
    "head\t40\n"
    "\n"
    "Message-ID: <a@b>\r\nSubject: hi\r\n\r\nbody\0\xff";

static char *
encode_request(const struct atsm_filing_request *r, size_t *len)
{
	static struct atsm_buf b;
	struct atsm_err err;

	atsm_buf_free(&b);
	atsm_buf_init(&b, 1 << 20);
	ck_assert_msg(atsm_filing_request_encode(r, &b, &err) == 0, "%s", err.msg);
	*len = b.len;
	return b.data;
}

static char *
encode_answer(const struct atsm_filing_answer *a, size_t *len)
{
	static struct atsm_buf b;
	struct atsm_err err;

	atsm_buf_free(&b);
	atsm_buf_init(&b, 1 << 20);
	ck_assert_msg(atsm_filing_answer_encode(a, &b, &err) == 0, "%s", err.msg);
	*len = b.len;
	return b.data;
}

static void
request_eq(const struct atsm_filing_request *a, const struct atsm_filing_request *b)
{
	ck_assert(a->append == b->append);
	ck_assert_str_eq(a->user, b->user);
	ck_assert_str_eq(a->mailbox, b->mailbox);
	ck_assert_pstr_eq(a->env_from, b->env_from);
	ck_assert_pstr_eq(a->env_to, b->env_to);
	ck_assert_uint_eq(a->size, b->size);
	ck_assert_str_eq(a->sha256, b->sha256);
	ck_assert_int_eq(a->received_at, b->received_at);
	ck_assert_uint_eq(a->uid, b->uid);
	ck_assert_uint_eq(a->head_len, b->head_len);
	ck_assert(a->head_len == 0 || memcmp(a->head, b->head, a->head_len) == 0);
}

/* Feed all of wire, step bytes at a time (0 = at once); the parser must
 * take exactly len bytes and be done. */
static void
feed_request(struct atsm_filing_parser *p, const char *wire, size_t len, size_t step)
{
	struct atsm_err err;
	size_t off = 0, n;
	long used;

	while (off < len) {
		ck_assert(!atsm_filing_request_done(p));
		n = step == 0 || len - off < step ? len - off : step;
		used = atsm_filing_request_feed(p, wire + off, n, &err);
		ck_assert_msg(used >= 0, "at byte %zu: %s", off, err.msg);
		ck_assert_int_eq(used, (long)n);
		off += (size_t)used;
	}
	ck_assert(atsm_filing_request_done(p));
}

static void
feed_answer(struct atsm_filing_parser *p, const char *wire, size_t len, size_t step)
{
	struct atsm_err err;
	size_t off = 0, n;
	long used;

	while (off < len) {
		ck_assert(!atsm_filing_answer_done(p));
		n = step == 0 || len - off < step ? len - off : step;
		used = atsm_filing_answer_feed(p, wire + off, n, &err);
		ck_assert_msg(used >= 0, "at byte %zu: %s", off, err.msg);
		ck_assert_int_eq(used, (long)n);
		off += (size_t)used;
	}
	ck_assert(atsm_filing_answer_done(p));
}

/* The error a request text gives, fed at once ("" when it parses). */
static const char *
request_error(const char *wire, size_t len)
{
	static struct atsm_err err;
	struct atsm_filing_parser *p = atsm_filing_parser_new(HEAD_MAX);
	long used;

	err.msg[0] = '\0';
	used = atsm_filing_request_feed(p, wire, len, &err);
	if (used >= 0) {
		err.msg[0] = '\0';
		ck_assert_msg(atsm_filing_request_done(p), "not done: %s", wire);
	} else {
		ck_assert_int_eq(err.cls, ATSM_ERR_INPUT);
	}
	atsm_filing_parser_free(p);
	return err.msg;
}

static const char *
answer_error(const char *wire)
{
	static struct atsm_err err;
	struct atsm_filing_parser *p = atsm_filing_parser_new(0);
	long used;

	err.msg[0] = '\0';
	used = atsm_filing_answer_feed(p, wire, strlen(wire), &err);
	if (used >= 0) {
		err.msg[0] = '\0';
		ck_assert_msg(atsm_filing_answer_done(p), "not done: %s", wire);
	}
	atsm_filing_parser_free(p);
	return err.msg;
}

#define ck_assert_has(hay, needle) \
	ck_assert_msg(strstr((hay), (needle)) != NULL, "'%s' lacks '%s'", (hay), (needle))

/* A minimal valid request with one line replaced or added. */
static const char *
request_with(const char *drop, const char *add)
{
	static char out[8192];
	static const char *const lines[] = { "user\tu", "mailbox\tINBOX", "how\tappend",
	    "size\t3", "sha256\t", "received\t0", "head\t0", NULL };
	size_t o;
	int i;

	o = (size_t)snprintf(out, sizeof(out), "FILE\t1\n");
	for (i = 0; lines[i] != NULL; i++)
		if (drop == NULL || strncmp(lines[i], drop, strlen(drop)) != 0 ||
		    lines[i][strlen(drop)] != '\t')
			o += (size_t)snprintf(out + o, sizeof(out) - o, "%s\n", lines[i]);
	if (add != NULL)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s\n", add);
	snprintf(out + o, sizeof(out) - o, "\n");
	return out;
}

static const char *
req_err(const char *drop, const char *add)
{
	const char *w = request_with(drop, add);

	return request_error(w, strlen(w));
}

/* ---- encodings ------------------------------------------------------------ */

START_TEST(test_request_encoding_is_byte_exact)
{
	struct atsm_filing_request r;
	size_t len;
	char *w;

	full_request(&r);
	w = encode_request(&r, &len);
	ck_assert_uint_eq(len, sizeof(full_request_wire) - 1);
	ck_assert(memcmp(w, full_request_wire, len) == 0);
}
END_TEST

START_TEST(test_request_optional_fields_left_out)
{
	struct atsm_filing_request r;
	size_t len;
	char *w;
	static const char want[] = "FILE\t1\nuser\tbob\nmailbox\tSent\nhow\tappend\n"
	    "size\t0\nsha256\t\nreceived\t-5\nhead\t0\n\n";

	memset(&r, 0, sizeof(r));
	r.append = true;
	r.user = "bob";
	r.mailbox = "Sent";
	r.received_at = -5;
	w = encode_request(&r, &len);
	ck_assert_uint_eq(len, sizeof(want) - 1);
	ck_assert(memcmp(w, want, len) == 0);
}
END_TEST

START_TEST(test_answer_encoding_is_byte_exact)
{
	struct atsm_filing_answer a;
	size_t len;
	char *w;
	static const char want[] = "OK\t1\nresult\tfiled\nkeyword\t$ATS\nkeyword\t$ATSReply\n"
	    "text\t<m@x>: filed resume:1001/in_reply_to 100%25\n\n";

	memset(&a, 0, sizeof(a));
	a.status = ATSM_FILING_OK;
	strcpy(a.result, "filed");
	a.n_keywords = 2;
	strcpy(a.keywords[0], "$ATS");
	strcpy(a.keywords[1], "$ATSReply");
	strcpy(a.text, "<m@x>: filed resume:1001/in_reply_to 100%");
	w = encode_answer(&a, &len);
	ck_assert_uint_eq(len, sizeof(want) - 1);
	ck_assert(memcmp(w, want, len) == 0);

	memset(&a, 0, sizeof(a));
	a.status = ATSM_FILING_TEMPFAIL;
	strcpy(a.result, "tempfail");
	w = encode_answer(&a, &len);
	ck_assert_str_eq(w, "TEMPFAIL\t1\nresult\ttempfail\ntext\t\n\n");
	a.status = ATSM_FILING_ERROR;
	strcpy(a.result, "error");
	w = encode_answer(&a, &len);
	ck_assert_str_eq(w, "ERROR\t1\nresult\terror\ntext\t\n\n");
}
END_TEST

START_TEST(test_escaping_is_byte_exact)
{
	struct atsm_filing_request r;
	struct atsm_filing_parser *p = atsm_filing_parser_new(0);
	size_t len;
	char *w;
	/* '%', TAB, LF, CR, 0x01, 0x1f escaped; DEL, UTF-8 and ':' as they are */
	static const char user[] = "a%b\tc\nd\re\x01\x1f\x7f\xe5\xb1\xb1:";

	memset(&r, 0, sizeof(r));
	r.user = (char *)user;
	r.mailbox = "\xe5\x8f\x97\xe4\xbf\xa1/%";
	w = encode_request(&r, &len);
	ck_assert_has(w, "\nuser\ta%25b%09c%0Ad%0De%01%1F\x7f\xe5\xb1\xb1:\n");
	ck_assert_has(w, "\nmailbox\t\xe5\x8f\x97\xe4\xbf\xa1/%25\n");
	feed_request(p, w, len, 0);
	ck_assert_str_eq(atsm_filing_request_get(p)->user, user);
	ck_assert_str_eq(atsm_filing_request_get(p)->mailbox, r.mailbox);
	atsm_filing_parser_free(p);
}
END_TEST

START_TEST(test_optional_escapes_are_decoded)
{
	struct atsm_filing_parser *p = atsm_filing_parser_new(0);
	const char *w = request_with("user", "user\t%41l%69ce%7E");

	feed_request(p, w, strlen(w), 0);
	ck_assert_str_eq(atsm_filing_request_get(p)->user, "Alice~");
	atsm_filing_parser_free(p);
}
END_TEST

/* ---- round trips ---------------------------------------------------------- */

START_TEST(test_request_round_trip)
{
	struct atsm_filing_request r;
	struct atsm_filing_parser *p = atsm_filing_parser_new(HEAD_MAX);
	size_t len;
	char *w;

	full_request(&r);
	w = encode_request(&r, &len);
	feed_request(p, w, len, 0);
	request_eq(atsm_filing_request_get(p), &r);

	/* the null sender is "", unknown is NULL: both survive */
	atsm_filing_parser_reset(p);
	r.env_from = "";
	r.env_to = NULL;
	r.uid = 0;
	r.append = true;
	r.sha256[0] = '\0';
	w = encode_request(&r, &len);
	feed_request(p, w, len, 0);
	request_eq(atsm_filing_request_get(p), &r);
	ck_assert_str_eq(atsm_filing_request_get(p)->env_from, "");
	ck_assert_ptr_null(atsm_filing_request_get(p)->env_to);
	atsm_filing_parser_free(p);
}
END_TEST

START_TEST(test_request_round_trip_extremes)
{
	struct atsm_filing_request r;
	struct atsm_filing_parser *p = atsm_filing_parser_new(HEAD_MAX);
	static char user[4096];
	size_t len;
	char *w;

	full_request(&r);
	r.size = 18446744073709551615ull;
	r.received_at = -9223372036854775807ll - 1;
	r.uid = 4294967295ul;
	/* "user\t" + 4090 + LF = 4096 bytes: the longest line */
	memset(user, 'u', 4090);
	r.user = user;
	w = encode_request(&r, &len);
	feed_request(p, w, len, 0);
	request_eq(atsm_filing_request_get(p), &r);
	atsm_filing_parser_free(p);
}
END_TEST

START_TEST(test_answer_round_trip)
{
	struct atsm_filing_answer a;
	const struct atsm_filing_answer *b;
	struct atsm_filing_parser *p = atsm_filing_parser_new(0);
	size_t len, i;
	char *w;

	memset(&a, 0, sizeof(a));
	a.status = ATSM_FILING_OK;
	strcpy(a.result, "duplicate");
	a.n_keywords = ATSM_FILING_KEYWORDS_MAX;
	for (i = 0; i < a.n_keywords; i++) {
		strcpy(a.keywords[i], "$ATSKeyword0_0123456789abcdefgh");
		a.keywords[i][11] = (char)('0' + i);
	}
	memset(a.text, '\t', sizeof(a.text) - 1);
	w = encode_answer(&a, &len);
	feed_answer(p, w, len, 0);
	b = atsm_filing_answer_get(p);
	ck_assert_int_eq(b->status, a.status);
	ck_assert_str_eq(b->result, a.result);
	ck_assert_uint_eq(b->n_keywords, a.n_keywords);
	for (i = 0; i < a.n_keywords; i++)
		ck_assert_str_eq(b->keywords[i], a.keywords[i]);
	ck_assert_str_eq(b->text, a.text);
	atsm_filing_parser_free(p);
}
END_TEST

/* Shared mailboxes (docs/shared-mailboxes.md): a member's move, with the
 * owner of the shared namespace and the Message-ID instead of a head;
 * the folder a delivery is filed in. */
static const char move_request_wire[] =
    "FILE\t1\n"
    "user\talice@atsmail.test\n"
    "mailbox\t\xe5\xaf\xbe\xe5\xbf\x9c\xe4\xb8\xad/bob\n"
    "how\tmove\n"
    "owner\trecruit@atsmail.test\n"
    "message-id\t<a@b>\n"
    "size\t10\n"
    "sha256\t\n"
    "received\t1700000000\n"
    "head\t0\n"
    "\n";

START_TEST(test_shared_fields_round_trip)
{
	struct atsm_filing_request r;
	const struct atsm_filing_request *g;
	struct atsm_filing_answer a;
	struct atsm_filing_parser *p = atsm_filing_parser_new(HEAD_MAX);
	struct atsm_err err;
	size_t len;
	char *w;

	memset(&r, 0, sizeof(r));
	r.move = true;
	r.user = "alice@atsmail.test";
	r.mailbox = "\xe5\xaf\xbe\xe5\xbf\x9c\xe4\xb8\xad/bob";
	r.owner = "recruit@atsmail.test";
	r.message_id = "<a@b>";
	r.size = 10;
	r.received_at = 1700000000;
	w = encode_request(&r, &len);
	ck_assert_uint_eq(len, sizeof(move_request_wire) - 1);
	ck_assert(memcmp(w, move_request_wire, len) == 0);
	feed_request(p, w, len, 0);
	g = atsm_filing_request_get(p);
	ck_assert(g->move && !g->append);
	ck_assert_str_eq(g->owner, "recruit@atsmail.test");
	ck_assert_str_eq(g->message_id, "<a@b>");
	ck_assert_uint_eq(g->head_len, 0);

	/* absent in an ordinary request */
	atsm_filing_parser_reset(p);
	full_request(&r);
	w = encode_request(&r, &len);
	feed_request(p, w, len, 0);
	ck_assert(!atsm_filing_request_get(p)->move);
	ck_assert_ptr_null(atsm_filing_request_get(p)->owner);
	ck_assert_ptr_null(atsm_filing_request_get(p)->message_id);
	atsm_filing_parser_free(p);

	/* the answer's folder */
	p = atsm_filing_parser_new(0);
	memset(&a, 0, sizeof(a));
	a.status = ATSM_FILING_OK;
	strcpy(a.result, "filed");
	strcpy(a.folder, "\xe6\x9c\xaa\xe5\xaf\xbe\xe5\xbf\x9c/bob");
	strcpy(a.text, "t");
	w = encode_answer(&a, &len);
	ck_assert(memmem(w, len, "\nfolder\t\xe6\x9c\xaa\xe5\xaf\xbe\xe5\xbf\x9c/bob\n", 20) != NULL);
	feed_answer(p, w, len, 0);
	ck_assert_str_eq(atsm_filing_answer_get(p)->folder, a.folder);
	atsm_filing_parser_reset(p);
	a.folder[0] = '\0';
	w = encode_answer(&a, &len);
	ck_assert(memmem(w, len, "folder", 6) == NULL);
	feed_answer(p, w, len, 0);
	ck_assert_str_eq(atsm_filing_answer_get(p)->folder, "");

	/* an empty folder is malformed, named */
	atsm_filing_parser_reset(p);
	ck_assert_int_eq(atsm_filing_answer_feed(p, "OK\t1\nresult\tfiled\nfolder\t\n\n", 27, &err), -1);
	ck_assert_str_eq(err.msg, "line 3: 'folder' is empty");
	atsm_filing_parser_free(p);

	/* so is a how nobody knows */
	p = atsm_filing_parser_new(HEAD_MAX);
	ck_assert_int_eq(atsm_filing_request_feed(p, "FILE\t1\nhow\tcopy\n", 16, &err), -1);
	ck_assert_str_eq(err.msg, "line 2: 'how' is 'copy', not 'delivery', 'append' or 'move'");
	atsm_filing_parser_free(p);
}
END_TEST

/* ---- incremental feeding -------------------------------------------------- */

START_TEST(test_split_one_byte_at_a_time)
{
	struct atsm_filing_request r;
	struct atsm_filing_answer a;
	struct atsm_filing_parser *p = atsm_filing_parser_new(HEAD_MAX);
	size_t len, step;
	char *w;

	full_request(&r);
	for (step = 1; step <= 7; step++) {
		w = encode_request(&r, &len);
		feed_request(p, w, len, step);
		request_eq(atsm_filing_request_get(p), &r);
		atsm_filing_parser_reset(p);
	}
	memset(&a, 0, sizeof(a));
	strcpy(a.result, "filed");
	a.n_keywords = 1;
	strcpy(a.keywords[0], "$ATS");
	strcpy(a.text, "x%y");
	w = encode_answer(&a, &len);
	feed_answer(p, w, len, 1);
	ck_assert_str_eq(atsm_filing_answer_get(p)->keywords[0], "$ATS");
	ck_assert_str_eq(atsm_filing_answer_get(p)->text, "x%y");
	atsm_filing_parser_free(p);
}
END_TEST

START_TEST(test_two_requests_back_to_back)
{
	struct atsm_filing_request r1, r2;
	struct atsm_filing_parser *p = atsm_filing_parser_new(HEAD_MAX);
	struct atsm_err err;
	char both[16384];
	size_t l1, l2;
	char *w;
	long used;

	full_request(&r1);
	full_request(&r2);
	r2.user = "bob@atsmail.test";
	r2.head = (unsigned char *)"x";
	r2.head_len = 1;
	w = encode_request(&r1, &l1);
	memcpy(both, w, l1);
	w = encode_request(&r2, &l2);
	memcpy(both + l1, w, l2);

	used = atsm_filing_request_feed(p, both, l1 + l2, &err);
	ck_assert_int_eq(used, (long)l1);
	ck_assert(atsm_filing_request_done(p));
	request_eq(atsm_filing_request_get(p), &r1);
	/* done: nothing more is taken until reset */
	ck_assert_int_eq(atsm_filing_request_feed(p, both + l1, l2, &err), 0);
	atsm_filing_parser_reset(p);
	used = atsm_filing_request_feed(p, both + l1, l2, &err);
	ck_assert_int_eq(used, (long)l2);
	request_eq(atsm_filing_request_get(p), &r2);
	atsm_filing_parser_free(p);
}
END_TEST

START_TEST(test_answer_leaves_what_follows)
{
	struct atsm_filing_parser *p = atsm_filing_parser_new(0);
	static const char w[] = "TEMPFAIL\t1\nresult\tjournal\ntext\tdisk full\n\nOK\t1\n";
	struct atsm_err err;

	ck_assert_int_eq(atsm_filing_answer_feed(p, w, sizeof(w) - 1, &err),
	    (long)(sizeof(w) - 1 - 5));
	ck_assert_int_eq(atsm_filing_answer_get(p)->status, ATSM_FILING_TEMPFAIL);
	ck_assert_str_eq(atsm_filing_answer_get(p)->text, "disk full");
	ck_assert_uint_eq(atsm_filing_answer_get(p)->n_keywords, 0);
	atsm_filing_parser_free(p);
}
END_TEST

START_TEST(test_not_done_until_complete)
{
	struct atsm_filing_request r;
	struct atsm_filing_parser *p = atsm_filing_parser_new(HEAD_MAX);
	struct atsm_err err;
	size_t len;
	char *w;

	full_request(&r);
	w = encode_request(&r, &len);
	ck_assert_int_eq(atsm_filing_request_feed(p, w, len - 1, &err), (long)(len - 1));
	ck_assert(!atsm_filing_request_done(p));
	ck_assert_ptr_null(atsm_filing_request_get(p));
	ck_assert_ptr_null(atsm_filing_answer_get(p));
	ck_assert_int_eq(atsm_filing_request_feed(p, w + len - 1, 1, &err), 1);
	ck_assert_ptr_nonnull(atsm_filing_request_get(p));
	ck_assert_ptr_null(atsm_filing_answer_get(p));
	atsm_filing_parser_free(p);
}
END_TEST

START_TEST(test_unknown_names_skipped)
{
	struct atsm_filing_parser *p = atsm_filing_parser_new(0);
	const char *w = request_with(NULL, "priority\tlow %00 %25");
	static const char ans[] = "OK\t1\nfuture-thing\t1\nresult\tignored\nretry-after\t%00\n\n";

	ck_assert_str_eq(request_error(w, strlen(w)), "");
	feed_answer(p, ans, sizeof(ans) - 1, 0);
	ck_assert_str_eq(atsm_filing_answer_get(p)->result, "ignored");
	ck_assert_str_eq(atsm_filing_answer_get(p)->text, "");
	atsm_filing_parser_free(p);
}
END_TEST

START_TEST(test_error_persists_until_reset)
{
	struct atsm_filing_parser *p = atsm_filing_parser_new(0);
	struct atsm_err err;
	const char *w = request_with(NULL, NULL);

	ck_assert_int_eq(atsm_filing_request_feed(p, "HELLO\t1\n", 8, &err), -1);
	ck_assert_has(err.msg, "line 1");
	err.msg[0] = '\0';
	ck_assert_int_eq(atsm_filing_request_feed(p, w, strlen(w), &err), -1);
	ck_assert_has(err.msg, "line 1");
	atsm_filing_parser_reset(p);
	feed_request(p, w, strlen(w), 0);
	/* a parser reads one kind at a time */
	atsm_filing_parser_reset(p);
	ck_assert_int_eq(atsm_filing_request_feed(p, "FI", 2, &err), 2);
	ck_assert_int_eq(atsm_filing_answer_feed(p, "OK", 2, &err), -1);
	ck_assert_int_eq(err.cls, ATSM_ERR_INTERNAL);
	atsm_filing_parser_free(p);
}
END_TEST

/* ---- malformations, each named -------------------------------------------- */

START_TEST(test_missing_required_named)
{
	static const char *const req[] = { "user", "mailbox", "how", "size", "sha256",
	    "received", "head" };
	char want[64];
	size_t i;

	ck_assert_str_eq(req_err(NULL, NULL), "");
	for (i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		snprintf(want, sizeof(want), "'%s' is missing", req[i]);
		ck_assert_has(req_err(req[i], NULL), want);
		ck_assert_has(req_err(req[i], NULL), "line 8 (end of the request)");
	}
	ck_assert_has(answer_error("OK\t1\ntext\thi\n\n"), "'result' is missing");
}
END_TEST

START_TEST(test_first_line_malformed)
{
	ck_assert_has(request_error("\n", 1), "line 1: '' is not a request");
	ck_assert_has(request_error("FILE 1\n", 7), "line 1: 'FILE 1' is not a request");
	ck_assert_has(request_error("OK\t1\n", 5), "is not a request");
	ck_assert_has(request_error("FILE\t2\n", 7), "line 1: version '2' is not supported");
	ck_assert_has(request_error("FILE\t10\n", 8), "version '10' is not supported");
	ck_assert_has(answer_error("FILE\t1\n"), "line 1: 'FILE%091' is not an answer");
	ck_assert_has(answer_error("ok\t1\n"), "is not an answer");
	ck_assert_has(answer_error("OK\t\n"), "version '' is not supported");
}
END_TEST

START_TEST(test_lines_malformed)
{
	ck_assert_has(req_err(NULL, "no-tab-here"), "line 9: no TAB between name and value");
	ck_assert_has(req_err(NULL, "User\tx"), "line 9: 'User' is not a name");
	ck_assert_has(req_err(NULL, "-x\tx"), "'-x' is not a name");
	ck_assert_has(req_err(NULL, "\tx"), "'' is not a name");
	ck_assert_has(req_err("user", "user\ta\tb"), "holds the byte 0x09 as it is");
	ck_assert_has(req_err("user", "user\ta\rb"), "holds the byte 0x0D as it is");
	ck_assert_has(req_err("user", "user\tab\r"), "'user' holds the byte 0x0D");
	ck_assert_has(req_err("user", "user\ta%0ab"), "not followed by two upper-case hex");
	ck_assert_has(req_err("user", "user\ta%4"), "not followed by two upper-case hex");
	ck_assert_has(req_err("user", "user\ta%"), "not followed by two upper-case hex");
	ck_assert_has(req_err("user", "user\ta%G0"), "not followed by two upper-case hex");
	ck_assert_has(req_err("user", "user\ta%00b"), "'user' holds a NUL byte");
	ck_assert_has(req_err(NULL, "user\tagain"), "line 9: 'user' is given twice");
	ck_assert_has(req_err("user", "user\t"), "'user' is empty");
	ck_assert_has(req_err("mailbox", "mailbox\t"), "'mailbox' is empty");
	/* a raw control byte in an unknown name's value is still malformed */
	ck_assert_has(req_err(NULL, "later\ta\x01"), "holds the byte 0x01");
}
END_TEST

START_TEST(test_values_malformed)
{
	ck_assert_has(req_err("how", "how\tlmtp"), "'how' is 'lmtp', not 'delivery', 'append' or 'move'");
	ck_assert_has(req_err("size", "size\t12x"), "'size' is not a decimal number: '12x'");
	ck_assert_has(req_err("size", "size\t"), "'size' is not a decimal number");
	ck_assert_has(req_err("size", "size\t-1"), "'size' is not a decimal number");
	ck_assert_has(req_err("size", "size\t+1"), "'size' is not a decimal number");
	ck_assert_has(req_err("size", "size\t18446744073709551616"), "'size' 18446744073709551616 is out of range");
	ck_assert_str_eq(req_err("size", "size\t18446744073709551615"), "");
	ck_assert_has(req_err("received", "received\tnow"), "'received' is not a decimal");
	ck_assert_has(req_err("received", "received\t-"), "'received' is not a decimal");
	ck_assert_has(req_err("received", "received\t9223372036854775808"), "out of range");
	ck_assert_str_eq(req_err("received", "received\t-9223372036854775807"), "");
	ck_assert_has(req_err(NULL, "uid\t4294967296"), "'uid' 4294967296 is out of range");
	ck_assert_has(req_err(NULL, "uid\t1 "), "'uid' is not a decimal number");
	ck_assert_has(req_err("sha256", "sha256\tabc"), "'sha256' is neither empty nor 64 hex digits");
	ck_assert_has(req_err("sha256", "sha256\t0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg"),
	    "'sha256' is neither empty nor 64 hex");
	ck_assert_has(req_err("sha256", "sha256\t0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0"),
	    "'sha256' is neither empty nor 64 hex");
	ck_assert_has(req_err("head", "head\t4097"), "a head of 4097 bytes is more than this side takes (4096)");
	ck_assert_has(req_err("head", "head\tx"), "'head' is not a decimal number");
}
END_TEST

START_TEST(test_uppercase_sha256_read_as_lower)
{
	struct atsm_filing_parser *p = atsm_filing_parser_new(0);
	const char *w = request_with("sha256",
	    "sha256\t0123456789ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef");

	feed_request(p, w, strlen(w), 0);
	ck_assert_str_eq(atsm_filing_request_get(p)->sha256, sha_hex);
	atsm_filing_parser_free(p);
}
END_TEST

START_TEST(test_limits)
{
	static char w[16384], v[8192];
	char *add;
	size_t n;
	int i;

	/* a line of exactly ATSM_FILING_LINE_MAX bytes (LF included) is taken */
	memset(v, 'x', sizeof(v));
	n = (size_t)snprintf(w, sizeof(w), "later\t%.*s", ATSM_FILING_LINE_MAX - 7, v);
	ck_assert_uint_eq(n + 1, ATSM_FILING_LINE_MAX);
	ck_assert_str_eq(req_err(NULL, w), "");
	snprintf(w, sizeof(w), "later\t%.*s", ATSM_FILING_LINE_MAX - 6, v);
	ck_assert_has(req_err(NULL, w), "line 9 is longer than 4096 bytes");
	/* the same without any LF at all */
	memcpy(w, "FILE\t1\nuser\t", 12);
	memset(w + 12, 'y', 5000);
	ck_assert_has(request_error(w, 5012), "line 2 is longer than 4096 bytes");

	/* at most ATSM_FILING_LINES_MAX lines, the first and the empty one included */
	add = v;
	add[0] = '\0';
	for (i = 0; i < ATSM_FILING_LINES_MAX - 9; i++)
		strcat(add, i == 0 ? "x\t1" : "\nx\t1");
	ck_assert_str_eq(req_err(NULL, add), "");
	strcat(add, "\nx\t1");
	ck_assert_has(req_err(NULL, add), "line 65: more than 64 lines");
}
END_TEST

START_TEST(test_answer_malformed)
{
	char w[4096];
	int i, o;

	ck_assert_str_eq(answer_error("OK\t1\nresult\tfiled\n\n"), "");
	ck_assert_has(answer_error("OK\t1\nresult\t\n\n"), "line 2: 'result' is empty");
	ck_assert_has(answer_error("OK\t1\nresult\t0123456789012345678901234567890123\n\n"),
	    "'result' is longer than 31 bytes");
	ck_assert_has(answer_error("OK\t1\nresult\ta\nresult\tb\n\n"), "line 3: 'result' is given twice");
	ck_assert_has(answer_error("OK\t1\nresult\ta\ntext\ta\ntext\tb\n\n"), "'text' is given twice");
	ck_assert_has(answer_error("OK\t1\nresult\ta\nkeyword\t\n\n"), "keyword '' is not an IMAP atom");
	ck_assert_has(answer_error("OK\t1\nresult\ta\nkeyword\ta b\n\n"), "keyword 'a b' is not an IMAP atom");
	ck_assert_has(answer_error("OK\t1\nresult\ta\nkeyword\t\\Seen\n\n"), "not an IMAP atom");
	ck_assert_has(answer_error("OK\t1\nresult\ta\nkeyword\t(x)\n\n"), "not an IMAP atom");
	ck_assert_has(answer_error("OK\t1\nresult\ta\nkeyword\t%25x\n\n"), "not an IMAP atom");
	ck_assert_has(answer_error("OK\t1\nresult\ta\nkeyword\t\xc3\xa9\n\n"), "not an IMAP atom");
	ck_assert_has(answer_error("OK\t1\nresult\ta\nkeyword\t$0123456789012345678901234567890\n\n"),
	    "not an IMAP atom of 1 to 31 bytes");
	ck_assert_str_eq(answer_error("OK\t1\nresult\ta\nkeyword\t$012345678901234567890123456789\n\n"), "");
	o = snprintf(w, sizeof(w), "OK\t1\nresult\ta\n");
	for (i = 0; i < 9; i++)
		o += snprintf(w + o, sizeof(w) - (size_t)o, "keyword\t$K%d\n", i);
	snprintf(w + o, sizeof(w) - (size_t)o, "\n");
	ck_assert_has(answer_error(w), "line 11: more than 8 keywords");
	o = snprintf(w, sizeof(w), "OK\t1\nresult\ta\ntext\t");
	memset(w + o, 'z', 1024);
	snprintf(w + o + 1024, sizeof(w) - (size_t)o - 1024, "\n\n");
	ck_assert_has(answer_error(w), "line 3: 'text' is longer than 1023 bytes");
	ck_assert_has(answer_error("OK\t1\nresult\ta\ntext\tx%00y\n\n"), "'text' holds a NUL byte");
}
END_TEST

/* ---- encoder errors ------------------------------------------------------- */

START_TEST(test_encoder_refuses)
{
	struct atsm_filing_request r;
	struct atsm_filing_answer a;
	struct atsm_buf b;
	struct atsm_err err;
	static char big[5000];

	atsm_buf_init(&b, 1 << 20);
	atsm_buf_puts(&b, "kept");
	full_request(&r);
	r.user = NULL;
	ck_assert_int_eq(atsm_filing_request_encode(&r, &b, &err), -1);
	ck_assert_has(err.msg, "names no user");
	full_request(&r);
	r.mailbox = "";
	ck_assert_int_eq(atsm_filing_request_encode(&r, &b, &err), -1);
	ck_assert_has(err.msg, "names no mailbox");
	full_request(&r);
	strcpy(r.sha256, "xyz");
	ck_assert_int_eq(atsm_filing_request_encode(&r, &b, &err), -1);
	ck_assert_has(err.msg, "sha256 'xyz' is neither empty nor 64 hex digits");
	full_request(&r);
	/* 1400 x '%' escapes to 4200 bytes: more than a line */
	memset(big, '%', 1400);
	r.env_to = big;
	ck_assert_int_eq(atsm_filing_request_encode(&r, &b, &err), -1);
	ck_assert_has(err.msg, "env-to is too long for the filing protocol");
	ck_assert_str_eq(atsm_buf_str(&b), "kept");
	/* the output buffer is full: nothing of the request stays in it */
	atsm_buf_free(&b);
	atsm_buf_init(&b, 300);
	atsm_buf_puts(&b, "kept");
	full_request(&r);
	ck_assert_int_eq(atsm_filing_request_encode(&r, &b, &err), 0);
	atsm_buf_reset(&b);
	atsm_buf_puts(&b, "kept");
	r.head = (unsigned char *)big;
	r.head_len = 290;
	ck_assert_int_eq(atsm_filing_request_encode(&r, &b, &err), -1);
	ck_assert_int_eq(err.cls, ATSM_ERR_NOMEM);
	ck_assert_has(err.msg, "does not fit in 300 bytes");
	ck_assert_str_eq(atsm_buf_str(&b), "kept");

	memset(&a, 0, sizeof(a));
	ck_assert_int_eq(atsm_filing_answer_encode(&a, &b, &err), -1);
	ck_assert_has(err.msg, "result is empty");
	strcpy(a.result, "filed");
	a.n_keywords = 9;
	ck_assert_int_eq(atsm_filing_answer_encode(&a, &b, &err), -1);
	ck_assert_has(err.msg, "9 keywords (at most 8)");
	a.n_keywords = 1;
	strcpy(a.keywords[0], "a b");
	ck_assert_int_eq(atsm_filing_answer_encode(&a, &b, &err), -1);
	ck_assert_has(err.msg, "keyword 1 'a b' is not an IMAP atom");
	a.n_keywords = 0;
	a.status = (enum atsm_filing_status)7;
	ck_assert_int_eq(atsm_filing_answer_encode(&a, &b, &err), -1);
	ck_assert_has(err.msg, "status 7");
	a.status = ATSM_FILING_OK;
	memset(a.text, 'x', sizeof(a.text));
	ck_assert_int_eq(atsm_filing_answer_encode(&a, &b, &err), -1);
	ck_assert_has(err.msg, "text is not a string of at most 1023 bytes");
	ck_assert_str_eq(atsm_buf_str(&b), "kept");
	atsm_buf_free(&b);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("filing");
	TCase *tc = tcase_create("codec");

	tcase_add_test(tc, test_request_encoding_is_byte_exact);
	tcase_add_test(tc, test_request_optional_fields_left_out);
	tcase_add_test(tc, test_answer_encoding_is_byte_exact);
	tcase_add_test(tc, test_escaping_is_byte_exact);
	tcase_add_test(tc, test_optional_escapes_are_decoded);
	tcase_add_test(tc, test_request_round_trip);
	tcase_add_test(tc, test_request_round_trip_extremes);
	tcase_add_test(tc, test_answer_round_trip);
	tcase_add_test(tc, test_shared_fields_round_trip);
	tcase_add_test(tc, test_split_one_byte_at_a_time);
	tcase_add_test(tc, test_two_requests_back_to_back);
	tcase_add_test(tc, test_answer_leaves_what_follows);
	tcase_add_test(tc, test_not_done_until_complete);
	tcase_add_test(tc, test_unknown_names_skipped);
	tcase_add_test(tc, test_error_persists_until_reset);
	tcase_add_test(tc, test_missing_required_named);
	tcase_add_test(tc, test_first_line_malformed);
	tcase_add_test(tc, test_lines_malformed);
	tcase_add_test(tc, test_values_malformed);
	tcase_add_test(tc, test_uppercase_sha256_read_as_lower);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_answer_malformed);
	tcase_add_test(tc, test_encoder_refuses);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()

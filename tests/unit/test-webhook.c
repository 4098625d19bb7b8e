/* test-webhook.c -- unit tests of the webhook decisions (lib/notify/webhook.c):
 * body, signature, endpoint rules, verdict and backoff. */
#include "atsm-check.h"
#include "notify/webhook.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET_A "0123456789abcdef0123456789abcdef-webhook-current"
#define SECRET_B "fedcba9876543210fedcba9876543210-webhook-previous"
#define SECRET_C "ffffffffffffffffffffffffffffffff-someone-else"

static const struct atsm_webhook_event ev_sent = {
	"42", "message.sent", "2024-04-01T09:30:00.123456Z",
	"{\"message_id\": 7, \"subject\": \"\xe9\x9d\xa2\xe6\x8e\xa5\xe3\x81\xae\xe3\x81\x94\xe6\xa1\x88\xe5\x86\x85\", "
	"\"to\": [\"taro@example.jp\"]}"
};

static void
keys_of(const char *text, struct atsm_token_keys *keys)
{
	struct atsm_err err = { .msg = "" };

	ck_assert_msg(atsm_token_keys_from_string(text, keys, &err) == 0, "%s", err.msg);
}

START_TEST(body_fields)
{
	struct atsm_err err = { .msg = "" };
	char *body = atsm_webhook_body(&ev_sent, &err);
	json_t *o, *payload;
	json_error_t jerr;

	ck_assert_msg(body != NULL, "%s", err.msg);
	o = json_loads(body, 0, &jerr);
	ck_assert_msg(o != NULL, "body is not JSON: %s", jerr.text);
	ck_assert_str_eq(json_string_value(json_object_get(o, "id")), "42");
	ck_assert_str_eq(json_string_value(json_object_get(o, "type")), "message.sent");
	ck_assert_str_eq(json_string_value(json_object_get(o, "created_at")),
	    "2024-04-01T09:30:00.123456Z");
	payload = json_loads(ev_sent.payload, 0, &jerr);
	ck_assert_ptr_nonnull(payload);
	ck_assert_msg(json_equal(json_object_get(o, "data"), payload), "data differs: %s", body);
	ck_assert_int_eq((int)json_object_size(o), 4);
	/* compact, and the id first so that a human reading a log sees it */
	ck_assert_msg(strncmp(body, "{\"id\":\"42\",", 11) == 0, "%s", body);
	ck_assert_ptr_null(strchr(body, '\n'));
	json_decref(payload);
	json_decref(o);
	free(body);
}
END_TEST

START_TEST(body_stable)
{
	char *a = atsm_webhook_body(&ev_sent, NULL), *b = atsm_webhook_body(&ev_sent, NULL);

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	/* retries resend the same bytes: the signature and any hash stay valid */
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
}
END_TEST

START_TEST(body_payload_kinds)
{
	static const char *const ok[] = { "{}", "[1,2]", "\"text\"", "null", "3.5" };
	struct atsm_webhook_event ev = ev_sent;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char *body;

		ev.payload = ok[i];
		body = atsm_webhook_body(&ev, NULL);
		ck_assert_msg(body != NULL, "payload %s refused", ok[i]);
		free(body);
	}
}
END_TEST

START_TEST(body_bad_payload)
{
	struct atsm_webhook_event ev = ev_sent;
	struct atsm_err err = { .msg = "" };

	ev.payload = "{\"a\": ";
	ck_assert_ptr_null(atsm_webhook_body(&ev, &err));
	ck_assert_msg(strstr(err.msg, "42") != NULL && strstr(err.msg, "not JSON") != NULL,
	    "%s", err.msg);
	ev.payload = "{\"a\": 1, \"a\": 2}";
	ck_assert_ptr_null(atsm_webhook_body(&ev, &err));
	ev.payload = NULL;
	ck_assert_ptr_null(atsm_webhook_body(&ev, &err));
	ck_assert_msg(strstr(err.msg, "payload") != NULL, "%s", err.msg);
}
END_TEST

START_TEST(body_missing_fields)
{
	struct atsm_webhook_event ev = ev_sent;
	struct atsm_err err = { .msg = "" };

	ev.type = "";
	ck_assert_ptr_null(atsm_webhook_body(&ev, &err));
	ck_assert_msg(strstr(err.msg, "event type") != NULL, "%s", err.msg);
	ev = ev_sent;
	ev.created_at = NULL;
	ck_assert_ptr_null(atsm_webhook_body(&ev, &err));
	ck_assert_msg(strstr(err.msg, "created_at") != NULL, "%s", err.msg);
	ev = ev_sent;
	ev.id = NULL;
	ck_assert_ptr_null(atsm_webhook_body(&ev, &err));
	ck_assert_msg(strstr(err.msg, "id") != NULL, "%s", err.msg);
}
END_TEST

START_TEST(body_too_large)
{
	struct atsm_webhook_event ev = ev_sent;
	struct atsm_err err = { .msg = "" };
	size_t n = ATSM_WEBHOOK_BODY_MAX;
	char *big = malloc(n + 1), *body;

	ck_assert_ptr_nonnull(big);
	/* a JSON string just under the limit as payload: the body passes it */
	memset(big, 'x', n);
	big[0] = '"';
	big[n - 1] = '"';
	big[n] = '\0';
	ev.payload = big;
	ck_assert_ptr_null(atsm_webhook_body(&ev, &err));
	ck_assert_msg(strstr(err.msg, "larger than") != NULL, "%s", err.msg);
	/* well under the limit it is fine */
	big[n / 2] = '"';
	big[n / 2 + 1] = '\0';
	body = atsm_webhook_body(&ev, &err);
	ck_assert_msg(body != NULL, "%s", err.msg);
	free(body);
	free(big);
}
END_TEST

START_TEST(sign_rfc4231)
{
	/* RFC 4231 test case 2: key "Jefe" */
	struct atsm_token_keys keys;
	const char *data = "what do ya want for nothing?";
	char sig[ATSM_WEBHOOK_SIG_MAX];

	memset(&keys, 0, sizeof(keys));
	keys.n = 1;
	memcpy(keys.key[0].k, "Jefe", 4);
	keys.key[0].len = 4;
	ck_assert_int_eq(atsm_webhook_sign(&keys, data, strlen(data), sig), 0);
	ck_assert_str_eq(sig, "sha256="
	    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	keys.n = 0;
	ck_assert_int_eq(atsm_webhook_sign(&keys, data, strlen(data), sig), -1);
	ck_assert_str_eq(sig, "");
}
END_TEST

START_TEST(sign_verify)
{
	struct atsm_token_keys keys, old, other;
	char *body = atsm_webhook_body(&ev_sent, NULL), sig[ATSM_WEBHOOK_SIG_MAX], up[ATSM_WEBHOOK_SIG_MAX];
	size_t len, i;

	ck_assert_ptr_nonnull(body);
	len = strlen(body);
	keys_of(SECRET_A "\n" SECRET_B "\n", &keys);
	keys_of(SECRET_B "\n", &old);
	keys_of(SECRET_C "\n", &other);
	ck_assert_int_eq(atsm_webhook_sign(&keys, body, len, sig), 0);
	ck_assert_uint_eq(strlen(sig), 7 + 64);
	ck_assert(atsm_webhook_verify(&keys, body, len, sig));
	/* upper-case hex is the same signature */
	for (i = 0; sig[i] != '\0'; i++)
		up[i] = i >= 7 && sig[i] >= 'a' && sig[i] <= 'f' ? (char)(sig[i] - 32) : sig[i];
	up[i] = '\0';
	ck_assert(atsm_webhook_verify(&keys, body, len, up));
	/* a receiver that has only the new secret verifies; one with another does not */
	ck_assert(!atsm_webhook_verify(&other, body, len, sig));
	ck_assert(!atsm_webhook_verify(&old, body, len, sig));
	/* a body changed by one byte fails */
	body[len - 2] ^= 1;
	ck_assert(!atsm_webhook_verify(&keys, body, len, sig));
	body[len - 2] ^= 1;
	ck_assert(!atsm_webhook_verify(&keys, body, len, sig + 7));       /* no prefix */
	ck_assert(!atsm_webhook_verify(&keys, body, len, "sha256=abc"));  /* short */
	ck_assert(!atsm_webhook_verify(&keys, body, len, NULL));
	sig[20] = sig[20] == '0' ? '1' : '0';
	ck_assert(!atsm_webhook_verify(&keys, body, len, sig));
	atsm_token_keys_wipe(&keys);
	atsm_token_keys_wipe(&old);
	atsm_token_keys_wipe(&other);
	free(body);
}
END_TEST

START_TEST(verify_rotation)
{
	/* notifyd signs with the new secret; an ATS that still lists the old
	 * one after it (as its second line) accepts both */
	struct atsm_token_keys signer_old, receiver;
	char *body = atsm_webhook_body(&ev_sent, NULL), sig[ATSM_WEBHOOK_SIG_MAX];

	ck_assert_ptr_nonnull(body);
	keys_of(SECRET_B "\n", &signer_old);
	keys_of(SECRET_A "\n" SECRET_B "\n", &receiver);
	ck_assert_int_eq(atsm_webhook_sign(&signer_old, body, strlen(body), sig), 0);
	ck_assert(atsm_webhook_verify(&receiver, body, strlen(body), sig));
	atsm_token_keys_wipe(&signer_old);
	atsm_token_keys_wipe(&receiver);
	free(body);
}
END_TEST

START_TEST(url_rules)
{
	static const char *const good[] = {
		"https://ats.example.com/hooks/atsmail",
		"HTTPS://ats.example.com:8443/x?y=1",
		"http://127.0.0.1:8080/hook",
		"http://localhost/hook",
		"http://[::1]:9000/",
		"http://user:pw@127.0.0.1/hook",
	};
	static const char *const bad[] = {
		"http://ats.example.com/hook",          /* plain http off the host */
		"http://127.0.0.1@ats.example.com/",    /* userinfo disguises the host */
		"http://127.0.0.1.example.com/",
		"http://128.0.0.1/",
		"ftp://127.0.0.1/",
		"ats.example.com/hook",
		"https:///nohost",
		"https://ats.example.com/a b",
		"https://ats.example.com/\r\nX: y",
		"",
	};
	struct atsm_err err;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		err.msg[0] = '\0';
		ck_assert_msg(atsm_webhook_url_check(good[i], &err) == 0, "%s: %s", good[i], err.msg);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.msg[0] = '\0';
		ck_assert_msg(atsm_webhook_url_check(bad[i], &err) == -1, "%s accepted", bad[i]);
		ck_assert_msg(strstr(err.msg, "webhook URL") != NULL, "%s", err.msg);
	}
}
END_TEST

START_TEST(url_too_long)
{
	char url[ATSM_WEBHOOK_URL_MAX + 64];
	struct atsm_err err = { .msg = "" };

	strcpy(url, "https://ats.example.com/");
	memset(url + strlen(url), 'a', sizeof(url) - 1 - strlen(url));
	url[sizeof(url) - 1] = '\0';
	ck_assert_int_eq(atsm_webhook_url_check(url, &err), -1);
	ck_assert_msg(strstr(err.msg, "longer than") != NULL, "%s", err.msg);
	url[ATSM_WEBHOOK_URL_MAX] = '\0';
	ck_assert_int_eq(atsm_webhook_url_check(url, &err), 0);
}
END_TEST

START_TEST(url_redact)
{
	char out[128];
	struct atsm_err err = { .msg = "" };

	atsm_webhook_url_redact("https://bob:s3cret@ats.example.com:8443/h/ook?token=abc#frag",
	    out, sizeof(out));
	ck_assert_str_eq(out, "https://ats.example.com:8443/h/ook");
	atsm_webhook_url_redact("http://127.0.0.1:80", out, sizeof(out));
	ck_assert_str_eq(out, "http://127.0.0.1:80");
	atsm_webhook_url_redact("no-scheme-token", out, sizeof(out));
	ck_assert_ptr_null(strstr(out, "token"));
	atsm_webhook_url_redact("https://ats.example.com/very/long/path", out, 12);
	ck_assert_str_eq(out, "https://ats");
	/* the errors of url_check quote the redacted form */
	ck_assert_int_eq(atsm_webhook_url_check("http://bob:s3cret@ats.example.com/?k=zz9", &err), -1);
	ck_assert_ptr_null(strstr(err.msg, "s3cret"));
	ck_assert_ptr_null(strstr(err.msg, "zz9"));
	ck_assert_ptr_nonnull(strstr(err.msg, "ats.example.com"));
}
END_TEST

START_TEST(classify)
{
	static const long delivered[] = { 200, 201, 202, 204, 299 };
	static const long retry[] = { 0, 100, 199, 300, 301, 304, 400, 401, 404, 409, 429, 500, 503 };
	size_t i;

	for (i = 0; i < sizeof(delivered) / sizeof(delivered[0]); i++) {
		ck_assert_int_eq(atsm_webhook_classify(true, delivered[i]), ATSM_WEBHOOK_DELIVERED);
		/* no complete answer: the receiver may not have it */
		ck_assert_int_eq(atsm_webhook_classify(false, delivered[i]), ATSM_WEBHOOK_RETRY);
	}
	for (i = 0; i < sizeof(retry) / sizeof(retry[0]); i++)
		ck_assert_msg(atsm_webhook_classify(true, retry[i]) == ATSM_WEBHOOK_RETRY,
		    "%ld", retry[i]);
}
END_TEST

START_TEST(backoff_doubles_to_cap)
{
	unsigned a;
	unsigned long want = 10000;

	/* without jitter: the nominal schedule of the defaults (10s, 2h) */
	for (a = 1; a <= 12; a++) {
		ck_assert_uint_eq(atsm_webhook_backoff_ms(a, 10000, 7200000, 0), want);
		want = want * 2 > 7200000 ? 7200000 : want * 2;
	}
	ck_assert_uint_eq(atsm_webhook_backoff_ms(11, 10000, 7200000, 0), 7200000);
	/* no overflow however many attempts */
	ck_assert_uint_eq(atsm_webhook_backoff_ms(1000, 10000, 7200000, 0), 7200000);
	ck_assert_uint_eq(atsm_webhook_backoff_ms(4000000000u, 100, 86400000, 0), 86400000);
	/* attempts 0 is treated like the first */
	ck_assert_uint_eq(atsm_webhook_backoff_ms(0, 500, 60000, 0), 500);
	/* a cap below the base: the base wins */
	ck_assert_uint_eq(atsm_webhook_backoff_ms(3, 5000, 1000, 0), 5000);
}
END_TEST

START_TEST(backoff_jitter_bounds)
{
	unsigned a;
	uint32_t j, seed = 12345;
	bool varied = false;

	for (a = 1; a <= 20; a++) {
		unsigned long nominal = atsm_webhook_backoff_ms(a, 100, 60000, 0), first = 0;

		for (j = 0; j < 200; j++) {
			unsigned long d;

			seed = seed * 1103515245u + 12345u;
			d = atsm_webhook_backoff_ms(a, 100, 60000, seed);
			ck_assert_msg(d <= nominal && d * 4 >= nominal * 3,
			    "attempt %u: %lu outside [3/4, 1] of %lu", a, d, nominal);
			if (j == 0)
				first = d;
			else if (d != first)
				varied = true;
		}
	}
	ck_assert_msg(varied, "jitter never changed the delay");
	ck_assert_uint_eq(atsm_webhook_backoff_ms(1, 1000, 60000, UINT32_MAX),
	    1000 - UINT32_MAX % 251);
}
END_TEST

START_TEST(exhausted)
{
	ck_assert(!atsm_webhook_exhausted(0, 1));
	ck_assert(atsm_webhook_exhausted(1, 1));
	ck_assert(!atsm_webhook_exhausted(11, 12));
	ck_assert(atsm_webhook_exhausted(12, 12));
	ck_assert(atsm_webhook_exhausted(13, 12));
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("webhook");
	TCase *tc = tcase_create("webhook");

	tcase_add_test(tc, body_fields);
	tcase_add_test(tc, body_stable);
	tcase_add_test(tc, body_payload_kinds);
	tcase_add_test(tc, body_bad_payload);
	tcase_add_test(tc, body_missing_fields);
	tcase_add_test(tc, body_too_large);
	tcase_add_test(tc, sign_rfc4231);
	tcase_add_test(tc, sign_verify);
	tcase_add_test(tc, verify_rotation);
	tcase_add_test(tc, url_rules);
	tcase_add_test(tc, url_too_long);
	tcase_add_test(tc, url_redact);
	tcase_add_test(tc, classify);
	tcase_add_test(tc, backoff_doubles_to_cap);
	tcase_add_test(tc, backoff_jitter_bounds);
	tcase_add_test(tc, exhausted);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()

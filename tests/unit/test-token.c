/* test-token.c -- unit tests of message reference tokens and HMAC helpers
 * (lib/rules/token.c). */
#include "atsm-check.h"
#include "rules/token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SECRET_A "0123456789abcdef0123456789abcdef-current"
#define SECRET_B "fedcba9876543210fedcba9876543210-previous"
#define SECRET_C "ffffffffffffffffffffffffffffffff-unknown"

static struct atsm_token_keys keys;
static unsigned char id[ATSM_TOKEN_ID_LEN];
static char tok[ATSM_TOKEN_MAX];

static void
setup(void)
{
	struct atsm_err err = { .msg = "" };

	ck_assert_msg(atsm_token_keys_from_string(SECRET_A "\n" SECRET_B "\n",
	    &keys, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(atsm_token_new_id(id, &err), 0);
	ck_assert_int_eq(atsm_token_make(&keys, id, tok), 0);
}

static void
teardown(void)
{
	atsm_token_keys_wipe(&keys);
}

static void
hex_of(const unsigned char *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static void
check_hmac(const void *key, size_t keylen, const void *data, size_t len,
    const char *want)
{
	unsigned char mac[32];
	char hex[65];

	ck_assert_int_eq(atsm_hmac_sha256(key, keylen, data, len, mac), 0);
	hex_of(mac, 32, hex);
	ck_assert_str_eq(hex, want);
	ck_assert_int_eq(atsm_hmac_sha256_hex(key, keylen, data, len, hex), 0);
	ck_assert_str_eq(hex, want);
}

/* RFC 4231 test cases 1-4 (keys up to the block size). */
START_TEST(test_hmac_rfc4231_short_keys)
{
	unsigned char k1[20], k3[20], k4[25], d3[50], d4[50];
	size_t i;

	memset(k1, 0x0b, sizeof(k1));
	check_hmac(k1, sizeof(k1), "Hi There", 8,
	    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	check_hmac("Jefe", 4, "what do ya want for nothing?", 28,
	    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	memset(k3, 0xaa, sizeof(k3));
	memset(d3, 0xdd, sizeof(d3));
	check_hmac(k3, sizeof(k3), d3, sizeof(d3),
	    "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
	for (i = 0; i < sizeof(k4); i++)
		k4[i] = (unsigned char)(i + 1);
	memset(d4, 0xcd, sizeof(d4));
	check_hmac(k4, sizeof(k4), d4, sizeof(d4),
	    "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
}
END_TEST

/* RFC 4231 test cases 5 (truncation), 6 and 7 (key longer than a block). */
START_TEST(test_hmac_rfc4231_truncation_and_long_keys)
{
	unsigned char k5[20], k6[131], mac[32];
	const char *d6 = "Test Using Larger Than Block-Size Key - Hash Key First";
	const char *d7 = "This is a test using a larger than block-size key "
	    "and a larger than block-size data. The key needs to be hashed "
	    "before being used by the HMAC algorithm.";
	char hex[65];

	memset(k5, 0x0c, sizeof(k5));
	ck_assert_int_eq(atsm_hmac_sha256(k5, sizeof(k5),
	    "Test With Truncation", 20, mac), 0);
	hex_of(mac, 16, hex);
	ck_assert_str_eq(hex, "a3b6167473100ee06e0c796c2955552b");
	memset(k6, 0xaa, sizeof(k6));
	check_hmac(k6, sizeof(k6), d6, strlen(d6),
	    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
	check_hmac(k6, sizeof(k6), d7, strlen(d7),
	    "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}
END_TEST

START_TEST(test_round_trip)
{
	unsigned char got[ATSM_TOKEN_ID_LEN];

	memset(got, 0, sizeof(got));
	ck_assert_int_eq(atsm_token_verify(&keys, tok, strlen(tok), got), 0);
	ck_assert_mem_eq(got, id, ATSM_TOKEN_ID_LEN);
}
END_TEST

START_TEST(test_token_alphabet_and_length)
{
	char t[ATSM_TOKEN_MAX];
	unsigned char rid[ATSM_TOKEN_ID_LEN];
	int n, i;

	for (n = 0; n < 200; n++) {
		ck_assert_int_eq(atsm_token_new_id(rid, NULL), 0);
		ck_assert_int_eq(atsm_token_make(&keys, rid, t), 0);
		ck_assert_uint_eq(strlen(t), ATSM_TOKEN_LEN);
		ck_assert_uint_lt(strlen(t), 40);
		ck_assert_int_eq(t[0], 'a');
		for (i = 0; t[i] != '\0'; i++)
			ck_assert_msg((t[i] >= 'a' && t[i] <= 'z') ||
			    (t[i] >= '2' && t[i] <= '7'), "bad char in %s", t);
	}
}
END_TEST

START_TEST(test_ids_random_and_tokens_distinct)
{
	unsigned char id2[ATSM_TOKEN_ID_LEN], got[ATSM_TOKEN_ID_LEN];
	char t2[ATSM_TOKEN_MAX];

	ck_assert_int_eq(atsm_token_new_id(id2, NULL), 0);
	ck_assert(memcmp(id, id2, ATSM_TOKEN_ID_LEN) != 0);
	ck_assert_int_eq(atsm_token_make(&keys, id2, t2), 0);
	ck_assert_str_ne(tok, t2);
	ck_assert_int_eq(atsm_token_verify(&keys, t2, strlen(t2), got), 0);
	ck_assert_mem_eq(got, id2, ATSM_TOKEN_ID_LEN);
}
END_TEST

START_TEST(test_every_char_change_fails)
{
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyz234567";
	unsigned char got[ATSM_TOKEN_ID_LEN];
	char t[ATSM_TOKEN_MAX];
	size_t i, a;
	unsigned tried = 0;

	for (i = 0; i < ATSM_TOKEN_LEN; i++) {
		for (a = 0; a < 32; a++) {
			if (alpha[a] == tok[i])
				continue;
			strcpy(t, tok);
			t[i] = alpha[a];
			tried++;
			ck_assert_msg(atsm_token_verify(&keys, t, strlen(t),
			    got) == -1, "changed char %zu verifies: %s", i, t);
		}
	}
	ck_assert_uint_eq(tried, ATSM_TOKEN_LEN * 31);
}
END_TEST

START_TEST(test_every_bit_flip_fails_except_case)
{
	unsigned char got[ATSM_TOKEN_ID_LEN];
	char t[ATSM_TOKEN_MAX];
	size_t i;
	int bit, rc;

	for (i = 0; i < ATSM_TOKEN_LEN; i++) {
		for (bit = 0; bit < 8; bit++) {
			strcpy(t, tok);
			t[i] = (char)(t[i] ^ (1 << bit));
			rc = atsm_token_verify(&keys, t, strlen(t), got);
			if (bit == 5 && tok[i] >= 'a' && tok[i] <= 'z')
				ck_assert_msg(rc == 0, "case flip at %zu "
				    "fails", i);
			else
				ck_assert_msg(rc == -1, "bit %d of char %zu "
				    "flipped verifies", bit, i);
		}
	}
}
END_TEST

START_TEST(test_upper_case_verifies)
{
	unsigned char got[ATSM_TOKEN_ID_LEN];
	char t[ATSM_TOKEN_MAX];
	size_t i;

	for (i = 0; tok[i] != '\0'; i++)
		t[i] = (tok[i] >= 'a' && tok[i] <= 'z') ? (char)(tok[i] - 32) :
		    tok[i];
	t[i] = '\0';
	ck_assert_str_ne(t, tok);
	ck_assert_int_eq(atsm_token_verify(&keys, t, strlen(t), got), 0);
	ck_assert_mem_eq(got, id, ATSM_TOKEN_ID_LEN);
}
END_TEST

START_TEST(test_rotation_previous_key_verifies)
{
	struct atsm_token_keys old, rotated, other;
	unsigned char got[ATSM_TOKEN_ID_LEN];
	char t[ATSM_TOKEN_MAX];

	ck_assert_int_eq(atsm_token_keys_from_string(SECRET_B, &old, NULL), 0);
	ck_assert_int_eq(atsm_token_make(&old, id, t), 0);
	ck_assert_str_ne(t, tok);       /* signed by a different key */
	/* keys = A (current) + B (previous): B's token still verifies */
	ck_assert_int_eq(atsm_token_verify(&keys, t, strlen(t), got), 0);
	ck_assert_mem_eq(got, id, ATSM_TOKEN_ID_LEN);
	/* once B is dropped from the file, its tokens stop verifying */
	ck_assert_int_eq(atsm_token_keys_from_string(SECRET_A, &rotated, NULL),
	    0);
	ck_assert_int_eq(atsm_token_verify(&rotated, t, strlen(t), got), -1);
	ck_assert_int_eq(atsm_token_verify(&rotated, tok, strlen(tok), got), 0);
	ck_assert_int_eq(atsm_token_keys_from_string(SECRET_C, &other, NULL), 0);
	ck_assert_int_eq(atsm_token_verify(&other, tok, strlen(tok), got), -1);
	ck_assert_int_eq(atsm_token_verify(&other, t, strlen(t), got), -1);
}
END_TEST

START_TEST(test_bad_lengths_and_garbage_fail)
{
	unsigned char got[ATSM_TOKEN_ID_LEN];
	char t[2 * ATSM_TOKEN_MAX];
	static const struct atsm_token_keys none;

	ck_assert_int_eq(atsm_token_verify(&keys, "", 0, got), -1);
	ck_assert_int_eq(atsm_token_verify(&keys, tok, strlen(tok) - 1, got), -1);
	ck_assert_int_eq(atsm_token_verify(&keys, tok, 1, got), -1);
	snprintf(t, sizeof(t), "%sa", tok);
	ck_assert_int_eq(atsm_token_verify(&keys, t, strlen(t), got), -1);
	snprintf(t, sizeof(t), "a%s", tok);
	ck_assert_int_eq(atsm_token_verify(&keys, t, strlen(t), got), -1);
	memset(t, 'a', ATSM_TOKEN_LEN);
	ck_assert_int_eq(atsm_token_verify(&keys, t, ATSM_TOKEN_LEN, got), -1);
	strcpy(t, tok);
	t[10] = '1';                    /* not in the alphabet */
	ck_assert_int_eq(atsm_token_verify(&keys, t, ATSM_TOKEN_LEN, got), -1);
	t[10] = '\0';
	ck_assert_int_eq(atsm_token_verify(&keys, t, ATSM_TOKEN_LEN, got), -1);
	ck_assert_int_eq(atsm_token_verify(&keys, NULL, 0, got), -1);
	ck_assert_int_eq(atsm_token_verify(&none, tok, strlen(tok), got), -1);
	ck_assert_int_eq(atsm_token_make(&none, id, t), -1);
}
END_TEST

START_TEST(test_find_in_verp_local_part)
{
	unsigned char got[ATSM_TOKEN_ID_LEN];
	char text[200];

	snprintf(text, sizeof(text), "alice+ats-%s@example.com", tok);
	memset(got, 0, sizeof(got));
	ck_assert_int_eq(atsm_token_find(&keys, text, strlen(text), got), 0);
	ck_assert_mem_eq(got, id, ATSM_TOKEN_ID_LEN);
	/* delimiter without '-', upper-cased by a relay */
	snprintf(text, sizeof(text), "BOUNCES+A%s@EXAMPLE.COM", tok);
	for (size_t i = 0; text[i] != '\0'; i++)
		if (text[i] >= 'a' && text[i] <= 'z')
			text[i] = (char)(text[i] - 32);
	memset(got, 0, sizeof(got));
	ck_assert_int_eq(atsm_token_find(&keys, text, strlen(text), got), 0);
	ck_assert_mem_eq(got, id, ATSM_TOKEN_ID_LEN);
}
END_TEST

START_TEST(test_find_in_header_with_noise)
{
	unsigned char got[ATSM_TOKEN_ID_LEN], id2[ATSM_TOKEN_ID_LEN];
	char text[400], forged[ATSM_TOKEN_MAX];
	struct atsm_token_keys okeys;

	/* a forged token (other key) comes first and must be skipped */
	ck_assert_int_eq(atsm_token_keys_from_string(SECRET_C, &okeys, NULL), 0);
	ck_assert_int_eq(atsm_token_new_id(id2, NULL), 0);
	ck_assert_int_eq(atsm_token_make(&okeys, id2, forged), 0);
	snprintf(text, sizeof(text), "X-ATS-Ref: aaaa %s, junk "
	    "aaeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee <%s> (ref)\r\n",
	    forged, tok);
	ck_assert_int_eq(atsm_token_find(&keys, text, strlen(text), got), 0);
	ck_assert_mem_eq(got, id, ATSM_TOKEN_ID_LEN);
	/* without the genuine token nothing is found */
	snprintf(text, sizeof(text), "Re: aaaa %s no token here", forged);
	ck_assert_int_eq(atsm_token_find(&keys, text, strlen(text), got), -1);
	ck_assert_int_eq(atsm_token_find(&keys, "", 0, got), -1);
	/* the token cut by the given length is not found */
	snprintf(text, sizeof(text), "<%s>", tok);
	ck_assert_int_eq(atsm_token_find(&keys, text, ATSM_TOKEN_LEN, got), -1);
	ck_assert_int_eq(atsm_token_find(&keys, text, ATSM_TOKEN_LEN + 1, got), 0);
}
END_TEST

START_TEST(test_find_bounded_on_hostile_text)
{
	unsigned char got[ATSM_TOKEN_ID_LEN];
	size_t n = 1000000, i;
	char *text = malloc(n + ATSM_TOKEN_MAX + 2);
	clock_t t0;

	ck_assert_ptr_nonnull(text);
	/* every position looks like the start of a version-1 token */
	for (i = 0; i < n; i++)
		text[i] = "aae"[i % 3];
	t0 = clock();
	ck_assert_int_eq(atsm_token_find(&keys, text, n, got), -1);
	ck_assert_msg((double)(clock() - t0) / CLOCKS_PER_SEC < 2.0,
	    "find took too long");
	/* the cap means a token after that much noise is not looked for,
	 * but one after a separator near the start is */
	text[0] = ' ';
	memcpy(text + 1, tok, ATSM_TOKEN_LEN);
	text[1 + ATSM_TOKEN_LEN] = ' ';
	ck_assert_int_eq(atsm_token_find(&keys, text, n, got), 0);
	ck_assert_mem_eq(got, id, ATSM_TOKEN_ID_LEN);
	free(text);
}
END_TEST

/* ---- secret files ---- */

static char tmpdir[64];

static void
file_setup(void)
{
	setup();
	strcpy(tmpdir, "/tmp/atsm-token-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void
file_teardown(void)
{
	char cmd[128];

	teardown();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

static const char *
write_secret(const char *name, const char *text, mode_t mode)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	ck_assert_int_eq(chmod(path, mode), 0);
	return path;
}

START_TEST(test_file_group_readable_refused)
{
	struct atsm_token_keys k;
	struct atsm_err err = { .msg = "" };
	const char *path = write_secret("secret", SECRET_A "\n", 0644);

	ck_assert_int_eq(atsm_token_keys_load(path, &k, &err), -1);
	ck_assert_msg(strstr(err.msg, "chmod 600") != NULL, "%s", err.msg);
	ck_assert_msg(strstr(err.msg, path) != NULL, "%s", err.msg);
	ck_assert_msg(strstr(err.msg, "0644") != NULL, "%s", err.msg);
	ck_assert_msg(strstr(err.msg, SECRET_A) == NULL, "secret shown");
	ck_assert_uint_eq(k.n, 0);
	ck_assert_int_eq(chmod(path, 0660), 0);
	ck_assert_int_eq(atsm_token_keys_load(path, &k, &err), -1);
	ck_assert_int_eq(chmod(path, 0604), 0);
	ck_assert_int_eq(atsm_token_keys_load(path, &k, &err), -1);
	/* group read is how the milter and the Dovecot plugin share it */
	ck_assert_int_eq(chmod(path, 0640), 0);
	ck_assert_msg(atsm_token_keys_load(path, &k, &err) == 0, "%s", err.msg);
	atsm_token_keys_wipe(&k);
	ck_assert_int_eq(chmod(path, 0600), 0);
	ck_assert_msg(atsm_token_keys_load(path, &k, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(k.n, 1);
	atsm_token_keys_wipe(&k);
}
END_TEST

START_TEST(test_file_short_secret_refused)
{
	struct atsm_token_keys k;
	struct atsm_err err = { .msg = "" };
	const char *path = write_secret("secret", "# site secret\n"
	    SECRET_A "\nshort-secret-xyz\n", 0600);

	ck_assert_int_eq(atsm_token_keys_load(path, &k, &err), -1);
	ck_assert_msg(strstr(err.msg, "line 3") != NULL, "%s", err.msg);
	ck_assert_msg(strstr(err.msg, "at least 32") != NULL, "%s", err.msg);
	ck_assert_msg(strstr(err.msg, "short-secret-xyz") == NULL,
	    "secret shown: %s", err.msg);
	ck_assert_uint_eq(k.n, 0);
	ck_assert_int_eq(k.key[0].len, 0);       /* wiped on failure */
}
END_TEST

START_TEST(test_file_missing_names_path)
{
	struct atsm_token_keys k;
	struct atsm_err err = { .msg = "" };
	char path[128];

	snprintf(path, sizeof(path), "%s/no-such-secret", tmpdir);
	ck_assert_int_eq(atsm_token_keys_load(path, &k, &err), -1);
	ck_assert_msg(strstr(err.msg, path) != NULL, "%s", err.msg);
	ck_assert_msg(strstr(err.msg, "No such file") != NULL, "%s", err.msg);
}
END_TEST

START_TEST(test_file_comments_blank_lines_and_order)
{
	struct atsm_token_keys k;
	struct atsm_err err = { .msg = "" };
	unsigned char got[ATSM_TOKEN_ID_LEN];
	char t[ATSM_TOKEN_MAX];
	const char *path = write_secret("secret",
	    "# atsmail token secrets: current first\n"
	    "\n"
	    "   " SECRET_A "  \r\n"
	    "  # previous, until 2026-12-01\n"
	    "\t\n"
	    SECRET_B, 0600);

	ck_assert_msg(atsm_token_keys_load(path, &k, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(k.n, 2);
	ck_assert_uint_eq(k.key[0].len, strlen(SECRET_A));
	ck_assert_mem_eq(k.key[0].k, SECRET_A, strlen(SECRET_A));
	ck_assert_mem_eq(k.key[1].k, SECRET_B, strlen(SECRET_B));
	/* the first secret signs: same token as from the fixture's keys */
	ck_assert_int_eq(atsm_token_make(&k, id, t), 0);
	ck_assert_str_eq(t, tok);
	ck_assert_int_eq(atsm_token_verify(&k, t, strlen(t), got), 0);
	atsm_token_keys_wipe(&k);
	ck_assert_uint_eq(k.n, 0);
	ck_assert_uint_eq(k.key[0].k[0], 0);
}
END_TEST

START_TEST(test_file_empty_or_too_many_refused)
{
	struct atsm_token_keys k;
	struct atsm_err err = { .msg = "" };
	const char *path;

	path = write_secret("empty", "# nothing yet\n\n", 0600);
	ck_assert_int_eq(atsm_token_keys_load(path, &k, &err), -1);
	ck_assert_msg(strstr(err.msg, "no secret") != NULL, "%s", err.msg);
	path = write_secret("many", SECRET_A "1\n" SECRET_A "2\n" SECRET_A
	    "3\n" SECRET_A "4\n" SECRET_A "5\n", 0600);
	ck_assert_int_eq(atsm_token_keys_load(path, &k, &err), -1);
	ck_assert_msg(strstr(err.msg, "line 5") != NULL, "%s", err.msg);
	ck_assert_int_eq(atsm_token_keys_from_string(NULL, &k, &err), -1);
}
END_TEST

START_TEST(test_long_secret_keeps_all_of_it)
{
	struct atsm_token_keys k1, k2;
	unsigned char got[ATSM_TOKEN_ID_LEN];
	char s1[120], s2[120], t[ATSM_TOKEN_MAX];

	memset(s1, 'x', 100);
	s1[100] = '\0';
	memcpy(s2, s1, sizeof(s1));
	s2[99] = 'y';           /* differs only past the 64th character */
	ck_assert_int_eq(atsm_token_keys_from_string(s1, &k1, NULL), 0);
	ck_assert_int_eq(atsm_token_keys_from_string(s2, &k2, NULL), 0);
	ck_assert_int_eq(atsm_token_make(&k1, id, t), 0);
	ck_assert_int_eq(atsm_token_verify(&k1, t, strlen(t), got), 0);
	ck_assert_int_eq(atsm_token_verify(&k2, t, strlen(t), got), -1);
}
END_TEST

START_TEST(test_ct_equal_and_id_hex)
{
	unsigned char a[32], b[32], x[ATSM_TOKEN_ID_LEN];
	char hex[2 * ATSM_TOKEN_ID_LEN + 1];
	size_t i;

	memset(a, 0x5a, sizeof(a));
	memcpy(b, a, sizeof(b));
	ck_assert(atsm_ct_equal(a, b, sizeof(a)));
	ck_assert(atsm_ct_equal(a, b, 0));
	for (i = 0; i < sizeof(a); i++) {
		b[i] ^= 0x80;
		ck_assert(!atsm_ct_equal(a, b, sizeof(a)));
		b[i] ^= 0x80;
	}
	b[31] ^= 1;
	ck_assert(atsm_ct_equal(a, b, 31));
	for (i = 0; i < ATSM_TOKEN_ID_LEN; i++)
		x[i] = (unsigned char)(i * 17 + 1);
	atsm_token_id_hex(x, hex);
	ck_assert_str_eq(hex, "0112233445566778899aabbc");
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("token");
	TCase *tc = tcase_create("core");
	TCase *tf = tcase_create("file");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_hmac_rfc4231_short_keys);
	tcase_add_test(tc, test_hmac_rfc4231_truncation_and_long_keys);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_token_alphabet_and_length);
	tcase_add_test(tc, test_ids_random_and_tokens_distinct);
	tcase_add_test(tc, test_every_char_change_fails);
	tcase_add_test(tc, test_every_bit_flip_fails_except_case);
	tcase_add_test(tc, test_upper_case_verifies);
	tcase_add_test(tc, test_rotation_previous_key_verifies);
	tcase_add_test(tc, test_bad_lengths_and_garbage_fail);
	tcase_add_test(tc, test_find_in_verp_local_part);
	tcase_add_test(tc, test_find_in_header_with_noise);
	tcase_add_test(tc, test_find_bounded_on_hostile_text);
	tcase_add_test(tc, test_long_secret_keeps_all_of_it);
	tcase_add_test(tc, test_ct_equal_and_id_hex);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tf, file_setup, file_teardown);
	tcase_add_test(tf, test_file_group_readable_refused);
	tcase_add_test(tf, test_file_short_secret_refused);
	tcase_add_test(tf, test_file_missing_names_path);
	tcase_add_test(tf, test_file_comments_blank_lines_and_order);
	tcase_add_test(tf, test_file_empty_or_too_many_refused);
	suite_add_tcase(s, tf);
	return s;
}

ATSM_CHECK_MAIN()

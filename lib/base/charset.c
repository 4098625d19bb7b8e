/* base/charset.c -- conversion of text in a named charset to UTF-8.
 *
 * Interface in base/charset.h; the choices are explained in
 * docs/charsets.md.  Three paths:
 *  - UTF-8 (and US-ASCII, which senders often use for UTF-8) is validated
 *    here, without iconv;
 *  - ISO-2022-JP and all its variants go through our own escape-sequence
 *    decoder, which turns each character into the bytes of a charset glibc
 *    knows (JIS X 0208 and katakana into CP932 arithmetically, so that the
 *    Microsoft extension rows of CP50220/CP50221 decode; JIS X 0212 into
 *    EUC-JP; JIS X 0213 into EUC-JISX0213; GB 2312 and KS C 5601 into
 *    EUC-CN/EUC-KR) and converts those with iconv;
 *  - everything else is passed to iconv, with an optional fallback charset
 *    tried one character at a time where the main one fails (EUC-JP falls
 *    back to EUC-JP-MS, Windows-1252 to ISO-8859-1).
 * An invalid sequence becomes one U+FFFD and conversion resumes after it.
 * What iconv writes is validated as UTF-8 as well: glibc reads a name such
 * as "UTF)8" as UTF-8 and then passes malformed bytes (5-byte forms)
 * through unchanged, and the callers promise valid UTF-8.
 *
 * iconv descriptors are opened and closed per call: the milter calls this
 * from many short-lived threads, glibc caches the conversion modules
 * itself, and a per-call descriptor needs neither locks nor thread-exit
 * cleanup.
 */
#include "base/charset.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <string.h>

#define REPL "\xEF\xBF\xBD"	/* U+FFFD in UTF-8 */
#define NO_CD ((iconv_t)-1)

/* How many bytes an invalid sequence covers, so that one bad double-byte
 * character gives one U+FFFD and does not swallow the next character. */
enum seqkind { SEQ_ONE, SEQ_SJIS, SEQ_EUC };

enum cskind { CS_UTF8, CS_JIS, CS_ICONV };

struct csdef {
	const char *key;	/* lower case, without '-', '_', ' ' */
	enum cskind kind;
	const char *iconv_name;
	const char *fallback;	/* tried per character; NULL for none */
	enum seqkind seq;
};

static const struct csdef cstab[] = {
	{ "utf8", CS_UTF8, NULL, NULL, SEQ_ONE },
	{ "unicode11utf8", CS_UTF8, NULL, NULL, SEQ_ONE },
	{ "utf8mb4", CS_UTF8, NULL, NULL, SEQ_ONE },
	{ "usascii", CS_UTF8, NULL, NULL, SEQ_ONE },
	{ "ascii", CS_UTF8, NULL, NULL, SEQ_ONE },
	{ "us", CS_UTF8, NULL, NULL, SEQ_ONE },
	{ "csascii", CS_UTF8, NULL, NULL, SEQ_ONE },
	{ "iso646us", CS_UTF8, NULL, NULL, SEQ_ONE },
	{ "ansix3.41968", CS_UTF8, NULL, NULL, SEQ_ONE },

	{ "iso2022jp", CS_JIS, NULL, NULL, SEQ_ONE },
	{ "csiso2022jp", CS_JIS, NULL, NULL, SEQ_ONE },
	{ "iso2022jp1", CS_JIS, NULL, NULL, SEQ_ONE },
	{ "iso2022jp2", CS_JIS, NULL, NULL, SEQ_ONE },
	{ "csiso2022jp2", CS_JIS, NULL, NULL, SEQ_ONE },
	{ "iso2022jp3", CS_JIS, NULL, NULL, SEQ_ONE },
	{ "iso2022jp2004", CS_JIS, NULL, NULL, SEQ_ONE },
	{ "iso2022jpms", CS_JIS, NULL, NULL, SEQ_ONE },
	{ "cp50220", CS_JIS, NULL, NULL, SEQ_ONE },
	{ "cp50221", CS_JIS, NULL, NULL, SEQ_ONE },
	{ "cp50222", CS_JIS, NULL, NULL, SEQ_ONE },
	{ "xiso2022jp", CS_JIS, NULL, NULL, SEQ_ONE },

	/* What Windows senders mean by Shift_JIS is CP932. */
	{ "shiftjis", CS_ICONV, "CP932", NULL, SEQ_SJIS },
	{ "sjis", CS_ICONV, "CP932", NULL, SEQ_SJIS },
	{ "xsjis", CS_ICONV, "CP932", NULL, SEQ_SJIS },
	{ "mskanji", CS_ICONV, "CP932", NULL, SEQ_SJIS },
	{ "csshiftjis", CS_ICONV, "CP932", NULL, SEQ_SJIS },
	{ "cp932", CS_ICONV, "CP932", NULL, SEQ_SJIS },
	{ "ms932", CS_ICONV, "CP932", NULL, SEQ_SJIS },
	{ "windows31j", CS_ICONV, "CP932", NULL, SEQ_SJIS },
	{ "cswindows31j", CS_ICONV, "CP932", NULL, SEQ_SJIS },
	{ "xmscp932", CS_ICONV, "CP932", NULL, SEQ_SJIS },
	{ "sjiswin", CS_ICONV, "CP932", NULL, SEQ_SJIS },
	{ "sjisopen", CS_ICONV, "CP932", NULL, SEQ_SJIS },

	{ "eucjp", CS_ICONV, "EUC-JP", "EUC-JP-MS", SEQ_EUC },
	{ "xeucjp", CS_ICONV, "EUC-JP", "EUC-JP-MS", SEQ_EUC },
	{ "ujis", CS_ICONV, "EUC-JP", "EUC-JP-MS", SEQ_EUC },
	{ "cseucpkdfmtjapanese", CS_ICONV, "EUC-JP", "EUC-JP-MS", SEQ_EUC },
	{ "eucjpms", CS_ICONV, "EUC-JP-MS", "EUC-JP", SEQ_EUC },
	{ "eucjpwin", CS_ICONV, "EUC-JP-MS", "EUC-JP", SEQ_EUC },
	{ "eucjpopen", CS_ICONV, "EUC-JP-MS", "EUC-JP", SEQ_EUC },

	/* ISO-8859-1 labels usually carry Windows-1252 punctuation. */
	{ "iso88591", CS_ICONV, "CP1252", "ISO-8859-1", SEQ_ONE },
	{ "iso885911987", CS_ICONV, "CP1252", "ISO-8859-1", SEQ_ONE },
	{ "latin1", CS_ICONV, "CP1252", "ISO-8859-1", SEQ_ONE },
	{ "l1", CS_ICONV, "CP1252", "ISO-8859-1", SEQ_ONE },
	{ "csisolatin1", CS_ICONV, "CP1252", "ISO-8859-1", SEQ_ONE },
	{ "cp819", CS_ICONV, "CP1252", "ISO-8859-1", SEQ_ONE },
	{ "windows1252", CS_ICONV, "CP1252", "ISO-8859-1", SEQ_ONE },
	{ "cp1252", CS_ICONV, "CP1252", "ISO-8859-1", SEQ_ONE },

	/* Supersets that the usual labels stand for in practice. */
	{ "ksc56011987", CS_ICONV, "CP949", NULL, SEQ_ONE },
	{ "ksc5601", CS_ICONV, "CP949", NULL, SEQ_ONE },
	{ "euckr", CS_ICONV, "CP949", NULL, SEQ_ONE },
	{ "gb2312", CS_ICONV, "GB18030", NULL, SEQ_ONE },
	{ "csgb2312", CS_ICONV, "GB18030", NULL, SEQ_ONE },
	{ "gbk", CS_ICONV, "GB18030", NULL, SEQ_ONE },
	{ "xgbk", CS_ICONV, "GB18030", NULL, SEQ_ONE },
	{ "euccn", CS_ICONV, "GB18030", NULL, SEQ_ONE },
};

/* The conversion in progress: where output goes, how much was replaced. */
struct conv {
	struct atsm_buf *out;	/* NULL when only counting */
	size_t nbad;
	bool full;
};

size_t
atsm_utf8_char_len(const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;

	if (n == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] < 0xC2)
		return 0;
	if (s[0] < 0xE0)
		return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
	if (s[0] < 0xF0) {
		if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
			return 0;
		if ((s[0] == 0xE0 && s[1] < 0xA0) ||
		    (s[0] == 0xED && s[1] >= 0xA0))
			return 0;
		return 3;
	}
	if (s[0] < 0xF5) {
		if (n < 4 || (s[1] & 0xC0) != 0x80 ||
		    (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
			return 0;
		if ((s[0] == 0xF0 && s[1] < 0x90) ||
		    (s[0] == 0xF4 && s[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

bool
atsm_utf8_valid(const char *p, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		if ((k = atsm_utf8_char_len(p + i, n - i)) == 0)
			return false;
		i += k;
	}
	return true;
}

int
atsm_utf8_append(struct atsm_buf *out, const char *p, size_t n)
{
	size_t limit, room, k;

	if (atsm_buf_append(out, p, n) == 0)
		return 0;
	if (!out->overflow)
		return -1;	/* out of memory: nothing more to do */
	limit = out->limit ? out->limit : ATSM_BUF_DEFAULT_LIMIT;
	room = out->len < limit ? limit - out->len : 0;
	k = room < n ? room : n;
	while (k > 0 && k < n && ((unsigned char)p[k] & 0xC0) == 0x80)
		k--;
	if (k > 0)
		(void)atsm_buf_append(out, p, k);
	out->overflow = true;
	return -1;
}

/* Emit UTF-8; a NUL becomes U+FFFD since out is used as a C string. */
static int
conv_put(struct conv *c, const char *p, size_t n)
{
	const char *z;
	size_t k;

	if (c->full)
		return -1;
	if (c->out == NULL)
		return 0;
	while (n > 0) {
		z = memchr(p, '\0', n);
		k = z != NULL ? (size_t)(z - p) : n;
		if (k > 0 && atsm_utf8_append(c->out, p, k) < 0)
			goto full;
		if (z == NULL)
			break;
		if (atsm_utf8_append(c->out, REPL, 3) < 0)
			goto full;
		p += k + 1;
		n -= k + 1;
	}
	return 0;
full:
	c->full = true;
	return -1;
}

static int
conv_bad(struct conv *c)
{
	c->nbad++;
	return conv_put(c, REPL, 3);
}

static size_t
seq_len(enum seqkind seq, const unsigned char *s, size_t n)
{
	switch (seq) {
	case SEQ_SJIS:
		if (n >= 2 && ((s[0] >= 0x81 && s[0] <= 0x9F) ||
		    (s[0] >= 0xE0 && s[0] <= 0xFC)) &&
		    s[1] >= 0x40 && s[1] <= 0xFC && s[1] != 0x7F)
			return 2;
		return 1;
	case SEQ_EUC:
		if (n >= 3 && s[0] == 0x8F && s[1] >= 0xA1 && s[1] <= 0xFE &&
		    s[2] >= 0xA1 && s[2] <= 0xFE)
			return 3;
		if (n >= 2 && (s[0] == 0x8E || (s[0] >= 0xA1 && s[0] <= 0xFE)) &&
		    s[1] >= 0xA1 && s[1] <= 0xFE)
			return 2;
		return 1;
	case SEQ_ONE:
		break;
	}
	return 1;
}

static int
conv_utf8(struct conv *c, const char *in, size_t len)
{
	size_t i = 0, start = 0, k;

	while (i < len) {
		if ((k = atsm_utf8_char_len(in + i, len - i)) > 0) {
			i += k;
			continue;
		}
		if (conv_put(c, in + start, i - start) < 0 || conv_bad(c) < 0)
			return -1;
		/* one U+FFFD for a lead byte and its orphaned continuations */
		i++;
		while (i < len && ((unsigned char)in[i] & 0xC0) == 0x80)
			i++;
		start = i;
	}
	return conv_put(c, in + start, i - start);
}

/* Try the fallback descriptor on the one character at *ip.  1 when it
 * converted (and was emitted), 0 when it did not, -1 when out is full. */
static int
conv_one(struct conv *c, iconv_t fb, char **ip, size_t *il)
{
	char obuf[32], *op, *p;
	size_t k, ol, l;

	for (k = 1; k <= 4 && k <= *il; k++) {
		(void)iconv(fb, NULL, NULL, NULL, NULL);
		p = *ip;
		l = k;
		op = obuf;
		ol = sizeof(obuf);
		if (iconv(fb, &p, &l, &op, &ol) != (size_t)-1 && l == 0) {
			(void)iconv(fb, NULL, NULL, &op, &ol);
			*ip += k;
			*il -= k;
			return conv_utf8(c, obuf, (size_t)(op - obuf)) < 0 ? -1 : 1;
		}
		if (errno != EINVAL)
			break;	/* not a prefix of anything: more bytes won't help */
	}
	return 0;
}

static int
conv_iconv(struct conv *c, iconv_t cd, iconv_t fb, enum seqkind seq,
    const char *in, size_t len)
{
	char obuf[1024], *ip = (char *)in, *op;
	size_t il = len, ol, r, n;
	int e, got;

	(void)iconv(cd, NULL, NULL, NULL, NULL);
	while (il > 0) {
		op = obuf;
		ol = sizeof(obuf);
		r = iconv(cd, &ip, &il, &op, &ol);
		e = errno;
		if (conv_utf8(c, obuf, (size_t)(op - obuf)) < 0)
			return -1;
		if (r != (size_t)-1)
			break;
		if (e == E2BIG)
			continue;
		if (e == EILSEQ && fb != NO_CD) {
			if ((got = conv_one(c, fb, &ip, &il)) < 0)
				return -1;
			if (got > 0)
				continue;
		}
		/* EILSEQ: skip the bad character; EINVAL: input ends inside one */
		n = e == EINVAL ? il : seq_len(seq, (unsigned char *)ip, il);
		if (n == 0 || n > il)
			n = il;
		if (conv_bad(c) < 0)
			return -1;
		ip += n;
		il -= n;
		(void)iconv(cd, NULL, NULL, NULL, NULL);
	}
	op = obuf;
	ol = sizeof(obuf);
	(void)iconv(cd, NULL, NULL, &op, &ol);
	return conv_utf8(c, obuf, (size_t)(op - obuf));
}

static int
conv_iconv_named(struct conv *c, const char *name, const char *fbname,
    enum seqkind seq, const char *in, size_t len)
{
	iconv_t cd, fb = NO_CD;
	int r;

	if ((cd = iconv_open("UTF-8", name)) == NO_CD)
		return -2;
	if (fbname != NULL)
		fb = iconv_open("UTF-8", fbname);
	r = conv_iconv(c, cd, fb, seq, in, len);
	if (fb != NO_CD)
		iconv_close(fb);
	iconv_close(cd);
	return r;
}

/* ---- ISO-2022-JP family --------------------------------------------- */

/* The charsets the escape sequences select, and what their characters
 * are rewritten into for iconv. */
enum jis_set {
	J_ASCII, J_KANA, J_X0208, J_X0212, J_X0213_1, J_X0213_2, J_GB2312,
	J_KSC5601, J_LATIN1, J_GREEK
};
enum jis_target { T_CP932, T_EUCJP, T_X0213, T_EUCCN, T_EUCKR, T_LATIN1,
	T_GREEK, T_N };

static const struct {
	const char *name;
	enum seqkind seq;
} jis_targets[T_N] = {
	{ "CP932", SEQ_SJIS }, { "EUC-JP", SEQ_EUC },
	{ "EUC-JISX0213", SEQ_EUC }, { "EUC-CN", SEQ_EUC },
	{ "EUC-KR", SEQ_EUC }, { "ISO-8859-1", SEQ_ONE },
	{ "ISO-8859-7", SEQ_ONE },
};

struct jis {
	struct conv *c;
	iconv_t cd[T_N];
	int segt;		/* target of seg[], -1 when empty */
	size_t seglen;
	char seg[512];
	enum jis_set g0;	/* designated to G0 */
	enum jis_set g2;	/* for single shifts (ISO-2022-JP-2) */
	bool shifted;		/* SO: JIS X 0201 katakana */
};

static int
jis_flush(struct jis *j)
{
	int t = j->segt, r = 0;

	if (j->seglen == 0)
		return 0;
	if (j->cd[t] == NO_CD)
		j->cd[t] = iconv_open("UTF-8", jis_targets[t].name);
	if (j->cd[t] == NO_CD)
		r = conv_bad(j->c);
	else
		r = conv_iconv(j->c, j->cd[t], NO_CD, jis_targets[t].seq,
		    j->seg, j->seglen);
	j->seglen = 0;
	return r;
}

static int
jis_add(struct jis *j, int t, const unsigned char *b, size_t n)
{
	if ((j->segt != t || j->seglen + n > sizeof(j->seg)) &&
	    jis_flush(j) < 0)
		return -1;
	j->segt = t;
	memcpy(j->seg + j->seglen, b, n);
	j->seglen += n;
	return 0;
}

static int
jis_put(struct jis *j, const char *p, size_t n)
{
	if (jis_flush(j) < 0)
		return -1;
	return conv_put(j->c, p, n);
}

static int
jis_bad(struct jis *j)
{
	if (jis_flush(j) < 0)
		return -1;
	return conv_bad(j->c);
}

/* A JIS X 0208 row/cell pair maps onto Shift_JIS by arithmetic; CP932
 * then knows the NEC and NEC-selected IBM rows (13, 89-92) as well. */
static int
jis_pair(struct jis *j, unsigned char j1, unsigned char j2)
{
	unsigned char b[3];

	switch (j->g0) {
	case J_X0208:
		b[0] = (unsigned char)(((j1 + 1) >> 1) + (j1 <= 0x5E ? 0x70 : 0xB0));
		if (j1 & 1)
			b[1] = (unsigned char)(j2 + (j2 >= 0x60 ? 0x20 : 0x1F));
		else
			b[1] = (unsigned char)(j2 + 0x7E);
		return jis_add(j, T_CP932, b, 2);
	case J_X0212:
	case J_X0213_2:
		b[0] = 0x8F;
		b[1] = j1 | 0x80;
		b[2] = j2 | 0x80;
		return jis_add(j, j->g0 == J_X0212 ? T_EUCJP : T_X0213, b, 3);
	default:
		b[0] = j1 | 0x80;
		b[1] = j2 | 0x80;
		return jis_add(j, j->g0 == J_X0213_1 ? T_X0213 :
		    j->g0 == J_GB2312 ? T_EUCCN : T_EUCKR, b, 2);
	}
}

/* An escape sequence at s (s[0] == ESC); returns the bytes it used. */
static size_t
jis_escape(struct jis *j, const unsigned char *s, size_t n, int *rc)
{
	static const struct {
		const char *seq;
		int set;	/* enum jis_set, or -1 for "no change" */
	} esc[] = {
		{ "(B", J_ASCII }, { "(J", J_ASCII }, { "(H", J_ASCII },
		{ "(I", J_KANA }, { "$@", J_X0208 }, { "$B", J_X0208 },
		{ "$(@", J_X0208 }, { "$(B", J_X0208 }, { "$A", J_GB2312 },
		{ "$(C", J_KSC5601 }, { "$(D", J_X0212 },
		{ "$(O", J_X0213_1 }, { "$(Q", J_X0213_1 },
		{ "$(P", J_X0213_2 }, { "&@", -1 },
	};
	size_t k = 1, i;
	unsigned char b;

	*rc = 0;
	while (k < n && s[k] >= 0x20 && s[k] <= 0x2F)
		k++;
	if (k >= n || s[k] < 0x30 || s[k] > 0x7E) {
		*rc = jis_bad(j);	/* truncated or not an escape sequence */
		return k;
	}
	k++;
	for (i = 0; i < sizeof(esc) / sizeof(esc[0]); i++) {
		if (strlen(esc[i].seq) == k - 1 &&
		    memcmp(esc[i].seq, s + 1, k - 1) == 0) {
			if (esc[i].set >= 0) {
				j->g0 = (enum jis_set)esc[i].set;
				j->shifted = false;
			}
			return k;
		}
	}
	if (k == 3 && s[1] == '.' && (s[2] == 'A' || s[2] == 'F')) {
		j->g2 = s[2] == 'A' ? J_LATIN1 : J_GREEK;
		return k;
	}
	if (k == 2 && s[1] == 'N') {	/* single shift 2: one G2 character */
		if (k < n && j->g2 != J_ASCII && s[k] >= 0x20 && s[k] < 0x80) {
			b = s[k] | 0x80;
			*rc = jis_add(j, j->g2 == J_LATIN1 ? T_LATIN1 : T_GREEK,
			    &b, 1);
			return k + 1;
		}
	}
	*rc = jis_bad(j);
	return k;
}

static int
conv_jis(struct conv *c, const char *in, size_t len)
{
	const unsigned char *s = (const unsigned char *)in;
	struct jis j;
	size_t i = 0, k;
	unsigned char ch, b;
	int r = 0, t;

	memset(&j, 0, sizeof(j));
	j.c = c;
	j.segt = -1;
	j.g0 = J_ASCII;
	j.g2 = J_ASCII;
	for (t = 0; t < T_N; t++)
		j.cd[t] = NO_CD;
	while (i < len && r == 0) {
		ch = s[i];
		if (ch == 0x1B) {
			i += jis_escape(&j, s + i, len - i, &r);
		} else if (ch == 0x0E || ch == 0x0F) {
			j.shifted = ch == 0x0E;
			i++;
		} else if (ch >= 0x80) {
			/* 8-bit katakana as in CP50222's cousins; else invalid */
			r = ch >= 0xA1 && ch <= 0xDF ? jis_add(&j, T_CP932, &ch, 1) :
			    jis_bad(&j);
			i++;
		} else if (ch < 0x21 || (ch == 0x7F && j.g0 == J_ASCII)) {
			/* a line end returns to ASCII, as RFC 1468 wants lines to */
			if (ch == '\r' || ch == '\n') {
				j.g0 = J_ASCII;
				j.shifted = false;
			}
			r = jis_put(&j, in + i, 1);
			i++;
		} else if (j.shifted || j.g0 == J_KANA) {
			b = ch + 0x80;
			r = ch <= 0x5F ? jis_add(&j, T_CP932, &b, 1) : jis_bad(&j);
			i++;
		} else if (j.g0 == J_ASCII) {
			for (k = i; k < len && s[k] >= 0x20 && s[k] <= 0x7E; k++)
				;
			r = jis_put(&j, in + i, k - i);
			i = k;
		} else if (ch == 0x7F) {
			r = jis_bad(&j);
			i++;
		} else if (i + 1 < len && s[i + 1] >= 0x21 && s[i + 1] <= 0x7E) {
			r = jis_pair(&j, ch, s[i + 1]);
			i += 2;
		} else {
			r = jis_bad(&j);	/* half a double-byte character */
			i++;
		}
	}
	if (r == 0)
		r = jis_flush(&j);
	for (t = 0; t < T_N; t++)
		if (j.cd[t] != NO_CD)
			iconv_close(j.cd[t]);
	return r;
}

/* ---- names ------------------------------------------------------------ */

/* Lower-case charset with '-', '_' and ' ' removed; false when the name is
 * too long or holds characters no charset name has (so that nothing odd,
 * such as "//IGNORE", reaches iconv_open). */
static bool
cs_key(const char *charset, char *key, size_t keysz)
{
	size_t n = 0;
	const char *p;

	if (charset == NULL || *charset == '\0' ||
	    strlen(charset) > ATSM_CHARSET_NAME_MAX)
		return false;
	for (p = charset; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && strchr("-_ .:+()", *p) == NULL)
			return false;
		if (*p == '-' || *p == '_' || *p == ' ')
			continue;
		if (n + 1 >= keysz)
			return false;
		key[n++] = (char)tolower((unsigned char)*p);
	}
	key[n] = '\0';
	return true;
}

static const struct csdef *
cs_lookup(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(cstab) / sizeof(cstab[0]); i++)
		if (strcmp(cstab[i].key, key) == 0)
			return &cstab[i];
	return NULL;
}

static bool
has_8bit(const char *in, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)in[i] >= 0x80)
			return true;
	return false;
}

int
atsm_charset_convert(const char *charset, const char *in, size_t len,
    struct atsm_buf *out, size_t *nbad, struct atsm_err *err)
{
	char key[ATSM_CHARSET_NAME_MAX + 1];
	const struct csdef *d = NULL;
	struct conv c;
	int r;

	memset(&c, 0, sizeof(c));
	c.out = out;
	if (nbad != NULL)
		*nbad = 0;
	if (!cs_key(charset, key, sizeof(key)))
		return atsm_err_set(err, "unknown charset (name not valid)");
	d = cs_lookup(key);
	if (d != NULL && d->kind == CS_JIS && memchr(in, 0x1B, len) == NULL &&
	    memchr(in, 0x0E, len) == NULL && has_8bit(in, len)) {
		/* 8-bit text labelled ISO-2022-JP is Shift_JIS, EUC-JP or
		 * UTF-8 in disguise: decode it as what it is */
		return atsm_charset_convert(atsm_charset_guess(in, len), in, len,
		    out, nbad, err);
	}
	if (d != NULL && d->kind == CS_UTF8)
		r = conv_utf8(&c, in, len);
	else if (d != NULL && d->kind == CS_JIS)
		r = conv_jis(&c, in, len);
	else if (d != NULL)
		r = conv_iconv_named(&c, d->iconv_name, d->fallback, d->seq,
		    in, len);
	else
		r = conv_iconv_named(&c, charset, NULL, SEQ_ONE, in, len);
	if (nbad != NULL)
		*nbad = c.nbad;
	if (r == -2)
		return atsm_err_set(err, "unknown charset \"%s\"", charset);
	if (r < 0)
		return atsm_err_set(err, "text in charset \"%s\": output limit "
		    "reached", charset);
	return 0;
}

int
atsm_charset_to_utf8(const char *charset, const char *in, size_t len,
    struct atsm_buf *out, struct atsm_err *err)
{
	return atsm_charset_convert(charset, in, len, out, NULL, err);
}

bool
atsm_charset_known(const char *charset)
{
	char key[ATSM_CHARSET_NAME_MAX + 1];
	iconv_t cd;

	if (!cs_key(charset, key, sizeof(key)))
		return false;
	if (cs_lookup(key) != NULL)
		return true;
	if ((cd = iconv_open("UTF-8", charset)) == NO_CD)
		return false;
	iconv_close(cd);
	return true;
}

const char *
atsm_charset_guess(const char *in, size_t len)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t i, bad_sjis = 0, bad_euc = 0;
	bool eucish = true;

	for (i = 0; i + 1 < len; i++)
		if (s[i] == 0x1B && (s[i + 1] == '$' || s[i + 1] == '('))
			return "ISO-2022-JP";
	if (!has_8bit(in, len) || atsm_utf8_valid(in, len))
		return "UTF-8";
	(void)atsm_charset_convert("CP932", in, len, NULL, &bad_sjis, NULL);
	(void)atsm_charset_convert("EUC-JP", in, len, NULL, &bad_euc, NULL);
	if (bad_euc != bad_sjis)
		return bad_euc < bad_sjis ? "EUC-JP" : "CP932";
	/* A tie (EUC-JP kana read as CP932 half-width katakana): Shift_JIS
	 * Japanese nearly always has lead bytes 0x81-0xA0, EUC-JP never
	 * (but for its single shifts 0x8E, 0x8F). */
	for (i = 0; i < len && eucish; i++)
		if (s[i] >= 0x80 && s[i] < 0xA1 && s[i] != 0x8E && s[i] != 0x8F)
			eucish = false;
	return eucish ? "EUC-JP" : "CP932";
}

int
atsm_charset_fallback(const char *in, size_t len, struct atsm_buf *out)
{
	struct conv c;
	size_t i = 0, start = 0;

	memset(&c, 0, sizeof(c));
	c.out = out;
	if (atsm_utf8_valid(in, len))
		return conv_put(&c, in, len);
	while (i < len) {
		if ((unsigned char)in[i] < 0x80) {
			i++;
			continue;
		}
		if (conv_put(&c, in + start, i - start) < 0 || conv_bad(&c) < 0)
			return -1;
		while (i < len && (unsigned char)in[i] >= 0x80)
			i++;
		start = i;
	}
	return conv_put(&c, in + start, i - start);
}

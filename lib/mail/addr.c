/* mail/addr.c -- parsing of RFC 5322 address lists as real clients write them.
 *
 * Interface (mail/addr.h): atsm_addr_parse_list(), atsm_addr_list_free(),
 * atsm_addr_quote_local().
 *
 * The input is cut into lexical tokens (atoms, quoted strings, comments,
 * domain literals, specials) by a lexer that never reads past len and
 * recovers from what RFC 5322 forbids but mail carries every day: a quote
 * or bracket that never closes is dropped (a comment that never closes
 * runs to the end, as nesting leaves no better guess), control bytes, NULs
 * and the ideographic (full-width) space count as white space.  Tokens are grouped
 * into items at ',' and ';' (Outlook separates with ';'), and "name:"
 * opens a group that ';' closes.  Each item is then read leniently:
 * whatever stands before '<' is the display name (even an unquoted
 * address), a missing '>' ends at the next '<' or the end of the item, an
 * addr-spec without brackets may be preceded by a name and followed by a
 * comment that then serves as the display name, and a missing comma
 * between two addresses is tolerated.  Display names are decoded with the
 * RFC 2047 decoder, inside quotes too, as many clients put them there.
 */
#include "mail/addr.h"
#include "base/charset.h"
#include "mail/rfc2047.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum tok_type { T_WORD, T_QUOTED, T_COMMENT, T_LITERAL, T_SPECIAL };

struct tok {
	enum tok_type type;
	char c;         /* the character of a T_SPECIAL */
	bool sp;        /* white space or a comment stands before it */
	bool closed;    /* a comment found its ')' */
	size_t ws;      /* where the white space before it starts */
	size_t rs, re;  /* raw bytes, delimiters included */
};

struct lexer {
	const char *s;
	size_t len, pos;
	bool quotes_dead;       /* an unclosed '"' was seen: none later closes */
};

struct parser {
	struct lexer lx;
	struct tok *t;          /* tokens of the current item */
	size_t nt, cap;
	size_t cap_addrs;       /* addresses allocated in out->v */
	char *group;            /* name of the open group, or NULL */
	bool in_group;
	size_t max;
	struct atsm_addr_list *out;
	struct atsm_err *err;
};

static const char ws_ideographic[] = "\xe3\x80\x80";    /* U+3000 */

/* Length of the white space at s[pos], 0 when there is none. */
static size_t
ws_len(const char *s, size_t len, size_t pos)
{
	unsigned char c = (unsigned char)s[pos];

	if (c <= 0x20 || c == 0x7f)
		return 1;
	if (c == 0xe3 && len - pos >= 3 && memcmp(s + pos, ws_ideographic, 3) == 0)
		return 3;
	return 0;
}

static bool
is_special(char c)
{
	return strchr("<>@,;:.", c) != NULL && c != '\0';
}

/* Characters that end an atom without being part of it. */
static bool
ends_atom(char c)
{
	return is_special(c) || c == '(' || c == ')' || c == '"' ||
	    c == '[' || c == ']';
}

/* Index just past a comment opened at pos, or len when it never closes. */
static size_t
scan_comment(const char *s, size_t len, size_t pos, bool *closed)
{
	size_t i, depth = 0;

	for (i = pos; i < len; i++) {
		if (s[i] == '\\') {
			i++;
		} else if (s[i] == '(') {
			depth++;
		} else if (s[i] == ')' && --depth == 0) {
			*closed = true;
			return i + 1;
		}
	}
	*closed = false;
	return len;
}

/* Index just past the quoted string opened at pos, or 0 when unclosed. */
static size_t
scan_quoted(const char *s, size_t len, size_t pos)
{
	size_t i;

	for (i = pos + 1; i < len; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return 0;
}

/* Index just past the domain literal opened at pos, or 0 when it does not
 * close before a character that cannot be in one. */
static size_t
scan_literal(const char *s, size_t len, size_t pos)
{
	size_t i;

	for (i = pos + 1; i < len; i++) {
		if (s[i] == ']')
			return i + 1;
		if (ws_len(s, len, i) > 0 || strchr("[\\\"(),;<>@", s[i]) != NULL)
			return 0;
	}
	return 0;
}

/* Read the next token; false at the end of the input. */
static bool
lex_next(struct lexer *lx, struct tok *t)
{
	const char *s = lx->s;
	size_t n, end;

	memset(t, 0, sizeof(*t));
	t->ws = lx->pos;
	for (;;) {
		if (lx->pos >= lx->len)
			return false;
		if ((n = ws_len(s, lx->len, lx->pos)) > 0) {
			lx->pos += n;
			t->sp = true;
			continue;
		}
		/* stray closing delimiters, and quotes that never close */
		if (s[lx->pos] == ')' || s[lx->pos] == ']') {
			lx->pos++;
			t->sp = true;
			continue;
		}
		if (s[lx->pos] == '"') {
			end = lx->quotes_dead ? 0 : scan_quoted(s, lx->len, lx->pos);
			if (end == 0) {
				lx->quotes_dead = true;
				lx->pos++;
				t->sp = true;
				continue;
			}
			t->type = T_QUOTED;
			break;
		}
		if (s[lx->pos] == '[') {
			if ((end = scan_literal(s, lx->len, lx->pos)) == 0) {
				lx->pos++;
				t->sp = true;
				continue;
			}
			t->type = T_LITERAL;
			break;
		}
		if (s[lx->pos] == '(') {
			end = scan_comment(s, lx->len, lx->pos, &t->closed);
			t->type = T_COMMENT;
			break;
		}
		if (is_special(s[lx->pos])) {
			t->type = T_SPECIAL;
			t->c = s[lx->pos];
			end = lx->pos + 1;
			break;
		}
		t->type = T_WORD;
		for (end = lx->pos; end < lx->len; end++)
			if (ws_len(s, lx->len, end) > 0 || ends_atom(s[end]))
				break;
		break;
	}
	t->rs = lx->pos;
	t->re = end;
	lx->pos = end;
	return true;
}

static bool
is_sp(const struct tok *t, char c)
{
	return t->type == T_SPECIAL && t->c == c;
}

/* Append the inside of a quoted string or comment: quoted pairs lose their
 * backslash, folding and control bytes go (they cannot be in a C string
 * that may reach a header or a log line). */
static int
put_unescaped(struct atsm_buf *b, const char *s, size_t from, size_t to)
{
	size_t i;
	unsigned char c;

	for (i = from; i < to; i++) {
		if (s[i] == '\\' && i + 1 < to)
			i++;
		c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			continue;
		if (atsm_buf_putc(b, (char)c) < 0)
			return -1;
	}
	return 0;
}

static int
put_tok(struct atsm_buf *b, const char *s, const struct tok *t)
{
	if (t->type == T_QUOTED)
		return put_unescaped(b, s, t->rs + 1, t->re - 1);
	if (t->type == T_COMMENT)
		return put_unescaped(b, s, t->rs + 1, t->re - (t->closed ? 1 : 0));
	return atsm_buf_append(b, s + t->rs, t->re - t->rs);
}

/* Clean decoded text into out: control characters become spaces, bytes
 * that are not UTF-8 become U+FFFD.  The decoder promises both already;
 * this keeps a header injection out even if it ever fails to. */
static int
put_clean_utf8(struct atsm_buf *out, const char *p, size_t n)
{
	size_t i = 0, k;
	unsigned char c;

	while (i < n) {
		c = (unsigned char)p[i];
		if (c < 0x20 || c == 0x7f) {
			if (atsm_buf_putc(out, ' ') < 0)
				return -1;
			i++;
		} else if ((k = atsm_utf8_char_len(p + i, n - i)) > 0) {
			if (atsm_buf_append(out, p + i, k) < 0)
				return -1;
			i += k;
		} else {
			if (atsm_buf_puts(out, "\xef\xbf\xbd") < 0)
				return -1;
			i++;
		}
	}
	return 0;
}

/* The display text of the tokens [from, to): words, quoted strings and
 * specials as written, white space between them as one space (kept as
 * written when it holds ideographic spaces), comments left out; encoded
 * words decoded.  Returns a new string, NULL when empty or out of memory. */
static char *
phrase_text(const struct parser *p, size_t from, size_t to)
{
	const char *s = p->lx.s;
	struct atsm_buf raw, dec, clean;
	size_t i, j;
	bool started = false;
	char *r = NULL;

	atsm_buf_init(&raw, 4 * ATSM_ADDR_DISPLAY_MAX);
	atsm_buf_init(&dec, ATSM_ADDR_DISPLAY_MAX);
	atsm_buf_init(&clean, ATSM_ADDR_DISPLAY_MAX + 4);
	for (i = from; i < to; i++) {
		const struct tok *t = &p->t[i];
		bool wide = false;

		if (t->type == T_COMMENT || is_sp(t, '<') || is_sp(t, '>'))
			continue;
		if (started && t->sp) {
			for (j = t->ws; j + 3 <= t->rs; j++) {
				if (memcmp(s + j, ws_ideographic, 3) == 0) {
					wide = true;
					(void)atsm_buf_puts(&raw, ws_ideographic);
					j += 2;
				}
			}
			if (!wide)
				(void)atsm_buf_putc(&raw, ' ');
		}
		if (put_tok(&raw, s, t) < 0)
			break;
		started = true;
	}
	/* a full buffer cuts the name; what fits is still worth keeping */
	if (raw.len > 0) {
		(void)atsm_rfc2047_decode(atsm_buf_str(&raw), raw.len, &dec);
		(void)put_clean_utf8(&clean, atsm_buf_str(&dec), dec.len);
	}
	while (clean.len > 0 && clean.data[clean.len - 1] == ' ')
		clean.data[--clean.len] = '\0';
	if (clean.len > 0) {
		for (i = 0; clean.data[i] == ' '; i++)
			;
		r = strdup(clean.data + i);
	}
	atsm_buf_free(&raw);
	atsm_buf_free(&dec);
	atsm_buf_free(&clean);
	return r;
}

/* The text of a comment, for a display name written as "a@b (Name)". */
static char *
comment_text(const struct parser *p, size_t i)
{
	struct atsm_buf raw;
	struct parser one = *p;
	struct tok t;
	char *r;

	/* decode the comment's inside as if it were a phrase of one word */
	atsm_buf_init(&raw, 4 * ATSM_ADDR_DISPLAY_MAX);
	(void)put_tok(&raw, p->lx.s, &p->t[i]);
	memset(&t, 0, sizeof(t));
	t.type = T_WORD;
	t.rs = 0;
	t.re = raw.len;
	one.lx.s = atsm_buf_str(&raw);
	one.t = &t;
	r = phrase_text(&one, 0, 1);
	atsm_buf_free(&raw);
	return r;
}

static bool
in_run(const struct tok *t)
{
	return t->type == T_WORD || t->type == T_QUOTED || is_sp(t, '.');
}

/* Whether b continues the dot-atom or local part that a ends: white space
 * is allowed only around dots (obs-local-part, obs-domain). */
static bool
joined(const struct tok *a, const struct tok *b)
{
	return !b->sp || is_sp(a, '.') || is_sp(b, '.');
}

/* First index of the local part that ends just before index at. */
static size_t
run_back(const struct tok *t, size_t from, size_t at)
{
	size_t j = at, start = at, last = at;

	while (j > from) {
		j--;
		if (t[j].type == T_COMMENT)
			continue;
		if (!in_run(&t[j]) || (last != at && !joined(&t[j], &t[last])))
			break;
		start = last = j;
	}
	return start;
}

/* Index just past the domain that follows the '@' at index at. */
static size_t
run_fwd(const struct tok *t, size_t at, size_t to)
{
	size_t j = at + 1, last = to;

	while (j < to && t[j].type == T_COMMENT)
		j++;
	if (j < to && t[j].type == T_LITERAL)
		return j + 1;
	for (; j < to; j++) {
		if (t[j].type == T_COMMENT)
			continue;
		if ((t[j].type != T_WORD && !is_sp(&t[j], '.')) ||
		    (last != to && !joined(&t[last], &t[j])))
			break;
		last = j;
	}
	return last == to ? at + 1 : last + 1;
}

/* Concatenate the non-comment tokens [from, to) into a new string;
 * NULL when empty, too long or out of memory. */
static char *
join_part(const struct parser *p, size_t from, size_t to)
{
	struct atsm_buf b;
	size_t i;

	atsm_buf_init(&b, ATSM_ADDR_PART_MAX);
	for (i = from; i < to; i++) {
		if (p->t[i].type == T_COMMENT)
			continue;
		if (put_tok(&b, p->lx.s, &p->t[i]) < 0) {
			atsm_buf_free(&b);
			return NULL;
		}
	}
	if (b.len == 0) {
		atsm_buf_free(&b);
		return NULL;
	}
	return atsm_buf_steal(&b);
}

static bool
isalnum_ascii(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

int
atsm_addr_quote_local(const char *local, struct atsm_buf *out)
{
	static const char atext[] = "!#$%&'*+-/=?^_`{|}~";
	const unsigned char *u;
	bool dot_atom = local[0] != '\0' && local[0] != '.';
	size_t n = strlen(local);

	for (u = (const unsigned char *)local; *u != '\0' && dot_atom; u++) {
		if (*u == '.')
			dot_atom = u[1] != '.' && u[1] != '\0';
		else
			dot_atom = *u >= 0x80 || isalnum_ascii(*u) ||
			    strchr(atext, *u) != NULL;
	}
	if (dot_atom)
		return atsm_buf_append(out, local, n);
	if (atsm_buf_putc(out, '"') < 0)
		return -1;
	for (u = (const unsigned char *)local; *u != '\0'; u++) {
		if ((*u == '"' || *u == '\\') && atsm_buf_putc(out, '\\') < 0)
			return -1;
		if (atsm_buf_putc(out, (char)*u) < 0)
			return -1;
	}
	return atsm_buf_putc(out, '"');
}

/* Add one address; takes display, local and domain (any may be NULL when
 * the address is refused). */
static int
add_addr(struct parser *p, char *display, char *local, char *domain)
{
	struct atsm_addr_list *l = p->out;
	struct atsm_addr *a;
	struct atsm_buf b;

	if (l->n >= p->max) {
		free(display);
		free(local);
		free(domain);
		return atsm_err_set(p->err, "address list of %zu bytes holds more "
		    "than %zu addresses; only the first %zu were read",
		    p->lx.len, p->max, p->max);
	}
	if (l->n == p->cap_addrs) {
		size_t ncap = p->cap_addrs ? 2 * p->cap_addrs : 8;
		struct atsm_addr *v;

		if (ncap > p->max)
			ncap = p->max;
		if ((v = realloc(l->v, ncap * sizeof(*v))) == NULL)
			goto nomem;
		l->v = v;
		p->cap_addrs = ncap;
	}
	atsm_buf_init(&b, 2 * ATSM_ADDR_PART_MAX + 8);
	if (atsm_addr_quote_local(local, &b) < 0 || (domain != NULL &&
	    (atsm_buf_putc(&b, '@') < 0 || atsm_buf_puts(&b, domain) < 0))) {
		atsm_buf_free(&b);
		goto nomem;
	}
	a = &l->v[l->n];
	a->display = display;
	a->local = local;
	a->domain = domain;
	a->addr = atsm_buf_steal(&b);
	a->group = NULL;
	if (a->addr == NULL || (p->group != NULL &&
	    (a->group = strdup(p->group)) == NULL)) {
		free(a->addr);
		goto nomem;
	}
	l->n++;
	return 0;
nomem:
	free(display);
	free(local);
	free(domain);
	return atsm_err_set(p->err, "out of memory after %zu addresses of an "
	    "address list of %zu bytes", l->n, p->lx.len);
}

/* Use a comment that follows an address as its display name when it has
 * none ("a@b (Taro)"); returns the index past those comments. */
static size_t
trailing_comments(const struct parser *p, size_t i, size_t to, char **display)
{
	for (; i < to && p->t[i].type == T_COMMENT; i++)
		if (*display == NULL)
			*display = comment_text(p, i);
	return i;
}

/* Index of the first non-comment token in [from, to), or to. */
static size_t
skip_comments(const struct tok *t, size_t from, size_t to)
{
	while (from < to && t[from].type == T_COMMENT)
		from++;
	return from;
}

/* Whether [from, to) holds nothing but one local part (a bare name such as
 * "undisclosed-recipients"). */
static bool
bare_local(const struct tok *t, size_t from, size_t to)
{
	size_t f = skip_comments(t, from, to);

	return f < to && run_back(t, from, to) == f;
}

/* Read one address from tokens [from, to) of the current item and set
 * *next past it.  An address found is added; what cannot be read is
 * counted as malformed, except leftovers without '@' or '<' after an
 * address (trailing words are noise, not a lost recipient). */
static int
parse_one(struct parser *p, size_t from, size_t to, bool first, size_t *next,
    size_t *lt_cache, bool *lt_known)
{
	const struct tok *t = p->t;
	size_t i, lt, at = to, s0, e, ls, de;
	char *display = NULL, *local = NULL, *domain = NULL;
	bool ok;

	/* the first '<' ahead, searched for again only once passed: an item
	 * of many addresses without commas stays linear */
	if (!*lt_known || *lt_cache < from) {
		for (i = from; i < to && !is_sp(&t[i], '<'); i++)
			;
		*lt_cache = i;
		*lt_known = true;
	}
	lt = *lt_cache;
	for (i = from; i < lt; i++)
		if (is_sp(&t[i], '@')) {
			at = i;
			break;
		}

	if (lt < to) {
		/* Name <addr>: the name is everything before '<', even an
		 * unquoted copy of the address; '>' may be missing */
		for (e = lt + 1; e < to; e++)
			if (is_sp(&t[e], '>') || is_sp(&t[e], '<'))
				break;
		s0 = skip_comments(t, lt + 1, e);
		if (s0 < e && is_sp(&t[s0], '@')) {
			/* obsolete source route <@a,@b:c@d> */
			while (s0 < e && !is_sp(&t[s0], ':'))
				s0++;
			s0 = s0 < e ? s0 + 1 : e;
		}
		for (at = s0; at < e && !is_sp(&t[at], '@'); at++)
			;
		if (at < e) {
			ls = run_back(t, s0, at);
			de = run_fwd(t, at, e);
			local = join_part(p, ls, at);
			domain = join_part(p, at + 1, de);
			ok = local != NULL && domain != NULL;
		} else {
			ok = bare_local(t, s0, e) &&
			    (local = join_part(p, s0, e)) != NULL;
		}
		display = phrase_text(p, from, lt);
		*next = trailing_comments(p, e < to && is_sp(&t[e], '>') ?
		    e + 1 : e, to, &display);
	} else if (at < to) {
		/* addr-spec, maybe after a name without brackets */
		ls = run_back(t, from, at);
		de = run_fwd(t, at, to);
		local = join_part(p, ls, at);
		domain = join_part(p, at + 1, de);
		ok = local != NULL && domain != NULL;
		display = phrase_text(p, from, ls);
		for (i = from; i < ls && display == NULL; i++)
			if (t[i].type == T_COMMENT)
				display = comment_text(p, i);
		*next = trailing_comments(p, de, to, &display);
	} else {
		*next = to;
		if (!first || skip_comments(t, from, to) == to)
			return 0;
		ok = bare_local(t, from, to) &&
		    (local = join_part(p, from, to)) != NULL;
		for (i = from; i < to && ok && display == NULL; i++)
			if (t[i].type == T_COMMENT)
				display = comment_text(p, i);
	}
	if (ok)
		return add_addr(p, display, local, domain);
	free(display);
	free(local);
	free(domain);
	p->out->malformed++;
	return 0;
}

/* Read every address of the item held in p->t. */
static int
parse_item(struct parser *p)
{
	size_t i = 0, next, lt = 0;
	bool first = true, lt_known = false;

	while (i < p->nt) {
		if (parse_one(p, i, p->nt, first, &next, &lt, &lt_known) < 0)
			return -1;
		i = next > i ? next : i + 1;
		first = false;
	}
	return 0;
}

static int
push_tok(struct parser *p, const struct tok *t)
{
	if (p->nt == p->cap) {
		size_t ncap = p->cap ? 2 * p->cap : 32;
		struct tok *v = realloc(p->t, ncap * sizeof(*v));

		if (v == NULL)
			return atsm_err_set(p->err, "out of memory reading an "
			    "address list of %zu bytes", p->lx.len);
		p->t = v;
		p->cap = ncap;
	}
	p->t[p->nt++] = *t;
	return 0;
}

/* Collect the tokens of the next item into p->t; *sep receives the
 * separator that ended it (',' or ';'), 0 at the end of the input. */
static int
collect_item(struct parser *p, char *sep)
{
	struct tok t;
	bool in_angle = false, in_route = false, seen_at = false;
	bool seen_angle = false, after_lt = false, after_comment = false;

	p->nt = 0;
	*sep = 0;
	while (lex_next(&p->lx, &t)) {
		if (after_comment)
			t.sp = true;
		after_comment = t.type == T_COMMENT;
		if (t.type == T_SPECIAL) {
			switch (t.c) {
			case ',':
				/* commas separate the hops of a source route */
				if (in_route)
					break;
				*sep = ',';
				return 0;
			case ';':
				*sep = ';';
				return 0;
			case ':':
				if (in_route) {
					in_route = false;
					break;
				}
				if (in_angle || p->in_group || seen_at || seen_angle)
					break;
				free(p->group);
				p->group = phrase_text(p, 0, p->nt);
				p->in_group = true;
				p->nt = 0;
				continue;
			case '<':
				in_angle = seen_angle = true;
				break;
			case '>':
				in_angle = in_route = false;
				break;
			case '@':
				in_route = in_route || after_lt;
				seen_at = true;
				break;
			}
		}
		if (t.type != T_COMMENT)
			after_lt = is_sp(&t, '<');
		if (push_tok(p, &t) < 0)
			return -1;
	}
	return 0;
}

int
atsm_addr_parse_list(const char *text, size_t len, size_t max_addrs,
    struct atsm_addr_list *out, struct atsm_err *err)
{
	struct parser p;
	char sep;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	memset(&p, 0, sizeof(p));
	p.lx.s = text;
	p.lx.len = text != NULL ? len : 0;
	p.max = max_addrs ? max_addrs : ATSM_ADDR_LIST_MAX_DEFAULT;
	p.out = out;
	p.err = err;
	do {
		if (collect_item(&p, &sep) < 0 || parse_item(&p) < 0) {
			rc = -1;
			break;
		}
		if (sep == ';' && p.in_group) {
			p.in_group = false;
			free(p.group);
			p.group = NULL;
		}
	} while (sep != 0);
	free(p.t);
	free(p.group);
	return rc;
}

void
atsm_addr_list_free(struct atsm_addr_list *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++) {
		free(l->v[i].display);
		free(l->v[i].local);
		free(l->v[i].domain);
		free(l->v[i].addr);
		free(l->v[i].group);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

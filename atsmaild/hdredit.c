/* hdredit.c -- an address header value without some of its addresses.
 *
 * Interface: milter_hdr_without (milter.h).
 *
 * Command addresses (ats+...@) that a recruiter put in To or Cc must not
 * be shown to the candidate.  The header is not rebuilt from parsed
 * addresses -- that would re-encode display names and drop comments --
 * but cut as text: the value is split at the commas that separate its
 * items (not those inside quoted strings, comments or angle brackets),
 * each item is parsed with lib/'s address parser, and the items whose
 * address the caller's predicate accepts are left out.  Everything else,
 * encoded words and folding included, stays byte for byte.  A group
 * ("Team: a@x, b@y;") keeps its name and its ';' when its first or last
 * member goes.
 */
#include "atsm-build-config.h"
#include "milter.h"

#include <stdlib.h>
#include <string.h>

#include "mail/addr.h"
#include "base/buf.h"

struct item {
	const char *p;       /* the whole item, between separating commas */
	size_t len;
	size_t body_off;     /* after a group's "name:" */
	size_t body_len;     /* before a group's closing ';' */
	bool drop;
};

#define HDREDIT_ITEMS_MAX 4096   /* more commas than this: left alone */

static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Split at top-level commas; note a top-level ':' (group name) and ';'. */
static size_t
split_items(const char *v, struct item *items, size_t max)
{
	size_t n = 0, i, start = 0, len = strlen(v);
	int comment = 0;
	bool quoted = false, angle = false;
	size_t colon = (size_t)-1, semi = (size_t)-1;

	for (i = 0; i <= len; i++) {
		char c = v[i];

		if (i < len && c == '\\' && (quoted || comment > 0)) {
			i++;
			continue;
		}
		if (i < len && quoted) {
			if (c == '"')
				quoted = false;
			continue;
		}
		if (i < len && comment > 0) {
			if (c == '(')
				comment++;
			else if (c == ')')
				comment--;
			continue;
		}
		if (i < len && c == '"') {
			quoted = true;
			continue;
		}
		if (i < len && c == '(') {
			comment = 1;
			continue;
		}
		if (i < len && c == '<') {
			angle = true;
			continue;
		}
		if (i < len && c == '>') {
			angle = false;
			continue;
		}
		if (i < len && angle)
			continue;
		if (i < len && c == ':' && colon == (size_t)-1) {
			colon = i;
			continue;
		}
		if (i < len && c == ';') {
			semi = i;
			continue;
		}
		if (i < len && c != ',')
			continue;
		if (n == max)
			return 0;
		items[n].p = v + start;
		items[n].len = i - start;
		items[n].body_off = colon != (size_t)-1 ? colon + 1 - start : 0;
		items[n].body_len = (semi != (size_t)-1 && semi > start + items[n].body_off ?
		    semi - start : items[n].len) - items[n].body_off;
		items[n].drop = false;
		n++;
		start = i + 1;
		colon = semi = (size_t)-1;
	}
	return n;
}

static bool
item_matches(const struct item *it, milter_addr_pred drop, void *arg)
{
	struct atsm_addr_list list;
	bool hit = false;
	size_t i;

	if (atsm_addr_parse_list(it->p + it->body_off, it->body_len, 0, &list, NULL) == 0)
		for (i = 0; i < list.n && !hit; i++)
			hit = list.v[i].addr != NULL && drop(list.v[i].addr, arg);
	atsm_addr_list_free(&list);
	return hit;
}

/* The item as it is written: whole, or without its body when dropped. */
static int
put_piece(struct atsm_buf *out, const struct item *it)
{
	if (!it->drop)
		return atsm_buf_append(out, it->p, it->len);
	if (atsm_buf_append(out, it->p, it->body_off) < 0)
		return -1;
	return atsm_buf_append(out, it->p + it->body_off + it->body_len,
	    it->len - it->body_off - it->body_len);
}

static bool
blank(const char *p, size_t n)
{
	while (n > 0 && is_wsp(*p)) {
		p++;
		n--;
	}
	return n == 0;
}

int
milter_hdr_without(const char *value, milter_addr_pred drop, void *arg, char **out)
{
	struct item *items;
	struct atsm_buf b;
	size_t n, i, any = 0, start, end;
	bool open_group = false, first = true;
	char *s;

	*out = NULL;
	items = calloc(HDREDIT_ITEMS_MAX, sizeof(*items));
	if (items == NULL)
		return -1;
	n = split_items(value, items, HDREDIT_ITEMS_MAX);
	for (i = 0; i < n; i++) {
		items[i].drop = items[i].body_len > 0 && item_matches(&items[i], drop, arg);
		any += items[i].drop;
	}
	if (any == 0) {
		free(items);
		return 0;
	}
	atsm_buf_init(&b, strlen(value) + 1);
	for (i = 0; i < n; i++) {
		const struct item *it = &items[i];
		size_t before = b.len;

		if (it->drop && blank(it->p, it->body_off) &&
		    blank(it->p + it->body_off + it->body_len, it->len - it->body_off - it->body_len))
			continue;   /* nothing of it remains */
		/* a comma between two pieces, except right after "group:" */
		if (!first && !open_group && !(it->drop && it->body_off == 0))
			atsm_buf_putc(&b, ',');
		if (put_piece(&b, it) < 0)
			break;
		first = false;
		/* did this piece open a group that it did not close? */
		if (it->body_off > 0)
			open_group = it->drop && it->body_off + it->body_len == it->len;
		else if (b.len > before)
			open_group = false;
	}
	free(items);
	if (b.overflow) {
		atsm_buf_free(&b);
		return -1;
	}
	/* trim: the value starts after "Name: " and ends before CRLF */
	s = b.data != NULL ? b.data : (char *)"";
	for (start = 0; start < b.len && is_wsp(s[start]); start++)
		;
	for (end = b.len; end > start && is_wsp(s[end - 1]); end--)
		;
	*out = strndup(s + start, end - start);
	atsm_buf_free(&b);
	return *out != NULL ? 1 : -1;
}

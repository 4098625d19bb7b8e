/* mail/addr-norm.c -- the one form in which atsmail stores and compares an
 * address, and matching of domains against a list.
 *
 * Interface (mail/addr.h): atsm_addr_normalize(), atsm_addr_domain_in().
 *
 * Decisions, so that one person is one string: the local part is
 * lower-cased (ASCII letters; every mail system our users meet treats
 * Taro@ and taro@ as one mailbox) and written without quotes unless it
 * holds a character that cannot stand outside them -- dots are not such a
 * character, so the "taro.@" and "a..b@" addresses of Japanese mobile
 * carriers compare equal whether a client quoted them or not.  The domain
 * becomes its IDNA A-label form (UTS #46 mapping, so full-width letters
 * and the ideographic full stop are folded too), lower-case, without a
 * trailing dot.  Plain ASCII labels are checked only for letters, digits,
 * '-' and '_': real mail domains break IDNA's hyphen rules now and then.
 */
#include "mail/addr.h"
#include "base/charset.h"

#include <idn2.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longest DNS label (RFC 1035). */
#define LABEL_MAX 63
/* How much of a bad input an error message shows. */
#define SHOW_MAX 80

/* A printable excerpt of s for an error message. */
static const char *
show(const char *s, char *buf, size_t size)
{
	size_t i, n = 0;

	for (i = 0; s[i] != '\0' && n + 4 < size && i < SHOW_MAX; i++) {
		unsigned char c = (unsigned char)s[i];
		buf[n++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	if (s[i] != '\0') {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

static bool
trim_char(const char *p, size_t n, size_t *k, bool front)
{
	unsigned char c;

	if (n >= 3 && memcmp(front ? p : p + n - 3, "\xe3\x80\x80", 3) == 0) {
		*k = 3;
		return true;
	}
	c = (unsigned char)(front ? p[0] : p[n - 1]);
	*k = 1;
	return c <= 0x20 || c == (front ? '<' : '>');
}

static char
lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Whether a character of a local part needs quotes in the normal form. */
static bool
needs_quotes(char c)
{
	return c == ' ' || c == '\t' || strchr("\"\\(),:;<>@[]", c) != NULL;
}

/* Append the normalised local part [p, p+n) to b; -1 with a reason. */
static int
norm_local(const char *p, size_t n, struct atsm_buf *b, const char **why)
{
	struct atsm_buf in;
	size_t i;
	bool quote = false;
	int rc = -1;

	atsm_buf_init(&in, ATSM_ADDR_PART_MAX);
	if (n >= 2 && p[0] == '"' && p[n - 1] == '"') {
		for (i = 1; i < n - 1; i++) {
			if (p[i] == '\\' && i + 1 < n - 1)
				i++;
			else if (p[i] == '"')
				break;
			if (atsm_buf_putc(&in, lower(p[i])) < 0)
				break;
		}
		if (i < n - 1) {
			*why = "its quoted local part is malformed or too long";
			goto out;
		}
	} else {
		for (i = 0; i < n; i++) {
			if (needs_quotes(p[i])) {
				*why = "its local part has a character that "
				    "needs quotes";
				goto out;
			}
			if (atsm_buf_putc(&in, lower(p[i])) < 0) {
				*why = "its local part is too long";
				goto out;
			}
		}
	}
	if (in.len == 0) {
		*why = "its local part is empty";
		goto out;
	}
	for (i = 0; i < in.len; i++)
		quote = quote || needs_quotes(in.data[i]);
	/* a local part that begins with what the front of an address loses
	 * to trimming (a control character, U+3000) keeps its quotes, or the
	 * normal form would not be a fixed point: "\u3000b"@x must not become
	 * b@x when it is normalised again (found by fuzz-addr) */
	if (!quote && trim_char(in.data, in.len, &i, true))
		quote = true;
	if (quote) {
		rc = atsm_buf_putc(b, '"');
		for (i = 0; i < in.len && rc == 0; i++) {
			if (in.data[i] == '"' || in.data[i] == '\\')
				rc = atsm_buf_putc(b, '\\');
			if (rc == 0)
				rc = atsm_buf_putc(b, in.data[i]);
		}
		if (rc == 0)
			rc = atsm_buf_putc(b, '"');
	} else {
		rc = atsm_buf_append(b, in.data, in.len);
	}
	if (rc < 0)
		*why = "it is too long";
out:
	atsm_buf_free(&in);
	return rc;
}

/* Check the labels of an ASCII domain (lower-cased in place). */
static int
check_ascii_domain(char *d, const char **why, const char **idn_why)
{
	char *label, *end, *a;
	size_t n;
	int rc;

	for (label = d; ; label = end + 1) {
		end = strchr(label, '.');
		n = end != NULL ? (size_t)(end - label) : strlen(label);
		if (n == 0) {
			*why = "its domain has an empty label";
			return -1;
		}
		if (n > LABEL_MAX) {
			*why = "its domain has a label longer than 63 octets";
			return -1;
		}
		for (a = label; a < label + n; a++) {
			*a = lower(*a);
			if (!((*a >= 'a' && *a <= 'z') || (*a >= '0' && *a <= '9') ||
			    *a == '-' || *a == '_')) {
				*why = "its domain has a character not allowed "
				    "in a host name";
				return -1;
			}
		}
		if (n >= 4 && strncmp(label, "xn--", 4) == 0) {
			/* an A-label must decode: compare what IDNA makes of it */
			char save = label[n], *o = NULL;

			label[n] = '\0';
			rc = idn2_to_ascii_8z(label, &o, IDN2_NONTRANSITIONAL);
			label[n] = save;
			idn2_free(o);
			if (rc != IDN2_OK) {
				*why = "its domain is not a valid IDN";
				*idn_why = idn2_strerror(rc);
				return -1;
			}
		}
		if (end == NULL)
			return 0;
	}
}

/* Append the normalised domain [p, p+n) to b; -1 with a reason. */
static int
norm_domain(const char *p, size_t n, struct atsm_buf *b, const char **why,
    const char **idn_why)
{
	char *d = NULL, *o = NULL;
	size_t i;
	bool ascii = true;
	int rc;

	if (n > 0 && p[n - 1] == '.')
		n--;
	if (n == 0) {
		*why = "its domain is empty";
		return -1;
	}
	if (n > ATSM_ADDR_PART_MAX) {
		*why = "its domain is too long";
		return -1;
	}
	if (p[0] == '[') {
		/* a domain literal is an address, not a name: no IDNA */
		if (p[n - 1] != ']' || memchr(p + 1, '[', n - 1) != NULL ||
		    memchr(p, ']', n - 1) != NULL || n < 3) {
			*why = "its domain literal is malformed";
			return -1;
		}
		for (i = 0; i < n; i++)
			if (atsm_buf_putc(b, lower(p[i])) < 0)
				goto toolong;
		return 0;
	}
	if ((d = strndup(p, n)) == NULL) {
		*why = "memory is short";
		return -1;
	}
	for (i = 0; i < n; i++)
		ascii = ascii && (unsigned char)d[i] < 0x80;
	if (!ascii) {
		if (!atsm_utf8_valid(d, n)) {
			*why = "its domain is not valid UTF-8";
			goto fail;
		}
		rc = idn2_to_ascii_8z(d, &o, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
		if (rc != IDN2_OK) {
			/* UTS #46 transitional processing still accepts a few
			 * IDNA2003-era names (symbols) that mail carries */
			idn2_free(o);
			o = NULL;
			rc = idn2_to_ascii_8z(d, &o,
			    IDN2_NFC_INPUT | IDN2_TRANSITIONAL);
		}
		if (rc != IDN2_OK) {
			*why = "its domain is not a valid IDN";
			*idn_why = idn2_strerror(rc);
			idn2_free(o);
			goto fail;
		}
		free(d);
		d = strdup(o);
		idn2_free(o);
		if (d == NULL) {
			*why = "memory is short";
			return -1;
		}
		/* the ideographic full stop maps to '.', and may end it */
		n = strlen(d);
		if (n > 0 && d[n - 1] == '.')
			d[--n] = '\0';
	}
	if (check_ascii_domain(d, why, idn_why) < 0)
		goto fail;
	if (atsm_buf_puts(b, d) < 0) {
		free(d);
		goto toolong;
	}
	free(d);
	return 0;
fail:
	free(d);
	return -1;
toolong:
	*why = "it is too long";
	return -1;
}

int
atsm_addr_normalize(const char *addr, char **out, struct atsm_err *err)
{
	char shown[SHOW_MAX + 8];
	const char *why = NULL, *idn_why = NULL, *at;
	struct atsm_buf b;
	size_t start = 0, end, k, i;

	*out = NULL;
	if (addr == NULL)
		return atsm_err_set(err, "no address given");
	end = strlen(addr);
	while (start < end && trim_char(addr + start, end - start, &k, true))
		start += k;
	while (end > start && trim_char(addr + start, end - start, &k, false))
		end -= k;
	for (i = start; i < end && why == NULL; i++)
		if ((unsigned char)addr[i] < 0x20 || addr[i] == 0x7f)
			why = "it contains a control character";
	at = NULL;
	for (i = start; i < end; i++)
		if (addr[i] == '@')
			at = addr + i;
	atsm_buf_init(&b, 2 * ATSM_ADDR_PART_MAX + 2);
	if (why != NULL) {
		;
	} else if (at == NULL) {
		why = "it has no '@'";
	} else if (at == addr + start) {
		why = "its local part is empty";
	} else if (!atsm_utf8_valid(addr + start, end - start)) {
		why = "it is not valid UTF-8";
	} else if (norm_local(addr + start, (size_t)(at - addr) - start, &b,
	    &why) == 0 && atsm_buf_putc(&b, '@') == 0 &&
	    norm_domain(at + 1, end - (size_t)(at + 1 - addr), &b, &why,
	    &idn_why) == 0) {
		if (b.len > ATSM_ADDR_MAX)
			why = "it is longer than 254 octets";
	} else if (why == NULL) {
		why = "it is too long";
	}
	if (why != NULL) {
		atsm_buf_free(&b);
		if (idn_why != NULL)
			return atsm_err_set(err, "'%s' is not an address: %s (%s)",
			    show(addr, shown, sizeof(shown)), why, idn_why);
		return atsm_err_set(err, "'%s' is not an address: %s",
		    show(addr, shown, sizeof(shown)), why);
	}
	if ((*out = atsm_buf_steal(&b)) == NULL)
		return atsm_err_set(err, "out of memory normalising '%s'",
		    show(addr, shown, sizeof(shown)));
	return 0;
}

bool
atsm_addr_domain_in(const char *domain, char *const *domains, size_t n)
{
	size_t dl, el, i;
	const char *e;

	if (domain == NULL || domains == NULL)
		return false;
	dl = strlen(domain);
	if (dl > 0 && domain[dl - 1] == '.')
		dl--;
	if (dl == 0)
		return false;
	for (i = 0; i < n; i++) {
		if ((e = domains[i]) == NULL)
			continue;
		while (*e == '.' || *e == '@')
			e++;
		el = strlen(e);
		if (el > 0 && e[el - 1] == '.')
			el--;
		if (el == 0 || el > dl)
			continue;
		/* whole labels only: evil-example.com is not example.com */
		if ((el == dl || domain[dl - el - 1] == '.') &&
		    strncasecmp(domain + dl - el, e, el) == 0)
			return true;
	}
	return false;
}

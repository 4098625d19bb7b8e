/* base/conf.c -- reading atsmail.conf into struct atsm_conf (see base/conf.h).
 *
 * Interface: atsm_conf_init, atsm_conf_load, atsm_conf_load_text,
 * atsm_conf_set, atsm_conf_set_field, atsm_conf_find, atsm_conf_copy,
 * atsm_conf_free, atsm_conf_write_value, atsm_conf_type_name,
 * atsm_conf_format_allowed.
 *
 * Defaults and file values go through the same parser (conf_parse_value),
 * so a default that would be refused in the file is refused at init too.
 * A load works on a copy and replaces the caller's values only when the
 * whole text is valid: a reload with a typo keeps the running settings.
 * Errors echo at most QUOTE_MAX bytes of what was read, with control
 * characters shown as '?', and never the value of a secret setting.
 */
#include "base/conf.h"
#include "base/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define QUOTE_MAX 64

#define FIELD(base, s, type) ((type *)(void *)((char *)(base) + (s)->offset))
#define CFIELD(base, s, type) ((const type *)(const void *)((const char *)(base) + (s)->offset))

static bool
is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static bool
is_ctrl(unsigned char ch)
{
	return (ch < 0x20 && ch != '\t') || ch == 0x7f;
}

/* Echo of input in an error: bounded, one line, cut at a UTF-8 boundary. */
static void
quote(char *dst, size_t dstsz, const char *s, size_t n)
{
	size_t i, k = 0, lim = n;
	bool cut = false;

	if (lim > QUOTE_MAX) {
		lim = QUOTE_MAX;
		while (lim > 0 && ((unsigned char)s[lim] & 0xc0) == 0x80)
			lim--;
		cut = true;
	}
	for (i = 0; i < lim && k + 4 < dstsz; i++)
		dst[k++] = is_ctrl((unsigned char)s[i]) || s[i] == '\t' ? '?' : s[i];
	if (cut && k + 4 < dstsz) {
		memcpy(dst + k, "...", 3);
		k += 3;
	}
	dst[k] = '\0';
}

const struct atsm_conf_setting *
atsm_conf_find(const char *name)
{
	size_t i;

	for (i = 0; i < atsm_conf_nsettings; i++)
		if (strcmp(atsm_conf_settings[i].name, name) == 0)
			return &atsm_conf_settings[i];
	return NULL;
}

const char *
atsm_conf_type_name(enum atsm_conf_type type)
{
	switch (type) {
	case ATSM_CONF_STRING: return "text";
	case ATSM_CONF_PATH:   return "absolute path";
	case ATSM_CONF_UINT:   return "whole number";
	case ATSM_CONF_BOOL:   return "yes or no";
	case ATSM_CONF_TIME:   return "time";
	case ATSM_CONF_SIZE:   return "size";
	case ATSM_CONF_ENUM:   return "one of a list of names";
	case ATSM_CONF_LIST:   return "list of words";
	}
	return "?";
}

/* ---- numbers with units ---- */

static int
write_time(struct atsm_buf *out, unsigned long ms)
{
	if (ms != 0 && ms % 3600000ul == 0)
		return atsm_buf_printf(out, "%luh", ms / 3600000ul);
	if (ms != 0 && ms % 60000ul == 0)
		return atsm_buf_printf(out, "%lum", ms / 60000ul);
	if (ms % 1000ul == 0)
		return atsm_buf_printf(out, "%lus", ms / 1000ul);
	return atsm_buf_printf(out, "%lums", ms);
}

static int
write_size(struct atsm_buf *out, unsigned long n)
{
	if (n != 0 && n % (1024ul * 1024ul * 1024ul) == 0)
		return atsm_buf_printf(out, "%lug", n / (1024ul * 1024ul * 1024ul));
	if (n != 0 && n % (1024ul * 1024ul) == 0)
		return atsm_buf_printf(out, "%lum", n / (1024ul * 1024ul));
	if (n != 0 && n % 1024ul == 0)
		return atsm_buf_printf(out, "%luk", n / 1024ul);
	return atsm_buf_printf(out, "%lu", n);
}

/* The largest value the field of s can hold, and the bound that applies. */
static unsigned long
type_max(const struct atsm_conf_setting *s)
{
	unsigned long tmax = s->type == ATSM_CONF_SIZE ? (unsigned long)SIZE_MAX : UINT_MAX;

	if (s->min == 0 && s->max == 0)
		return tmax;
	return s->max < tmax ? s->max : tmax;
}

static int
write_number(struct atsm_buf *out, const struct atsm_conf_setting *s, unsigned long v)
{
	if (s->type == ATSM_CONF_TIME)
		return write_time(out, v);
	if (s->type == ATSM_CONF_SIZE)
		return write_size(out, v);
	return atsm_buf_printf(out, "%lu", v);
}

int
atsm_conf_format_allowed(const struct atsm_conf_setting *s, struct atsm_buf *out)
{
	const char *p, *bar;
	int rc = 0;

	switch (s->type) {
	case ATSM_CONF_UINT:
	case ATSM_CONF_TIME:
	case ATSM_CONF_SIZE:
		rc |= write_number(out, s, s->min);
		rc |= atsm_buf_puts(out, "..");
		rc |= write_number(out, s, type_max(s));
		break;
	case ATSM_CONF_ENUM:
		for (p = s->choices; p != NULL && *p != '\0'; p = bar + 1) {
			bar = strchr(p, '|');
			if (p != s->choices)
				rc |= atsm_buf_puts(out, ", ");
			if (bar == NULL) {
				rc |= atsm_buf_puts(out, p);
				break;
			}
			rc |= atsm_buf_append(out, p, (size_t)(bar - p));
		}
		break;
	case ATSM_CONF_BOOL:
		rc |= atsm_buf_puts(out, "yes, no (also true, false, on, off, 1, 0)");
		break;
	default:
		break;
	}
	return rc ? -1 : 0;
}

/* "(expected 1..256)" into err, after the reason. */
static int
err_expected(struct atsm_err *err, const struct atsm_conf_setting *s, const char *why)
{
	struct atsm_buf b;

	atsm_buf_init(&b, 256);
	atsm_conf_format_allowed(s, &b);
	if (s->type == ATSM_CONF_ENUM)
		atsm_err_set(err, "%s one of %s", why, atsm_buf_str(&b));
	else
		atsm_err_set(err, "%s (expected %s)", why, atsm_buf_str(&b));
	atsm_buf_free(&b);
	return -1;
}

/* Decimal digits at *pp; -1 when there are none, +1 on overflow. */
static int
scan_digits(const char **pp, unsigned long *out)
{
	const char *p = *pp;
	unsigned long v = 0;
	int over = 0;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (ULONG_MAX - d) / 10)
			over = 1;
		else
			v = v * 10 + d;
	}
	*pp = p;
	*out = v;
	return over;
}

static int
mul_unit(unsigned long v, unsigned long unit, unsigned long *out)
{
	if (v != 0 && unit > ULONG_MAX / v)
		return 1;
	*out = v * unit;
	return 0;
}

static unsigned long
time_unit(const char *u)
{
	if (strcmp(u, "ms") == 0)
		return 1;
	if (*u == '\0' || strcmp(u, "s") == 0)
		return 1000;
	if (strcmp(u, "m") == 0)
		return 60000;
	if (strcmp(u, "h") == 0)
		return 3600000;
	return 0;
}

static unsigned long
size_unit(const char *u)
{
	if (*u == '\0')
		return 1;
	if (u[1] != '\0')
		return 0;
	switch (*u) {
	case 'k': case 'K': return 1024ul;
	case 'm': case 'M': return 1024ul * 1024ul;
	case 'g': case 'G': return 1024ul * 1024ul * 1024ul;
	}
	return 0;
}

/* UINT, TIME, SIZE: the value in the unit of the field, within bounds. */
static int
parse_number(const struct atsm_conf_setting *s, const char *value,
             unsigned long *out, struct atsm_err *err)
{
	const char *p = value, *what;
	unsigned long v, unit;
	int over;

	what = s->type == ATSM_CONF_TIME ? "not a time such as 250ms, 2s, 5m or 1h" :
	    s->type == ATSM_CONF_SIZE ? "not a size such as 512, 64k or 10m" :
	    "not a whole number";
	over = scan_digits(&p, &v);
	if (over < 0)
		return err_expected(err, s, what);
	if (s->type == ATSM_CONF_TIME)
		unit = time_unit(p);
	else if (s->type == ATSM_CONF_SIZE)
		unit = size_unit(p);
	else
		unit = *p == '\0' ? 1 : 0;
	if (unit == 0)
		return err_expected(err, s, what);
	if (over || mul_unit(v, unit, &v) || v < s->min || v > type_max(s))
		return err_expected(err, s, "out of range");
	*out = v;
	return 0;
}

static int
parse_bool(const char *value, bool *out, struct atsm_err *err)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(value, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(value, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return atsm_err_set(err, "expected yes or no (also true, false, on, off, 1, 0)");
}

static int
parse_enum(const struct atsm_conf_setting *s, const char *value, unsigned *out,
           struct atsm_err *err)
{
	const char *p = s->choices;
	size_t vlen = strlen(value), n;
	unsigned i;

	for (i = 0; p != NULL && *p != '\0'; i++) {
		n = strcspn(p, "|");
		if (n == vlen && n > 0 && strncasecmp(p, value, n) == 0) {
			*out = i;
			return 0;
		}
		p += n;
		if (*p == '|')
			p++;
	}
	return err_expected(err, s, "expected");
}

static void
list_free(struct atsm_conf_list *l)
{
	size_t i;

	if (l->v != NULL)
		for (i = 0; i < l->n; i++)
			free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int
list_push(struct atsm_conf_list *l, const char *w, size_t n)
{
	char **v = realloc(l->v, (l->n + 2) * sizeof(*v));

	if (v == NULL)
		return -1;
	l->v = v;
	if ((v[l->n] = strndup(w, n)) == NULL)
		return -1;
	v[++l->n] = NULL;
	return 0;
}

static int
parse_list(const char *value, struct atsm_conf_list *out, struct atsm_err *err)
{
	struct atsm_conf_list l = { 0, NULL };
	const char *p = value;
	size_t n;

	if ((l.v = calloc(1, sizeof(*l.v))) == NULL)
		return atsm_err_set(err, "out of memory");
	for (;;) {
		p += strspn(p, ", \t");
		if (*p == '\0')
			break;
		n = strcspn(p, ", \t");
		if (list_push(&l, p, n) < 0) {
			list_free(&l);
			return atsm_err_set(err, "out of memory");
		}
		p += n;
	}
	*out = l;
	return 0;
}

static int
list_copy(struct atsm_conf_list *dst, const struct atsm_conf_list *src)
{
	size_t i;

	dst->n = 0;
	if ((dst->v = calloc(1, sizeof(*dst->v))) == NULL)
		return -1;
	for (i = 0; i < src->n; i++)
		if (list_push(dst, src->v[i], strlen(src->v[i])) < 0)
			return -1;
	return 0;
}

/* Parse and store, without naming the setting in err (the caller does). */
static int
conf_parse_value(void *base, const struct atsm_conf_setting *s, const char *value,
                 struct atsm_err *err)
{
	const char *p;
	unsigned long num = 0;
	unsigned idx = 0;
	bool b = false;
	char *str;
	struct atsm_conf_list l;

	for (p = value; *p != '\0'; p++)
		if (is_ctrl((unsigned char)*p))
			return atsm_err_set(err, "contains a control character");

	switch (s->type) {
	case ATSM_CONF_PATH:
		if (*value == '\0' && s->defval != NULL && *s->defval != '\0')
			return atsm_err_set(err, "must not be empty (expected an absolute path)");
		if (*value != '\0' && *value != '/')
			return atsm_err_set(err, "not an absolute path (must start with '/')");
		/* FALLTHROUGH */
	case ATSM_CONF_STRING:
		if ((str = strdup(value)) == NULL)
			return atsm_err_set(err, "out of memory");
		free(*FIELD(base, s, char *));
		*FIELD(base, s, char *) = str;
		return 0;
	case ATSM_CONF_UINT:
	case ATSM_CONF_TIME:
		if (parse_number(s, value, &num, err) < 0)
			return -1;
		*FIELD(base, s, unsigned) = (unsigned)num;
		return 0;
	case ATSM_CONF_SIZE:
		if (parse_number(s, value, &num, err) < 0)
			return -1;
		*FIELD(base, s, size_t) = (size_t)num;
		return 0;
	case ATSM_CONF_BOOL:
		if (parse_bool(value, &b, err) < 0)
			return -1;
		*FIELD(base, s, bool) = b;
		return 0;
	case ATSM_CONF_ENUM:
		if (parse_enum(s, value, &idx, err) < 0)
			return -1;
		*FIELD(base, s, unsigned) = idx;
		return 0;
	case ATSM_CONF_LIST:
		if (parse_list(value, &l, err) < 0)
			return -1;
		list_free(FIELD(base, s, struct atsm_conf_list));
		*FIELD(base, s, struct atsm_conf_list) = l;
		return 0;
	}
	return atsm_err_set(err, "setting '%s' has an unknown type", s->name);
}

int
atsm_conf_set_field(void *base, const struct atsm_conf_setting *s, const char *value,
                    struct atsm_err *err)
{
	char q[QUOTE_MAX * 2];

	if (conf_parse_value(base, s, value, err) == 0)
		return 0;
	if (s->secret)
		return atsm_err_prefix(err, "%s = (secret)", s->name);
	quote(q, sizeof(q), value, strlen(value));
	return atsm_err_prefix(err, "%s = '%s'", s->name, q);
}

static int
err_unknown(struct atsm_err *err, const char *key, size_t n)
{
	char q[QUOTE_MAX * 2];

	quote(q, sizeof(q), key, n);
	return atsm_err_set(err, "unknown setting '%s'", q);
}

int
atsm_conf_set(struct atsm_conf *c, const char *key, const char *value, struct atsm_err *err)
{
	const struct atsm_conf_setting *s = atsm_conf_find(key);

	if (s == NULL)
		return err_unknown(err, key, strlen(key));
	return atsm_conf_set_field(c, s, value, err);
}

void
atsm_conf_free(struct atsm_conf *c)
{
	const struct atsm_conf_setting *s;
	size_t i;

	for (i = 0; i < atsm_conf_nsettings; i++) {
		s = &atsm_conf_settings[i];
		if (s->type == ATSM_CONF_STRING || s->type == ATSM_CONF_PATH)
			free(*FIELD(c, s, char *));
		else if (s->type == ATSM_CONF_LIST)
			list_free(FIELD(c, s, struct atsm_conf_list));
	}
	memset(c, 0, sizeof(*c));
}

int
atsm_conf_init(struct atsm_conf *c, struct atsm_err *err)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < atsm_conf_nsettings; i++) {
		if (atsm_conf_set_field(c, &atsm_conf_settings[i],
		    atsm_conf_settings[i].defval, err) < 0) {
			atsm_conf_free(c);
			return atsm_err_prefix(err, "built-in default");
		}
	}
	return 0;
}

int
atsm_conf_copy(struct atsm_conf *dst, const struct atsm_conf *src, struct atsm_err *err)
{
	const struct atsm_conf_setting *s;
	size_t i;
	int rc = 0;

	*dst = *src;
	/* detach every pointer first, so that a failure half-way frees only copies */
	for (i = 0; i < atsm_conf_nsettings; i++) {
		s = &atsm_conf_settings[i];
		if (s->type == ATSM_CONF_STRING || s->type == ATSM_CONF_PATH)
			*FIELD(dst, s, char *) = NULL;
		else if (s->type == ATSM_CONF_LIST)
			*FIELD(dst, s, struct atsm_conf_list) = (struct atsm_conf_list){ 0, NULL };
	}
	for (i = 0; i < atsm_conf_nsettings && rc == 0; i++) {
		s = &atsm_conf_settings[i];
		if (s->type == ATSM_CONF_STRING || s->type == ATSM_CONF_PATH) {
			const char *v = *CFIELD(src, s, char *);
			if (v != NULL && (*FIELD(dst, s, char *) = strdup(v)) == NULL)
				rc = -1;
		} else if (s->type == ATSM_CONF_LIST) {
			rc = list_copy(FIELD(dst, s, struct atsm_conf_list),
			    CFIELD(src, s, struct atsm_conf_list));
		}
	}
	if (rc < 0) {
		atsm_conf_free(dst);
		return atsm_err_set(err, "out of memory copying the configuration");
	}
	return 0;
}

/* ---- the file format ---- */

/* One logical line "key = value" (continuations already joined). */
static int
conf_line(struct atsm_conf *c, char *line, struct atsm_err *err)
{
	const struct atsm_conf_setting *s;
	char *eq, *key, *val, *end, q[QUOTE_MAX * 2];

	eq = strchr(line, '=');
	if (eq == NULL) {
		end = line + strlen(line);
		while (end > line && is_blank(end[-1]))
			end--;
		quote(q, sizeof(q), line, (size_t)(end - line));
		return atsm_err_set(err, "missing '=' after '%s'", q);
	}
	key = line;
	end = eq;
	while (end > key && is_blank(end[-1]))
		end--;
	if (end == key)
		return atsm_err_set(err, "missing setting name before '='");
	*end = '\0';
	if ((s = atsm_conf_find(key)) == NULL)
		return err_unknown(err, key, strlen(key));
	val = eq + 1;
	while (is_blank(*val))
		val++;
	end = val + strlen(val);
	while (end > val && is_blank(end[-1]))
		end--;
	*end = '\0';
	return atsm_conf_set_field(c, s, val, err);
}

static int
err_at(struct atsm_err *err, const char *name, unsigned lineno)
{
	if (name != NULL)
		return atsm_err_prefix(err, "%s line %u", name, lineno);
	return atsm_err_prefix(err, "line %u", lineno);
}

static int
conf_parse_text(struct atsm_conf *c, const char *text, size_t len, const char *name,
                struct atsm_err *err)
{
	struct atsm_buf logical;
	const char *p, *nl;
	size_t pos = 0, n, i;
	unsigned lineno = 0, start = 0;
	bool have = false;
	int rc = 0;

	atsm_buf_init(&logical, ATSM_CONF_LINE_MAX);
	/* an editor's UTF-8 byte-order mark is not part of the first key */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	while (rc == 0 && pos < len) {
		p = text + pos;
		nl = memchr(p, '\n', len - pos);
		n = nl != NULL ? (size_t)(nl - p) : len - pos;
		pos += n + (nl != NULL);
		lineno++;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (memchr(p, '\0', n) != NULL) {
			atsm_err_set(err, "contains a NUL byte");
			rc = err_at(err, name, lineno);
			break;
		}
		for (i = 0; i < n && is_blank(p[i]); i++)
			;
		if (i == n || p[i] == '#')
			continue;
		if (i > 0) {
			if (!have) {
				atsm_err_set(err, "continuation line without a setting before it");
				rc = err_at(err, name, lineno);
			} else if (atsm_buf_putc(&logical, ' ') < 0 ||
			    atsm_buf_append(&logical, p + i, n - i) < 0) {
				atsm_err_set(err, "logical line longer than %u bytes",
				    ATSM_CONF_LINE_MAX);
				rc = err_at(err, name, start);
			}
			continue;
		}
		if (have && conf_line(c, logical.data, err) < 0) {
			rc = err_at(err, name, start);
			break;
		}
		atsm_buf_reset(&logical);
		start = lineno;
		have = true;
		if (atsm_buf_append(&logical, p, n) < 0) {
			atsm_err_set(err, "logical line longer than %u bytes", ATSM_CONF_LINE_MAX);
			rc = err_at(err, name, start);
		}
	}
	if (rc == 0 && have && conf_line(c, logical.data, err) < 0)
		rc = err_at(err, name, start);
	atsm_buf_free(&logical);
	return rc;
}

int
atsm_conf_load_text(struct atsm_conf *c, const char *text, size_t len, const char *name,
                    struct atsm_err *err)
{
	struct atsm_conf tmp;

	if (atsm_conf_copy(&tmp, c, err) < 0)
		return -1;
	if (conf_parse_text(&tmp, text, len, name, err) < 0) {
		atsm_conf_free(&tmp);
		return -1;
	}
	atsm_conf_free(c);
	*c = tmp;
	return 0;
}

int
atsm_conf_load(struct atsm_conf *c, const char *path, struct atsm_err *err)
{
	struct stat st;
	char *text;
	size_t len = 0;
	ssize_t n;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return atsm_err_set(err, "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return atsm_err_set(err, "%s: not a regular file", path);
	}
	if (st.st_size > (off_t)ATSM_CONF_FILE_MAX) {
		close(fd);
		return atsm_err_set(err, "%s: larger than %u bytes", path, ATSM_CONF_FILE_MAX);
	}
	/* one byte more than allowed, to notice a file that grew while read */
	if ((text = malloc(ATSM_CONF_FILE_MAX + 1)) == NULL) {
		close(fd);
		return atsm_err_set(err, "out of memory reading %s", path);
	}
	while (len <= ATSM_CONF_FILE_MAX &&
	    (n = read(fd, text + len, ATSM_CONF_FILE_MAX + 1 - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = atsm_err_set(err, "cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		len += (size_t)n;
	}
	if (len > ATSM_CONF_FILE_MAX) {
		rc = atsm_err_set(err, "%s: larger than %u bytes", path, ATSM_CONF_FILE_MAX);
		goto out;
	}
	rc = atsm_conf_load_text(c, text, len, path, err);
out:
	free(text);
	close(fd);
	return rc;
}

int
atsm_conf_write_value(const struct atsm_conf *c, const struct atsm_conf_setting *s,
                      struct atsm_buf *out)
{
	const struct atsm_conf_list *l;
	const char *p, *str;
	unsigned idx = 0;
	size_t i, n;

	if (s->secret)
		return atsm_buf_puts(out, "(secret)");
	switch (s->type) {
	case ATSM_CONF_STRING:
	case ATSM_CONF_PATH:
		str = *CFIELD(c, s, char *);
		return atsm_buf_puts(out, str != NULL ? str : "");
	case ATSM_CONF_UINT:
	case ATSM_CONF_TIME:
		return write_number(out, s, *CFIELD(c, s, unsigned));
	case ATSM_CONF_SIZE:
		return write_number(out, s, *CFIELD(c, s, size_t));
	case ATSM_CONF_BOOL:
		return atsm_buf_puts(out, *CFIELD(c, s, bool) ? "yes" : "no");
	case ATSM_CONF_ENUM:
		idx = *CFIELD(c, s, unsigned);
		for (p = s->choices; p != NULL && *p != '\0'; idx--) {
			n = strcspn(p, "|");
			if (idx == 0)
				return atsm_buf_append(out, p, n);
			p += n;
			if (*p == '|')
				p++;
		}
		return -1;
	case ATSM_CONF_LIST:
		l = CFIELD(c, s, struct atsm_conf_list);
		for (i = 0; i < l->n; i++)
			if ((i > 0 && atsm_buf_puts(out, ", ") < 0) ||
			    atsm_buf_puts(out, l->v[i]) < 0)
				return -1;
		return 0;
	}
	return -1;
}

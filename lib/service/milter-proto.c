/* service/milter-proto.c -- the milter protocol as a codec: cutting
 * packets, decoding the commands Postfix sends, encoding our answers (see
 * service/milter-proto.h).
 *
 * Every byte read is inside [data, data + len): a decoder first finds the
 * NUL that ends each string with memchr() bounded by the bytes left, and
 * fails, naming the command and what is missing, when there is none.
 * Decoders never copy; the strings they hand out are the packet's own.
 * The layouts are those Postfix 3.7 writes (src/milter/milter8.c) and
 * libmilter reads (libmilter/engine.c); docs/milter-protocol.md has them.
 *
 * Encoders build a packet in place at the end of the caller's buffer and
 * patch its length last; when anything fails (the buffer's limit, an
 * argument that cannot be sent) the buffer is cut back to where it was,
 * so a half-written packet never reaches the MTA.  Text meant for people
 * (reply text, header values, a quarantine reason) is made safe; names
 * and addresses that cannot be sent as given are refused, never altered.
 */
#include "service/milter-proto.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

static const struct {
	unsigned char cmd;
	const char *name;
} cmd_names[] = {
	{ ATSM_MILTER_C_ABORT, "ABORT" }, { ATSM_MILTER_C_BODY, "BODY" },
	{ ATSM_MILTER_C_CONNECT, "CONNECT" }, { ATSM_MILTER_C_MACRO, "MACRO" },
	{ ATSM_MILTER_C_BODYEOB, "BODYEOB" }, { ATSM_MILTER_C_HELO, "HELO" },
	{ ATSM_MILTER_C_QUIT_NC, "QUIT_NC" }, { ATSM_MILTER_C_HEADER, "HEADER" },
	{ ATSM_MILTER_C_MAIL, "MAIL" }, { ATSM_MILTER_C_EOH, "EOH" },
	{ ATSM_MILTER_C_OPTNEG, "OPTNEG" }, { ATSM_MILTER_C_QUIT, "QUIT" },
	{ ATSM_MILTER_C_RCPT, "RCPT" }, { ATSM_MILTER_C_DATA, "DATA" },
	{ ATSM_MILTER_C_UNKNOWN, "UNKNOWN" },
};

const char *
atsm_milter_cmd_name(unsigned char cmd)
{
	size_t i;

	for (i = 0; i < sizeof(cmd_names) / sizeof(cmd_names[0]); i++)
		if (cmd_names[i].cmd == cmd)
			return cmd_names[i].name;
	return NULL;
}

/* "milter CONNECT packet (23 bytes of data): ...": every decoding error
 * starts so, so that a log line says which packet.  Decoders check the
 * command first, so its name is known here. */
static int
bad(struct atsm_err *err, const struct atsm_milter_packet *pkt, const char *what)
{
	return atsm_err_setc(err, ATSM_ERR_INPUT, "milter %s packet (%zu bytes of data): %s",
	    atsm_milter_cmd_name(pkt->cmd), pkt->len, what);
}

/* A decoder given a packet of another command is the caller's bug, not
 * the peer's. */
static int
wrong_cmd(struct atsm_err *err, const struct atsm_milter_packet *pkt, unsigned char want)
{
	return atsm_err_setc(err, ATSM_ERR_INTERNAL,
	    "milter %s decoder called on a packet of command 0x%02x", atsm_milter_cmd_name(want),
	    pkt->cmd);
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

long
atsm_milter_packet_next(const unsigned char *buf, size_t n, size_t max,
    struct atsm_milter_packet *pkt, struct atsm_err *err)
{
	uint32_t len;

	if (n < 4)
		return 0;
	len = get32(buf);
	/* the length counts the command byte: 0 leaves no room for it */
	if (len == 0)
		return atsm_err_setc(err, ATSM_ERR_INPUT,
		    "milter packet length 0: no room for the command byte");
	if (len - 1 > max
#if LONG_MAX <= 0x7fffffffL
	    || len > (uint32_t)LONG_MAX - 4   /* the return value must hold 4 + len */
#endif
	    )
		return atsm_err_setc(err, ATSM_ERR_INPUT,
		    "milter packet of %lu bytes of data is over the limit of %zu",
		    (unsigned long)len - 1, max);
	if (n - 4 < len)
		return 0;
	pkt->cmd = buf[4];
	pkt->data = buf + 5;
	pkt->len = len - 1;
	return (long)len + 4;
}

/* The string that starts at *off: its NUL must lie inside the packet.
 * Moves *off past the NUL. */
static const char *
take_string(const struct atsm_milter_packet *pkt, size_t *off)
{
	const unsigned char *s = pkt->data + *off, *nul;

	if (*off >= pkt->len)
		return NULL;
	nul = memchr(s, '\0', pkt->len - *off);
	if (nul == NULL)
		return NULL;
	*off += (size_t)(nul - s) + 1;
	return (const char *)s;
}

int
atsm_milter_decode_optneg(const struct atsm_milter_packet *pkt,
    struct atsm_milter_optneg *o, struct atsm_err *err)
{
	if (pkt->cmd != ATSM_MILTER_C_OPTNEG)
		return wrong_cmd(err, pkt, ATSM_MILTER_C_OPTNEG);
	/* version, actions, protocol; libmilter ignores what follows (the
	 * MTA sends nothing more today), and so do we */
	if (pkt->len < 12)
		return bad(err, pkt, "shorter than the 12 bytes of version, actions and protocol");
	o->version = get32(pkt->data);
	o->actions = get32(pkt->data + 4);
	o->protocol = get32(pkt->data + 8);
	return 0;
}

int
atsm_milter_decode_connect(const struct atsm_milter_packet *pkt,
    struct atsm_milter_connect *c, struct atsm_err *err)
{
	size_t off = 0;
	const char *host, *addr;
	char family;

	if (pkt->cmd != ATSM_MILTER_C_CONNECT)
		return wrong_cmd(err, pkt, ATSM_MILTER_C_CONNECT);
	if ((host = take_string(pkt, &off)) == NULL)
		return bad(err, pkt, "the host name has no NUL terminator");
	if (off >= pkt->len)
		return bad(err, pkt, "no address family after the host name");
	family = (char)pkt->data[off++];
	switch (family) {
	case 'U':
		/* unknown family: nothing follows (milter8_conn_event) */
		if (off != pkt->len)
			return bad(err, pkt, "data after family 'U', which has no port or address");
		c->hostname = host;
		c->family = family;
		c->port = 0;
		c->address = "";
		return 0;
	case '4':
	case '6':
	case 'L':
		break;
	default:
		return bad(err, pkt, "unknown address family (not '4', '6', 'L' or 'U')");
	}
	if (pkt->len - off < 2)
		return bad(err, pkt, "no port after the address family");
	c->port = (uint16_t)(pkt->data[off] << 8 | pkt->data[off + 1]);
	off += 2;
	if ((addr = take_string(pkt, &off)) == NULL)
		return bad(err, pkt, "the address has no NUL terminator");
	if (off != pkt->len)
		return bad(err, pkt, "data after the address");
	c->hostname = host;
	c->family = family;
	c->address = addr;
	return 0;
}

int
atsm_milter_decode_strings(const struct atsm_milter_packet *pkt, const char **v,
    size_t max, size_t *n, struct atsm_err *err)
{
	size_t off = 0, k = 0;
	const char *s;

	*n = 0;
	if (pkt->cmd != ATSM_MILTER_C_HELO && pkt->cmd != ATSM_MILTER_C_MAIL &&
	    pkt->cmd != ATSM_MILTER_C_RCPT && pkt->cmd != ATSM_MILTER_C_UNKNOWN)
		return atsm_err_setc(err, ATSM_ERR_INTERNAL,
		    "milter string decoder called on a packet of command 0x%02x", pkt->cmd);
	if (pkt->len == 0)
		return bad(err, pkt, "no string");
	if (pkt->data[pkt->len - 1] != '\0')
		return bad(err, pkt, "the last string has no NUL terminator");
	while (off < pkt->len) {
		s = take_string(pkt, &off);   /* cannot fail: the last byte is NUL */
		if (k == max) {
			char what[80];

			snprintf(what, sizeof(what), "more than %zu strings", max);
			return bad(err, pkt, what);
		}
		v[k++] = s;
	}
	*n = k;
	return 0;
}

int
atsm_milter_decode_header(const struct atsm_milter_packet *pkt, const char **name,
    const char **value, struct atsm_err *err)
{
	size_t off = 0;
	const char *nm, *val;

	if (pkt->cmd != ATSM_MILTER_C_HEADER)
		return wrong_cmd(err, pkt, ATSM_MILTER_C_HEADER);
	if ((nm = take_string(pkt, &off)) == NULL)
		return bad(err, pkt, "the header name has no NUL terminator");
	if (nm[0] == '\0')
		return bad(err, pkt, "empty header name");
	if ((val = take_string(pkt, &off)) == NULL)
		return bad(err, pkt, "the header value has no NUL terminator");
	if (off != pkt->len)
		return bad(err, pkt, "data after the header value");
	*name = nm;
	*value = val;
	return 0;
}

int
atsm_milter_decode_macros(const struct atsm_milter_packet *pkt, unsigned char *for_cmd,
    struct atsm_milter_macro *v, size_t max, size_t *n, struct atsm_err *err)
{
	size_t off = 1, k = 0;
	const char *name, *value;

	*n = 0;
	if (pkt->cmd != ATSM_MILTER_C_MACRO)
		return wrong_cmd(err, pkt, ATSM_MILTER_C_MACRO);
	if (pkt->len == 0)
		return bad(err, pkt, "no command byte");
	/* the commands Postfix and Sendmail send macros for */
	if (memchr("CHMRTLNBEU", pkt->data[0], 10) == NULL)
		return bad(err, pkt, "macros for a command that takes none");
	/* An empty list is legal: Postfix sends one when none of the macro
	 * names it was asked for has a value. */
	while (off < pkt->len) {
		if ((name = take_string(pkt, &off)) == NULL)
			return bad(err, pkt, "a macro name has no NUL terminator");
		if (name[0] == '\0')
			return bad(err, pkt, "empty macro name");
		if ((value = take_string(pkt, &off)) == NULL)
			return bad(err, pkt, "a macro name without a NUL-terminated value");
		if (k == max) {
			char what[80];

			snprintf(what, sizeof(what), "more than %zu macros", max);
			return bad(err, pkt, what);
		}
		v[k].name = name;
		v[k].value = value;
		k++;
	}
	*for_cmd = pkt->data[0];
	*n = k;
	return 0;
}

/* ---- encoders ---- */

/* RFC 5321 4.5.3.1.5: a reply line is at most 512 octets with its CRLF. */
#define REPLY_LINE_MAX 510

/* One packet being appended to out; w_end() patches its length or, after
 * any failure, cuts out back to where the packet began. */
struct pkt_w {
	struct atsm_buf *out;
	size_t start;
	bool failed;
};

static void
w_bytes(struct pkt_w *w, const void *p, size_t n)
{
	if (!w->failed && atsm_buf_append(w->out, p, n) < 0)
		w->failed = true;
}

static void
w_begin(struct pkt_w *w, struct atsm_buf *out, unsigned char cmd)
{
	static const unsigned char len_placeholder[4];

	w->out = out;
	w->start = out->len;
	w->failed = false;
	w_bytes(w, len_placeholder, sizeof(len_placeholder));
	w_bytes(w, &cmd, 1);
}

static void
w_u32(struct pkt_w *w, uint32_t v)
{
	unsigned char b[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
		(unsigned char)(v >> 8), (unsigned char)v };

	w_bytes(w, b, sizeof(b));
}

/* s with its NUL */
static void
w_str(struct pkt_w *w, const char *s)
{
	w_bytes(w, s, strlen(s) + 1);
}

static int
w_end(struct pkt_w *w)
{
	size_t len = w->out->len - w->start - 4;
	unsigned char *p;

	if (!w->failed && len > UINT32_MAX)
		w->failed = true;
	if (w->failed) {
		w->out->len = w->start;
		if (w->out->data != NULL)
			w->out->data[w->start] = '\0';
		return -1;
	}
	p = (unsigned char *)w->out->data + w->start;
	p[0] = (unsigned char)(len >> 24);
	p[1] = (unsigned char)(len >> 16);
	p[2] = (unsigned char)(len >> 8);
	p[3] = (unsigned char)len;
	return 0;
}

/* Header names (RFC 5322 ftext): printable ASCII but ':', at least one. */
static bool
is_header_name(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (*p == '\0')
		return false;
	for (; *p != '\0'; p++)
		if (*p < 33 || *p > 126 || *p == ':')
			return false;
	return true;
}

/* Addresses and ESMTP arguments go to the MTA as they are: one with a
 * control character is refused, not altered. */
static bool
has_control(const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return true;
	return false;
}

/* Append s with its NUL, made safe in place.  A header value (folds
 * true): CRLF becomes LF; an LF stays only where it folds (followed by SP
 * or TAB and then text, not white space alone, which is how Postfix
 * itself hands us folded headers and how cleanup_out_header() writes
 * them).
 * Otherwise, and for every other control but TAB, a space.  The result is
 * never longer than s, so the rewriting happens in the buffer itself. */
static void
w_text(struct pkt_w *w, const char *s, bool folds)
{
	size_t pos = w->out->len, n = strlen(s), i, j, k;
	unsigned char *p;

	w_bytes(w, s, n);
	if (w->failed)
		return;
	p = (unsigned char *)w->out->data + pos;
	for (i = j = 0; i < n; i++) {
		unsigned char c = p[i];

		if (c == '\r' && folds && i + 1 < n && p[i + 1] == '\n')
			continue;
		if (c == '\n' && folds) {
			k = i + 1;
			if (k < n && (p[k] == ' ' || p[k] == '\t')) {
				/* controls count as the spaces they become */
				while (k < n && p[k] != '\n' && (p[k] <= ' ' || p[k] == 0x7f))
					k++;
				if (k < n && p[k] != '\n') {
					p[j++] = c;
					continue;
				}
			}
			c = ' ';
		} else if ((c < 0x20 && (c != '\t' || !folds)) || c == 0x7f) {
			c = ' ';
		}
		p[j++] = c;
	}
	w->out->len = pos + j;
	w->out->data[w->out->len] = '\0';
	w_bytes(w, "", 1);
}

int
atsm_milter_put_optneg(struct atsm_buf *out, const struct atsm_milter_optneg *o,
    const char *const symlist[7])
{
	struct pkt_w w;
	uint32_t stage;

	w_begin(&w, out, ATSM_MILTER_C_OPTNEG);
	w_u32(&w, o->version);
	w_u32(&w, o->actions);
	w_u32(&w, o->protocol);
	/* Postfix reads lists whenever data follows the three words
	 * (milter8_connect); we send them only with SETSYMLIST, which the
	 * caller may ask for only when the MTA offered it. */
	if (symlist != NULL && (o->actions & ATSM_MILTER_F_SETSYMLIST) != 0)
		for (stage = ATSM_MILTER_M_CONNECT; stage <= ATSM_MILTER_M_EOH; stage++) {
			if (symlist[stage] == NULL)
				continue;
			if (has_control(symlist[stage]))
				w.failed = true;
			w_u32(&w, stage);
			w_str(&w, symlist[stage]);
		}
	return w_end(&w);
}

int
atsm_milter_put_simple(struct atsm_buf *out, unsigned char code)
{
	struct pkt_w w;

	switch (code) {
	case ATSM_MILTER_R_CONTINUE:
	case ATSM_MILTER_R_ACCEPT:
	case ATSM_MILTER_R_REJECT:
	case ATSM_MILTER_R_TEMPFAIL:
	case ATSM_MILTER_R_DISCARD:
	case ATSM_MILTER_R_PROGRESS:
	case ATSM_MILTER_R_SKIP:
		break;
	default:
		return -1;
	}
	w_begin(&w, out, code);
	return w_end(&w);
}

/* "d.d{1,3}.d{1,3}" (RFC 3463) of the reply's class: Postfix refuses a
 * reply whose fifth byte is a digit other than the first
 * (milter8_event, SMFIR_REPLYCODE). */
static bool
is_xcode(const char *x, char cls)
{
	size_t i = 0, part, d;

	if (x[i++] != cls)
		return false;
	for (part = 0; part < 2; part++) {
		if (x[i++] != '.')
			return false;
		for (d = 0; x[i] >= '0' && x[i] <= '9'; d++)
			i++;
		if (d < 1 || d > 3)
			return false;
	}
	return x[i] == '\0';
}

int
atsm_milter_put_replycode(struct atsm_buf *out, const char *rcode, const char *xcode,
    const char *text)
{
	/* each visible '%' is sent as "%%": twice the longest line */
	char line[2 * REPLY_LINE_MAX + 1], defx[6];
	const unsigned char *t;
	size_t len, visible;
	bool prev8 = false;
	struct pkt_w w;

	if (rcode == NULL || (rcode[0] != '4' && rcode[0] != '5') ||
	    rcode[1] < '0' || rcode[1] > '9' || rcode[2] < '0' || rcode[2] > '9' ||
	    rcode[3] != '\0')
		return -1;
	if (xcode == NULL) {
		/* Postfix announces ENHANCEDSTATUSCODES; RFC 2034 wants the
		 * code on every reply, and it keeps a text that starts with a
		 * digit from being read as a malformed code */
		snprintf(defx, sizeof(defx), "%c.0.0", rcode[0]);
		xcode = defx;
	} else if (!is_xcode(xcode, rcode[0])) {
		return -1;
	}
	len = (size_t)snprintf(line, sizeof(line), "%s %s", rcode, xcode);
	visible = len;
	if (text != NULL && text[0] != '\0' && visible + 1 < REPLY_LINE_MAX) {
		line[len++] = ' ';
		visible++;
		/* Postfix turns "%%" into '%' and drops a lone '%'; libmilter
		 * wants '%' doubled too.  Controls (CR/LF would split the
		 * reply) become spaces; 8-bit text, which an SMTP client need
		 * not accept, becomes one '?' per UTF-8 character. */
		for (t = (const unsigned char *)text; *t != '\0' && visible < REPLY_LINE_MAX; t++) {
			unsigned char c = *t;

			if (c >= 0x80) {
				bool cont = (c & 0xc0) == 0x80 && prev8;

				prev8 = true;
				if (cont)
					continue;
				c = '?';
			} else {
				prev8 = false;
				if (c < 0x20 || c == 0x7f)
					c = ' ';
				else if (c == '%')
					line[len++] = '%';
			}
			line[len++] = (char)c;
			visible++;
		}
	}
	line[len] = '\0';
	w_begin(&w, out, ATSM_MILTER_R_REPLYCODE);
	w_bytes(&w, line, len + 1);
	return w_end(&w);
}

int
atsm_milter_put_addheader(struct atsm_buf *out, const char *name, const char *value)
{
	struct pkt_w w;

	if (name == NULL || value == NULL || !is_header_name(name))
		return -1;
	w_begin(&w, out, ATSM_MILTER_R_ADDHEADER);
	w_str(&w, name);
	w_text(&w, value, true);
	return w_end(&w);
}

int
atsm_milter_put_chgheader(struct atsm_buf *out, uint32_t index, const char *name,
    const char *value)
{
	struct pkt_w w;

	/* Postfix reads index 0 as 1 and Sendmail as "the first" too; a 0
	 * here is the caller's mistake, not a request */
	if (index == 0 || name == NULL || !is_header_name(name))
		return -1;
	w_begin(&w, out, ATSM_MILTER_R_CHGHEADER);
	w_u32(&w, index);
	w_str(&w, name);
	/* an empty value is how the protocol says "delete" */
	w_text(&w, value != NULL ? value : "", true);
	return w_end(&w);
}

int
atsm_milter_put_delrcpt(struct atsm_buf *out, const char *rcpt)
{
	struct pkt_w w;

	if (rcpt == NULL || rcpt[0] == '\0' || has_control(rcpt))
		return -1;
	w_begin(&w, out, ATSM_MILTER_R_DELRCPT);
	w_str(&w, rcpt);
	return w_end(&w);
}

int
atsm_milter_put_chgfrom(struct atsm_buf *out, const char *from, const char *args)
{
	struct pkt_w w;

	/* libmilter refuses an empty sender too: the null sender is "<>" */
	if (from == NULL || from[0] == '\0' || has_control(from) ||
	    (args != NULL && has_control(args)))
		return -1;
	w_begin(&w, out, ATSM_MILTER_R_CHGFROM);
	w_str(&w, from);
	/* no arguments: no second string (Postfix reads it only if present) */
	if (args != NULL && args[0] != '\0')
		w_str(&w, args);
	return w_end(&w);
}

int
atsm_milter_put_quarantine(struct atsm_buf *out, const char *reason)
{
	struct pkt_w w;

	/* libmilter refuses an empty reason; Postfix reads and ignores it */
	if (reason == NULL || reason[0] == '\0')
		return -1;
	w_begin(&w, out, ATSM_MILTER_R_QUARANTINE);
	w_text(&w, reason, false);
	return w_end(&w);
}

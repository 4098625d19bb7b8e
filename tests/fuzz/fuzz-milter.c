/* fuzz-milter.c -- libFuzzer target for the milter codec
 * (lib/service/milter-proto.c).
 *
 * The input is read three ways:
 * 1. as the byte stream Postfix writes to the service: cut into packets
 *    with atsm_milter_packet_next() and each packet decoded by its
 *    command, as the milter front does -- and then by every decoder, the
 *    packet's data posing as that command's;
 * 2. whole, as the data of one packet of each command, copied to an
 *    allocation of its exact size so that the sanitizers see a read one
 *    byte too far;
 * 3. split at its NULs into strings given to every encoder, whose output
 *    must cut back into exactly one packet that Postfix would accept
 *    (the checks of milter8_event() are repeated here).
 * Sanitizers catch over-reads, leaks and undefined behaviour; the checks
 * below catch broken promises of the interface.
 */
#include "service/milter-proto.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned char decoder_cmds[] = {
	ATSM_MILTER_C_OPTNEG, ATSM_MILTER_C_CONNECT, ATSM_MILTER_C_HELO, ATSM_MILTER_C_MAIL,
	ATSM_MILTER_C_RCPT, ATSM_MILTER_C_UNKNOWN, ATSM_MILTER_C_HEADER, ATSM_MILTER_C_MACRO
};

/* s must start inside the packet and end with a NUL inside it */
static void
check_in(const struct atsm_milter_packet *p, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	if (u < p->data || u >= p->data + p->len ||
	    memchr(u, '\0', (size_t)(p->data + p->len - u)) == NULL)
		abort();
}

static void
check_failed(int r, const struct atsm_err *err)
{
	if (r != -1 || err->msg[0] == '\0' || err->cls != ATSM_ERR_INPUT)
		abort();
}

static void
decode(const struct atsm_milter_packet *p)
{
	struct atsm_milter_optneg o;
	struct atsm_milter_connect c;
	struct atsm_milter_macro m[ATSM_MILTER_MACROS_MAX];
	const char *v[ATSM_MILTER_ARGS_MAX], *name, *value;
	unsigned char for_cmd;
	struct atsm_err err;
	size_t n, i;
	int r;

	switch (p->cmd) {
	case ATSM_MILTER_C_OPTNEG:
		if ((r = atsm_milter_decode_optneg(p, &o, &err)) < 0)
			check_failed(r, &err);
		else if (p->len < 12)
			abort();
		break;
	case ATSM_MILTER_C_CONNECT:
		if ((r = atsm_milter_decode_connect(p, &c, &err)) < 0) {
			check_failed(r, &err);
			break;
		}
		check_in(p, c.hostname);
		if (c.family == 'U') {
			if (c.port != 0 || c.address[0] != '\0')
				abort();
		} else if (c.family == '4' || c.family == '6' || c.family == 'L') {
			check_in(p, c.address);
			/* the address ends the packet */
			if (c.address + strlen(c.address) + 1 != (const char *)p->data + p->len)
				abort();
		} else {
			abort();
		}
		break;
	case ATSM_MILTER_C_HELO:
	case ATSM_MILTER_C_MAIL:
	case ATSM_MILTER_C_RCPT:
	case ATSM_MILTER_C_UNKNOWN:
		if ((r = atsm_milter_decode_strings(p, v, ATSM_MILTER_ARGS_MAX, &n, &err)) < 0) {
			check_failed(r, &err);
			if (n != 0)
				abort();
			break;
		}
		if (n < 1 || n > ATSM_MILTER_ARGS_MAX)
			abort();
		for (i = 0; i < n; i++)
			check_in(p, v[i]);
		break;
	case ATSM_MILTER_C_HEADER:
		if ((r = atsm_milter_decode_header(p, &name, &value, &err)) < 0) {
			check_failed(r, &err);
			break;
		}
		check_in(p, name);
		check_in(p, value);
		if (name[0] == '\0')
			abort();
		break;
	case ATSM_MILTER_C_MACRO:
		if ((r = atsm_milter_decode_macros(p, &for_cmd, m, ATSM_MILTER_MACROS_MAX, &n,
		    &err)) < 0) {
			check_failed(r, &err);
			if (n != 0)
				abort();
			break;
		}
		if (n > ATSM_MILTER_MACROS_MAX || for_cmd != p->data[0])
			abort();
		for (i = 0; i < n; i++) {
			check_in(p, m[i].name);
			check_in(p, m[i].value);
			if (m[i].name[0] == '\0')
				abort();
		}
		break;
	default:
		/* ABORT, BODY, BODYEOB, DATA, EOH, QUIT, QUIT_NC: no decoder */
		break;
	}
}

static void
decode_stream(const uint8_t *data, size_t size)
{
	struct atsm_milter_packet p;
	struct atsm_err err;
	size_t off = 0, i;
	long r;

	while ((r = atsm_milter_packet_next(data + off, size - off, ATSM_MILTER_PACKET_MAX, &p,
	    &err)) > 0) {
		if ((size_t)r > size - off || (size_t)r != p.len + 5 || p.data != data + off + 5 ||
		    p.len > ATSM_MILTER_PACKET_MAX)
			abort();
		decode(&p);
		for (i = 0; i < sizeof(decoder_cmds); i++) {
			p.cmd = decoder_cmds[i];
			decode(&p);
		}
		off += (size_t)r;
	}
	if (r < 0)
		check_failed((int)r, &err);
	else if (size - off >= 4 && data[off] == 0 && data[off + 1] == 0 &&
	    data[off + 2] == 0 && data[off + 3] == 0)
		abort();   /* a zero length must be refused, never waited on */
}

static void
decode_whole(const uint8_t *data, size_t size)
{
	unsigned char *copy = malloc(size ? size : 1);
	struct atsm_milter_packet p;
	size_t i;

	if (copy == NULL)
		return;
	if (size > 0)
		memcpy(copy, data, size);
	p.data = copy;
	p.len = size;
	for (i = 0; i < sizeof(decoder_cmds); i++) {
		p.cmd = decoder_cmds[i];
		decode(&p);
	}
	free(copy);
}

/* ---- encoders ---- */

/* The one packet an encoder appended at out[start..]: cut it back. */
static struct atsm_milter_packet
cut_one(const struct atsm_buf *out, size_t start, unsigned char cmd)
{
	struct atsm_milter_packet p;
	struct atsm_err err;
	long r;

	r = atsm_milter_packet_next((const unsigned char *)out->data + start, out->len - start,
	    SIZE_MAX, &p, &err);
	if (r <= 0 || (size_t)r != out->len - start || p.cmd != cmd)
		abort();
	return p;
}

/* A string field of a packet, ending at its NUL inside the packet. */
static const char *
field(const struct atsm_milter_packet *p, size_t *off)
{
	const unsigned char *s = p->data + *off, *nul;

	if (*off >= p->len || (nul = memchr(s, '\0', p->len - *off)) == NULL)
		abort();
	*off += (size_t)(nul - s) + 1;
	return (const char *)s;
}

/* What encoders promise of a header value: no CR, no control but TAB and
 * folding LFs, each LF followed by white space and then text. */
static void
check_header_value(const char *v, size_t in_len)
{
	const unsigned char *u = (const unsigned char *)v;
	size_t i, n = strlen(v);

	if (n > in_len)
		abort();
	for (i = 0; i < n; i++) {
		if (u[i] == '\n') {
			size_t k = i + 1;

			if (k >= n || (u[k] != ' ' && u[k] != '\t'))
				abort();
			while (k < n && (u[k] == ' ' || u[k] == '\t'))
				k++;
			if (k >= n || u[k] == '\n')
				abort();
		} else if ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7f) {
			abort();
		}
	}
}

static bool
valid_name(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	if (*u == '\0')
		return false;
	for (; *u != '\0'; u++)
		if (*u < 33 || *u > 126 || *u == ':')
			return false;
	return true;
}

static bool
has_control(const char *s)
{
	const unsigned char *u;

	for (u = (const unsigned char *)s; *u != '\0'; u++)
		if (*u < 0x20 || *u == 0x7f)
			return true;
	return false;
}

/* The reply Postfix would make of our REPLYCODE (milter8_event): its
 * checks, "%%" to '%'; the visible line must fit one SMTP reply line. */
static void
check_reply(const struct atsm_milter_packet *p)
{
	const unsigned char *s = p->data;
	size_t i, visible = 0;

	if (p->len < 5 || s[p->len - 1] != '\0' || memchr(s, '\0', p->len) != s + p->len - 1)
		abort();
	if ((s[0] != '4' && s[0] != '5') || s[1] < '0' || s[1] > '9' || s[2] < '0' ||
	    s[2] > '9' || s[3] != ' ' || (s[4] >= '0' && s[4] <= '9' && s[4] != s[0]))
		abort();
	for (i = 0; i + 1 < p->len; i++, visible++) {
		if (s[i] < 0x20 || s[i] >= 0x7f)
			abort();
		if (s[i] == '%' && s[++i] != '%')
			abort();   /* a lone '%' would be dropped */
	}
	if (visible > 510)
		abort();
}

static void
encoders(const uint8_t *data, size_t size)
{
	char *s[4] = { NULL, NULL, NULL, NULL };
	const char *empty = "";
	struct atsm_milter_packet p;
	struct atsm_milter_optneg o;
	struct atsm_buf out;
	size_t i, off, start, k = 0, at = 0;
	uint32_t idx;
	const char *sym[7];
	int r;

	/* up to four NUL-separated strings */
	while (k < 4 && at <= size) {
		const uint8_t *nul = memchr(data + at, '\0', size - at);
		size_t n = nul != NULL ? (size_t)(nul - (data + at)) : size - at;

		if ((s[k] = malloc(n + 1)) == NULL)
			goto done;
		memcpy(s[k], data + at, n);
		s[k][n] = '\0';
		k++;
		at += n + 1;
	}
	for (i = k; i < 4; i++)
		s[i] = (char *)empty;
	/* a limit from the input, so that some packets do not fit */
	atsm_buf_init(&out, size > 0 && data[0] < 64 ? (size_t)data[0] + 3 : 1u << 20);
	/* a few bytes already in the buffer, to be kept by a failed append */
	(void)atsm_buf_append(&out, "ab", 2);

#define CHECK_REFUSED(r, start) do { \
	if ((r) != -1 || out.len != (start) || out.data[out.len] != '\0') \
		abort(); \
} while (0)

	start = out.len;
	r = atsm_milter_put_replycode(&out, "550", size > 1 && (data[1] & 1) ? NULL : "5.7.1", s[0]);
	if (r == 0) {
		p = cut_one(&out, start, ATSM_MILTER_R_REPLYCODE);
		check_reply(&p);
	} else {
		CHECK_REFUSED(r, start);
		if (!out.overflow)
			abort();   /* valid codes: only a full buffer refuses */
	}
	out.overflow = false;
	/* codes from the input */
	start = out.len;
	r = atsm_milter_put_replycode(&out, s[1], s[2][0] != '\0' ? s[2] : NULL, s[3]);
	if (r == 0) {
		p = cut_one(&out, start, ATSM_MILTER_R_REPLYCODE);
		check_reply(&p);
		if (strncmp((const char *)p.data, s[1], 3) != 0)
			abort();
	} else {
		CHECK_REFUSED(r, start);
	}

	start = out.len;
	r = atsm_milter_put_addheader(&out, s[0], s[1]);
	if (r == 0) {
		const char *n, *v;

		if (!valid_name(s[0]))
			abort();
		p = cut_one(&out, start, ATSM_MILTER_R_ADDHEADER);
		off = 0;
		n = field(&p, &off);
		v = field(&p, &off);
		if (off != p.len || strcmp(n, s[0]) != 0)
			abort();
		check_header_value(v, strlen(s[1]));
	} else {
		CHECK_REFUSED(r, start);
		if (valid_name(s[0]) && !out.overflow)
			abort();
	}
	out.overflow = false;

	idx = size >= 4 ? (uint32_t)data[size - 1] | (uint32_t)data[size - 2] << 8 : 1;
	start = out.len;
	r = atsm_milter_put_chgheader(&out, idx, "Subject", k > 2 ? s[2] : NULL);
	if (r == 0) {
		p = cut_one(&out, start, ATSM_MILTER_R_CHGHEADER);
		if (p.len < 4 || (p.data[2] << 8 | p.data[3]) != (int)idx || idx == 0)
			abort();
		off = 4;
		if (strcmp(field(&p, &off), "Subject") != 0)
			abort();
		check_header_value(field(&p, &off), strlen(s[2]));
		if (off != p.len)
			abort();
	} else {
		CHECK_REFUSED(r, start);
	}

	start = out.len;
	r = atsm_milter_put_delrcpt(&out, s[1]);
	if (r == 0) {
		p = cut_one(&out, start, ATSM_MILTER_R_DELRCPT);
		off = 0;
		if (strcmp(field(&p, &off), s[1]) != 0 || off != p.len)
			abort();
	} else {
		CHECK_REFUSED(r, start);
		if (s[1][0] != '\0' && !has_control(s[1]) && !out.overflow)
			abort();
	}
	out.overflow = false;

	start = out.len;
	r = atsm_milter_put_chgfrom(&out, s[2], s[3]);
	if (r == 0) {
		p = cut_one(&out, start, ATSM_MILTER_R_CHGFROM);
		off = 0;
		if (strcmp(field(&p, &off), s[2]) != 0)
			abort();
		if (s[3][0] != '\0' && strcmp(field(&p, &off), s[3]) != 0)
			abort();
		if (off != p.len)
			abort();
	} else {
		CHECK_REFUSED(r, start);
	}

	start = out.len;
	r = atsm_milter_put_quarantine(&out, s[3]);
	if (r == 0) {
		p = cut_one(&out, start, ATSM_MILTER_R_QUARANTINE);
		off = 0;
		if (has_control(field(&p, &off)) || off != p.len || p.len - 1 != strlen(s[3]))
			abort();
	} else {
		CHECK_REFUSED(r, start);
	}

	/* optneg with the strings as symbol lists */
	o.version = 6;
	o.actions = size > 2 ? data[2] | (uint32_t)data[1] << 8 : ATSM_MILTER_F_SETSYMLIST;
	o.protocol = 0;
	for (i = 0; i < 7; i++)
		sym[i] = i < 4 && s[i][0] != '\0' ? s[i] : NULL;
	start = out.len;
	r = atsm_milter_put_optneg(&out, &o, sym);
	if (r == 0) {
		p = cut_one(&out, start, ATSM_MILTER_C_OPTNEG);
		if (atsm_milter_decode_optneg(&p, &o, NULL) < 0 || o.version != 6)
			abort();
		/* the lists are (stage, string) pairs that fill the packet */
		for (off = 12; off < p.len;) {
			if (p.len - off < 4 || p.data[off] != 0 || p.data[off + 1] != 0 ||
			    p.data[off + 2] != 0 || p.data[off + 3] > ATSM_MILTER_M_EOH)
				abort();
			off += 4;
			(void)field(&p, &off);
		}
		if (p.len > 12 && (o.actions & ATSM_MILTER_F_SETSYMLIST) == 0)
			abort();
	} else {
		CHECK_REFUSED(r, start);
	}

	for (i = 0; i < 256; i++) {
		start = out.len;
		if (atsm_milter_put_simple(&out, (unsigned char)i) < 0)
			CHECK_REFUSED(-1, start);
	}
	atsm_buf_free(&out);
done:
	for (i = 0; i < k; i++)
		free(s[i]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	decode_stream(data, size);
	decode_whole(data, size);
	encoders(data, size);
	return 0;
}

/* service/milter-proto.h -- the milter protocol (version 6, as Postfix
 * and Sendmail speak it), as a codec: packets in, packets out, no I/O.
 *
 * atsmaild speaks it itself rather than through libmilter, as rspamd
 * does: libmilter owns its sockets (no way to check a peer's credentials
 * before it talks), runs a thread per connection of its own, and takes
 * seconds to stop.  The service's milter front (atsmaild/milter-front.c)
 * reads bytes, cuts them into packets with atsm_milter_packet_next(),
 * decodes each command with the functions below, and answers with the
 * atsm_milter_put_*() encoders.  The protocol: 4-byte big-endian length
 * (of what follows), one command byte, the data; strings are
 * NUL-terminated.  docs/milter-protocol.md lists what is used and how.
 *
 * Every decoder checks the packet whole: lengths, NUL terminators, counts;
 * a malformed packet gives -1 with err naming the command and the fault,
 * never a read past the data.  Decoded strings point into the packet (its
 * NULs are the terminators), valid while the packet's buffer is.  The
 * decoders are fuzzed (tests/fuzz/fuzz-milter.c).
 */
#ifndef ATSM_SERVICE_MILTER_PROTO_H
#define ATSM_SERVICE_MILTER_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

#define ATSM_MILTER_VERSION 6
#define ATSM_MILTER_PACKET_MAX (1024u * 1024u)   /* bytes of data in one packet we accept */
#define ATSM_MILTER_CHUNK 65535                  /* body chunks Postfix sends at most */
#define ATSM_MILTER_ARGS_MAX 64                  /* strings of one MAIL/RCPT command */
#define ATSM_MILTER_MACROS_MAX 128               /* name/value pairs of one macro packet */

/* Commands (MTA -> filter). */
enum {
	ATSM_MILTER_C_ABORT = 'A', ATSM_MILTER_C_BODY = 'B', ATSM_MILTER_C_CONNECT = 'C',
	ATSM_MILTER_C_MACRO = 'D', ATSM_MILTER_C_BODYEOB = 'E', ATSM_MILTER_C_HELO = 'H',
	ATSM_MILTER_C_QUIT_NC = 'K', ATSM_MILTER_C_HEADER = 'L', ATSM_MILTER_C_MAIL = 'M',
	ATSM_MILTER_C_EOH = 'N', ATSM_MILTER_C_OPTNEG = 'O', ATSM_MILTER_C_QUIT = 'Q',
	ATSM_MILTER_C_RCPT = 'R', ATSM_MILTER_C_DATA = 'T', ATSM_MILTER_C_UNKNOWN = 'U'
};
/* Replies and actions (filter -> MTA). */
enum {
	ATSM_MILTER_R_ADDRCPT = '+', ATSM_MILTER_R_DELRCPT = '-', ATSM_MILTER_R_ACCEPT = 'a',
	ATSM_MILTER_R_REPLBODY = 'b', ATSM_MILTER_R_CONTINUE = 'c', ATSM_MILTER_R_DISCARD = 'd',
	ATSM_MILTER_R_CHGFROM = 'e', ATSM_MILTER_R_ADDHEADER = 'h', ATSM_MILTER_R_INSHEADER = 'i',
	ATSM_MILTER_R_CHGHEADER = 'm', ATSM_MILTER_R_PROGRESS = 'p', ATSM_MILTER_R_QUARANTINE = 'q',
	ATSM_MILTER_R_REJECT = 'r', ATSM_MILTER_R_SKIP = 's', ATSM_MILTER_R_TEMPFAIL = 't',
	ATSM_MILTER_R_REPLYCODE = 'y'
};
/* Action flags (SMFIF_*) and protocol flags (SMFIP_*) of the negotiation,
 * with the values of the protocol. */
#define ATSM_MILTER_F_ADDHDRS     0x001u
#define ATSM_MILTER_F_CHGBODY     0x002u
#define ATSM_MILTER_F_ADDRCPT     0x004u
#define ATSM_MILTER_F_DELRCPT     0x008u
#define ATSM_MILTER_F_CHGHDRS     0x010u
#define ATSM_MILTER_F_QUARANTINE  0x020u
#define ATSM_MILTER_F_CHGFROM     0x040u
#define ATSM_MILTER_F_ADDRCPT_PAR 0x080u
#define ATSM_MILTER_F_SETSYMLIST  0x100u
#define ATSM_MILTER_P_NOCONNECT   0x000001u
#define ATSM_MILTER_P_NOHELO      0x000002u
#define ATSM_MILTER_P_NOMAIL      0x000004u
#define ATSM_MILTER_P_NORCPT      0x000008u
#define ATSM_MILTER_P_NOBODY      0x000010u
#define ATSM_MILTER_P_NOHDRS      0x000020u
#define ATSM_MILTER_P_NOEOH       0x000040u
#define ATSM_MILTER_P_NR_HDR      0x000080u
#define ATSM_MILTER_P_NOUNKNOWN   0x000100u
#define ATSM_MILTER_P_NODATA      0x000200u
#define ATSM_MILTER_P_SKIP        0x000400u
#define ATSM_MILTER_P_RCPT_REJ    0x000800u
#define ATSM_MILTER_P_NR_CONN     0x001000u
#define ATSM_MILTER_P_NR_HELO     0x002000u
#define ATSM_MILTER_P_NR_MAIL     0x004000u
#define ATSM_MILTER_P_NR_RCPT     0x008000u
#define ATSM_MILTER_P_NR_DATA     0x010000u
#define ATSM_MILTER_P_NR_UNKN     0x020000u
#define ATSM_MILTER_P_NR_EOH      0x040000u
#define ATSM_MILTER_P_NR_BODY     0x080000u
#define ATSM_MILTER_P_HDR_LEADSPC 0x100000u
/* Macro stages of SMFIC_OPTNEG's symbol lists (SMFIM_*). */
enum {
	ATSM_MILTER_M_CONNECT = 0, ATSM_MILTER_M_HELO = 1, ATSM_MILTER_M_ENVFROM = 2,
	ATSM_MILTER_M_ENVRCPT = 3, ATSM_MILTER_M_DATA = 4, ATSM_MILTER_M_EOM = 5,
	ATSM_MILTER_M_EOH = 6
};

struct atsm_milter_packet {
	unsigned char cmd;
	const unsigned char *data;    /* len bytes (not NUL-terminated as a whole) */
	size_t len;
};

/* Cut the next packet from buf[0..n).  > 0: that many bytes make the
 * packet *pkt (pointing into buf); 0: more bytes are needed; -1 with err:
 * a length of 0 or more than max bytes of data after the command byte
 * (the front passes ATSM_MILTER_PACKET_MAX). */
long atsm_milter_packet_next(const unsigned char *buf, size_t n, size_t max,
    struct atsm_milter_packet *pkt, struct atsm_err *err);

/* "CONNECT", "MACRO", ...: the name of a command, for logs; NULL for a
 * byte that is none. */
const char *atsm_milter_cmd_name(unsigned char cmd);

struct atsm_milter_optneg {
	uint32_t version, actions, protocol;
};
int atsm_milter_decode_optneg(const struct atsm_milter_packet *pkt,
    struct atsm_milter_optneg *o, struct atsm_err *err);

struct atsm_milter_connect {
	const char *hostname;
	char family;                  /* '4', '6', 'L' (unix), 'U' (unknown) */
	uint16_t port;
	const char *address;          /* "" for 'U' */
};
int atsm_milter_decode_connect(const struct atsm_milter_packet *pkt,
    struct atsm_milter_connect *c, struct atsm_err *err);

/* HELO, MAIL, RCPT, UNKNOWN: the NUL-separated strings of the packet
 * (MAIL/RCPT: the address first, then ESMTP arguments). */
int atsm_milter_decode_strings(const struct atsm_milter_packet *pkt, const char **v,
    size_t max, size_t *n, struct atsm_err *err);

int atsm_milter_decode_header(const struct atsm_milter_packet *pkt, const char **name,
    const char **value, struct atsm_err *err);

/* SMFIC_MACRO: the command the macros are for, and name/value pairs
 * (names as sent: "i", "{auth_authen}"). */
struct atsm_milter_macro {
	const char *name, *value;
};
int atsm_milter_decode_macros(const struct atsm_milter_packet *pkt, unsigned char *for_cmd,
    struct atsm_milter_macro *v, size_t max, size_t *n, struct atsm_err *err);

/* ---- encoders: each appends one packet to out; 0, or -1 when out is
 * full or an argument cannot be sent (said below for each); after -1 out
 * is as it was (its overflow flag aside). ---- */

/* The answer to SMFIC_OPTNEG, with symbol lists (symlist[stage] = the
 * space-separated macro names wanted at that stage, NULL = none, symlist
 * NULL = no lists).  The lists are sent only when o->actions has
 * ATSM_MILTER_F_SETSYMLIST, which the caller sets only when the MTA
 * offered it (Postfix drops a milter that asks for an action it did not
 * offer).  A stage without a list keeps the MTA's own macro setting
 * (Postfix: milter_*_macros).  -1: a list with a control character. */
int atsm_milter_put_optneg(struct atsm_buf *out, const struct atsm_milter_optneg *o,
    const char *const symlist[7]);
/* CONTINUE, ACCEPT, REJECT, TEMPFAIL, DISCARD, PROGRESS, SKIP (-1: any
 * other code). */
int atsm_milter_put_simple(struct atsm_buf *out, unsigned char code);
/* SMFIR_REPLYCODE "rcode xcode text": rcode 4xx/5xx, xcode "4.3.0"/"5.7.1"
 * of the same class (or NULL: "4.0.0"/"5.0.0"); the text (or NULL) is
 * made safe (controls become spaces, 8-bit characters '?', '%' is sent
 * as "%%", which Postfix and libmilter turn back into '%';
 * docs/milter-protocol.md) and cut so that the reply line Postfix sends
 * is at most 510 bytes.  -1: a malformed rcode or xcode. */
int atsm_milter_put_replycode(struct atsm_buf *out, const char *rcode, const char *xcode,
    const char *text);
/* ADDHEADER / CHGHEADER: name is sent as given (-1: empty, or a byte
 * outside printable ASCII, or ':'; for ADDHEADER also a NULL value); the
 * value is made safe (CRLF becomes LF; an LF is kept only where it folds,
 * before SP/TAB and more text; other controls but TAB become spaces).
 * Postfix writes "name: value" (one space of its own, so a value should
 * not start with one) unless HDR_LEADSPC was negotiated, then
 * "name:value". */
int atsm_milter_put_addheader(struct atsm_buf *out, const char *name, const char *value);
/* index counts the headers of that name from 1 (-1: index 0); value NULL
 * or "" deletes it; an index past the last such header adds one. */
int atsm_milter_put_chgheader(struct atsm_buf *out, uint32_t index, const char *name,
    const char *value);
/* DELRCPT / CHGFROM: addresses as the MTA knows them ("<a@b>"; the null
 * sender is "<>"), args the space-separated ESMTP arguments or NULL.
 * -1: an address empty or with a control character, args with one. */
int atsm_milter_put_delrcpt(struct atsm_buf *out, const char *rcpt);
int atsm_milter_put_chgfrom(struct atsm_buf *out, const char *from, const char *args);
/* The reason is made one line (controls become spaces); -1 when empty. */
int atsm_milter_put_quarantine(struct atsm_buf *out, const char *reason);

#endif

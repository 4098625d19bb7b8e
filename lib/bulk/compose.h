/* bulk/compose.h -- the mail of one item of a bulk job (docs/bulk.md): the
 * source (the mail as the client sent it, or the template's draft for a
 * job of atsmailctl) with its tags merged for this recipient's record and
 * its headers made for this recipient alone.  Pure: the caller gives the
 * time, the item's Message-ID and the signed marker.
 *
 * Of the source's header fields, To, Cc, Bcc, Message-ID, Date,
 * Received, Return-Path and every X-ATS-* go (origin "template" keeps its
 * To and Cc: the mail goes to the recipients its sender wrote, merged from
 * the first one's record); in their place To: only this recipient (its
 * record's name as display name, RFC 2047 when not ASCII), Date, the
 * item's Message-ID and the X-ATS-Bulk marker (bulk/marker.h).  The rest
 * of the message stays as it was.
 */
#ifndef ATSM_BULK_COMPOSE_H
#define ATSM_BULK_COMPOSE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"
#include "template/template.h"

struct atsm_bulk_compose_in {
	bool keep_to_cc;                  /* origin "template" */
	const char *source;               /* the mail, CRLF or LF */
	size_t source_len;
	const struct atsm_tpl_fields *fields;   /* NULL: nothing to merge */
	enum atsm_tpl_missing missing;
	const char *rcpt;                 /* the recipient's address */
	const char *rcpt_name;            /* UTF-8 display name; NULL or "" = none */
	const char *message_id;           /* without brackets */
	long long now;                    /* unix time, for Date */
	const char *marker;               /* the X-ATS-Bulk value; NULL = none */
};

/* The mail into out (reset first), CRLF line ends.  0; -1 with fault
 * (a tag: fault->code != NONE) and err naming what is wrong. */
int atsm_bulk_compose(const struct atsm_bulk_compose_in *in, struct atsm_buf *out,
    struct atsm_tpl_fault *fault, struct atsm_err *err);

/* Only the header rewrite, on a message already merged. */
int atsm_bulk_compose_headers(const struct atsm_bulk_compose_in *in, const char *msg,
    size_t len, struct atsm_buf *out, struct atsm_err *err);

#endif

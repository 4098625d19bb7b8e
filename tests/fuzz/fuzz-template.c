/* fuzz-template.c -- libFuzzer target for the merge of a whole message
 * (lib/template/mime.c, merge.c, encode.c over mail/mime.c and the
 * charsets).
 *
 * The input is merged as a message with a few values (Japanese, HTML
 * specials, a missing one), once refusing and once merging missing tags
 * as empty.  Success must leave a message that parses; a failure must name
 * a fault; the output stays within its limit, else abort().  The text
 * merge alone runs on the input too.  Seeds: tests/fuzz/corpus/template/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "mail/mime.h"
#include "template/template.h"

#define FUZZ_LIMIT (256u * 1024u)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
one(const char *in, size_t size, const struct atsm_tpl_fields *f, enum atsm_tpl_missing m)
{
	struct atsm_tpl_fault fault;
	struct atsm_err err;
	struct atsm_buf out;
	int rc;

	atsm_buf_init(&out, FUZZ_LIMIT);
	rc = atsm_tpl_merge_message(in, size, f, m, &out, &fault, &err);
	if (out.len > FUZZ_LIMIT)
		abort();
	if (rc == 0) {
		struct atsm_mime_msg msg;

		if (fault.code != ATSM_TPL_FAULT_NONE)
			abort();
		if (atsm_mime_parse(out.data != NULL ? out.data : "", out.len, NULL, &msg,
		    NULL) < 0)
			abort();
		atsm_mime_free(&msg);
	} else if (rc != -1 || fault.code == ATSM_TPL_FAULT_NONE || err.msg[0] == '\0')
		abort();
	atsm_buf_free(&out);

	atsm_buf_init(&out, FUZZ_LIMIT);
	rc = atsm_tpl_merge(in, size, f, m, size > 0 && in[0] == '<', &out, &fault, &err);
	if (out.len > FUZZ_LIMIT || (rc != 0 && rc != -1) ||
	    (rc == -1 && fault.code == ATSM_TPL_FAULT_NONE))
		abort();
	atsm_buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct atsm_tpl_fields f;

	atsm_tpl_fields_init(&f);
	snprintf(f.what, sizeof(f.what), "resume 1 <a@b>");
	if (atsm_tpl_fields_set(&f, "resume.name", "髙橋 <&> 一郎") < 0 ||
	    atsm_tpl_fields_set(&f, "user.name", "佐藤") < 0 ||
	    atsm_tpl_fields_set(&f, "job.title", "C engineer") < 0 ||
	    atsm_tpl_fields_set(&f, "company.name", NULL) < 0)
		abort();
	one((const char *)data, size, &f, ATSM_TPL_MISSING_REFUSE);
	one((const char *)data, size, &f, ATSM_TPL_MISSING_EMPTY);
	atsm_tpl_fields_free(&f);
	return 0;
}

/* template/template.h -- mail templates and their merge tags: pure
 * functions, no database, no mail server (docs/templates.md).
 *
 * A template is a subject and a body (UTF-8 text; HTML optional) with merge
 * tags: {{resume.name}}, {{contact.name}}, {{company.name}}, {{job.title}},
 * {{job.block}} (a job's details, several lines), {{process.phase}},
 * {{user.name}}, {{date}} ... (the list: docs/templates.md).  A tag may
 * carry a fallback, {{company.name|貴社}}, used when the record has no
 * value.  A tag with neither a value nor a fallback is handled as the
 * template says (on_missing): refused -- the mail is not sent, and the
 * fault names the tag -- or merged as empty text.  An unknown tag is
 * always a fault: a typing mistake must not reach a candidate.
 *
 *	merge.c    tags in one text (atsm_tpl_merge_text), the fields
 *	mime.c     tags in a whole message as a mail client sent it: the
 *	           Subject and every text/plain and text/html part, whatever
 *	           its charset (ISO-2022-JP, Shift_JIS, UTF-8) and transfer
 *	           encoding; the rest of the message as it was
 *	draft.c    a template as a message: the draft of the IMAP folder
 *	           "ATS Templates" (with ats+template.<code> in Bcc) and the
 *	           unmerged mail of atsmailctl bulk send; Japanese as
 *	           ISO-2022-JP when it fits, else UTF-8
 */
#ifndef ATSM_TEMPLATE_H
#define ATSM_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

#define ATSM_TPL_CODE_MAX 33          /* a code and its NUL: ^[a-z0-9][a-z0-9_-]{0,31}$ */
#define ATSM_TPL_PHASE_MAX 33
#define ATSM_TPL_TAG_MAX 64           /* a tag's name and its NUL */
#define ATSM_TPL_MARKER "X-ATS-Template"   /* header of a draft: "<code>; rev=<n>" */

enum atsm_tpl_missing { ATSM_TPL_MISSING_REFUSE = 0, ATSM_TPL_MISSING_EMPTY };

struct atsm_template {
	long long id;
	char code[ATSM_TPL_CODE_MAX];
	char *name, *subject, *body;
	char *body_html;                  /* NULL = none */
	char lang[8];                     /* "en" or "ja" */
	char phase_resume[ATSM_TPL_PHASE_MAX];   /* "" = none */
	char phase_contact[ATSM_TPL_PHASE_MAX];
	char phase_process[ATSM_TPL_PHASE_MAX];
	long long owner_id;               /* 0 = none */
	bool shared;
	enum atsm_tpl_missing on_missing;
	int revision;
};

void atsm_template_free(struct atsm_template *t);
bool atsm_template_code_valid(const char *code);

/* The values of the tags for one recipient: key "resume.name" -> value.
 * A key set with value NULL is a tag this record has no value for. */
struct atsm_tpl_field {
	char *key;
	char *value;
};
struct atsm_tpl_fields {
	struct atsm_tpl_field *v;
	size_t n, cap;
	char what[96];                    /* the record, for faults: "resume 12 <a@b>" */
	char lang[8];                     /* labels of {{job.block}}: "en", else Japanese */
};

void atsm_tpl_fields_init(struct atsm_tpl_fields *f);
void atsm_tpl_fields_free(struct atsm_tpl_fields *f);
/* 0, or -1 when memory runs out.  Setting a key again replaces it. */
int atsm_tpl_fields_set(struct atsm_tpl_fields *f, const char *key, const char *value);
/* The value of key, or NULL (then *known says whether the key was set). */
const char *atsm_tpl_fields_get(const struct atsm_tpl_fields *f, const char *key, bool *known);
/* Is name a tag atsmail knows (docs/templates.md)?  The table below, and
 * notify.<param> ([a-z0-9_]+), the params of a notification whose text is
 * a template (notify/own-text.h; a recruiter's mail has no such value). */
bool atsm_tpl_tag_known(const char *name);
bool atsm_tpl_tag_is_notify(const char *name);
/* The table of tags, ended by a NULL name (for help texts and docs). */
struct atsm_tpl_tag {
	const char *name;
	const char *what;
};
const struct atsm_tpl_tag *atsm_tpl_tags(void);

/* Bytes between "{{" and "}}" at most (name, "|" and fallback). */
#define ATSM_TPL_TAG_SPAN 512
/* A message atsm_tpl_merge_message accepts at most. */
#define ATSM_TPL_MESSAGE_MAX (64u * 1024u * 1024u)

enum atsm_tpl_fault_code {
	ATSM_TPL_FAULT_NONE = 0,
	ATSM_TPL_FAULT_SYNTAX,            /* "{{" without "}}", an empty or too long tag */
	ATSM_TPL_FAULT_UNKNOWN_TAG,       /* tag: the name */
	ATSM_TPL_FAULT_MISSING,           /* tag: the name; the record has no value */
	ATSM_TPL_FAULT_CHARSET,           /* a text part whose charset cannot be read */
	ATSM_TPL_FAULT_LIMIT              /* the message or its merge is beyond a limit */
};
struct atsm_tpl_fault {
	enum atsm_tpl_fault_code code;
	char tag[ATSM_TPL_TAG_MAX];
};

/* Merge the tags of text (UTF-8, len bytes) into out.  0, or -1 with fault
 * and err (one line naming the tag and f->what). */
int atsm_tpl_merge_text(const char *text, size_t len, const struct atsm_tpl_fields *f,
    enum atsm_tpl_missing missing, struct atsm_buf *out, struct atsm_tpl_fault *fault,
    struct atsm_err *err);

/* The same; html: values escaped for HTML, the lines of {{job.block}}
 * joined with <br> (the fallback is the template's own text, as written). */
int atsm_tpl_merge(const char *text, size_t len, const struct atsm_tpl_fields *f,
    enum atsm_tpl_missing missing, bool html, struct atsm_buf *out,
    struct atsm_tpl_fault *fault, struct atsm_err *err);

/* Check the tags of a template's text without values: 0, or -1 with fault
 * (SYNTAX or UNKNOWN_TAG) and err naming the tag. */
int atsm_tpl_check(const char *text, size_t len, struct atsm_tpl_fault *fault,
    struct atsm_err *err);

/* A recruiter's template holds no {{notify.<param>}}: such a value exists
 * only in a notification's own text (codes notify-...).  0, or -1 with
 * fault (MISSING) and err naming the tag. */
int atsm_tpl_check_no_notify(const char *text, size_t len, struct atsm_tpl_fault *fault,
    struct atsm_err *err);

/* Merge the tags of a whole message (headers and body, CRLF or LF) into
 * out: the Subject and the text parts merged and encoded again (their
 * charset kept when the merged text fits in it, else UTF-8), every other
 * header and part as it was.  0, or -1 with fault and err. */
int atsm_tpl_merge_message(const char *msg, size_t len, const struct atsm_tpl_fields *f,
    enum atsm_tpl_missing missing, struct atsm_buf *out, struct atsm_tpl_fault *fault,
    struct atsm_err *err);

/* A template as a message (CRLF): From from, Bcc bcc when not NULL (the
 * command address ats+template.<code>@<ats_domain>), Subject and body
 * unmerged, the marker header ATSM_TPL_MARKER, Date date (RFC 5322) and
 * Message-ID msgid (without brackets).  Japanese text is ISO-2022-JP when it
 * converts, else UTF-8; a body_html makes it multipart/alternative.
 * 0, or -1 with err. */
int atsm_tpl_draft(const struct atsm_template *t, const char *from, const char *bcc,
    const char *date, const char *msgid, struct atsm_buf *out, struct atsm_err *err);

#endif

/* rules/command.c -- recruiter commands given as recipient addresses.
 *
 * Interface (rules/command.h): atsm_command_set_init(), atsm_command_canon(),
 * atsm_command_is_address(), atsm_command_add(), atsm_command_describe().
 *
 * Recognition is one function, atsm_command_canon(): every written form of
 * an address at ats_domain (quoted, escaped, any case, routed) comes down
 * to one lower-case local part, and every address at ats_domain is a
 * command address -- that domain exists only for commands -- so a form
 * that is not <localpart>[+<command>] is refused, never recorded or
 * delivered (docs/recruiter-commands.md).
 *
 * Every error is a sentence the recruiter reads in their own mail client
 * (as the text of a 550 reply), so it names the address as it was written,
 * says what is wrong and how to write it; it is one line of printable
 * ASCII whatever the input holds.  atsm_command_add() works on a copy of
 * the set and commits only on success: a rejected mail leaves no trace.
 */
#include "rules/command.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail/addr.h"

#define KNOWN_COMMANDS "phase.<code>, job.<id>[.<id>...], private, share, " \
	"resume.<id>, contact.<id>, template.<code>, bulk, bulk.<list>, force"
#define ID_RULE "a positive number without leading zeros, at most 18 digits"
#define PHASE_RULE "1 to 32 letters, digits, '_' or '-', starting with a " \
	"letter or digit"

/* How much of an address, or of a word of a command, a sentence shows;
 * both together keep every sentence well under 400 characters. */
#define SHOW_ADDR_MAX 100
#define SHOW_WORD_MAX 40
#define SHOW_SIZE (SHOW_ADDR_MAX + 4)

/* Why, as data (rules/command.h): the code and up to two words. */
static void
fault(struct atsm_command_fault *f, enum atsm_command_fault_code code, const char *w0,
    const char *w1)
{
	f->code = code;
	snprintf(f->word[0], sizeof(f->word[0]), "%s", w0 != NULL ? w0 : "");
	snprintf(f->word[1], sizeof(f->word[1]), "%s", w1 != NULL ? w1 : "");
}

/* At most one id per two characters of command text. */
#define IDS_MAX (ATSM_COMMAND_TEXT_MAX / 2 + 1)

/* A printable ASCII excerpt of s[0..n) for a sentence. */
static const char *
show(char buf[SHOW_SIZE], const char *s, size_t n, size_t max)
{
	size_t i;

	if (max > SHOW_ADDR_MAX)
		max = SHOW_ADDR_MAX;
	for (i = 0; i < n && i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	if (i < n) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

/* ---- one canonical form of a command address ------------------------
 *
 * Clients and people write the same command in many ways: quoted
 * ("ats+job.3002"@x, "ats+job\.3002"@x), in any case, with a trailing dot
 * on the domain, with a source route (@relay:ats+x@d), or in the routing
 * forms Postfix may still resolve to the command domain: the percent hack
 * (ats+x%d@host), a quoted inner address ("ats+x@d"@host) and a UUCP bang
 * path (d!ats+x@host).  canon() reads any of them into the unquoted,
 * lower-cased local part at ats_domain, or says that the address is not at
 * ats_domain in any form.  Every recogniser (RCPT, To, Cc, Bcc, the
 * removal of command addresses in the milter front) goes through it. */

#define ROUTE_HOPS_MAX 8      /* '%', '@' and '!' hops followed in a local part */

static char
lower_ascii(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* The domain [d, d+n) equals ats_domain: ASCII case and a trailing dot
 * ignored; a domain with non-ASCII letters is compared in its IDNA
 * A-label form (an SMTPUTF8 client may write the U-label). */
static bool
same_domain(const char *d, size_t n, const char *ats_domain)
{
	size_t an = strlen(ats_domain), i;
	char tmp[ATSM_COMMAND_TEXT_MAX + 8], *norm = NULL, *at;
	bool ascii = true, same;

	if (n > 0 && d[n - 1] == '.')
		n--;
	if (an > 0 && ats_domain[an - 1] == '.')
		an--;
	for (i = 0; i < n; i++)
		ascii = ascii && (unsigned char)d[i] < 0x80;
	if (ascii)
		return n > 0 && n == an && strncasecmp(d, ats_domain, n) == 0;
	if (n + 3 > sizeof(tmp))
		return false;
	tmp[0] = 'x';
	tmp[1] = '@';
	memcpy(tmp + 2, d, n);
	tmp[n + 2] = '\0';
	if (atsm_addr_normalize(tmp, &norm, NULL) < 0)
		return false;
	at = strrchr(norm, '@');
	same = at != NULL && strlen(at + 1) == an && strncasecmp(at + 1, ats_domain, an) == 0;
	free(norm);
	return same;
}

/* The last '@' outside quotes of [s, e), or NULL. */
static const char *
last_at(const char *s, const char *e)
{
	const char *q, *at = NULL;
	bool quoted = false;

	for (q = s; q < e; q++) {
		if (*q == '\\' && q + 1 < e) {
			q++;
			continue;
		}
		if (*q == '"')
			quoted = !quoted;
		else if (*q == '@' && !quoted)
			at = q;
	}
	return at;
}

/* [s, e) without quotes and quoted-pair backslashes, lower-cased, into
 * out (size bytes, cut when longer); *len is its whole length. */
static void
unquote(const char *s, const char *e, char *out, size_t size, size_t *len)
{
	size_t n = 0, k = 0;

	for (; s < e; s++) {
		if (*s == '"')
			continue;
		if (*s == '\\' && s + 1 < e)
			s++;
		if (k + 1 < size)
			out[k++] = lower_ascii(*s);
		n++;
	}
	out[k] = '\0';
	*len = n;
}

int
atsm_command_canon(const char *addr, const char *ats_domain, char *local, size_t size)
{
	const char *s, *e, *at, *c;
	char buf[ATSM_COMMAND_TEXT_MAX + 64];
	size_t n, hop;
	bool cut;

	if (addr == NULL || ats_domain == NULL || *ats_domain == '\0' || size == 0)
		return 0;
	s = addr;
	while (*s == ' ' || *s == '\t' || *s == '<')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '>'))
		e--;
	/* a source route "@a,@b:" is no part of the address (RFC 5321 4.1.2) */
	if (s < e && *s == '@' && (c = memchr(s, ':', (size_t)(e - s))) != NULL)
		s = c + 1;
	if ((at = last_at(s, e)) == NULL)
		return 0;
	unquote(s, at, buf, sizeof(buf), &n);
	cut = n >= sizeof(buf);
	if (same_domain(at + 1, (size_t)(e - at - 1), ats_domain))
		goto found;
	/* the routing forms: the hop nearest the end of the local part first */
	for (hop = 0; hop < ROUTE_HOPS_MAX; hop++) {
		char *p = NULL, *q;

		for (q = buf; *q != '\0'; q++)
			if (*q == '@' || *q == '%')
				p = q;
		if (p != NULL) {
			*p = '\0';
			if (same_domain(p + 1, strlen(p + 1), ats_domain))
				goto found;
			continue;
		}
		if ((p = strchr(buf, '!')) != NULL) {
			bool here;

			*p = '\0';
			here = same_domain(buf, (size_t)(p - buf), ats_domain);
			memmove(buf, p + 1, strlen(p + 1) + 1);
			if (here)
				goto found;
			continue;
		}
		break;
	}
	return 0;
found:
	/* A local part too long for buf was cut: it is still longer than any
	 * command with the default local part, and its last byte is made a
	 * control character, which no command accepts, so that a cut command
	 * is never applied whatever command_localpart is. */
	n = strlen(buf);
	if (cut && n > 0)
		buf[n - 1] = '\x01';
	snprintf(local, size, "%s", buf);
	return 1;
}

static const char *
localpart_or_default(const char *localpart)
{
	return (localpart == NULL || *localpart == '\0') ?
	    ATSM_COMMAND_LOCALPART_DEFAULT : localpart;
}

bool
atsm_command_is_address(const char *addr, const char *localpart,
    const char *ats_domain)
{
	char local[ATSM_COMMAND_TEXT_MAX + 64];

	(void)localpart;
	return atsm_command_canon(addr, ats_domain, local, sizeof(local)) == 1;
}

void
atsm_command_set_init(struct atsm_command_set *set)
{
	memset(set, 0, sizeof(*set));
}

bool
atsm_command_set_records(const struct atsm_command_set *set)
{
	return set->has_phase || set->njobs > 0 || set->share != 0 || set->nresumes > 0 ||
	    set->ncontacts > 0 || set->has_template || set->bulk || set->approval != 0;
}

/* 0 and *out for a positive decimal id without leading zeros, else -1. */
static int
parse_id(const char *s, size_t n, unsigned long long *out)
{
	unsigned long long v = 0;
	size_t i;

	if (n == 0 || n > ATSM_COMMAND_ID_DIGITS || s[0] == '0')
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long long)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static bool
has_id(const unsigned long long *v, size_t n, unsigned long long id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] == id)
			return true;
	return false;
}

static bool
valid_phase(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > ATSM_COMMAND_PHASE_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '_' && c != '-')))
			return false;
	}
	return true;
}

static int
add_phase(struct atsm_command_set *set, const char *who, const char *code,
    size_t n, struct atsm_command_fault *f, struct atsm_err *err)
{
	char b[SHOW_SIZE];

	if (n == 0)
		fault(f, ATSM_COMMAND_FAULT_PHASE_MISSING, NULL, NULL);
	else if (!valid_phase(code, n))
		fault(f, ATSM_COMMAND_FAULT_PHASE_INVALID, show(b, code, n, SHOW_WORD_MAX), NULL);
	else if (set->has_phase && (strlen(set->phase) != n || memcmp(set->phase, code, n) != 0))
		fault(f, ATSM_COMMAND_FAULT_PHASE_CONFLICT, show(b, code, n, SHOW_WORD_MAX),
		    set->phase);
	if (n == 0)
		return atsm_err_set(err, "%s: phase code missing; write "
		    "phase.<code> with " PHASE_RULE, who);
	if (!valid_phase(code, n))
		return atsm_err_set(err, "%s: phase code \"%s\" is not valid; "
		    "use " PHASE_RULE, who, show(b, code, n, SHOW_WORD_MAX));
	if (set->has_phase && strlen(set->phase) == n &&
	    memcmp(set->phase, code, n) == 0)
		return 0;
	if (set->has_phase)
		return atsm_err_set(err, "%s: phase \"%s\" contradicts phase "
		    "\"%s\" named in the same mail; give one phase per mail",
		    who, show(b, code, n, SHOW_WORD_MAX), set->phase);
	memcpy(set->phase, code, n);
	set->phase[n] = '\0';
	set->has_phase = true;
	return 0;
}

static int
add_jobs(struct atsm_command_set *set, const char *who, const char *ids,
    size_t n, struct atsm_command_fault *f, struct atsm_err *err)
{
	unsigned long long fresh[IDS_MAX], id;
	size_t nfresh = 0, start = 0, i;
	char b[SHOW_SIZE], w[2][24];

	fault(f, ATSM_COMMAND_FAULT_JOB_MISSING, NULL, NULL);
	if (n == 0)
		return atsm_err_set(err, "%s: job id missing; write "
		    "job.<id>[.<id>...] with ids " ID_RULE, who);
	for (i = 0; i <= n; i++) {
		if (i < n && ids[i] != '.')
			continue;
		if (i == start)
			return atsm_err_set(err, "%s: empty job id; write "
			    "job.<id>[.<id>...] with ids " ID_RULE, who);
		if (parse_id(ids + start, i - start, &id) < 0)
			fault(f, ATSM_COMMAND_FAULT_JOB_INVALID,
			    show(b, ids + start, i - start, SHOW_WORD_MAX), NULL);
		if (parse_id(ids + start, i - start, &id) < 0)
			return atsm_err_set(err, "%s: job id \"%s\" is not "
			    "valid; write " ID_RULE, who,
			    show(b, ids + start, i - start, SHOW_WORD_MAX));
		if (!has_id(set->jobs, set->njobs, id) &&
		    !has_id(fresh, nfresh, id) && nfresh < IDS_MAX)
			fresh[nfresh++] = id;
		start = i + 1;
	}
	snprintf(w[0], sizeof(w[0]), "%zu", set->njobs + nfresh);
	snprintf(w[1], sizeof(w[1]), "%d", ATSM_COMMAND_MAX_JOBS);
	fault(f, ATSM_COMMAND_FAULT_JOBS_TOO_MANY, w[0], w[1]);
	if (set->njobs + nfresh > ATSM_COMMAND_MAX_JOBS)
		return atsm_err_set(err, "%s: %zu jobs named; at most %d per "
		    "mail", who, set->njobs + nfresh, ATSM_COMMAND_MAX_JOBS);
	memcpy(set->jobs + set->njobs, fresh, nfresh * sizeof(fresh[0]));
	set->njobs += nfresh;
	return 0;
}

static int
add_link(unsigned long long *v, size_t *nv, const char *kind,
    const char *who, const char *idtext, size_t n, struct atsm_command_fault *f,
    struct atsm_err *err)
{
	unsigned long long id;
	char b[SHOW_SIZE], limit[24];

	snprintf(limit, sizeof(limit), "%d", ATSM_COMMAND_MAX_LINKS);
	if (n == 0)
		fault(f, ATSM_COMMAND_FAULT_ID_MISSING, kind, NULL);
	else if (parse_id(idtext, n, &id) < 0)
		fault(f, ATSM_COMMAND_FAULT_ID_INVALID, kind, show(b, idtext, n, SHOW_WORD_MAX));
	else
		fault(f, ATSM_COMMAND_FAULT_IDS_TOO_MANY, kind, limit);
	if (n == 0)
		return atsm_err_set(err, "%s: %s id missing; write %s.<id> with "
		    "an id that is " ID_RULE, who, kind, kind);
	if (parse_id(idtext, n, &id) < 0)
		return atsm_err_set(err, "%s: %s id \"%s\" is not valid; write "
		    ID_RULE, who, kind, show(b, idtext, n, SHOW_WORD_MAX));
	if (has_id(v, *nv, id))
		return 0;
	if (*nv >= ATSM_COMMAND_MAX_LINKS)
		return atsm_err_set(err, "%s: more than %d %ss named; at most "
		    "%d per mail", who, ATSM_COMMAND_MAX_LINKS, kind,
		    ATSM_COMMAND_MAX_LINKS);
	v[(*nv)++] = id;
	return 0;
}

static int
add_share(struct atsm_command_set *set, const char *who, int share,
    struct atsm_command_fault *f, struct atsm_err *err)
{
	fault(f, ATSM_COMMAND_FAULT_SHARE_CONFLICT, share > 0 ? "share" : "private",
	    share > 0 ? "private" : "share");
	if (set->share != 0 && set->share != share)
		return atsm_err_set(err, "%s: \"%s\" contradicts \"%s\" named "
		    "in the same mail; give only one of them", who,
		    share > 0 ? "share" : "private",
		    share > 0 ? "private" : "share");
	set->share = share;
	return 0;
}

/* ats+template.<code> and ats+bulk.<list>: a code in the phase code's
 * syntax, one per mail (a second, different one contradicts the first).
 * what names it in sentences; codes[] are the fault codes for missing,
 * invalid and conflicting. */
static int
add_code(char *slot, bool *has, const char *what, const char *form, const char *who,
    const char *code, size_t n, const enum atsm_command_fault_code codes[3],
    struct atsm_command_fault *f, struct atsm_err *err)
{
	char b[SHOW_SIZE];

	if (n == 0) {
		fault(f, codes[0], NULL, NULL);
		return atsm_err_set(err, "%s: %s missing; write %s with " PHASE_RULE,
		    who, what, form);
	}
	if (!valid_phase(code, n)) {
		fault(f, codes[1], show(b, code, n, SHOW_WORD_MAX), NULL);
		return atsm_err_set(err, "%s: %s \"%s\" is not valid; use " PHASE_RULE,
		    who, what, show(b, code, n, SHOW_WORD_MAX));
	}
	if (*has && slot[0] != '\0' && (strlen(slot) != n || memcmp(slot, code, n) != 0)) {
		fault(f, codes[2], show(b, code, n, SHOW_WORD_MAX), slot);
		return atsm_err_set(err, "%s: %s \"%s\" contradicts %s \"%s\" named "
		    "in the same mail; give one per mail", who, what,
		    show(b, code, n, SHOW_WORD_MAX), what, slot);
	}
	memcpy(slot, code, n);
	slot[n] = '\0';
	*has = true;
	return 0;
}

static int
add_template(struct atsm_command_set *set, const char *who, const char *code, size_t n,
    struct atsm_command_fault *f, struct atsm_err *err)
{
	static const enum atsm_command_fault_code codes[3] = {
		ATSM_COMMAND_FAULT_TEMPLATE_MISSING, ATSM_COMMAND_FAULT_TEMPLATE_INVALID,
		ATSM_COMMAND_FAULT_TEMPLATE_CONFLICT };

	return add_code(set->template_code, &set->has_template, "template code",
	    "template.<code>", who, code, n, codes, f, err);
}

/* ats+bulk alone, or ats+bulk.<list>: a list may be named once; ats+bulk
 * beside ats+bulk.<list> is the same bulk mail. */
static int
add_bulk(struct atsm_command_set *set, const char *who, const char *list, size_t n,
    bool named, struct atsm_command_fault *f, struct atsm_err *err)
{
	static const enum atsm_command_fault_code codes[3] = {
		ATSM_COMMAND_FAULT_LIST_MISSING, ATSM_COMMAND_FAULT_LIST_INVALID,
		ATSM_COMMAND_FAULT_LIST_CONFLICT };
	bool has = set->bulk_list[0] != '\0';

	if (!named) {
		set->bulk = true;
		return 0;
	}
	if (add_code(set->bulk_list, &has, "list name", "bulk.<list>", who, list, n, codes, f,
	    err) < 0)
		return -1;
	set->bulk = true;
	return 0;
}

/* ats+approve.<id> or ats+reject.<id>: one decision on one held mail per
 * mail (the same one twice collapses).  Not in KNOWN_COMMANDS: approvers
 * are given the address in the approval request, recruiters never write it. */
static int
add_approval(struct atsm_command_set *set, const char *who, int decision, const char *idtext,
    size_t n, struct atsm_command_fault *f, struct atsm_err *err)
{
	const char *word = decision > 0 ? "approve" : "reject";
	unsigned long long id;
	char b[SHOW_SIZE], w[2][32];

	if (parse_id(idtext, n, &id) < 0) {
		fault(f, ATSM_COMMAND_FAULT_APPROVAL_INVALID, word, show(b, idtext, n, SHOW_WORD_MAX));
		return atsm_err_set(err, "%s: %s needs the id of the held mail; write %s.<id> with "
		    "an id that is " ID_RULE, who, word, word);
	}
	if (set->approval != 0 && (set->approval != decision || set->approval_id != id)) {
		snprintf(w[0], sizeof(w[0]), "%s.%llu", word, id);
		snprintf(w[1], sizeof(w[1]), "%s.%llu", set->approval > 0 ? "approve" : "reject",
		    set->approval_id);
		fault(f, ATSM_COMMAND_FAULT_APPROVAL_CONFLICT, w[0], w[1]);
		return atsm_err_set(err, "%s: \"%s\" contradicts \"%s\" named in the same mail; "
		    "decide on one held mail per mail", who, w[0], w[1]);
	}
	set->approval = decision;
	set->approval_id = id;
	return 0;
}

/* True when text[0..n) starts with word; *rest is what follows it. */
static bool
starts(const char *text, size_t n, const char *word, const char **rest,
    size_t *restn)
{
	size_t wl = strlen(word);

	if (n < wl || memcmp(text, word, wl) != 0)
		return false;
	*rest = text + wl;
	*restn = n - wl;
	return true;
}

static int
apply(struct atsm_command_set *set, const char *who, const char *text,
    size_t n, struct atsm_command_fault *f, struct atsm_err *err)
{
	const char *r;
	size_t rn;
	char b[SHOW_SIZE];

	if (n == 7 && memcmp(text, "private", 7) == 0)
		return add_share(set, who, -1, f, err);
	if (n == 5 && memcmp(text, "share", 5) == 0)
		return add_share(set, who, 1, f, err);
	if (starts(text, n, "phase.", &r, &rn))
		return add_phase(set, who, r, rn, f, err);
	if (starts(text, n, "job.", &r, &rn))
		return add_jobs(set, who, r, rn, f, err);
	if (starts(text, n, "resume.", &r, &rn))
		return add_link(set->resumes, &set->nresumes, "resume", who,
		    r, rn, f, err);
	if (starts(text, n, "contact.", &r, &rn))
		return add_link(set->contacts, &set->ncontacts, "contact", who,
		    r, rn, f, err);
	if (starts(text, n, "template.", &r, &rn))
		return add_template(set, who, r, rn, f, err);
	if (n == 8 && memcmp(text, "template", 8) == 0)
		return add_template(set, who, "", 0, f, err);
	if (n == 5 && memcmp(text, "force", 5) == 0) {
		set->force = true;
		return 0;
	}
	if (n == 4 && memcmp(text, "bulk", 4) == 0)
		return add_bulk(set, who, NULL, 0, false, f, err);
	if (starts(text, n, "bulk.", &r, &rn))
		return add_bulk(set, who, r, rn, true, f, err);
	if (starts(text, n, "approve.", &r, &rn) || (n == 7 && memcmp(text, "approve", 7) == 0))
		return add_approval(set, who, 1, n > 7 ? r : "", n > 7 ? rn : 0, f, err);
	if (starts(text, n, "reject.", &r, &rn) || (n == 6 && memcmp(text, "reject", 6) == 0))
		return add_approval(set, who, -1, n > 6 ? r : "", n > 6 ? rn : 0, f, err);
	fault(f, ATSM_COMMAND_FAULT_UNKNOWN, show(b, text, n, SHOW_WORD_MAX), NULL);
	return atsm_err_set(err, "%s: unknown command \"%s\"; known commands: "
	    KNOWN_COMMANDS, who, show(b, text, n, SHOW_WORD_MAX));
}

int
atsm_command_add(struct atsm_command_set *set, const char *addr,
    const char *localpart, const char *ats_domain, struct atsm_err *err)
{
	return atsm_command_add_fault(set, addr, localpart, ats_domain, NULL, err);
}

int
atsm_command_add_fault(struct atsm_command_set *set, const char *addr,
    const char *localpart, const char *ats_domain, struct atsm_command_fault *fp,
    struct atsm_err *err)
{
	struct atsm_command_fault mine, *f = fp != NULL ? fp : &mine;
	struct atsm_command_set next;
	char who[SHOW_SIZE], local[ATSM_COMMAND_TEXT_MAX + 64], text[ATSM_COMMAND_TEXT_MAX];
	const char *cmd, *w;
	size_t lpl, n, i, wn;

	if (atsm_command_canon(addr, ats_domain, local, sizeof(local)) != 1)
		return 1;
	localpart = localpart_or_default(localpart);
	lpl = strlen(localpart);
	/* the sentence names the address as it was written */
	for (w = addr; *w == ' ' || *w == '\t' || *w == '<'; w++)
		;
	for (wn = strlen(w); wn > 0 && (w[wn - 1] == ' ' || w[wn - 1] == '\t' ||
	    w[wn - 1] == '>'); wn--)
		;
	show(who, w, wn, SHOW_ADDR_MAX);
	memset(f, 0, sizeof(*f));
	snprintf(f->addr, sizeof(f->addr), "%s", who);
	n = strlen(local);
	if (n < lpl || strncasecmp(local, localpart, lpl) != 0 ||
	    (n > lpl && local[lpl] != '+')) {
		fault(f, ATSM_COMMAND_FAULT_NOT_COMMAND, NULL, NULL);
		return atsm_err_set(err, "%s: not a command address; %s is kept for "
		    "commands: write %s+<command>@%s with one of: " KNOWN_COMMANDS, who,
		    ats_domain, localpart, ats_domain);
	}
	cmd = local + lpl;
	n -= lpl;
	if (n > 0) {
		cmd++;
		n--;
	}
	if (n == 0)
		fault(f, ATSM_COMMAND_FAULT_EMPTY, NULL, NULL);
	if (n == 0)
		return atsm_err_set(err, "%s: no command given; write "
		    "%s+<command>@%s with one of: " KNOWN_COMMANDS, who,
		    localpart, ats_domain);
	if (n > sizeof(text)) {
		char limit[24];

		snprintf(limit, sizeof(limit), "%zu", sizeof(text));
		fault(f, ATSM_COMMAND_FAULT_TOO_LONG, limit, NULL);
	}
	if (n > sizeof(text))
		return atsm_err_set(err, "%s: command longer than %zu "
		    "characters; split it over several addresses", who,
		    sizeof(text));
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)cmd[i];

		text[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	next = *set;
	if (apply(&next, who, text, n, f, err) < 0)
		return -1;
	next.any = true;
	*set = next;
	f->code = ATSM_COMMAND_FAULT_NONE;
	return 0;
}

static int
put_ids(struct atsm_buf *out, const char *name,
    const unsigned long long *v, size_t n)
{
	size_t i;
	int rc = 0;

	if (n == 0)
		return 0;
	if (out->len > 0)
		rc |= atsm_buf_putc(out, ' ');
	rc |= atsm_buf_printf(out, "%s=", name);
	for (i = 0; i < n; i++)
		rc |= atsm_buf_printf(out, "%s%llu", i ? "," : "", v[i]);
	return rc ? -1 : 0;
}

int
atsm_command_describe(const struct atsm_command_set *set,
    struct atsm_buf *out)
{
	struct atsm_buf b;
	int rc = 0;

	/* built apart so that "out" may already hold text */
	atsm_buf_init(&b, 4096);
	if (set->has_phase)
		rc |= atsm_buf_printf(&b, "phase=%s", set->phase);
	rc |= put_ids(&b, "jobs", set->jobs, set->njobs);
	if (set->share != 0)
		rc |= atsm_buf_printf(&b, "%s%s", b.len ? " " : "",
		    set->share > 0 ? "share" : "private");
	rc |= put_ids(&b, "resumes", set->resumes, set->nresumes);
	rc |= put_ids(&b, "contacts", set->contacts, set->ncontacts);
	if (set->has_template)
		rc |= atsm_buf_printf(&b, "%stemplate=%s", b.len ? " " : "", set->template_code);
	if (set->bulk)
		rc |= atsm_buf_printf(&b, "%sbulk%s%s", b.len ? " " : "",
		    set->bulk_list[0] != '\0' ? "=list:" : "", set->bulk_list);
	if (set->approval != 0)
		rc |= atsm_buf_printf(&b, "%s%s=%llu", b.len ? " " : "",
		    set->approval > 0 ? "approve" : "reject", set->approval_id);
	if (set->force)
		rc |= atsm_buf_printf(&b, "%sforce", b.len ? " " : "");
	rc |= atsm_buf_puts(out, b.len ? atsm_buf_str(&b) : "none");
	atsm_buf_free(&b);
	return rc ? -1 : 0;
}

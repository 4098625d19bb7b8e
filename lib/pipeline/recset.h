/* pipeline/recset.h -- the records one mail is linked to or acts on: the
 * working set of both decisions (lib/outbound/decide.c,
 * lib/inbound/decide.c).
 *
 * An entry is a resume, contact, job or process, with the rule that
 * brought it in, whether it becomes a link of the recorded message or is
 * only a target (a process a phase rule moves), and what the directory
 * said of it (shared flag, phase).  Processes are named by id, or by
 * resume and job while their id is 0 (made by a mail still in the
 * journal).  The set is bounded: past max entries add() refuses and
 * truncated says so, which a decision turns into a refusal (live mail)
 * or a note (replay).
 */
#ifndef ATSM_PIPELINE_RECSET_H
#define ATSM_PIPELINE_RECSET_H

#include <stdbool.h>
#include <stddef.h>

#include "rules/policy.h"
#include "store/directory.h"

#define ATSM_REC_RULE_MAX 20

struct atsm_rec {
	enum atsm_record_kind kind;
	long long id;
	long long resume_id, job_id;   /* PROCESS */
	char rule[ATSM_REC_RULE_MAX];  /* message_links.rule that brought it in */
	bool link;                     /* a link of the message (else a target only) */
	bool ambiguous;                /* reached through an address of several records */
	bool named;                    /* named by the sender (ats+resume / ats+contact) */
	bool loaded;                   /* shared and phase are the directory's */
	bool shared;
	char phase[ATSM_DIR_PHASE_MAX];
	const char *addr;              /* an address that reached it (for sentences), or NULL */
};

struct atsm_recset {
	struct atsm_rec *v;
	size_t n, cap, max;
	bool truncated;                /* an add() was refused at max */
};

void atsm_recset_init(struct atsm_recset *s, size_t max);
void atsm_recset_free(struct atsm_recset *s);

/* The entry of kind and id (a process with id 0: use find_process). */
struct atsm_rec *atsm_recset_find(const struct atsm_recset *s, enum atsm_record_kind kind,
    long long id);
struct atsm_rec *atsm_recset_find_process(const struct atsm_recset *s, long long resume_id,
    long long job_id);

/* Add (or find: then link is or-ed in and the rule kept) an entry.  NULL
 * when the set is at max (truncated set) or memory is short (truncated
 * not set). */
struct atsm_rec *atsm_recset_add(struct atsm_recset *s, enum atsm_record_kind kind,
    long long id, const char *rule, bool link);
struct atsm_rec *atsm_recset_add_process(struct atsm_recset *s, long long id,
    long long resume_id, long long job_id, const char *rule, bool link);

/* Copy what the directory says of a resume, contact or process into r. */
void atsm_rec_load_record(struct atsm_rec *r, const struct atsm_dir_record *d);
void atsm_rec_load_process(struct atsm_rec *r, const struct atsm_dir_process *d);

/* Remove the entries for which keep() is false, keeping the order. */
void atsm_recset_filter(struct atsm_recset *s, bool (*keep)(const struct atsm_rec *, void *),
    void *arg);

#endif

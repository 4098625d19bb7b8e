/* pipeline/recset.h -- the records one mail is linked to or acts on: the
 * working set of both decisions (lib/outbound/decide.c,
 * lib/inbound/decide.c).
 *
 * An entry is a resume, contact, job or process, with the rule that
 * brought it in, whether it becomes a link of the recorded message or is
 * only a target (a process a phase rule moves), and what the directory
 * said of it (shared flag, phase).  Processes are named by id, or by
 * resume and job while their id is 0 (made by a mail still in the
 * journal); a resume of id 0 -- the resume that intake mail is making
 * (store/directory.h) -- by the address it comes by, and so are the
 * resume of its processes.  The set is bounded: past max entries add() refuses and
 * truncated says so, which a decision turns into a refusal (live mail)
 * or a note (replay).
 */
#ifndef ATSM_PIPELINE_RECSET_H
#define ATSM_PIPELINE_RECSET_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
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
	const char *resume_addr;       /* a RESUME of id 0, a PROCESS of resume 0: the address
	                                  of the resume in the making (not copied: it lives as
	                                  long as the decision's answers); else NULL */
};

struct atsm_recset {
	struct atsm_rec *v;
	size_t n, cap, max;
	bool truncated;                /* an add() was refused at max */
};

void atsm_recset_init(struct atsm_recset *s, size_t max);
void atsm_recset_free(struct atsm_recset *s);

/* The entry of kind and id (a process with id 0: use find_process; a
 * resume with id 0: find_resume). */
struct atsm_rec *atsm_recset_find(const struct atsm_recset *s, enum atsm_record_kind kind,
    long long id);
struct atsm_rec *atsm_recset_find_process(const struct atsm_recset *s, long long resume_id,
    long long job_id);
/* A resume by id, or (id 0) by the address of the resume in the making;
 * a process by resume (the same way) and job. */
struct atsm_rec *atsm_recset_find_resume(const struct atsm_recset *s, long long id,
    const char *addr);
struct atsm_rec *atsm_recset_find_process_of(const struct atsm_recset *s, long long resume_id,
    const char *resume_addr, long long job_id);

/* Add (or find: then link is or-ed in and the rule kept) an entry.  NULL
 * when the set is at max (truncated set) or memory is short (truncated
 * not set).  add_resume and add_process_of name a resume of id 0 by its
 * address (kept as a pointer: see resume_addr); add and add_process are
 * them without one. */
struct atsm_rec *atsm_recset_add(struct atsm_recset *s, enum atsm_record_kind kind,
    long long id, const char *rule, bool link);
struct atsm_rec *atsm_recset_add_process(struct atsm_recset *s, long long id,
    long long resume_id, long long job_id, const char *rule, bool link);
struct atsm_rec *atsm_recset_add_resume(struct atsm_recset *s, long long id, const char *addr,
    const char *rule, bool link);
struct atsm_rec *atsm_recset_add_process_of(struct atsm_recset *s, long long id,
    long long resume_id, const char *resume_addr, long long job_id, const char *rule,
    bool link);

/* Copy what the directory says of a resume, contact or process into r. */
void atsm_rec_load_record(struct atsm_rec *r, const struct atsm_dir_record *d);
void atsm_rec_load_process(struct atsm_rec *r, const struct atsm_dir_process *d);

/* The process of a resume and job, and the processes of a resume, asked
 * of the directory: of a recorded resume by its id, of the resume in the
 * making (resume_id 0) by its address.  As the directory's operations. */
int atsm_rec_dir_process(const struct atsm_dir *dir, long long resume_id,
    const char *resume_addr, long long job_id, struct atsm_dir_process *out,
    struct atsm_err *err);
int atsm_rec_dir_processes(const struct atsm_dir *dir, long long resume_id,
    const char *resume_addr, struct atsm_dir_process *out, size_t max, size_t *n,
    struct atsm_err *err);

/* Remove the entries for which keep() is false, keeping the order. */
void atsm_recset_filter(struct atsm_recset *s, bool (*keep)(const struct atsm_rec *, void *),
    void *arg);

#endif

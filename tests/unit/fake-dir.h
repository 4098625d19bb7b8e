/* fake-dir.h -- a directory (store/directory.h) made of plain arrays, for
 * the unit tests of every decision: no LMDB, no PostgreSQL.
 *
 *	struct fake_dir fd;
 *	struct atsm_dir dir;
 *	fake_dir_init(&fd);
 *	fake_dir_seed(&fd);          the fixture of tests/data/seed.sql and
 *	                             seed-inbound.sql, the same ids
 *	dir = fake_dir_dir(&fd);     hand it to atsm_out_decide / atsm_in_decide
 *	fake_dir_apply(&fd, &effects) what atsmaild does after journaling
 *	fake_dir_free(&fd);
 *
 * fake_dir_fail() makes every operation fail (class UNAVAILABLE), so that
 * tests can show a decision reports a store failure instead of deciding
 * on half an answer.  calls counts the operations made.
 */
#ifndef ATSM_TEST_FAKE_DIR_H
#define ATSM_TEST_FAKE_DIR_H

#include <stdbool.h>
#include <stddef.h>

#include "store/directory.h"

struct fake_addr {
	char *addr;
	enum atsm_record_kind kind;   /* NONE = a user's address */
	long long id;
};

struct fake_rule {
	long long id;
	enum atsm_record_kind kind;
	char event[8];
	char from[ATSM_DIR_PHASE_MAX];   /* "" = any phase */
	char to[ATSM_DIR_PHASE_MAX];
	int priority;
	bool active;
};

struct fake_phase {
	enum atsm_record_kind kind;
	char code[ATSM_DIR_PHASE_MAX];
	int sort;
	bool active;
};

struct fake_message {
	char *msgid;
	struct atsm_dir_message m;       /* links and participants are heap copies */
};

struct fake_intake_event {
	char *sender;
	long long at;
};

struct fake_intake_addr {
	char *addr;
	bool unresolved;
};

/* The resume that intake mail from addr is making (store/directory.h),
 * and its processes: id 0, named by the address. */
struct fake_new_resume {
	char *addr;
	struct atsm_dir_record r;        /* kind RESUME, id 0 */
};

struct fake_new_process {
	char *addr;
	struct atsm_dir_process p;       /* id 0, resume_id 0 */
};

struct fake_dir {
	struct atsm_dir_user *users; size_t n_users;
	struct fake_addr *addrs; size_t n_addrs;
	struct atsm_dir_record *records; size_t n_records;
	struct atsm_dir_job *jobs; size_t n_jobs;
	struct atsm_dir_process *procs; size_t n_procs;
	struct fake_phase *phases; size_t n_phases;
	struct fake_rule *rules; size_t n_rules;
	char **excluded; size_t n_excluded;
	struct fake_intake_addr *intake; size_t n_intake;
	struct fake_intake_event *events; size_t n_events;
	struct fake_message *msgs; size_t n_msgs;
	struct fake_new_resume *news; size_t n_news;
	struct fake_new_process *new_procs; size_t n_new_procs;
	bool fail;
	unsigned long calls;
};

void fake_dir_init(struct fake_dir *fd);
void fake_dir_free(struct fake_dir *fd);
void fake_dir_seed(struct fake_dir *fd);
struct atsm_dir fake_dir_dir(struct fake_dir *fd);
void fake_dir_fail(struct fake_dir *fd, bool fail);

void fake_dir_add_user(struct fake_dir *fd, long long id, const char *login,
    enum atsm_sharing_mode mode, bool default_share, bool needs_approval);
void fake_dir_add_addr(struct fake_dir *fd, enum atsm_record_kind kind, long long id,
    const char *addr);
void fake_dir_add_record(struct fake_dir *fd, enum atsm_record_kind kind, long long id,
    bool shared, const char *phase);
void fake_dir_add_job(struct fake_dir *fd, long long id, bool open);
void fake_dir_add_process(struct fake_dir *fd, long long id, long long resume_id,
    long long job_id, const char *phase);
void fake_dir_add_phase(struct fake_dir *fd, enum atsm_record_kind kind, const char *code,
    int sort, bool active);
void fake_dir_add_rule(struct fake_dir *fd, long long id, enum atsm_record_kind kind,
    const char *event, const char *from, const char *to, int priority, bool active);
void fake_dir_add_excluded(struct fake_dir *fd, const char *domain);
void fake_dir_add_intake(struct fake_dir *fd, const char *addr, bool unresolved);
void fake_dir_add_intake_event(struct fake_dir *fd, const char *sender, long long at);
/* A recorded message; links and participants are copied. */
void fake_dir_add_message(struct fake_dir *fd, const char *msgid,
    const struct atsm_dir_message *m);

/* What atsmaild does with the effects of a journaled mail, with the
 * snapshot's semantics: a resume in the making is made for new_resume
 * unless a recorded resume holds the address; a phase set of resume id 0
 * (process of resume 0) is the recorded resume's that holds the address,
 * else the one in the making's.  (The fake never sweeps nor copies
 * anything onto a recorded resume added with fake_dir_add_record/_addr:
 * that one hides it, as in the snapshot.) */
void fake_dir_apply(struct fake_dir *fd, const struct atsm_dir_effects *e);

/* Lookups for assertions. */
const struct atsm_dir_record *fake_dir_record(const struct fake_dir *fd,
    enum atsm_record_kind kind, long long id);
const struct atsm_dir_process *fake_dir_process(const struct fake_dir *fd,
    long long resume_id, long long job_id);
const struct atsm_dir_message *fake_dir_message(const struct fake_dir *fd, const char *msgid,
    enum atsm_dir_direction dir);
/* The resume in the making of addr, and its process of job (NULL: none). */
const struct atsm_dir_record *fake_dir_new_resume(const struct fake_dir *fd, const char *addr);
const struct atsm_dir_process *fake_dir_new_process(const struct fake_dir *fd, const char *addr,
    long long job_id);

#endif

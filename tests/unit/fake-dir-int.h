/* fake-dir-int.h -- what the files of the fake directory share, and the
 * tests do not: its entries found by key (NULL when absent) and the
 * bounded copy of a text.  fake-dir.c builds the directory and applies
 * effects, fake-dir-ops.c answers the operations of store/directory.h,
 * fake-dir-seed.c is the fixture of tests/data/seed*.sql.
 */
#ifndef ATSM_TEST_FAKE_DIR_INT_H
#define ATSM_TEST_FAKE_DIR_INT_H

#include "fake-dir.h"

/* src (NULL = "") into dst of size bytes, cut to fit. */
void fake_dir_copy(char *dst, size_t size, const char *src);

struct atsm_dir_record *fake_dir_find_record(const struct fake_dir *fd,
    enum atsm_record_kind kind, long long id);
struct atsm_dir_job *fake_dir_find_job(const struct fake_dir *fd, long long id);
struct atsm_dir_process *fake_dir_find_process(const struct fake_dir *fd,
    long long resume_id, long long job_id);
struct fake_message *fake_dir_find_message(const struct fake_dir *fd,
    const char *msgid, enum atsm_dir_direction dir);
struct fake_new_resume *fake_dir_find_new_resume(const struct fake_dir *fd, const char *addr);
struct fake_new_process *fake_dir_find_new_process(const struct fake_dir *fd, const char *addr,
    long long job_id);
/* The recorded resume that holds addr (lowest id), or NULL. */
const struct atsm_dir_record *fake_dir_addr_resume(const struct fake_dir *fd, const char *addr);

#endif

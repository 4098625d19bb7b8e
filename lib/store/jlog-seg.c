/* store/jlog-seg.c -- the segments of atsmaild's journal on disk: their
 * names, their sizes, positions in them, and removing the ones the
 * recorder has consumed.  The writer (jlog.c) and the reader
 * (jlog-read.c) both use these and nothing of each other.
 */
#include "store/jlog-int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"

unsigned long long
atsm_jlog_pos_pack(const struct atsm_jlog_pos *p)
{
	return (p->segment << JLOG_POS_SHIFT) + p->offset;
}

int
atsm_jlog_pos_cmp(const struct atsm_jlog_pos *a, const struct atsm_jlog_pos *b)
{
	if (a->segment != b->segment)
		return a->segment < b->segment ? -1 : 1;
	if (a->offset != b->offset)
		return a->offset < b->offset ? -1 : 1;
	return 0;
}

void
atsm_jlog_seg_name(const struct atsm_jlog *j, unsigned long long seg,
    char name[JLOG_SEG_NAME_MAX])
{
	snprintf(name, JLOG_SEG_NAME_MAX, "%s.%016llx.jsonl", j->component, seg);
}

long long
atsm_jlog_seg_size(const struct atsm_jlog *j, unsigned long long seg)
{
	char name[JLOG_SEG_NAME_MAX];
	struct stat st;

	atsm_jlog_seg_name(j, seg, name);
	if (fstatat(j->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return -1;
	return (long long)st.st_size;
}

void
atsm_jlog_drop_consumed(struct atsm_jlog *j)
{
	char name[JLOG_SEG_NAME_MAX];
	struct atsm_jlog_pos cp;
	unsigned long long s, last;
	long long size;
	bool any = false;

	pthread_mutex_lock(&j->mu);
	cp = j->checkpoint;
	last = j->durable.segment;
	pthread_mutex_unlock(&j->mu);
	/* a closed segment read to its end is consumed too */
	if (cp.segment < last && (size = atsm_jlog_seg_size(j, cp.segment)) >= 0 &&
	    cp.offset >= (unsigned long long)size)
		cp.segment++;
	for (s = cp.segment; s > 1; s--) {
		atsm_jlog_seg_name(j, s - 1, name);
		if (unlinkat(j->dirfd, name, 0) == -1) {
			if (errno != ENOENT)
				atsm_log(LOG_WARNING, "journal %s/%s: recorded, but cannot "
				    "remove it: %s", j->dir, name, strerror(errno));
			break;      /* the older ones went earlier */
		}
		any = true;
	}
	if (any)
		fsync(j->dirfd);
}


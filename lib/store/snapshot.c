/* store/snapshot.c -- the LMDB environment of the snapshot: opening it
 * (directory, map size, named databases, layout version), closing it,
 * what it holds (atsm_snapshot_info) and the recorder's position.
 *
 * Commits are not flushed one by one (MDB_NOSYNC): a mail's effects are
 * already on disk in the journal, and the rest comes again from
 * PostgreSQL, so the snapshot needs consistency, not durability of the
 * last transaction.  What MDB_NOSYNC risks is a damaged file after the
 * *system* stops (power loss, kernel crash) -- a process crash leaves
 * every commit in the page cache.  So each process that opens the
 * environment for writing leaves a marker file, open-boot.<pid>, holding
 * the boot id of the system; a marker found at open with another boot id
 * means the system stopped while the environment was open: it is
 * discarded and rebuilt by the next full resync instead of being read.
 * Closing flushes and removes the process's own marker only -- atsmaild
 * and an atsmailctl beside it each keep theirs -- and a marker of this
 * boot whose process is gone (it crashed: its commits are in the page
 * cache, nothing is lost) is removed at the next open.
 */
#include "store/snapshot-int.h"

#include "base/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BOOT_MARKER "open-boot"           /* open-boot.<pid>; open-boot (earlier layout) */

/* The id of this boot of the system ("" when the kernel does not say). */
static void
boot_id(char out[64])
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");

	out[0] = '\0';
	if (f == NULL)
		return;
	if (fgets(out, 64, f) == NULL)
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

static char *
path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

/* The boot id a marker holds ("" when unreadable). */
static void
marker_boot(const char *path, char was[64])
{
	FILE *f = fopen(path, "r");

	was[0] = '\0';
	if (f == NULL)
		return;
	if (fgets(was, 64, f) == NULL)
		was[0] = '\0';
	was[strcspn(was, "\n")] = '\0';
	fclose(f);
}

/* Look at every marker: true when one was left by an earlier boot (the
 * system stopped with the environment open); markers of this boot whose
 * process is gone are removed on the way. */
static int
stale_boot(struct atsm_snapshot *s, const char *now, bool *stale, struct atsm_err *err)
{
	DIR *d = opendir(s->dir);
	struct dirent *de;
	size_t plen = strlen(BOOT_MARKER);

	*stale = false;
	if (d == NULL)
		return atsm_err_setc(err, ATSM_ERR_IO, "snapshot: cannot read %s: %s", s->dir,
		    strerror(errno));
	while ((de = readdir(d)) != NULL) {
		char was[64], *path;
		long pid = 0;

		if (strncmp(de->d_name, BOOT_MARKER, plen) != 0 ||
		    (de->d_name[plen] != '\0' && de->d_name[plen] != '.'))
			continue;
		if ((path = path_join(s->dir, de->d_name)) == NULL) {
			closedir(d);
			return atsm_err_setc(err, ATSM_ERR_NOMEM, "snapshot: out of memory");
		}
		marker_boot(path, was);
		if (de->d_name[plen] == '.')
			pid = strtol(de->d_name + plen + 1, NULL, 10);
		if (strcmp(was, now) != 0)
			*stale = true;
		else if (pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH)
			(void)unlink(path);
		free(path);
	}
	closedir(d);
	return 0;
}

/* Discard the environment when the system stopped while it was open, then
 * say that this process of this boot has it open (the marker is on disk
 * before any write). */
static int
boot_marker(struct atsm_snapshot *s, struct atsm_err *err)
{
	static const char *const files[] = { "data.mdb", "lock.mdb" };
	char now[64];
	bool stale;
	size_t i;
	int fd;

	boot_id(now);
	if (stale_boot(s, now, &stale, err) < 0)
		return -1;
	if (stale) {
		DIR *d;
		struct dirent *de;

		atsm_log(LOG_WARNING, "snapshot %s: the system stopped while it was open "
		    "(its last commits may be damaged): discarded, a full resync rebuilds it",
		    s->dir);
		for (i = 0; i < 2; i++) {
			char *p = path_join(s->dir, files[i]);

			if (p == NULL)
				return atsm_err_setc(err, ATSM_ERR_NOMEM, "snapshot: out of memory");
			if (unlink(p) < 0 && errno != ENOENT) {
				atsm_err_setc(err, ATSM_ERR_IO, "snapshot: cannot remove %s: %s", p,
				    strerror(errno));
				free(p);
				return -1;
			}
			free(p);
		}
		/* every marker is an earlier boot's or this one's dead process's */
		if ((d = opendir(s->dir)) != NULL) {
			while ((de = readdir(d)) != NULL)
				if (strncmp(de->d_name, BOOT_MARKER, strlen(BOOT_MARKER)) == 0) {
					char *p = path_join(s->dir, de->d_name);

					if (p != NULL)
						(void)unlink(p);
					free(p);
				}
			closedir(d);
		}
	}
	fd = open(s->boot_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, now, strlen(now)) != (ssize_t)strlen(now) || fsync(fd) < 0) {
		atsm_err_setc(err, ATSM_ERR_IO, "snapshot: cannot write %s: %s", s->boot_path,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	if ((fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	return 0;
}

static int
make_dir(const char *dir, struct atsm_err *err)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return atsm_err_setc(err, ATSM_ERR_IO, "snapshot: cannot create directory %s: %s",
		    dir, strerror(errno));
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return atsm_err_setc(err, ATSM_ERR_IO, "snapshot: %s is not a directory", dir);
	return 0;
}

/* Open (or create) every named database; a layout of another version is
 * emptied (it would not decode) and the next full resync fills it. */
static int
open_dbs(struct atsm_snapshot *s, struct atsm_err *err)
{
	MDB_txn *txn;
	unsigned flags = s->readonly ? 0 : MDB_CREATE;
	uint64_t schema = 0, recorded = 0;
	int rc, i, have;

	rc = mdb_txn_begin(s->env, NULL, s->readonly ? MDB_RDONLY : 0, &txn);
	if (rc != 0)
		return atsm_err_setc(err, ATSM_ERR_IO, "snapshot %s: cannot begin a transaction: %s",
		    s->dir, mdb_strerror(rc));
	for (i = 0; i < ATSM_SNAP_NDB; i++) {
		if ((rc = mdb_dbi_open(txn, atsm_snap_db_names[i], flags, &s->dbi[i])) != 0) {
			mdb_txn_abort(txn);
			if (rc == MDB_NOTFOUND)
				return atsm_err_setc(err, ATSM_ERR_UNAVAILABLE, "snapshot %s has not been "
				    "written yet (database %s missing)", s->dir, atsm_snap_db_names[i]);
			return atsm_err_setc(err, ATSM_ERR_IO, "snapshot %s: cannot open database "
			    "%s: %s", s->dir, atsm_snap_db_names[i], mdb_strerror(rc));
		}
	}
	have = atsm_snap_meta_get(txn, s, "schema", &schema, err);
	if (have < 0 || (have == 1 && atsm_snap_meta_get(txn, s, "recorded", &recorded, err) < 0)) {
		mdb_txn_abort(txn);
		return -1;
	}
	if (have == 1 && schema == ATSM_SNAPSHOT_SCHEMA) {
		s->recorded = s->recorded_saved = recorded;
		if ((rc = mdb_txn_commit(txn)) != 0)
			return atsm_err_setc(err, ATSM_ERR_IO, "snapshot %s: %s", s->dir,
			    mdb_strerror(rc));
		return 0;
	}
	if (s->readonly) {
		mdb_txn_abort(txn);
		return atsm_err_setc(err, ATSM_ERR_UNAVAILABLE, "snapshot %s has layout version "
		    "%llu, this program reads version %d", s->dir, (unsigned long long)schema,
		    ATSM_SNAPSHOT_SCHEMA);
	}
	if (have == 1)
		atsm_log(LOG_WARNING, "snapshot %s: layout version %llu replaced by %d (emptied; "
		    "a full resync fills it)", s->dir, (unsigned long long)schema,
		    ATSM_SNAPSHOT_SCHEMA);
	for (i = 0; i < ATSM_SNAP_NDB; i++)
		if ((rc = mdb_drop(txn, s->dbi[i], 0)) != 0)
			break;
	if (rc == 0) {
		struct atsm_snap_w w = { .s = s, .txn = txn };

		if (atsm_snap_meta_put(&w, "schema", ATSM_SNAPSHOT_SCHEMA, err) < 0) {
			mdb_txn_abort(txn);
			return -1;
		}
		rc = mdb_txn_commit(txn);
	} else {
		mdb_txn_abort(txn);
	}
	if (rc != 0)
		return atsm_err_setc(err, ATSM_ERR_IO, "snapshot %s: cannot set up the layout: %s",
		    s->dir, mdb_strerror(rc));
	return 0;
}

int
atsm_snapshot_open(const struct atsm_snapshot_params *p, struct atsm_snapshot **out,
    struct atsm_err *err)
{
	struct atsm_snapshot *s;
	unsigned flags;
	int rc, dead;

	*out = NULL;
	if (p->dir == NULL || p->dir[0] != '/')
		return atsm_err_setc(err, ATSM_ERR_INPUT, "snapshot_dir '%s' is not an absolute path",
		    p->dir != NULL ? p->dir : "");
	if (p->map_size < 1024u * 1024u)
		return atsm_err_setc(err, ATSM_ERR_INPUT, "snapshot_map_size %zu is below 1m",
		    p->map_size);
	if ((s = calloc(1, sizeof(*s))) == NULL || (s->dir = strdup(p->dir)) == NULL) {
		free(s);
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "snapshot: out of memory");
	}
	s->readonly = p->readonly;
	if (!s->readonly) {
		if (make_dir(s->dir, err) < 0)
			goto fail;
		char mine[sizeof(BOOT_MARKER) + 24];

		snprintf(mine, sizeof(mine), "%s.%ld", BOOT_MARKER, (long)getpid());
		if ((s->boot_path = path_join(s->dir, mine)) == NULL) {
			atsm_err_setc(err, ATSM_ERR_NOMEM, "snapshot: out of memory");
			goto fail;
		}
		if (boot_marker(s, err) < 0)
			goto fail;
	}
	if ((rc = mdb_env_create(&s->env)) != 0) {
		atsm_err_setc(err, ATSM_ERR_IO, "snapshot: %s", mdb_strerror(rc));
		goto fail;
	}
	flags = MDB_NOTLS | (s->readonly ? MDB_RDONLY : MDB_NOSYNC | MDB_NOMETASYNC);
	if ((rc = mdb_env_set_maxdbs(s->env, ATSM_SNAP_NDB + 4)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, p->map_size)) != 0 ||
	    (rc = mdb_env_set_maxreaders(s->env, p->max_readers > 0 ? p->max_readers : 126)) != 0 ||
	    (rc = mdb_env_open(s->env, s->dir, flags, 0600)) != 0) {
		atsm_err_setc(err, rc == ENOENT || rc == EACCES ? ATSM_ERR_UNAVAILABLE : ATSM_ERR_IO,
		    "snapshot %s: cannot open: %s", s->dir, mdb_strerror(rc));
		goto fail;
	}
	(void)mdb_reader_check(s->env, &dead);
	if (open_dbs(s, err) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	if (s->env != NULL)
		mdb_env_close(s->env);
	if (s->boot_path != NULL)
		(void)unlink(s->boot_path);
	free(s->boot_path);
	free(s->dir);
	free(s);
	return -1;
}

void
atsm_snapshot_close(struct atsm_snapshot *s)
{
	struct atsm_err err;

	if (s == NULL)
		return;
	if (!s->readonly) {
		struct atsm_snap_w w;

		/* the recorder's position, so that pending marks keep their
		 * meaning after a restart */
		if (atsm_snap_w_begin(s, &w, 0, &err) == 0 && atsm_snap_w_commit(&w, &err) == 0 &&
		    mdb_env_sync(s->env, 1) == 0)
			(void)unlink(s->boot_path);
		else
			atsm_log(LOG_WARNING, "snapshot %s: not flushed at close: %s", s->dir, err.msg);
	}
	mdb_env_close(s->env);
	free(s->boot_path);
	free(s->dir);
	free(s);
}

void
atsm_snapshot_recorded(struct atsm_snapshot *s, unsigned long long seq)
{
	unsigned long long cur = __atomic_load_n(&s->recorded, __ATOMIC_ACQUIRE);

	while (seq > cur && !__atomic_compare_exchange_n(&s->recorded, &cur, seq, false,
	    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		;
}

static size_t
entries(MDB_txn *txn, MDB_dbi dbi)
{
	MDB_stat st;

	return mdb_stat(txn, dbi, &st) == 0 ? st.ms_entries : 0;
}

int
atsm_snapshot_info(struct atsm_snapshot *s, struct atsm_snapshot_info *info,
    struct atsm_err *err)
{
	MDB_txn *txn;
	uint64_t v;
	int rc;

	memset(info, 0, sizeof(*info));
	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0)
		return atsm_err_setc(err, ATSM_ERR_IO, "snapshot %s: cannot begin a transaction: %s",
		    s->dir, mdb_strerror(rc));
	if (atsm_snap_meta_get(txn, s, "last_full_sync", &v, err) < 0)
		goto fail;
	info->last_full_sync = (long long)v;
	if (atsm_snap_meta_get(txn, s, "last_change", &v, err) < 0)
		goto fail;
	info->last_change = (long long)v;
	if (atsm_snap_meta_get(txn, s, "messages_seen", &v, err) < 0)
		goto fail;
	info->messages_seen = (long long)v;
	info->users = entries(txn, s->dbi[ATSM_SNAP_USER]);
	info->records = entries(txn, s->dbi[ATSM_SNAP_RECORD]);
	info->addresses = entries(txn, s->dbi[ATSM_SNAP_ADDR]);
	info->processes = entries(txn, s->dbi[ATSM_SNAP_PROC]);
	info->messages = entries(txn, s->dbi[ATSM_SNAP_MSG]);
	mdb_txn_abort(txn);
	return 0;
fail:
	mdb_txn_abort(txn);
	return -1;
}

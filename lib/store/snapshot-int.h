/* store/snapshot-int.h -- the private parts of the LMDB snapshot, shared
 * by lib/store/snapshot*.c and tests/unit/test-snapshot.c (which writes a
 * corrupt value on purpose): the environment, the named databases, and
 * how keys and values are laid out (docs/snapshot.md, "Layout").
 *
 * Keys sort the way lookups need them: numbers are 8 bytes big-endian, so
 * that LMDB's byte order is numeric order and a prefix is a range; texts
 * are their bytes (a text over ATSM_SNAP_TEXT_RAW_MAX bytes becomes 0xFF
 * and its SHA-256, as UTF-8 never has a 0xFF byte); a text followed by
 * more key is ended by a NUL.  Every value starts with its format byte
 * (ATSM_SNAP_V1); decoding checks every length against the value's size
 * and the field's bound, so a damaged value is an error that names its
 * database and key, never a read past the value.
 */
#ifndef ATSM_STORE_SNAPSHOT_INT_H
#define ATSM_STORE_SNAPSHOT_INT_H

#include <libpq-fe.h>
#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "store/directory.h"
#include "store/snapshot.h"

#define ATSM_SNAP_V1 1                      /* format byte of every value */
#define ATSM_SNAP_KEY_MAX 511               /* LMDB's default key limit */
#define ATSM_SNAP_TEXT_RAW_MAX 400          /* longer texts are hashed in keys */
#define ATSM_SNAP_TEXT_MAX 4096             /* any text kept in a value */
#define ATSM_SNAP_ADDR_MAX 320              /* addresses.addr_norm's CHECK */
#define ATSM_SNAP_VALUE_MAX (2u * 1024u * 1024u)
#define ATSM_SNAP_LOCAL_BIT (1ULL << 63)    /* a message handle that is not a PG id */
#define ATSM_SNAP_INTAKE_KEEP 7200          /* seconds of intake history kept */
#define ATSM_SNAP_MSG_OVERLAP 10000         /* ids read again below messages_seen */

/* The named databases (docs/snapshot.md has the table of keys and values). */
enum atsm_snap_db {
	ATSM_SNAP_META,        /* name -> value (schema, sync times, watermarks) */
	ATSM_SNAP_USER,        /* users.id -> user */
	ATSM_SNAP_LOGIN,       /* login -> users.id */
	ATSM_SNAP_RECORD,      /* 'r'|'c' id, 'n' address -> shared, owner, phase */
	ATSM_SNAP_ADDR,        /* addr NUL 'c'|'r'|'u' id -> (empty) */
	ATSM_SNAP_ADDR_ROW,    /* addresses.id -> kind, owner, addr */
	ATSM_SNAP_JOB,         /* jobs.id -> open */
	ATSM_SNAP_PROC,        /* resume_id job_id, or 0 address NUL job_id -> processes.id
	                          (0 = local), phase */
	ATSM_SNAP_PROC_ID,     /* processes.id -> resume_id job_id */
	ATSM_SNAP_PHASE,       /* kind code -> active, sort_order */
	ATSM_SNAP_RULE,        /* kind event ~priority any id -> from, to (active only) */
	ATSM_SNAP_EXCL,        /* domain -> (empty) */
	ATSM_SNAP_INTAKE_ADDR, /* address -> action */
	ATSM_SNAP_INTAKE,      /* sender NUL time 'r'|'u'|'l' id -> (empty) */
	ATSM_SNAP_MSG,         /* handle -> message */
	ATSM_SNAP_MSG_MID,     /* msgid NUL 'o'|'i' -> handle */
	ATSM_SNAP_MSG_TOK,     /* token -> handle */
	ATSM_SNAP_MSG_KEY,     /* idempotency key -> handle */
	ATSM_SNAP_PENDING,     /* mark -> seq (effects not yet in PostgreSQL) */
	ATSM_SNAP_NDB
};

extern const char *const atsm_snap_db_names[ATSM_SNAP_NDB];

struct atsm_snapshot {
	MDB_env *env;
	MDB_dbi dbi[ATSM_SNAP_NDB];
	bool readonly;
	unsigned long long recorded;   /* __atomic: the recorder's position */
	unsigned long long recorded_saved;   /* written to meta (write txns only) */
	long long last_prune;          /* write txns only (LMDB serialises them) */
	char *dir;
	char *boot_path;               /* the "open since boot" marker, NULL readonly */
};

/* One write transaction of apply or of a sync.  r0 is the recorder's
 * position read before the PostgreSQL rows were: a pending mark above it
 * protects the local value (docs/snapshot.md, "Pending effects"). */
struct atsm_snap_w {
	struct atsm_snapshot *s;
	MDB_txn *txn;
	unsigned long long r0;
	long long now;
	size_t changes;                /* puts and deletes that changed something */
};

/* ---- keys -------------------------------------------------------------- */

struct atsm_snap_key {
	unsigned char b[ATSM_SNAP_KEY_MAX];
	size_t n;
	bool bad;                      /* did not fit */
};

void atsm_snap_key_reset(struct atsm_snap_key *k);
void atsm_snap_key_u8(struct atsm_snap_key *k, unsigned v);
void atsm_snap_key_u32(struct atsm_snap_key *k, uint32_t v);
void atsm_snap_key_u64(struct atsm_snap_key *k, uint64_t v);
/* A text: its bytes, or 0xFF + SHA-256 when longer than TEXT_RAW_MAX. */
void atsm_snap_key_text(struct atsm_snap_key *k, const char *s);
void atsm_snap_key_raw(struct atsm_snap_key *k, const void *p, size_t n);
uint64_t atsm_snap_get_u64(const unsigned char *p);
MDB_val atsm_snap_key_val(const struct atsm_snap_key *k);

/* The keys of the databases (docs/snapshot.md, "Layout"). */
void atsm_snap_key_id(struct atsm_snap_key *k, uint64_t id);       /* user, addr_row, job, proc_id, msg */
void atsm_snap_key_login(struct atsm_snap_key *k, const char *login);
void atsm_snap_key_record(struct atsm_snap_key *k, int kind, long long id);
void atsm_snap_key_addr(struct atsm_snap_key *k, const char *addr, int kind, long long owner);
void atsm_snap_key_proc(struct atsm_snap_key *k, long long resume, long long job);
/* The resume in the making of an address (store/directory.h): its record
 * key 'n' address (also its pending mark), and its processes: resume 0,
 * the address, NUL, job (new_procs: up to the NUL, the prefix of all). */
void atsm_snap_key_new_resume(struct atsm_snap_key *k, const char *addr);
void atsm_snap_key_new_proc(struct atsm_snap_key *k, const char *addr, long long job);
void atsm_snap_key_new_procs(struct atsm_snap_key *k, const char *addr);
void atsm_snap_key_mid(struct atsm_snap_key *k, const char *msgid, size_t len, bool in);
void atsm_snap_key_str(struct atsm_snap_key *k, const char *s, size_t len);  /* token, key */
void atsm_snap_key_intake(struct atsm_snap_key *k, const char *sender, long long at, int tag,
    uint64_t id);

/* Record kinds in keys: 'r' resume, 'c' contact, 'p' process, 'u' user. */
int atsm_snap_kind_char(enum atsm_record_kind kind);
enum atsm_record_kind atsm_snap_kind_of_char(int c);

/* ---- values -------------------------------------------------------------- */

/* A value is built in a struct atsm_buf (limit ATSM_SNAP_VALUE_MAX). */
void atsm_snap_put_u8(struct atsm_buf *b, unsigned v);
void atsm_snap_put_u16(struct atsm_buf *b, unsigned v);
void atsm_snap_put_u32(struct atsm_buf *b, uint32_t v);
void atsm_snap_put_u64(struct atsm_buf *b, uint64_t v);
void atsm_snap_put_str(struct atsm_buf *b, const char *s);   /* u16 length, bytes */

/* The reader: every get checks the remaining size; any failure sets bad,
 * and later gets return zeros. */
struct atsm_snap_rd {
	const unsigned char *p;
	size_t n, off;
	bool bad;
};
void atsm_snap_rd_init(struct atsm_snap_rd *r, const MDB_val *v);
unsigned atsm_snap_get8(struct atsm_snap_rd *r);
unsigned atsm_snap_get16(struct atsm_snap_rd *r);
uint32_t atsm_snap_get32(struct atsm_snap_rd *r);
uint64_t atsm_snap_get64(struct atsm_snap_rd *r);
/* A text into out[size] (NUL-terminated); bad when it does not fit. */
void atsm_snap_getstr(struct atsm_snap_rd *r, char *out, size_t size);
/* A text in place (not NUL-terminated), at most max bytes. */
const char *atsm_snap_getstr_ref(struct atsm_snap_rd *r, size_t max, size_t *len);
/* The format byte first, nothing left over at the end. */
bool atsm_snap_rd_start(struct atsm_snap_rd *r);
bool atsm_snap_rd_end(const struct atsm_snap_rd *r);

/* ---- the values of each database ---------------------------------------- */

void atsm_snap_enc_user(struct atsm_buf *b, const struct atsm_dir_user *u);
int atsm_snap_dec_user(const MDB_val *v, struct atsm_dir_user *u);
void atsm_snap_enc_record(struct atsm_buf *b, bool shared, long long owner, const char *phase);
int atsm_snap_dec_record(const MDB_val *v, struct atsm_dir_record *out);
void atsm_snap_enc_proc(struct atsm_buf *b, long long id, const char *phase);
int atsm_snap_dec_proc(const MDB_val *v, long long *id, char phase[ATSM_DIR_PHASE_MAX]);
void atsm_snap_enc_pair(struct atsm_buf *b, long long x, long long y);
int atsm_snap_dec_pair(const MDB_val *v, long long *x, long long *y);
void atsm_snap_enc_addr_row(struct atsm_buf *b, int kind, long long owner, const char *addr);
int atsm_snap_dec_addr_row(const MDB_val *v, int *kind, long long *owner,
    char addr[ATSM_SNAP_ADDR_MAX + 1]);
void atsm_snap_enc_flag(struct atsm_buf *b, bool flag);   /* jobs, intake addresses */
int atsm_snap_dec_flag(const MDB_val *v, bool *flag);
void atsm_snap_enc_phase(struct atsm_buf *b, bool active, int sort_order);
int atsm_snap_dec_phase(const MDB_val *v, bool *active, int *sort_order);
void atsm_snap_enc_rule(struct atsm_buf *b, long long id, const char *from, const char *to);
int atsm_snap_dec_rule(const MDB_val *v, long long *id, char from[ATSM_DIR_PHASE_MAX],
    char to[ATSM_DIR_PHASE_MAX]);
void atsm_snap_enc_u64(struct atsm_buf *b, uint64_t x);   /* meta numbers, pending seqs */
int atsm_snap_dec_u64(const MDB_val *v, uint64_t *x);
void atsm_snap_enc_empty(struct atsm_buf *b);
int atsm_snap_dec_empty(const MDB_val *v);

/* A message.  local: applied here, not read from PostgreSQL. */
void atsm_snap_enc_msg(struct atsm_buf *b, const struct atsm_dir_message *m, const char *msgid,
    bool local);
/* The whole message, its variable parts in the arena (views); -1 corrupt,
 * -2 the arena is full. */
int atsm_snap_dec_msg(const MDB_val *v, struct atsm_arena *a, struct atsm_dir_message *m);
/* The index fields only, in place (writers cleaning up indexes). */
struct atsm_snap_msg_ids {
	bool local, in;
	long long id;
	const char *msgid, *token, *key;
	size_t msgid_len, token_len, key_len;
};
int atsm_snap_dec_msg_ids(const MDB_val *v, struct atsm_snap_msg_ids *ids);

/* ---- errors -------------------------------------------------------------- */

/* An LMDB failure: "snapshot: <what> (<db> key <key>): <reason>"; -1. */
int atsm_snap_err_mdb(struct atsm_err *err, int rc, const char *what, enum atsm_snap_db db,
    const MDB_val *key);
/* A value that does not decode: class IO, names the database and key; -1. */
int atsm_snap_err_corrupt(struct atsm_err *err, enum atsm_snap_db db, const MDB_val *key);
/* The key printed for a person: text as is, other bytes as \xNN, cut. */
void atsm_snap_key_print(const MDB_val *key, char *out, size_t size);

/* ---- the write side (lib/store/snapshot-write.c, snapshot-rows.c) -------- */

int atsm_snap_w_begin(struct atsm_snapshot *s, struct atsm_snap_w *w, unsigned long long r0,
    struct atsm_err *err);
int atsm_snap_w_commit(struct atsm_snap_w *w, struct atsm_err *err);
void atsm_snap_w_abort(struct atsm_snap_w *w);

/* get: 1 found, 0 not, -1 error.  put compares first and writes only a
 * changed value; del is quiet about a missing key. */
int atsm_snap_get(MDB_txn *txn, struct atsm_snapshot *s, enum atsm_snap_db db,
    const struct atsm_snap_key *k, MDB_val *v, struct atsm_err *err);
int atsm_snap_put(struct atsm_snap_w *w, enum atsm_snap_db db, const struct atsm_snap_key *k,
    const struct atsm_buf *b, struct atsm_err *err);
int atsm_snap_del(struct atsm_snap_w *w, enum atsm_snap_db db, const struct atsm_snap_key *k,
    struct atsm_err *err);
/* ATSM_SNAP_GET(rc, w, db, k, &v, err): atsm_snap_get in w's transaction,
 * returning -1 from the caller on failure. */
#define ATSM_SNAP_GET(rc, w, db, k, v, err) \
	do { if (((rc) = atsm_snap_get((w)->txn, (w)->s, (db), (k), (v), (err))) < 0) return -1; } \
	while (0)
int atsm_snap_err_corrupt_k(struct atsm_err *err, enum atsm_snap_db db,
    const struct atsm_snap_key *k);
/* Index entries hold one number (an id or a message handle); del deletes
 * the entry only when it still holds x (another row may have taken it). */
int atsm_snap_index_put(struct atsm_snap_w *w, enum atsm_snap_db db, const struct atsm_snap_key *k,
    uint64_t x, struct atsm_err *err);
int atsm_snap_index_get(struct atsm_snap_w *w, enum atsm_snap_db db, const struct atsm_snap_key *k,
    uint64_t *x, struct atsm_err *err);
int atsm_snap_index_del(struct atsm_snap_w *w, enum atsm_snap_db db, const struct atsm_snap_key *k,
    uint64_t x, struct atsm_err *err);
int atsm_snap_meta_get(MDB_txn *txn, struct atsm_snapshot *s, const char *name, uint64_t *x,
    struct atsm_err *err);
int atsm_snap_meta_put(struct atsm_snap_w *w, const char *name, uint64_t x, struct atsm_err *err);

/* Pending marks: mark keys are built by these. */
void atsm_snap_mark_record(struct atsm_snap_key *k, int kind, long long id);
void atsm_snap_mark_proc(struct atsm_snap_key *k, long long resume, long long job);
void atsm_snap_mark_msg(struct atsm_snap_key *k, uint64_t handle);
/* 'p' and the process key of the resume in the making of addr; the mark of
 * that resume itself is its record key (atsm_snap_key_new_resume). */
void atsm_snap_mark_new_proc(struct atsm_snap_key *k, const char *addr, long long job);
/* 1: a mark newer than w->r0 protects the local value; 0: none (an
 * older mark is deleted on the way: PostgreSQL has that change); -1. */
int atsm_snap_protected(struct atsm_snap_w *w, const struct atsm_snap_key *mark,
    struct atsm_err *err);
int atsm_snap_mark(struct atsm_snap_w *w, const struct atsm_snap_key *mark,
    unsigned long long seq, struct atsm_err *err);

/* The rows, written from PostgreSQL (sync) or from a mail (apply). */
int atsm_snap_user_put(struct atsm_snap_w *w, const struct atsm_dir_user *u, struct atsm_err *err);
int atsm_snap_user_del(struct atsm_snap_w *w, long long id, struct atsm_err *err);
/* From PostgreSQL: a pending phase stays. */
int atsm_snap_record_put(struct atsm_snap_w *w, int kind, long long id, bool shared,
    long long owner, const char *phase, struct atsm_err *err);
int atsm_snap_record_del(struct atsm_snap_w *w, int kind, long long id, struct atsm_err *err);
/* The recorded resume that holds addr, the lowest id whose record is
 * there: 1 with *id, 0 none, -1.  (The one PostgreSQL links intake mail
 * from addr to, and resolves an address in a payload to.) */
int atsm_snap_addr_resume(MDB_txn *txn, struct atsm_snapshot *s, const char *addr,
    long long *id, struct atsm_err *err);
int atsm_snap_addr_put(struct atsm_snap_w *w, long long row, int kind, long long owner,
    const char *addr, struct atsm_err *err);
int atsm_snap_addr_del(struct atsm_snap_w *w, long long row, struct atsm_err *err);
int atsm_snap_proc_put(struct atsm_snap_w *w, long long id, long long resume, long long job,
    const char *phase, struct atsm_err *err);
int atsm_snap_proc_del(struct atsm_snap_w *w, long long id, struct atsm_err *err);
/* A message read from PostgreSQL (m->ref.id set): replaces the local copy
 * of the same mail (same key, or same Message-ID and direction). */
int atsm_snap_msg_put_pg(struct atsm_snap_w *w, const struct atsm_dir_message *m,
    const char *msgid, struct atsm_err *err);
int atsm_snap_msg_del(struct atsm_snap_w *w, uint64_t handle, struct atsm_err *err);
/* A message applied here (handle with ATSM_SNAP_LOCAL_BIT, or a PG id). */
int atsm_snap_msg_put_local(struct atsm_snap_w *w, uint64_t handle,
    const struct atsm_dir_message *m, const char *msgid, struct atsm_err *err);
/* tag 'r' (a resume from mail), 'u' (an unresolved item), 'l' (local, id = seq) */
int atsm_snap_intake_put(struct atsm_snap_w *w, const char *sender, long long at, int tag,
    uint64_t id, struct atsm_err *err);
/* Intake entries older than the time kept, at most once a minute (force: now). */
int atsm_snap_intake_prune(struct atsm_snap_w *w, bool force, struct atsm_err *err);
/* Expired marks: local intake entries always (they would count twice once
 * PostgreSQL has the record), resumes in the making whose address a
 * recorded resume holds; with all, every kind, dropping the local
 * processes, messages and resumes that PostgreSQL never got (full
 * resync). */
int atsm_snap_pending_sweep(struct atsm_snap_w *w, bool all, struct atsm_err *err);

/* ---- sync from PostgreSQL (lib/store/snapshot-sync.c, -tables.c, -batch.c) */

/* The rows a batch of notifications has read while a full resync runs:
 * newer than the resync's snapshot, which leaves them alone.  Per table,
 * ids, or the table as a whole (id 0, or when the set fills up). */
struct atsm_snap_fresh;
struct atsm_snap_fresh *atsm_snap_fresh_new(void);
void atsm_snap_fresh_free(struct atsm_snap_fresh *f);
void atsm_snap_fresh_note(struct atsm_snap_fresh *f, size_t table, long long id);
bool atsm_snap_fresh_has(const struct atsm_snap_fresh *f, size_t table, long long id);
bool atsm_snap_fresh_whole(const struct atsm_snap_fresh *f, size_t table);

struct atsm_snap_table;

/* One sync run: a full resync or a batch of notifications. */
struct atsm_snap_sync {
	struct atsm_snapshot *s;
	PGconn *conn;
	unsigned long long r0;     /* the recorder's position before the first read */
	uint64_t max_msg;          /* highest messages.id read */
	bool intake;               /* rows that make intake entries were read */
	size_t changes;
	struct atsm_snap_fresh *noted;         /* a batch: note what it reads here */
	const struct atsm_snap_fresh *skip;    /* a full resync: leave these rows */
	/* a full resync: called between chunks, for the follower to read the
	 * notifications of its other connection; -1 stops the resync */
	int (*between)(void *arg, struct atsm_err *err);
	void *between_arg;
};

/* y for a run on conn; the recorder's position is read now (r0). */
void atsm_snap_sync_init(struct atsm_snap_sync *y, struct atsm_snapshot *s, PGconn *conn);
/* The rows of t named by ids (sorted, once each): written, or deleted
 * when PostgreSQL no longer has them (with their intake entries). */
int atsm_snap_read_ids(struct atsm_snap_sync *y, const struct atsm_snap_table *t,
    const long long *ids, size_t n, struct atsm_err *err);
/* t whole (plus 0: a merge walk that deletes what is gone) or its rows
 * from id plus on; in its own REPEATABLE READ transaction unless in_txn. */
int atsm_snap_read_table(struct atsm_snap_sync *y, const struct atsm_snap_table *t,
    long long plus, bool in_txn, struct atsm_err *err);
int atsm_snap_read_whole(struct atsm_snap_sync *y, const struct atsm_snap_table *t,
    struct atsm_err *err);
int atsm_snap_read_intake(struct atsm_snap_sync *y, struct atsm_err *err);
int atsm_snap_read_messages_after(struct atsm_snap_sync *y, long long after, bool in_txn,
    struct atsm_err *err);
/* The end of every run: watermark, times, expired marks, intake pruning. */
int atsm_snap_sync_finish(struct atsm_snap_sync *y, bool full, struct atsm_err *err);
/* A full resync with y's hooks (atsm_snapshot_sync_full has none). */
int atsm_snap_sync_full_run(struct atsm_snap_sync *y, struct atsm_err *err);
int atsm_snap_messages_seen(struct atsm_snapshot *s, uint64_t *seen, struct atsm_err *err);
int atsm_snap_cmp_ll(const void *a, const void *b);
int atsm_snap_pg_do(PGconn *conn, const char *sql, struct atsm_err *err);

/* How a table is read again. */
enum atsm_snap_how {
	ATSM_SNAP_HOW_ID,          /* rows by id; whole: a merge walk over db in id order */
	ATSM_SNAP_HOW_WHOLE,       /* small: db emptied and filled again */
	ATSM_SNAP_HOW_MESSAGES,    /* messages by id, from an id on, or past the watermark */
	ATSM_SNAP_HOW_MSG_PART,    /* message_links, message_recipients: their messages */
	ATSM_SNAP_HOW_INTAKE       /* unresolved_items: intake entries only */
};

struct atsm_snap_table {
	const char *name;                  /* the table, as in payloads */
	enum atsm_snap_how how;
	const char *select;                /* "SELECT id, ... FROM atsmail.t": id first */
	enum atsm_snap_db db;              /* HOW_ID: the database keyed by id; WHOLE: the one */
	int prefix;                        /* HOW_ID: the key's byte before the id, 0 none */
	int (*put)(struct atsm_snap_sync *, struct atsm_snap_w *, PGresult *, int,
	    struct atsm_err *);
	int (*del)(struct atsm_snap_w *, long long, struct atsm_err *);
	const char *intake_by_id;          /* intake entries of the rows named, or NULL */
};

extern const struct atsm_snap_table atsm_snap_tables[];
extern const size_t atsm_snap_ntables;
const struct atsm_snap_table *atsm_snap_table_find(const char *name, size_t len);

/* The messages query (columns of atsm_snap_put_message) and the intake
 * entries of the last ATSM_SNAP_INTAKE_KEEP seconds (sender, time, tag, id). */
extern const char atsm_snap_messages_select[];
extern const char atsm_snap_intake_select[];
int atsm_snap_put_message(struct atsm_snap_sync *y, struct atsm_snap_w *w, PGresult *r, int row,
    struct atsm_err *err);
int atsm_snap_put_intake(struct atsm_snap_sync *y, struct atsm_snap_w *w, PGresult *r, int row,
    struct atsm_err *err);

/* A statement on conn: the result when it succeeded, else NULL with err
 * (class UNAVAILABLE when the connection or server is gone, REFUSED when
 * the server refused it, with its SQLSTATE). */
PGresult *atsm_snap_pg(PGconn *conn, const char *sql, int n, const char *const *values,
    struct atsm_err *err);

/* Notifications gathered (and merged) before they are read: per table,
 * the ids named, "read it whole" or the lowest "+id". */
struct atsm_snap_batch;
struct atsm_snap_batch *atsm_snap_batch_new(void);
void atsm_snap_batch_free(struct atsm_snap_batch *b);
bool atsm_snap_batch_empty(const struct atsm_snap_batch *b);
/* -1 with err (class INPUT) for a payload that is not "table:spec"; a
 * table the snapshot does not read is ignored. */
int atsm_snap_batch_add(struct atsm_snap_batch *b, const char *payload, struct atsm_err *err);
/* Read what the batch names, then empty it; noted (may be NULL) receives
 * the rows read (a full resync runs meanwhile). */
int atsm_snap_batch_run(struct atsm_snapshot *s, PGconn *conn, struct atsm_snap_batch *b,
    struct atsm_snap_fresh *noted, struct atsm_err *err);

#endif

/* store/snapshot-keys.c -- the keys of the snapshot's named databases
 * (docs/snapshot.md, "Layout"), and the errors that name a database and a
 * key.
 *
 * Numbers are 8 bytes big-endian, so that LMDB's byte order is numeric
 * order and "the processes of resume 1002" or "the intake entries of this
 * sender since that time" are one key range; a text is its bytes, or 0xFF
 * and its SHA-256 when it is longer than ATSM_SNAP_TEXT_RAW_MAX (UTF-8
 * never has a 0xFF byte, and LMDB keys are limited to 511 bytes); a text
 * followed by more key ends with a NUL.
 */
#include "store/snapshot-int.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

const char *const atsm_snap_db_names[ATSM_SNAP_NDB] = {
	"meta", "user", "user_login", "record", "addr", "addr_row", "job", "proc",
	"proc_id", "phase", "rule", "excl", "intake_addr", "intake", "msg", "msg_mid",
	"msg_tok", "msg_key", "pending",
};

/* ------------------------------------------------------------------ keys */

void
atsm_snap_key_reset(struct atsm_snap_key *k)
{
	k->n = 0;
	k->bad = false;
}

void
atsm_snap_key_raw(struct atsm_snap_key *k, const void *p, size_t n)
{
	if (k->bad || n > sizeof(k->b) - k->n) {
		k->bad = true;
		return;
	}
	memcpy(k->b + k->n, p, n);
	k->n += n;
}

void
atsm_snap_key_u8(struct atsm_snap_key *k, unsigned v)
{
	unsigned char c = (unsigned char)v;

	atsm_snap_key_raw(k, &c, 1);
}

void
atsm_snap_key_u32(struct atsm_snap_key *k, uint32_t v)
{
	unsigned char b[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
	    (unsigned char)(v >> 8), (unsigned char)v };

	atsm_snap_key_raw(k, b, 4);
}

void
atsm_snap_key_u64(struct atsm_snap_key *k, uint64_t v)
{
	unsigned char b[8];
	int i;

	for (i = 7; i >= 0; i--) {
		b[i] = (unsigned char)v;
		v >>= 8;
	}
	atsm_snap_key_raw(k, b, 8);
}

void
atsm_snap_key_text(struct atsm_snap_key *k, const char *s)
{
	size_t n = strlen(s);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	if (n <= ATSM_SNAP_TEXT_RAW_MAX) {
		atsm_snap_key_raw(k, s, n);
		return;
	}
	if (EVP_Digest(s, n, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
		k->bad = true;
		return;
	}
	atsm_snap_key_u8(k, 0xFF);
	atsm_snap_key_raw(k, md, 32);
}

uint64_t
atsm_snap_get_u64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

MDB_val
atsm_snap_key_val(const struct atsm_snap_key *k)
{
	MDB_val v;

	v.mv_data = (void *)k->b;
	v.mv_size = k->n;
	return v;
}


/* The keys of each database. */

void
atsm_snap_key_id(struct atsm_snap_key *k, uint64_t id)
{
	atsm_snap_key_reset(k);
	atsm_snap_key_u64(k, id);
}

void
atsm_snap_key_login(struct atsm_snap_key *k, const char *login)
{
	atsm_snap_key_reset(k);
	atsm_snap_key_text(k, login);
}

void
atsm_snap_key_record(struct atsm_snap_key *k, int kind, long long id)
{
	atsm_snap_key_reset(k);
	atsm_snap_key_u8(k, (unsigned)kind);
	atsm_snap_key_u64(k, (uint64_t)id);
}

void
atsm_snap_key_addr(struct atsm_snap_key *k, const char *addr, int kind, long long owner)
{
	atsm_snap_key_reset(k);
	atsm_snap_key_text(k, addr);
	atsm_snap_key_u8(k, 0);
	atsm_snap_key_u8(k, (unsigned)kind);
	atsm_snap_key_u64(k, (uint64_t)owner);
}

void
atsm_snap_key_proc(struct atsm_snap_key *k, long long resume, long long job)
{
	atsm_snap_key_reset(k);
	atsm_snap_key_u64(k, (uint64_t)resume);
	atsm_snap_key_u64(k, (uint64_t)job);
}

void
atsm_snap_key_new_resume(struct atsm_snap_key *k, const char *addr)
{
	atsm_snap_key_reset(k);
	atsm_snap_key_u8(k, 'n');
	if (addr == NULL || addr[0] == '\0' || strlen(addr) > ATSM_SNAP_ADDR_MAX)
		k->bad = true;
	else
		atsm_snap_key_text(k, addr);
}

void
atsm_snap_key_new_procs(struct atsm_snap_key *k, const char *addr)
{
	atsm_snap_key_reset(k);
	atsm_snap_key_u64(k, 0);
	if (addr == NULL || addr[0] == '\0' || strlen(addr) > ATSM_SNAP_ADDR_MAX)
		k->bad = true;
	else
		atsm_snap_key_text(k, addr);
	atsm_snap_key_u8(k, 0);
}

void
atsm_snap_key_new_proc(struct atsm_snap_key *k, const char *addr, long long job)
{
	atsm_snap_key_new_procs(k, addr);
	atsm_snap_key_u64(k, (uint64_t)job);
}

void
atsm_snap_key_mid(struct atsm_snap_key *k, const char *msgid, size_t len, bool in)
{
	char buf[ATSM_SNAP_TEXT_MAX + 1];

	atsm_snap_key_reset(k);
	if (len > ATSM_SNAP_TEXT_MAX) {
		k->bad = true;
		return;
	}
	memcpy(buf, msgid, len);
	buf[len] = '\0';
	atsm_snap_key_text(k, buf);
	atsm_snap_key_u8(k, 0);
	atsm_snap_key_u8(k, in ? 'i' : 'o');
}

void
atsm_snap_key_str(struct atsm_snap_key *k, const char *s, size_t len)
{
	char buf[ATSM_DIR_KEY_MAX + ATSM_DIR_TOKEN_MAX];

	atsm_snap_key_reset(k);
	if (len == 0 || len >= sizeof(buf)) {
		k->bad = true;
		return;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	atsm_snap_key_text(k, buf);
}

void
atsm_snap_key_intake(struct atsm_snap_key *k, const char *sender, long long at, int tag, uint64_t id)
{
	atsm_snap_key_reset(k);
	atsm_snap_key_text(k, sender);
	atsm_snap_key_u8(k, 0);
	atsm_snap_key_u64(k, (uint64_t)(at > 0 ? at : 0));
	atsm_snap_key_u8(k, (unsigned)tag);
	atsm_snap_key_u64(k, id);
}

int
atsm_snap_kind_char(enum atsm_record_kind kind)
{
	switch (kind) {
	case ATSM_RECORD_RESUME: return 'r';
	case ATSM_RECORD_CONTACT: return 'c';
	case ATSM_RECORD_JOB: return 'j';
	case ATSM_RECORD_PROCESS: return 'p';
	default: return 0;
	}
}

enum atsm_record_kind
atsm_snap_kind_of_char(int c)
{
	switch (c) {
	case 'r': return ATSM_RECORD_RESUME;
	case 'c': return ATSM_RECORD_CONTACT;
	case 'j': return ATSM_RECORD_JOB;
	case 'p': return ATSM_RECORD_PROCESS;
	default: return ATSM_RECORD_NONE;
	}
}

/* ----------------------------------------------------------------- errors */

void
atsm_snap_key_print(const MDB_val *key, char *out, size_t size)
{
	const unsigned char *p = key->mv_data;
	size_t i, o = 0;

	if (size == 0)
		return;
	for (i = 0; i < key->mv_size && o + 5 < size; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			out[o++] = (char)p[i];
		else
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", p[i]);
	}
	if (i < key->mv_size && o + 4 < size)
		o += (size_t)snprintf(out + o, size - o, "...");
	out[o < size ? o : size - 1] = '\0';
}

int
atsm_snap_err_mdb(struct atsm_err *err, int rc, const char *what, enum atsm_snap_db db,
    const MDB_val *key)
{
	char k[96] = "";

	if (key != NULL)
		atsm_snap_key_print(key, k, sizeof(k));
	if (rc == MDB_MAP_FULL)
		return atsm_err_setc(err, ATSM_ERR_IO, "snapshot: %s (%s%s%s): the snapshot is "
		    "full; raise snapshot_map_size", what, atsm_snap_db_names[db],
		    key != NULL ? " key " : "", k);
	return atsm_err_setc(err, ATSM_ERR_IO, "snapshot: %s (%s%s%s): %s", what,
	    atsm_snap_db_names[db], key != NULL ? " key " : "", k, mdb_strerror(rc));
}

int
atsm_snap_err_corrupt(struct atsm_err *err, enum atsm_snap_db db, const MDB_val *key)
{
	char k[96] = "";

	atsm_snap_key_print(key, k, sizeof(k));
	return atsm_err_setc(err, ATSM_ERR_IO, "snapshot: the value of key %s in database %s "
	    "is damaged or of another format (remove snapshot_dir to rebuild the snapshot)",
	    k, atsm_snap_db_names[db]);
}

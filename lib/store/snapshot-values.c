/* store/snapshot-values.c -- the values of the snapshot's named
 * databases (docs/snapshot.md, "Layout"): one encoder and one decoder each.
 *
 * One place encodes and decodes every value, so that the format byte and
 * the bounds are checked the same way for all of them: a value written by
 * another version, cut short or overwritten decodes to an error naming its
 * database and key (docs/snapshot.md says what an administrator does
 * then), never to a read past the end of the value.
 */
#include "store/snapshot-int.h"

#include <string.h>

/* ---------------------------------------------------------------- values */

void
atsm_snap_put_u8(struct atsm_buf *b, unsigned v)
{
	unsigned char c = (unsigned char)v;

	(void)atsm_buf_append(b, &c, 1);
}

void
atsm_snap_put_u16(struct atsm_buf *b, unsigned v)
{
	unsigned char c[2] = { (unsigned char)(v >> 8), (unsigned char)v };

	(void)atsm_buf_append(b, c, 2);
}

void
atsm_snap_put_u32(struct atsm_buf *b, uint32_t v)
{
	unsigned char c[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
	    (unsigned char)(v >> 8), (unsigned char)v };

	(void)atsm_buf_append(b, c, 4);
}

void
atsm_snap_put_u64(struct atsm_buf *b, uint64_t v)
{
	atsm_snap_put_u32(b, (uint32_t)(v >> 32));
	atsm_snap_put_u32(b, (uint32_t)v);
}

void
atsm_snap_put_str(struct atsm_buf *b, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n > ATSM_SNAP_TEXT_MAX) {
		b->overflow = true;     /* the caller reports it */
		return;
	}
	atsm_snap_put_u16(b, (unsigned)n);
	if (n > 0)
		(void)atsm_buf_append(b, s, n);
}

void
atsm_snap_rd_init(struct atsm_snap_rd *r, const MDB_val *v)
{
	r->p = v->mv_data;
	r->n = v->mv_size;
	r->off = 0;
	r->bad = false;
}

static const unsigned char *
take(struct atsm_snap_rd *r, size_t n)
{
	const unsigned char *p;

	if (r->bad || n > r->n - r->off) {
		r->bad = true;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

unsigned
atsm_snap_get8(struct atsm_snap_rd *r)
{
	const unsigned char *p = take(r, 1);

	return p != NULL ? p[0] : 0;
}

unsigned
atsm_snap_get16(struct atsm_snap_rd *r)
{
	const unsigned char *p = take(r, 2);

	return p != NULL ? ((unsigned)p[0] << 8) | p[1] : 0;
}

uint32_t
atsm_snap_get32(struct atsm_snap_rd *r)
{
	const unsigned char *p = take(r, 4);

	return p != NULL ? ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3] : 0;
}

uint64_t
atsm_snap_get64(struct atsm_snap_rd *r)
{
	const unsigned char *p = take(r, 8);

	return p != NULL ? atsm_snap_get_u64(p) : 0;
}

const char *
atsm_snap_getstr_ref(struct atsm_snap_rd *r, size_t max, size_t *len)
{
	size_t n = atsm_snap_get16(r);
	const unsigned char *p;

	*len = 0;
	if (n > max) {
		r->bad = true;
		return NULL;
	}
	if ((p = take(r, n)) == NULL)
		return NULL;
	if (memchr(p, '\0', n) != NULL) {    /* texts never hold a NUL */
		r->bad = true;
		return NULL;
	}
	*len = n;
	return (const char *)p;
}

void
atsm_snap_getstr(struct atsm_snap_rd *r, char *out, size_t size)
{
	size_t n;
	const char *p = atsm_snap_getstr_ref(r, size - 1, &n);

	out[0] = '\0';
	if (p != NULL) {
		memcpy(out, p, n);
		out[n] = '\0';
	}
}

bool
atsm_snap_rd_start(struct atsm_snap_rd *r)
{
	return atsm_snap_get8(r) == ATSM_SNAP_V1 && !r->bad;
}

bool
atsm_snap_rd_end(const struct atsm_snap_rd *r)
{
	return !r->bad && r->off == r->n;
}

/* ------------------------------------------------------ one per database */

void
atsm_snap_enc_user(struct atsm_buf *b, const struct atsm_dir_user *u)
{
	atsm_snap_put_u8(b, ATSM_SNAP_V1);
	atsm_snap_put_u8(b, (unsigned)u->sharing_mode);
	atsm_snap_put_u8(b, (u->default_share ? 1u : 0u) | (u->needs_approval ? 2u : 0u) |
	    (u->active ? 4u : 0u));
	atsm_snap_put_u64(b, (uint64_t)u->id);
	atsm_snap_put_str(b, u->login);
	atsm_snap_put_str(b, u->lang);
}

int
atsm_snap_dec_user(const MDB_val *v, struct atsm_dir_user *u)
{
	struct atsm_snap_rd r;
	unsigned mode, flags;

	atsm_snap_rd_init(&r, v);
	if (!atsm_snap_rd_start(&r))
		return -1;
	mode = atsm_snap_get8(&r);
	flags = atsm_snap_get8(&r);
	u->id = (long long)atsm_snap_get64(&r);
	atsm_snap_getstr(&r, u->login, sizeof(u->login));
	atsm_snap_getstr(&r, u->lang, sizeof(u->lang));
	if (!atsm_snap_rd_end(&r) || mode > ATSM_SHARING_PRIVATE || flags > 7)
		return -1;
	u->sharing_mode = (enum atsm_sharing_mode)mode;
	u->default_share = (flags & 1) != 0;
	u->needs_approval = (flags & 2) != 0;
	u->active = (flags & 4) != 0;
	return 0;
}

void
atsm_snap_enc_record(struct atsm_buf *b, bool shared, long long owner, const char *phase)
{
	atsm_snap_put_u8(b, ATSM_SNAP_V1);
	atsm_snap_put_u8(b, shared ? 1 : 0);
	atsm_snap_put_u64(b, (uint64_t)owner);
	atsm_snap_put_str(b, phase);
}

int
atsm_snap_dec_record(const MDB_val *v, struct atsm_dir_record *out)
{
	struct atsm_snap_rd r;
	unsigned shared;

	atsm_snap_rd_init(&r, v);
	if (!atsm_snap_rd_start(&r))
		return -1;
	shared = atsm_snap_get8(&r);
	out->owner_id = (long long)atsm_snap_get64(&r);
	atsm_snap_getstr(&r, out->phase, sizeof(out->phase));
	if (!atsm_snap_rd_end(&r) || shared > 1)
		return -1;
	out->shared = shared == 1;
	return 0;
}

void
atsm_snap_enc_proc(struct atsm_buf *b, long long id, const char *phase)
{
	atsm_snap_put_u8(b, ATSM_SNAP_V1);
	atsm_snap_put_u64(b, (uint64_t)id);
	atsm_snap_put_str(b, phase);
}

int
atsm_snap_dec_proc(const MDB_val *v, long long *id, char phase[ATSM_DIR_PHASE_MAX])
{
	struct atsm_snap_rd r;

	atsm_snap_rd_init(&r, v);
	if (!atsm_snap_rd_start(&r))
		return -1;
	*id = (long long)atsm_snap_get64(&r);
	atsm_snap_getstr(&r, phase, ATSM_DIR_PHASE_MAX);
	return atsm_snap_rd_end(&r) ? 0 : -1;
}

void
atsm_snap_enc_pair(struct atsm_buf *b, long long x, long long y)
{
	atsm_snap_put_u8(b, ATSM_SNAP_V1);
	atsm_snap_put_u64(b, (uint64_t)x);
	atsm_snap_put_u64(b, (uint64_t)y);
}

int
atsm_snap_dec_pair(const MDB_val *v, long long *x, long long *y)
{
	struct atsm_snap_rd r;

	atsm_snap_rd_init(&r, v);
	if (!atsm_snap_rd_start(&r))
		return -1;
	*x = (long long)atsm_snap_get64(&r);
	*y = (long long)atsm_snap_get64(&r);
	return atsm_snap_rd_end(&r) ? 0 : -1;
}

void
atsm_snap_enc_addr_row(struct atsm_buf *b, int kind, long long owner, const char *addr)
{
	atsm_snap_put_u8(b, ATSM_SNAP_V1);
	atsm_snap_put_u8(b, (unsigned)kind);
	atsm_snap_put_u64(b, (uint64_t)owner);
	atsm_snap_put_str(b, addr);
}

int
atsm_snap_dec_addr_row(const MDB_val *v, int *kind, long long *owner,
    char addr[ATSM_SNAP_ADDR_MAX + 1])
{
	struct atsm_snap_rd r;

	atsm_snap_rd_init(&r, v);
	if (!atsm_snap_rd_start(&r))
		return -1;
	*kind = (int)atsm_snap_get8(&r);
	*owner = (long long)atsm_snap_get64(&r);
	atsm_snap_getstr(&r, addr, ATSM_SNAP_ADDR_MAX + 1);
	if (!atsm_snap_rd_end(&r) || (*kind != 'r' && *kind != 'c' && *kind != 'u'))
		return -1;
	return 0;
}

void
atsm_snap_enc_flag(struct atsm_buf *b, bool flag)
{
	atsm_snap_put_u8(b, ATSM_SNAP_V1);
	atsm_snap_put_u8(b, flag ? 1 : 0);
}

int
atsm_snap_dec_flag(const MDB_val *v, bool *flag)
{
	struct atsm_snap_rd r;
	unsigned f;

	atsm_snap_rd_init(&r, v);
	if (!atsm_snap_rd_start(&r))
		return -1;
	f = atsm_snap_get8(&r);
	if (!atsm_snap_rd_end(&r) || f > 1)
		return -1;
	*flag = f == 1;
	return 0;
}

void
atsm_snap_enc_phase(struct atsm_buf *b, bool active, int sort_order)
{
	atsm_snap_put_u8(b, ATSM_SNAP_V1);
	atsm_snap_put_u8(b, active ? 1 : 0);
	atsm_snap_put_u32(b, (uint32_t)sort_order);
}

int
atsm_snap_dec_phase(const MDB_val *v, bool *active, int *sort_order)
{
	struct atsm_snap_rd r;
	unsigned a;

	atsm_snap_rd_init(&r, v);
	if (!atsm_snap_rd_start(&r))
		return -1;
	a = atsm_snap_get8(&r);
	*sort_order = (int)atsm_snap_get32(&r);
	if (!atsm_snap_rd_end(&r) || a > 1)
		return -1;
	*active = a == 1;
	return 0;
}

void
atsm_snap_enc_rule(struct atsm_buf *b, long long id, const char *from, const char *to)
{
	atsm_snap_put_u8(b, ATSM_SNAP_V1);
	atsm_snap_put_u64(b, (uint64_t)id);
	atsm_snap_put_str(b, from);
	atsm_snap_put_str(b, to);
}

int
atsm_snap_dec_rule(const MDB_val *v, long long *id, char from[ATSM_DIR_PHASE_MAX],
    char to[ATSM_DIR_PHASE_MAX])
{
	struct atsm_snap_rd r;

	atsm_snap_rd_init(&r, v);
	if (!atsm_snap_rd_start(&r))
		return -1;
	*id = (long long)atsm_snap_get64(&r);
	atsm_snap_getstr(&r, from, ATSM_DIR_PHASE_MAX);
	atsm_snap_getstr(&r, to, ATSM_DIR_PHASE_MAX);
	return atsm_snap_rd_end(&r) && to[0] != '\0' ? 0 : -1;
}

void
atsm_snap_enc_u64(struct atsm_buf *b, uint64_t x)
{
	atsm_snap_put_u8(b, ATSM_SNAP_V1);
	atsm_snap_put_u64(b, x);
}

int
atsm_snap_dec_u64(const MDB_val *v, uint64_t *x)
{
	struct atsm_snap_rd r;

	atsm_snap_rd_init(&r, v);
	if (!atsm_snap_rd_start(&r))
		return -1;
	*x = atsm_snap_get64(&r);
	return atsm_snap_rd_end(&r) ? 0 : -1;
}

void
atsm_snap_enc_empty(struct atsm_buf *b)
{
	atsm_snap_put_u8(b, ATSM_SNAP_V1);
}

int
atsm_snap_dec_empty(const MDB_val *v)
{
	struct atsm_snap_rd r;

	atsm_snap_rd_init(&r, v);
	return atsm_snap_rd_start(&r) && atsm_snap_rd_end(&r) ? 0 : -1;
}

/* --------------------------------------------------------------- messages */

/* The address of a link's resume in the making, if it names one. */
static const char *
link_addr(const struct atsm_dir_link *l)
{
	if (l->resume_addr == NULL || l->resume_addr[0] == '\0' ||
	    strlen(l->resume_addr) > ATSM_SNAP_ADDR_MAX)
		return NULL;
	if ((l->kind == ATSM_RECORD_RESUME && l->id == 0) ||
	    (l->kind == ATSM_RECORD_PROCESS && l->resume_id == 0))
		return l->resume_addr;
	return NULL;
}

/* flags: bit 0 local, bit 1 direction in, bits 2-3 visibility.  A link:
 * kind, flags (bit 0 ambiguous, bit 1 the address of a resume in the
 * making follows the numbers), id, resume, job. */
void
atsm_snap_enc_msg(struct atsm_buf *b, const struct atsm_dir_message *m, const char *msgid,
    bool local)
{
	size_t i, k, nl, np;

	nl = m->n_links < ATSM_DIR_MESSAGE_LINKS_MAX ? m->n_links : ATSM_DIR_MESSAGE_LINKS_MAX;
	np = m->n_participants < ATSM_DIR_PARTICIPANTS_MAX ? m->n_participants :
	    ATSM_DIR_PARTICIPANTS_MAX;
	atsm_snap_put_u8(b, ATSM_SNAP_V1);
	atsm_snap_put_u8(b, (local ? 1u : 0u) | (m->direction == ATSM_DIR_IN ? 2u : 0u) |
	    ((unsigned)m->visibility << 2));
	atsm_snap_put_u64(b, (uint64_t)m->ref.id);
	atsm_snap_put_u64(b, (uint64_t)m->thread.id);
	atsm_snap_put_str(b, m->ref.key);
	atsm_snap_put_str(b, m->thread.key);
	atsm_snap_put_str(b, m->token);
	atsm_snap_put_str(b, msgid);
	atsm_snap_put_u16(b, (unsigned)nl);
	for (i = 0; i < nl; i++) {
		const struct atsm_dir_link *l = &m->links[i];
		const char *addr = link_addr(l);

		atsm_snap_put_u8(b, (unsigned)atsm_snap_kind_char(l->kind));
		atsm_snap_put_u8(b, (l->ambiguous ? 1u : 0u) | (addr != NULL ? 2u : 0u));
		atsm_snap_put_u64(b, (uint64_t)l->id);
		atsm_snap_put_u64(b, (uint64_t)l->resume_id);
		atsm_snap_put_u64(b, (uint64_t)l->job_id);
		if (addr != NULL)
			atsm_snap_put_str(b, addr);
	}
	/* participants too long for an address are not kept: no address can
	 * match them */
	for (i = k = 0; i < np; i++)
		if (m->participants[i] != NULL && strlen(m->participants[i]) <= ATSM_SNAP_ADDR_MAX)
			k++;
	atsm_snap_put_u16(b, (unsigned)k);
	for (i = 0; i < np; i++)
		if (m->participants[i] != NULL && strlen(m->participants[i]) <= ATSM_SNAP_ADDR_MAX)
			atsm_snap_put_str(b, m->participants[i]);
	/* the owner last: a value written before it had one ends above and
	 * reads as owner 0, not known (docs/snapshot.md) */
	atsm_snap_put_u64(b, (uint64_t)(m->owner_id > 0 ? m->owner_id : 0));
}

/* The fixed head of a message value, up to the links. */
static int
dec_msg_head(struct atsm_snap_rd *r, struct atsm_snap_msg_ids *ids, long long *thread,
    const char **tkey, size_t *tkey_len, unsigned *vis)
{
	unsigned flags;

	if (!atsm_snap_rd_start(r))
		return -1;
	flags = atsm_snap_get8(r);
	ids->local = (flags & 1) != 0;
	ids->in = (flags & 2) != 0;
	*vis = (flags >> 2) & 3;
	ids->id = (long long)atsm_snap_get64(r);
	*thread = (long long)atsm_snap_get64(r);
	ids->key = atsm_snap_getstr_ref(r, ATSM_DIR_KEY_MAX - 1, &ids->key_len);
	*tkey = atsm_snap_getstr_ref(r, ATSM_DIR_KEY_MAX - 1, tkey_len);
	ids->token = atsm_snap_getstr_ref(r, ATSM_DIR_TOKEN_MAX - 1, &ids->token_len);
	ids->msgid = atsm_snap_getstr_ref(r, ATSM_SNAP_TEXT_MAX, &ids->msgid_len);
	if (r->bad || flags > 15 || *vis > ATSM_VIS_PRIVATE)
		return -1;
	return 0;
}

int
atsm_snap_dec_msg_ids(const MDB_val *v, struct atsm_snap_msg_ids *ids)
{
	struct atsm_snap_rd r;
	const char *tkey;
	size_t tlen;
	long long thread;
	unsigned vis;

	atsm_snap_rd_init(&r, v);
	return dec_msg_head(&r, ids, &thread, &tkey, &tlen, &vis);
}

int
atsm_snap_dec_msg(const MDB_val *v, struct atsm_arena *a, struct atsm_dir_message *m)
{
	struct atsm_snap_rd r;
	struct atsm_snap_msg_ids ids;
	const char *tkey;
	size_t tlen, i, n;
	long long thread;
	unsigned vis;

	memset(m, 0, sizeof(*m));
	atsm_snap_rd_init(&r, v);
	if (dec_msg_head(&r, &ids, &thread, &tkey, &tlen, &vis) < 0)
		return -1;
	m->ref.id = ids.id;
	memcpy(m->ref.key, ids.key, ids.key_len);
	m->direction = ids.in ? ATSM_DIR_IN : ATSM_DIR_OUT;
	m->thread.id = thread;
	memcpy(m->thread.key, tkey, tlen);
	m->visibility = (enum atsm_visibility)vis;
	memcpy(m->token, ids.token, ids.token_len);
	n = atsm_snap_get16(&r);
	if (n > ATSM_DIR_MESSAGE_LINKS_MAX)
		return -1;
	if (n > 0 && (m->links = atsm_arena_calloc(a, n, sizeof(*m->links))) == NULL)
		return -2;
	for (i = 0; i < n; i++) {
		struct atsm_dir_link *l = &m->links[i];
		unsigned lf;

		l->kind = atsm_snap_kind_of_char((int)atsm_snap_get8(&r));
		lf = atsm_snap_get8(&r);
		l->id = (long long)atsm_snap_get64(&r);
		l->resume_id = (long long)atsm_snap_get64(&r);
		l->job_id = (long long)atsm_snap_get64(&r);
		if (r.bad || l->kind == ATSM_RECORD_NONE || lf > 3)
			return -1;
		l->ambiguous = (lf & 1) != 0;
		if ((lf & 2) != 0) {
			size_t len;
			const char *p = atsm_snap_getstr_ref(&r, ATSM_SNAP_ADDR_MAX, &len);

			if (p == NULL || len == 0)
				return -1;
			if ((l->resume_addr = atsm_arena_strndup(a, p, len)) == NULL)
				return -2;
		}
	}
	m->n_links = n;
	n = atsm_snap_get16(&r);
	if (r.bad || n > ATSM_DIR_PARTICIPANTS_MAX)
		return -1;
	if (n > 0 && (m->participants = atsm_arena_calloc(a, n, sizeof(char *))) == NULL)
		return -2;
	for (i = 0; i < n; i++) {
		size_t len;
		const char *p = atsm_snap_getstr_ref(&r, ATSM_SNAP_ADDR_MAX, &len);

		if (p == NULL)
			return -1;
		if ((m->participants[i] = atsm_arena_strndup(a, p, len)) == NULL)
			return -2;
	}
	m->n_participants = n;
	if (!r.bad && r.off < r.n)
		m->owner_id = (long long)atsm_snap_get64(&r);
	return atsm_snap_rd_end(&r) ? 0 : -1;
}

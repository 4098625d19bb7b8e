/* base/arena.c -- one region of memory per mail (see base/arena.h). */
#include "base/arena.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The strictest alignment of the C types (C99 has no max_align_t). */
union atsm_arena_align {
	long double ld;
	long long ll;
	void *p;
	void (*fn)(void);
};

struct atsm_arena_chunk {
	struct atsm_arena_chunk *next;
	size_t size, off;
	union atsm_arena_align data[];
};

#define ALIGN (sizeof(union atsm_arena_align))

void
atsm_arena_init(struct atsm_arena *a, size_t limit)
{
	a->head = NULL;
	a->used = 0;
	a->limit = limit;
}

void *
atsm_arena_alloc(struct atsm_arena *a, size_t n)
{
	struct atsm_arena_chunk *c = a->head;
	size_t need = (n + ALIGN - 1) / ALIGN * ALIGN;
	void *p;

	if (need < n || (a->limit != 0 && (need > a->limit || a->used > a->limit - need)))
		return NULL;
	if (c == NULL || c->size - c->off < need) {
		size_t size = c != NULL ? c->size * 2 : ATSM_ARENA_CHUNK;

		while (size < need)
			size *= 2;
		if ((c = malloc(sizeof(*c) + size)) == NULL)
			return NULL;
		c->size = size;
		c->off = 0;
		c->next = a->head;
		a->head = c;
	}
	p = (char *)c->data + c->off;
	c->off += need;
	a->used += need;
	memset(p, 0, n);
	return p;
}

void *
atsm_arena_calloc(struct atsm_arena *a, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	return atsm_arena_alloc(a, n * size);
}

char *
atsm_arena_strndup(struct atsm_arena *a, const char *s, size_t n)
{
	char *p;

	if (s == NULL)
		return NULL;
	n = strnlen(s, n);
	if ((p = atsm_arena_alloc(a, n + 1)) == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
atsm_arena_strdup(struct atsm_arena *a, const char *s)
{
	return s == NULL ? NULL : atsm_arena_strndup(a, s, strlen(s));
}

void
atsm_arena_free(struct atsm_arena *a)
{
	struct atsm_arena_chunk *c = a->head, *next;

	for (; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	a->head = NULL;
	a->used = 0;
}

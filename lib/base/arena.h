/* base/arena.h -- one region of memory per mail (or per request), freed
 * at once: the directory's answers, the pieces of a plan, the effects
 * applied to the snapshot.  Allocation is a pointer bump inside chunks;
 * nothing is freed one by one.  The arena has a hard limit, so no input
 * can grow memory beyond it: an allocation past the limit returns NULL
 * and the caller fails with a sentence naming what did not fit.
 * Not thread-safe: one arena belongs to one thread at a time.
 */
#ifndef ATSM_BASE_ARENA_H
#define ATSM_BASE_ARENA_H

#include <stddef.h>

#define ATSM_ARENA_CHUNK (16u * 1024u)   /* the first chunk; later ones double */

struct atsm_arena_chunk;

struct atsm_arena {
	struct atsm_arena_chunk *head;   /* newest chunk first */
	size_t used;                     /* bytes handed out, for the limit */
	size_t limit;                    /* 0 = no limit */
};

void atsm_arena_init(struct atsm_arena *a, size_t limit);
/* n bytes aligned for any object, zeroed; NULL when the limit would be
 * passed or memory is short. */
void *atsm_arena_alloc(struct atsm_arena *a, size_t n);
/* n items of size bytes (overflow-checked), zeroed. */
void *atsm_arena_calloc(struct atsm_arena *a, size_t n, size_t size);
/* Copies; NULL in gives NULL out. */
char *atsm_arena_strdup(struct atsm_arena *a, const char *s);
char *atsm_arena_strndup(struct atsm_arena *a, const char *s, size_t n);
/* Everything at once; the arena can be used again after. */
void atsm_arena_free(struct atsm_arena *a);

#endif

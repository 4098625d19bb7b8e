/* atsmail-site.h -- what a site holds, for atsmail-site.c and
 * atsmail-file.c only (the Dovecot side sees struct atsmail_site as
 * opaque, see atsmail-core.h).
 */
#ifndef ATSMAIL_SITE_H
#define ATSMAIL_SITE_H

#include <stdbool.h>

#include "base/conf.h"
#include "store/db.h"
#include "store/journal.h"
#include "rules/token.h"

struct atsmail_site {
	struct atsmail_site *next;
	char *id;                       /* settings text: the cache key */
	unsigned refs;                  /* users holding it */
	bool cached;                    /* in the list (else freed at refs 0) */
	struct atsm_conf conf;
	struct atsm_token_keys keys;
	struct atsm_db_pool *pool;      /* one connection: Dovecot is single-threaded */
	struct atsm_journal *journal;   /* opened on first need */
};

#endif

/* atsmail-site.c -- the settings, site secret, database pool and journal
 * that the plugin uses for a user, cached per process.
 *
 * Interface: atsmail_site_get, atsmail_site_release, atsmail_site_parse_max,
 * atsmail_sites_free (atsmail-core.h).
 *
 * A site is identified by the text of its settings (the atsmail_config
 * path and every atsmail_<setting> override), so users that share them
 * share one parse of the file and one database connection.  A Dovecot
 * process is single-threaded and files one mail at a time: the pool holds
 * one connection whatever db_pool_size says, so that process_limit LMTP
 * processes cost at most process_limit connections.  The journal is
 * opened on first need, as the mail user, since it is only written while
 * the database is unavailable.
 */
#include "atsmail-core.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/conf.h"
#include "store/db.h"
#include "base/err.h"
#include "rules/token.h"
#include "atsmail-site.h"

/* Sites one process keeps at most: distinct settings are a handful in
 * practice (one per Dovecot configuration); more means per-user files,
 * and the oldest are then not cached but still work. */
#define SITE_CACHE_MAX 16
/* Bytes of a site's identity (path + overrides). */
#define SITE_ID_MAX (64u * 1024u)

static struct atsmail_site *sites;
static unsigned n_sites;

static void
site_free(struct atsmail_site *s)
{
	if (s == NULL)
		return;
	if (s->pool != NULL)
		atsm_db_pool_free(s->pool);
	if (s->journal != NULL)
		atsm_journal_close(s->journal);
	atsm_token_keys_wipe(&s->keys);
	atsm_conf_free(&s->conf);
	free(s->id);
	free(s);
}

/* The identity of the settings: path, then "name=value" per override. */
static char *
site_id(const char *conf_path, atsmail_getenv_fn *getenv_fn, void *ctx,
    char *errbuf, size_t errlen)
{
	struct atsm_buf b;
	char key[128];
	const char *v;
	size_t i;

	atsm_buf_init(&b, SITE_ID_MAX);
	if (atsm_buf_puts(&b, conf_path) < 0 || atsm_buf_putc(&b, '\n') < 0)
		goto full;
	for (i = 0; i < atsm_conf_nsettings; i++) {
		snprintf(key, sizeof(key), "%s%s", ATSMAIL_SETTING_PREFIX,
		    atsm_conf_settings[i].name);
		if ((v = getenv_fn(key, ctx)) == NULL)
			continue;
		if (atsm_buf_printf(&b, "%s=%s\n", atsm_conf_settings[i].name, v) < 0)
			goto full;
	}
	return atsm_buf_steal(&b);
full:
	atsm_buf_free(&b);
	snprintf(errbuf, errlen, "the atsmail plugin settings are longer than %u bytes",
	    SITE_ID_MAX);
	return NULL;
}

/* Apply the overrides recorded in the identity to s->conf. */
static int
site_overrides(struct atsmail_site *s, struct atsm_err *err)
{
	char *line, *next, *eq;

	line = strchr(s->id, '\n');
	for (line = line + 1; *line != '\0'; line = next) {
		next = strchr(line, '\n');
		*next++ = '\0';
		eq = strchr(line, '=');
		*eq = '\0';
		if (atsm_conf_set(&s->conf, line, eq + 1, err) < 0) {
			atsm_err_prefix(err, "plugin setting %s%s = %s", ATSMAIL_SETTING_PREFIX,
			    line, eq + 1);
			*eq = '=';
			next[-1] = '\n';
			return -1;
		}
		*eq = '=';
		next[-1] = '\n';
	}
	return 0;
}

/* Whether the mail user could create journal files: the directory, or
 * its parent when the directory is yet to be made. */
static void
journal_check(const struct atsmail_site *s, char *warnbuf, size_t warnlen)
{
	char parent[PATH_MAX];
	char *slash;
	const char *dir = s->conf.journal_dir;

	if (access(dir, W_OK | X_OK) == 0)
		return;
	if (errno == ENOENT) {
		snprintf(parent, sizeof(parent), "%s", dir);
		slash = strrchr(parent, '/');
		if (slash != NULL && slash != parent)
			*slash = '\0';
		if (access(parent, W_OK | X_OK) == 0)
			return;
	}
	snprintf(warnbuf, warnlen, "journal_dir = %s is not writable by uid %ld: "
	    "mail delivered while the database is down cannot be journaled (%s)",
	    dir, (long)geteuid(), strerror(errno));
}

static struct atsmail_site *
site_build(char *id, const char *conf_path, char *errbuf, size_t errlen)
{
	struct atsmail_site *s;
	struct atsm_db_params dp;
	struct atsm_err err;

	atsm_err_clear(&err);
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		free(id);
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	s->id = id;
	if (atsm_conf_init(&s->conf, &err) < 0)
		goto fail;
	if (atsm_conf_load(&s->conf, conf_path, &err) < 0) {
		atsm_err_prefix(&err, "plugin setting %s = %s", ATSMAIL_SETTING_CONFIG, conf_path);
		goto fail;
	}
	if (site_overrides(s, &err) < 0)
		goto fail;
	if (atsm_token_keys_load(s->conf.secret_file, &s->keys, &err) < 0) {
		atsm_err_prefix(&err, "secret_file = %s", s->conf.secret_file);
		goto fail;
	}
	memset(&dp, 0, sizeof(dp));
	dp.conninfo = s->conf.db_conninfo;
	dp.pool_size = 1;
	dp.statement_timeout_ms = s->conf.db_statement_timeout;
	dp.connect_timeout_ms = s->conf.db_connect_timeout;
	dp.application_name = "atsmail-dovecot";
	/* Connects on first use: a database that is down at login time
	 * only sends the mail of this session to the journal. */
	s->pool = atsm_db_pool_new(&dp, &err);
	if (s->pool == NULL) {
		atsm_err_prefix(&err, "db_conninfo");
		goto fail;
	}
	return s;
fail:
	snprintf(errbuf, errlen, "%s", err.msg);
	site_free(s);
	return NULL;
}

/* Make room in the cache by freeing sites no user holds. */
static void
cache_evict(void)
{
	struct atsmail_site **pp, *s;

	for (pp = &sites; *pp != NULL && n_sites >= SITE_CACHE_MAX;) {
		s = *pp;
		if (s->refs == 0) {
			*pp = s->next;
			n_sites--;
			site_free(s);
		} else {
			pp = &s->next;
		}
	}
}

struct atsmail_site *
atsmail_site_get(const char *conf_path, atsmail_getenv_fn *getenv_fn, void *getenv_ctx,
    char *errbuf, size_t errlen, char *warnbuf, size_t warnlen)
{
	struct atsmail_site *s;
	char *id;

	errbuf[0] = '\0';
	warnbuf[0] = '\0';
	if (conf_path == NULL || conf_path[0] != '/') {
		snprintf(errbuf, errlen, "plugin setting %s = %s: %s", ATSMAIL_SETTING_CONFIG,
		    conf_path == NULL ? "(not set)" : conf_path,
		    "must be the absolute path of atsmail.conf");
		return NULL;
	}
	if ((id = site_id(conf_path, getenv_fn, getenv_ctx, errbuf, errlen)) == NULL)
		return NULL;
	for (s = sites; s != NULL; s = s->next) {
		if (strcmp(s->id, id) == 0) {
			free(id);
			s->refs++;
			journal_check(s, warnbuf, warnlen);
			return s;
		}
	}
	if ((s = site_build(id, conf_path, errbuf, errlen)) == NULL)
		return NULL;
	s->refs = 1;
	journal_check(s, warnbuf, warnlen);
	if (n_sites >= SITE_CACHE_MAX)
		cache_evict();
	if (n_sites < SITE_CACHE_MAX) {
		s->cached = true;
		s->next = sites;
		sites = s;
		n_sites++;
	}
	return s;
}

void
atsmail_site_release(struct atsmail_site *s)
{
	if (s == NULL || s->refs == 0)
		return;
	if (--s->refs == 0 && !s->cached)
		site_free(s);
}

size_t
atsmail_site_parse_max(const struct atsmail_site *s)
{
	return s->conf.inbound_parse_max_bytes;
}

void
atsmail_sites_free(void)
{
	struct atsmail_site *s, *next;

	/* Users are gone by plugin deinit; a site still held is freed too. */
	for (s = sites; s != NULL; s = next) {
		next = s->next;
		site_free(s);
	}
	sites = NULL;
	n_sites = 0;
}

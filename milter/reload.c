/* reload.c -- the configuration in force, swapped whole on SIGHUP.
 *
 * Interface: milter_gen_setup, milter_gen_read_conf, milter_gen_load,
 * milter_gen_acquire, milter_gen_release, milter_gen_shutdown,
 * milter_gen_conf_path (milter.h).
 *
 * A "generation" is everything that depends on atsmail.conf: the
 * settings, the parsed internal networks, the site secret, the database
 * pool and the journal.  A reload builds a complete new generation first
 * and swaps it in only when every part of it succeeded, so a bad file is
 * logged and the old settings stay.  Connections take a reference when
 * they start and drop it when they close: a connection keeps the
 * generation it started with, and the old pool is closed when the last
 * connection that uses it goes away.
 */
#include "atsm-build-config.h"
#include "milter.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"

static pthread_mutex_t gen_lock = PTHREAD_MUTEX_INITIALIZER;
static struct milter_gen *gen_current;
static unsigned long gen_serial;
static const char *gen_path;        /* NULL: the default path */
static const char *gen_socket;      /* -p */

void
milter_gen_setup(const char *conf_path, const char *socket_override)
{
	gen_path = conf_path;
	gen_socket = socket_override;
}

const char *
milter_gen_conf_path(void)
{
	return gen_path != NULL ? gen_path : ATSM_CONF_DEFAULT_PATH;
}

int
milter_gen_read_conf(struct atsm_conf *conf, struct atsm_err *err)
{
	struct stat st;

	if (atsm_conf_init(conf, err) < 0)
		return -1;
	/* Like atsmailctl: without -c, a missing default file means the
	 * built-in defaults; a file named with -c must exist. */
	if (gen_path != NULL || stat(ATSM_CONF_DEFAULT_PATH, &st) == 0) {
		if (atsm_conf_load(conf, milter_gen_conf_path(), err) < 0) {
			atsm_conf_free(conf);
			return -1;
		}
	}
	if (gen_socket != NULL && atsm_conf_set(conf, "milter_socket", gen_socket, err) < 0) {
		atsm_conf_free(conf);
		return -1;
	}
	return 0;
}

static void
gen_free(struct milter_gen *g)
{
	if (g == NULL)
		return;
	if (g->pool != NULL)
		atsm_db_pool_free(g->pool);
	if (g->journal != NULL)
		atsm_journal_close(g->journal);
	atsm_token_keys_wipe(&g->keys);
	atsm_netlist_free(&g->internal);
	atsm_conf_free(&g->conf);
	free(g);
}

static struct milter_gen *
gen_build(struct atsm_err *err)
{
	struct milter_gen *g;
	struct atsm_db_params dp;

	g = calloc(1, sizeof(*g));
	if (g == NULL) {
		atsm_err_set(err, "out of memory");
		return NULL;
	}
	if (milter_gen_read_conf(&g->conf, err) < 0) {
		free(g);
		return NULL;
	}
	if (atsm_netlist_parse(g->conf.internal_networks.v, g->conf.internal_networks.n,
	    &g->internal, err) < 0) {
		atsm_err_prefix(err, "internal_networks");
		goto fail;
	}
	if (atsm_token_keys_load(g->conf.secret_file, &g->keys, err) < 0) {
		atsm_err_prefix(err, "secret_file");
		goto fail;
	}
	memset(&dp, 0, sizeof(dp));
	dp.conninfo = g->conf.db_conninfo;
	dp.pool_size = g->conf.db_pool_size;
	dp.statement_timeout_ms = g->conf.db_statement_timeout;
	dp.connect_timeout_ms = g->conf.db_connect_timeout;
	dp.application_name = MILTER_NAME;
	/* The pool connects on first use: a reload while the database is
	 * down still succeeds, and the failure policy applies per message. */
	g->pool = atsm_db_pool_new(&dp, err);
	if (g->pool == NULL)
		goto fail;
	g->journal = atsm_journal_open(g->conf.journal_dir, MILTER_JOURNAL_COMPONENT, err);
	if (g->journal == NULL) {
		atsm_err_prefix(err, "journal_dir");
		goto fail;
	}
	return g;
fail:
	gen_free(g);
	return NULL;
}

int
milter_gen_load(struct atsm_err *err)
{
	struct milter_gen *g, *old;
	int level;

	g = gen_build(err);
	if (g == NULL) {
		atsm_err_prefix(err, "%s", milter_gen_conf_path());
		return -1;
	}
	pthread_mutex_lock(&gen_lock);
	g->serial = ++gen_serial;
	g->refs = 1;
	old = gen_current;
	gen_current = g;
	pthread_mutex_unlock(&gen_lock);

	if (old != NULL && strcmp(old->conf.milter_socket, g->conf.milter_socket) != 0)
		atsm_log(LOG_WARNING, "milter_socket changed to %s: the socket stays %s "
		    "until atsmail-milter is restarted", g->conf.milter_socket,
		    old->conf.milter_socket);
	/* syslog_facility is applied at start only (openlog). */
	level = atsm_log_level_from_conf(g->conf.log_level);
	if (level >= 0)
		atsm_log_set_level(level);
	milter_gen_release(old);
	return 0;
}

struct milter_gen *
milter_gen_acquire(void)
{
	struct milter_gen *g;

	pthread_mutex_lock(&gen_lock);
	g = gen_current;
	if (g != NULL)
		g->refs++;
	pthread_mutex_unlock(&gen_lock);
	return g;
}

void
milter_gen_release(struct milter_gen *g)
{
	bool last;

	if (g == NULL)
		return;
	pthread_mutex_lock(&gen_lock);
	last = --g->refs == 0;
	pthread_mutex_unlock(&gen_lock);
	if (last) {
		atsm_log(LOG_DEBUG, "configuration generation %lu released", g->serial);
		gen_free(g);
	}
}

void
milter_gen_shutdown(void)
{
	struct milter_gen *g;

	pthread_mutex_lock(&gen_lock);
	g = gen_current;
	gen_current = NULL;
	pthread_mutex_unlock(&gen_lock);
	milter_gen_release(g);
}

/* gen.c -- the configuration in force, swapped whole on SIGHUP.
 *
 * Interface: atsmaild_gen_setup, atsmaild_gen_conf_path,
 * atsmaild_gen_read_conf, atsmaild_gen_load, atsmaild_gen_acquire,
 * atsmaild_gen_release, atsmaild_gen_shutdown (atsmaild.h).
 *
 * A "generation" is what a reload may change while mail flows: the
 * settings, the parsed internal networks, the site secret (key rotation)
 * and the allowed peers.  A reload builds a complete new generation first
 * and swaps it in only when every part of it succeeded, so a bad file is
 * logged and the old settings stay.  Each mail takes the generation in
 * force when it starts and drops it at its end.  What lives as long as the
 * process -- the sockets, the snapshot, the journal, the database logins
 * of the recorder and the follower -- is read at start only (core.c,
 * listen.c); a reload that changes one of those says it needs a restart.
 */
#include "atsm-build-config.h"
#include "atsmaild.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"

static pthread_mutex_t gen_lock = PTHREAD_MUTEX_INITIALIZER;
static struct atsmaild_gen *gen_current;
static unsigned long gen_serial;
static const char *gen_path;        /* NULL: the default path */

/* Settings read once, at start: a change needs a restart. */
static const char *const restart_settings[] = {
	"milter_socket", "filing_socket", "snapshot_dir", "journal_dir", "db_conninfo",
	"service_max_connections", "syslog_facility",
};

/* A relative -c path is made absolute against the directory atsmaild
 * was started in: going to the background changes to "/", and a reload
 * would then read another file, or none.  Not realpath(): an admin who
 * points a symbolic link at another file and reloads means the new one. */
void
atsmaild_gen_setup(const char *conf_path)
{
	static char abs[PATH_MAX];
	char cwd[PATH_MAX];

	gen_path = conf_path;
	if (conf_path == NULL || conf_path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return;
	if ((size_t)snprintf(abs, sizeof(abs), "%s/%s", cwd, conf_path) < sizeof(abs))
		gen_path = abs;
}

const char *
atsmaild_gen_conf_path(void)
{
	return gen_path != NULL ? gen_path : ATSM_CONF_DEFAULT_PATH;
}

int
atsmaild_gen_read_conf(struct atsm_conf *conf, struct atsm_err *err)
{
	struct stat st;

	if (atsm_conf_init(conf, err) < 0)
		return -1;
	/* Like atsmailctl: without -c, a missing default file means the
	 * built-in defaults; a file named with -c must exist. */
	if (gen_path != NULL || stat(ATSM_CONF_DEFAULT_PATH, &st) == 0) {
		if (atsm_conf_load(conf, atsmaild_gen_conf_path(), err) < 0) {
			atsm_conf_free(conf);
			return -1;
		}
	}
	return 0;
}

static void
gen_free(struct atsmaild_gen *g)
{
	if (g == NULL)
		return;
	atsm_token_keys_wipe(&g->keys);
	atsm_netlist_free(&g->internal);
	atsm_conf_free(&g->conf);
	free(g);
}

static struct atsmaild_gen *
gen_build(struct atsm_err *err)
{
	struct atsmaild_gen *g = calloc(1, sizeof(*g));

	if (g == NULL) {
		atsm_err_setc(err, ATSM_ERR_NOMEM, "out of memory");
		return NULL;
	}
	if (atsmaild_gen_read_conf(&g->conf, err) < 0) {
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
	if (atsmaild_peers_parse(&g->conf.milter_peers, "milter_peers", &g->milter_peers,
	    err) < 0 || atsmaild_peers_parse(&g->conf.filing_peers, "filing_peers",
	    &g->filing_peers, err) < 0)
		goto fail;
	return g;
fail:
	gen_free(g);
	return NULL;
}

/* Tell about settings a reload cannot change. */
static void
warn_restart(const struct atsm_conf *old, const struct atsm_conf *new)
{
	size_t i;

	for (i = 0; i < sizeof(restart_settings) / sizeof(restart_settings[0]); i++) {
		const struct atsm_conf_setting *s = atsm_conf_find(restart_settings[i]);
		struct atsm_buf a, b;

		if (s == NULL)
			continue;
		atsm_buf_init(&a, 4096);
		atsm_buf_init(&b, 4096);
		(void)atsm_conf_write_value(old, s, &a);
		(void)atsm_conf_write_value(new, s, &b);
		if (strcmp(atsm_buf_str(&a), atsm_buf_str(&b)) != 0)
			atsm_log(LOG_WARNING, "%s changed: it takes effect when atsmaild is "
			    "restarted", s->name);
		atsm_buf_free(&a);
		atsm_buf_free(&b);
	}
}

int
atsmaild_gen_load(struct atsm_err *err)
{
	struct atsmaild_gen *g, *old;
	int level;

	g = gen_build(err);
	if (g == NULL) {
		atsm_err_prefix(err, "%s", atsmaild_gen_conf_path());
		return -1;
	}
	pthread_mutex_lock(&gen_lock);
	g->serial = ++gen_serial;
	g->refs = 1;
	old = gen_current;
	gen_current = g;
	pthread_mutex_unlock(&gen_lock);
	if (old != NULL)
		warn_restart(&old->conf, &g->conf);
	level = atsm_log_level_from_conf(g->conf.log_level);
	if (level >= 0)
		atsm_log_set_level(level);
	atsmaild_gen_release(old);
	return 0;
}

struct atsmaild_gen *
atsmaild_gen_acquire(void)
{
	struct atsmaild_gen *g;

	pthread_mutex_lock(&gen_lock);
	g = gen_current;
	if (g != NULL)
		g->refs++;
	pthread_mutex_unlock(&gen_lock);
	return g;
}

void
atsmaild_gen_release(struct atsmaild_gen *g)
{
	bool last;

	if (g == NULL)
		return;
	pthread_mutex_lock(&gen_lock);
	last = --g->refs == 0;
	pthread_mutex_unlock(&gen_lock);
	if (last)
		gen_free(g);
}

void
atsmaild_gen_shutdown(void)
{
	struct atsmaild_gen *g;

	pthread_mutex_lock(&gen_lock);
	g = gen_current;
	gen_current = NULL;
	pthread_mutex_unlock(&gen_lock);
	atsmaild_gen_release(g);
}

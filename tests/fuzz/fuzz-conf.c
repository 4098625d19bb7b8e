/* fuzz-conf.c -- libFuzzer target for atsmail.conf parsing (lib/conf.c).
 *
 * Loads the input as a configuration text over the defaults; must never
 * crash, leak or read out of bounds.  When the input is accepted, every
 * non-secret value printed by atsm_conf_write_value must parse back to the
 * same text (what `atsmailctl config show` prints is a valid file), and a
 * failed load must leave the defaults untouched.
 */
#include "base/buf.h"
#include "base/conf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *
written(const struct atsm_conf *c, const struct atsm_conf_setting *s)
{
	struct atsm_buf b;

	atsm_buf_init(&b, 2 * ATSM_CONF_LINE_MAX);
	if (atsm_conf_write_value(c, s, &b) < 0)
		abort();
	return atsm_buf_steal(&b);
}

static void
check_round_trip(const struct atsm_conf *c)
{
	struct atsm_conf d;
	struct atsm_err err;
	size_t i;

	if (atsm_conf_init(&d, &err) < 0)
		abort();
	for (i = 0; i < atsm_conf_nsettings; i++) {
		const struct atsm_conf_setting *s = &atsm_conf_settings[i];
		char *v, *w;

		if (s->secret)
			continue;
		v = written(c, s);
		if (atsm_conf_set(&d, s->name, v, &err) < 0)
			abort();
		w = written(&d, s);
		if (strcmp(v, w) != 0)
			abort();
		free(v);
		free(w);
	}
	atsm_conf_free(&d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct atsm_conf c;
	struct atsm_err err;

	if (atsm_conf_init(&c, &err) < 0)
		abort();
	if (atsm_conf_load_text(&c, (const char *)data, size, "fuzz.conf", &err) == 0) {
		check_round_trip(&c);
	} else {
		/* all or nothing: the defaults are still there */
		if (c.webhook_max_attempts != 12 || strcmp(c.db_conninfo, "dbname=atsmail") != 0 ||
		    c.company_domains.n != 0 || memchr(err.msg, '\0', sizeof(err.msg)) == NULL)
			abort();
	}
	atsm_conf_free(&c);
	return 0;
}

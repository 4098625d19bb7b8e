/* ubsan-options.c -- preloaded with the sanitizer runtimes into the
 * Dovecot processes that load a --enable-sanitizers build of the plugin
 * (tests/testbed/testbed-mail.sh compiles it into the test bed).
 *
 * UBSan reads UBSAN_OPTIONS lazily, at its first report, and from
 * /proc/self/environ; Dovecot's processes overwrite their initial
 * environment early (master_service_env_clean), so a report in the plugin
 * ran with no options: no log_path, no abort, no stack.  Dovecot keeps the
 * variables of import_environment in its new environment, so UBSan's hook
 * for built-in defaults hands it the value getenv() still sees.
 */
#include <stdlib.h>

const char *__ubsan_default_options(void);

const char *
__ubsan_default_options(void)
{
	const char *o = getenv("UBSAN_OPTIONS");

	return o != NULL ? o : "";
}

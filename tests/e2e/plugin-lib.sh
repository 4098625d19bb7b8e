# tests/e2e/plugin-lib.sh -- common set-up of the Dovecot plugin's tests (sourced).
#
#   . "$top_srcdir/tests/e2e/plugin-lib.sh"
#   plugin_start            copy the built plugin aside, write atsmail.conf, a
#                           secret and a journal directory for the mail user
#                           (uid 5000), start pg + Postfix + Dovecot with the
#                           plugin for lmtp, lda and imap, migrate and seed
#   mx FROM TO [swaks args]     send through the test bed's MX (port 25 role)
#   imap USER PW ARGS...        tests/testbed/imap.py
#   wait_sql SQL EXPECTED       poll (<= 10 s) until the query prints EXPECTED
#   mid NAME                    a fresh Message-ID for this run
# $PW holds the plugin's files; the test bed is stopped and both are removed
# at exit (TB_KEEP=1 keeps them).
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/e2e-lib.sh"

PLUGIN_SO=$top_builddir/dovecot-plugin/.libs/lib90_atsmail_plugin.so
MAIL_UID=5000
RUN=$$

plugin_cleanup() {
	tb_cleanup
	[ "$TB_KEEP" = 1 ] || rm -rf "${PW:-/nonexistent}"
}

plugin_start() {
	[ "$(id -u)" = 0 ] || tap_skip_all "the test bed needs root"
	[ -f "$PLUGIN_SO" ] || tap_skip_all "the Dovecot plugin is not built"
	command -v swaks >/dev/null || tap_skip_all "swaks is not installed"
	PW=$(mktemp -d /tmp/atsm-plugin.XXXXXX)
	chmod 755 "$PW"
	mkdir "$PW/modules" "$PW/journal"
	cp "$PLUGIN_SO" "$PW/modules/"
	chown "$MAIL_UID:$MAIL_UID" "$PW/journal"
	chmod 700 "$PW/journal"
	head -c 48 /dev/urandom | base64 | tr -d '\n/+=' >"$PW/secret"
	chown "$MAIL_UID:$MAIL_UID" "$PW/secret"
	chmod 600 "$PW/secret"
	export TB_DOVECOT_PLUGIN_DIR="$PW/modules" TB_DOVECOT_MAIL_PLUGINS=atsmail
	export TB_DOVECOT_PLUGIN_SETTINGS="  atsmail_config = $PW/atsmail.conf"
	# The test bed's ports are only known once it runs: the file is
	# written before any mail arrives, and each user reads it at login.
	: >"$PW/atsmail.conf"
	tb_start pg postfix dovecot
	trap plugin_cleanup EXIT
	cat >"$PW/atsmail.conf" <<CONF
db_conninfo = host=127.0.0.1 port=$TB_PGPORT dbname=$TB_DB user=atsm_dovecot
db_statement_timeout = 2s
db_connect_timeout = 2s
ats_domain = ats.atsmail.test
company_domains = atsmail.test
secret_file = $PW/secret
journal_dir = $PW/journal
log_level = debug
CONF
	chmod 644 "$PW/atsmail.conf"
	tb_migrate >"$PW/migrate.log" 2>&1 || tap_bail "migrate failed: $(cat "$PW/migrate.log")"
	tb_psql -f "$top_srcdir/tests/data/seed.sql" >/dev/null || tap_bail "cannot load seed.sql"
	if [ -f "$top_srcdir/tests/data/seed-inbound.sql" ]; then
		tb_psql -f "$top_srcdir/tests/data/seed-inbound.sql" >/dev/null \
			|| tap_bail "cannot load seed-inbound.sql"
	fi
	tb_psql >/dev/null <<'SQL' || tap_bail "cannot create the plugin's login"
DO $$ BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'atsm_dovecot') THEN
		CREATE ROLE atsm_dovecot LOGIN IN ROLE atsmail_writer; END IF;
END $$;
SQL
}

mid() { echo "<$1.$RUN.$(date +%s%N)@e2e.test>"; }

# mx FROM TO SWAKS-ARGS... : through Postfix's MX service (no AUTH)
mx() {
	local from=$1 to=$2
	shift 2
	swaks --server 127.0.0.1 --port "$TB_SMTP_PORT" --from "$from" --to "$to" "$@" \
		>>"$PW/swaks.log" 2>&1
}

imap() { python3 "$top_srcdir/tests/testbed/imap.py" -p "$TB_IMAP_PORT" "$@"; }

# wait_sql SQL EXPECTED: the query's output, once it equals EXPECTED or after 10 s
wait_sql() {
	local out=
	for _ in $(seq 1 100); do
		out=$(tb_psql -c "$1" 2>&1)
		[ "$out" = "$2" ] && break
		sleep 0.1
	done
	printf '%s' "$out"
}

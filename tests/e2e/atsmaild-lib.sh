# tests/e2e/atsmaild-lib.sh -- atsmaild beside the test bed (sourced).
#
#   . "$top_srcdir/tests/e2e/e2e-lib.sh"
#   . "$top_srcdir/tests/e2e/atsmaild-lib.sh"
#   ad_prepare NAME        a fresh directory $AD_<NAME> for one atsmaild (a
#                          "host"): sockets, secret, journal and snapshot
#                          directories; prints nothing.  Call it before
#                          tb_start, then export what it says (ad_wire).
#   ad_wire NAME           export TB_POSTFIX_MILTERS and the Dovecot plugin
#                          settings so that the test bed's Postfix and
#                          Dovecot use that atsmaild
#   ad_db                  migrate, load the seeds, create the login of the
#                          service (atsm_service, a member of atsmail_writer)
#   ad_conf NAME [LINE...] write its atsmail.conf (extra lines appended)
#   ad_start NAME          start it (-f, as root: it is the test's child)
#                          and wait until its snapshot is loaded
#   ad_stop NAME           SIGTERM and wait
#   ad_log NAME            its log file
# Every atsmaild started is stopped at exit (ad_cleanup is chained in
# front of the test bed's cleanup).  The sockets' peers: Postfix's uid and
# the test bed's mail uid 5000 (and root, for miltertest and the tests).
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"

ATSMAILD=$top_builddir/atsmaild/atsmaild
AD_CTL=$top_builddir/ctl/atsmailctl
AD_PLUGIN_SO=$top_builddir/dovecot-plugin/.libs/lib90_atsmail_plugin.so
AD_NAMES=

ad_dir() { eval "echo \${AD_$1:-}"; }
ad_log() { echo "$(ad_dir "$1")/atsmaild.log"; }

ad_prepare() {
	local name=$1 d
	[ -x "$ATSMAILD" ] || tap_skip_all "atsmaild is not built"
	d=$(mktemp -d /tmp/atsm-ad.XXXXXX)
	chmod 755 "$d"
	mkdir -p "$d/modules" "$d/journal" "$d/snapshot"
	[ -f "$AD_PLUGIN_SO" ] && cp "$AD_PLUGIN_SO" "$d/modules/"
	# the test bed's imap loads Dovecot's acl plugin (the template folder)
	# from mail_plugin_dir, which is this directory
	ln -sf /usr/lib/dovecot/modules/lib01_acl_plugin.so "$d/modules/" 2>/dev/null
	head -c 48 /dev/urandom | base64 | tr -d '\n/+=' >"$d/secret"
	chmod 600 "$d/secret"
	eval "AD_$name=$d"
	AD_NAMES="$AD_NAMES $name"
}

# One site, several hosts: every host of a site holds the same secret.
ad_share_secret() {  # ad_share_secret FROM TO
	cp "$(ad_dir "$1")/secret" "$(ad_dir "$2")/secret"
}

ad_wire() {
	local d
	d=$(ad_dir "$1")
	export TB_POSTFIX_MILTERS="unix:$d/milter.sock"
	export TB_DOVECOT_PLUGIN_DIR=$d/modules TB_DOVECOT_MAIL_PLUGINS=atsmail
	export TB_DOVECOT_PLUGIN_SETTINGS="  atsmail_socket = $d/filing.sock
  atsmail_timeout = 10s"
}

ad_db() {
	tb_migrate >"$TB_DIR/migrate.log" 2>&1 || tap_bail "migrate failed: $(tail -5 "$TB_DIR/migrate.log")"
	tb_psql -f "$top_srcdir/tests/data/seed.sql" >/dev/null || tap_bail "cannot load seed.sql"
	tb_psql -f "$top_srcdir/tests/data/seed-inbound.sql" >/dev/null ||
		tap_bail "cannot load seed-inbound.sql"
	tb_psql >/dev/null <<'SQL' || tap_bail "cannot create the service's login"
DO $$ BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'atsm_service') THEN
		CREATE ROLE atsm_service LOGIN IN ROLE atsmail_writer; END IF;
END $$;
SQL
}

# ad_conf NAME [LINE...]: PGHOST/PGPORT of the test bed that holds the
# database (AD_PGHOST/AD_PGPORT when set: a second host uses the first's)
ad_conf() {
	local name=$1 d host port
	shift
	d=$(ad_dir "$name")
	host=${AD_PGHOST:-$TB_PGHOST}
	port=${AD_PGPORT:-$TB_PGPORT}
	{
		echo "# written by tests/e2e/atsmaild-lib.sh"
		echo "db_conninfo = host=$host port=$port dbname=$TB_DB user=atsm_service"
		echo "db_statement_timeout = 5s"
		echo "db_connect_timeout = 2s"
		echo "ats_domain = ats.atsmail.test"
		echo "company_domains = atsmail.test"
		echo "secret_file = $d/secret"
		echo "milter_socket = unix:$d/milter.sock"
		echo "filing_socket = unix:$d/filing.sock"
		echo "milter_peers = postfix"
		echo "filing_peers = 5000"
		echo "journal_dir = $d/journal"
		echo "snapshot_dir = $d/snapshot"
		echo "log_level = debug"
		for l in "$@"; do echo "$l"; done
	} >"$d/atsmail.conf"
}

ad_pid() { cat "$(ad_dir "$1")/atsmaild.pid" 2>/dev/null; }

# wait until the snapshot has been loaded (atsmailctl snapshot status: 0)
ad_ready() {
	local d
	d=$(ad_dir "$1")
	for _ in $(seq 1 200); do
		"$AD_CTL" -c "$d/atsmail.conf" snapshot status >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}

ad_start() {
	local name=$1 d
	d=$(ad_dir "$name")
	rm -f "$d/atsmaild.pid"
	setsid "$ATSMAILD" -f -c "$d/atsmail.conf" -P "$d/atsmaild.pid" \
		</dev/null >>"$d/atsmaild.log" 2>&1 &
	for _ in $(seq 1 100); do [ -s "$d/atsmaild.pid" ] && [ -S "$d/filing.sock" ] && break; sleep 0.05; done
	[ -s "$d/atsmaild.pid" ] || tap_bail "atsmaild $name did not start: $(tail -5 "$d/atsmaild.log")"
	ad_ready "$name" || tap_bail "atsmaild $name: its snapshot was not loaded: $(tail -5 "$d/atsmaild.log")"
}

# The PID file of an atsmaild that was killed (SIGKILL leaves it) may name
# another process by now: only an atsmaild of this build is signalled.
ad_stop() {
	local p
	p=$(ad_pid "$1")
	[ -n "$p" ] || return 0
	case "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" in
	"$ATSMAILD "*)
		kill -TERM "$p" 2>/dev/null
		for _ in $(seq 1 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
		kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
		;;
	esac
	rm -f "$(ad_dir "$1")/atsmaild.pid"
}

ad_cleanup() {
	local n d
	for n in $AD_NAMES; do
		ad_stop "$n"
		d=$(ad_dir "$n")
		if [ "${TB_KEEP:-0}" = 1 ]; then echo "# atsmaild $n kept in $d" >&2; else rm -rf "$d"; fi
	done
	tb_cleanup
}

#!/bin/bash
# testbed.sh -- private PostgreSQL, Postfix and Dovecot for atsmail's tests,
# the demo and the benchmarks, under one directory, on loopback only.
#
#   testbed.sh start DIR [COMPONENT...]   components: pg postfix dovecot (default: all)
#   testbed.sh stop DIR
#   testbed.sh status DIR
#   testbed.sh pg-stop DIR | pg-start DIR   stop / start PostgreSQL alone (failure tests)
#   testbed.sh adduser DIR user@domain password   add a Dovecot mailbox (hosted domains)
#
# start writes DIR/testbed.env (shell variables, see write_env) which tests
# source.  Every process is tracked by its PID file under DIR; nothing is
# killed by name and nothing under /etc or /var is touched.  Ports are free
# loopback ports chosen at start, so several test beds can run side by side.
# Must run as root (PostgreSQL runs as the postgres user, Postfix drops to postfix).
set -u

PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
TB_DB=atsmail

die() { echo "testbed: $*" >&2; exit 1; }
alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null && ! ps -o stat= -p "$1" 2>/dev/null | grep -q '^Z'; }
pid_of() { [ -s "$1" ] && head -1 "$1" | tr -d ' \n'; }
wait_gone() { local p=$1 n=${2:-120}; for _ in $(seq 1 "$n"); do alive "$p" || return 0; sleep 0.1; done; return 1; }

# free_ports N: N distinct free TCP ports on 127.0.0.1
free_ports() {
	python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks: s.close()
PY
}

# ---------------------------------------------------------------- PostgreSQL
pg_start() {
	local d=$TB/pg
	[ -x "$PGBIN/initdb" ] || die "PostgreSQL server binaries not found (install the Debian package postgresql)"
	mkdir -p "$d/sock"
	chown postgres:postgres "$d" "$d/sock"; chmod 700 "$d"
	if [ ! -s "$d/data/PG_VERSION" ]; then
		runuser -u postgres -- "$PGBIN/initdb" -D "$d/data" -U postgres --auth=trust \
			-E UTF8 --locale=C.UTF-8 >"$d/initdb.log" 2>&1 || die "initdb failed: see $d/initdb.log"
		cat >>"$d/data/postgresql.conf" <<CONF
# --- atsmail test bed ---
listen_addresses = '127.0.0.1'
port = $TB_PGPORT
unix_socket_directories = '$d/sock'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
CONF
	fi
	runuser -u postgres -- "$PGBIN/pg_ctl" -D "$d/data" -l "$d/postgres.log" -w -t 60 start >/dev/null \
		|| die "PostgreSQL did not start: see $d/postgres.log"
	runuser -u postgres -- psql -h "$d/sock" -p "$TB_PGPORT" -U postgres -qAtc \
		"select 1 from pg_database where datname='$TB_DB'" postgres | grep -q 1 \
		|| runuser -u postgres -- createdb -h "$d/sock" -p "$TB_PGPORT" -U postgres "$TB_DB" \
		|| die "createdb $TB_DB failed"
}
pg_stop() {
	local p; p=$(pid_of "$TB/pg/data/postmaster.pid")
	alive "$p" && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$TB/pg/data" -m fast -w stop >/dev/null
	wait_gone "$p"
}

# ------------------------------------------------------------ Postfix, Dovecot
# (filled in by the Postfix/Dovecot part of the test bed)
[ -f "$(dirname "$0")/testbed-mail.sh" ] && . "$(dirname "$0")/testbed-mail.sh"

write_env() {
	cat >"$TB/testbed.env" <<ENV
# written by testbed.sh start; source it
TB_DIR='$TB'
TB_PGHOST='$TB/pg/sock'
TB_PGPORT=$TB_PGPORT
TB_DB=$TB_DB
TB_COMPONENTS='$COMPONENTS'
# libpq conninfo of the database superuser (migrations, test set-up)
TB_PG_ADMIN='host=$TB/pg/sock port=$TB_PGPORT dbname=$TB_DB user=postgres'
ENV
	declare -F mail_write_env >/dev/null && mail_write_env >>"$TB/testbed.env"
	return 0
}

cmd=${1:-}; TB=${2:-}
[ -n "$cmd" ] && [ -n "$TB" ] || { echo "usage: $0 start|stop|status DIR [pg postfix dovecot]" >&2; exit 2; }
shift 2
case "$TB" in /*) ;; *) TB=$(pwd)/$TB ;; esac

case "$cmd" in
start)
	[ "$(id -u)" = 0 ] || die "must run as root (it runs PostgreSQL as postgres and Postfix as postfix)"
	COMPONENTS=${*:-pg postfix dovecot}
	mkdir -p "$TB" && chmod 755 "$TB"
	read -r TB_PGPORT TB_SMTP_PORT TB_SUBMISSION_PORT TB_LMTP_PORT TB_IMAP_PORT TB_SPARE_PORT \
		TB_SINK_PORT <<<"$(free_ports 7)"
	export TB TB_PGPORT TB_SMTP_PORT TB_SUBMISSION_PORT TB_LMTP_PORT TB_IMAP_PORT TB_SPARE_PORT \
		TB_SINK_PORT
	for c in $COMPONENTS; do
		case "$c" in
		pg) pg_start ;;
		dovecot|postfix) declare -F "${c}_start" >/dev/null || die "component $c is not available"; ;;
		*) die "unknown component '$c' (known: pg postfix dovecot)" ;;
		esac
	done
	# Dovecot before Postfix: Postfix authenticates through Dovecot's auth socket
	for c in dovecot postfix; do
		case " $COMPONENTS " in *" $c "*) "${c}_start" || die "$c did not start" ;; esac
	done
	write_env
	;;
stop)
	[ -f "$TB/testbed.env" ] && . "$TB/testbed.env"
	declare -F postfix_stop >/dev/null && postfix_stop
	declare -F dovecot_stop >/dev/null && dovecot_stop
	pg_stop
	;;
pg-stop)
	pg_stop
	;;
pg-start)
	. "$TB/testbed.env" || die "no test bed in $TB"
	runuser -u postgres -- "$PGBIN/pg_ctl" -D "$TB/pg/data" -l "$TB/pg/postgres.log" -w -t 60 start >/dev/null \
		|| die "PostgreSQL did not start: see $TB/pg/postgres.log"
	;;
adduser)
	[ $# -eq 2 ] || { echo "usage: $0 adduser DIR user@domain password" >&2; exit 2; }
	declare -F mail_adduser >/dev/null || die "the mail part of the test bed is not available"
	mail_adduser "$1" "$2" || exit 1
	;;
status)
	for f in pg/data/postmaster.pid postfix/spool/pid/master.pid dovecot/run/master.pid; do
		p=$(pid_of "$TB/$f"); if alive "$p"; then echo "$f: running ($p)"; else echo "$f: stopped"; fi
	done
	;;
*) echo "usage: $0 start|stop|status|pg-stop|pg-start|adduser DIR [pg postfix dovecot]" >&2; exit 2 ;;
esac

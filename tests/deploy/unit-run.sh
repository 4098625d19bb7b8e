#!/bin/bash
# tests/deploy/unit-run.sh -- start, stop, restart or reload a daemon of the
# deploy test's root the way its systemd unit would, without systemd.
#
#   unit-run.sh start|stop|restart|reload NAME
#
# Installed in the root as /usr/local/sbin/atsm-deploy-service and run there
# (chrooted).  NAME is what the guide's `<!-- deploy:service NAME -->` says:
#   postgresql   every cluster of /etc/postgresql, as postgresql@V-C.service
#   postfix      postfix@-.service (Debian's postfix.service is /bin/true)
#   other        NAME.service (dovecot, atsmaild, atsmail-notifyd, ...)
# The unit file and its drop-ins are read from /etc/systemd/system and
# /lib/systemd/system, so the test follows the units the packages install:
# User, Group, UMask, Environment(File), RuntimeDirectory(+Mode),
# StateDirectory(+Mode), ExecStartPre, ExecStart, ExecStop, ExecReload, Type
# and PIDFile are honoured (the "-" and "+" prefixes too, "%i" "%I" "%n"
# "%%" and "$MAINPID").  Sandboxing (ProtectSystem=, PrivateTmp=, ...) is
# not: the root has no systemd to apply it; its effect is what
# `systemd-analyze security` reports, not what this test checks.
# A simple or notify service runs in the background as its User, its output
# in /var/log/atsm-deploy/UNIT.log, its pid in /run/atsm-deploy/UNIT.pid.
set -u
STATE=/run/atsm-deploy
LOGS=/var/log/atsm-deploy
mkdir -p "$STATE" "$LOGS"

die() { echo "atsm-deploy-service: $*" >&2; exit 1; }

# unit_files UNIT TEMPLATE: the unit file, then its drop-ins, in order
unit_files() {
	local u=$1 t=$2 d f main=
	for d in /etc/systemd/system /lib/systemd/system /usr/lib/systemd/system; do
		[ -f "$d/$u" ] && { main=$d/$u; break; }
		[ -n "$t" ] && [ -f "$d/$t" ] && { main=$d/$t; break; }
	done
	[ -n "$main" ] || return 1
	echo "$main"
	for d in /lib/systemd/system /usr/lib/systemd/system /etc/systemd/system; do
		for f in ${t:+"$d/$t.d"/*.conf} "$d/$u.d"/*.conf; do
			[ -f "$f" ] && echo "$f"
		done
	done
	return 0
}

# unit_parse FILE...: the [Service] settings as KEY<TAB>VALUE lines, an
# empty assignment emitted as KEY<TAB> (it resets a list)
unit_parse() {
	awk '
	/^[ \t]*[#;]/ { next }
	/^\[/ { sec = $0; next }
	sec == "[Service]" && /=/ {
		line = $0
		while (line ~ /\\$/ && (getline nxt) > 0) { sub(/\\$/, " ", line); line = line nxt }
		k = line; sub(/=.*/, "", k); gsub(/[ \t]/, "", k)
		v = line; sub(/^[^=]*=[ \t]*/, "", v); sub(/[ \t]+$/, "", v)
		printf "%s\t%s\n", k, v
	}' "$@"
}

# load UNIT INSTANCE TEMPLATE: the settings into shell variables
load() {
	local unit=$1 inst=$2 tmpl=$3 k v files w
	files=$(unit_files "$unit" "$tmpl") || die "no unit file for $unit"
	U_USER='' U_GROUP='' U_TYPE=simple U_UMASK='' U_PIDFILE=''
	U_PRE=() U_START=() U_STOP=() U_RELOAD=() U_ENV=() U_ENVFILE=()
	U_RUNDIR=() U_RUNMODE=0755 U_STATEDIR=() U_STATEMODE=0755
	while IFS=$'\t' read -r k v; do
		v=${v//%%/$'\001'}; v=${v//%i/$inst}; v=${v//%I/$inst}; v=${v//%n/$unit}
		v=${v//$'\001'/%}
		case $k in
		User) U_USER=$v ;; Group) U_GROUP=$v ;; Type) U_TYPE=$v ;;
		UMask) U_UMASK=$v ;; PIDFile) U_PIDFILE=$v ;;
		ExecStartPre) [ -z "$v" ] && U_PRE=() || U_PRE+=("$v") ;;
		ExecStart) [ -z "$v" ] && U_START=() || U_START+=("$v") ;;
		ExecStop) [ -z "$v" ] && U_STOP=() || U_STOP+=("$v") ;;
		ExecReload) [ -z "$v" ] && U_RELOAD=() || U_RELOAD+=("$v") ;;
		Environment) [ -n "$v" ] && U_ENV+=("$v") ;;
		EnvironmentFile) [ -n "$v" ] && U_ENVFILE+=("$v") ;;
		RuntimeDirectory) [ -z "$v" ] && U_RUNDIR=() || { read -ra w <<<"$v"; U_RUNDIR+=("${w[@]}"); } ;;
		RuntimeDirectoryMode) U_RUNMODE=$v ;;
		StateDirectory) [ -z "$v" ] && U_STATEDIR=() || { read -ra w <<<"$v"; U_STATEDIR+=("${w[@]}"); } ;;
		StateDirectoryMode) U_STATEMODE=$v ;;
		esac
	done < <(unit_parse $files)
	[ ${#U_START[@]} -gt 0 ] || die "$unit has no ExecStart"
	[ -n "$U_USER" ] && [ -z "$U_GROUP" ] && U_GROUP=$(id -gn "$U_USER")
	UNIT=$unit
}

# run_cmd MODE CMDLINE: one Exec line; MODE fg (wait, its status) or bg
# (background, pid file); the prefixes "-" (failure ignored) and "+" (as
# root) as systemd reads them
run_cmd() {
	local mode=$1 cmd=$2 ignore=0 asroot=0 e f
	while :; do
		case $cmd in
		-*) ignore=1; cmd=${cmd#-} ;;
		+* | !*) asroot=1; cmd=${cmd#?} ;;
		@* | :*) cmd=${cmd#?} ;;
		*) break ;;
		esac
	done
	local -a env=() priv=()
	for f in "${U_ENVFILE[@]}"; do
		case $f in -*) f=${f#-}; [ -r "$f" ] || continue ;; esac
		while IFS= read -r e; do
			case $e in '' | '#'* | ';'*) ;; *) env+=("$e") ;; esac
		done <"$f"
	done
	for e in "${U_ENV[@]}"; do eval "env+=($e)"; done
	if [ -n "$U_USER" ] && [ $asroot = 0 ]; then
		priv=(setpriv --reuid="$U_USER" --regid="$U_GROUP" --init-groups --)
	fi
	eval "set -- $cmd"
	(
		[ -n "$U_UMASK" ] && umask "$U_UMASK"
		cd /
		if [ "$mode" = bg ]; then
			exec setsid sh -c 'echo $$ >"$0"; exec "$@"' "$STATE/$UNIT.pid" \
				env "${env[@]}" "${priv[@]}" "$@" </dev/null >>"$LOGS/$UNIT.log" 2>&1
		fi
		exec env "${env[@]}" "${priv[@]}" "$@" </dev/null >>"$LOGS/$UNIT.log" 2>&1
	) &
	local pid=$! rc
	if [ "$mode" = bg ]; then return 0; fi
	wait $pid; rc=$?
	[ $ignore = 1 ] && return 0
	[ $rc = 0 ] || echo "atsm-deploy-service: $UNIT: '$cmd' exited $rc (see $LOGS/$UNIT.log)" >&2
	return $rc
}

mkdirs() {  # mkdirs BASE MODE DIR...: RuntimeDirectory / StateDirectory
	local base=$1 mode=$2 d
	shift 2
	for d in "$@"; do
		mkdir -p "$base/$d" && chmod "$mode" "$base/$d" || return 1
		[ -n "$U_USER" ] && chown "$U_USER:$U_GROUP" "$base/$d"
	done
	return 0
}

mainpid() {
	local f=$STATE/$UNIT.pid
	[ -n "$U_PIDFILE" ] && [ -f "$U_PIDFILE" ] && f=$U_PIDFILE
	[ -f "$f" ] && head -n1 "$f"
}

do_start() {
	local c pid i
	[ -f "$STATE/$UNIT.started" ] && return 0
	mkdirs /run "$U_RUNMODE" "${U_RUNDIR[@]}" || return 1
	mkdirs /var/lib "$U_STATEMODE" "${U_STATEDIR[@]}" || return 1
	for c in "${U_PRE[@]}"; do run_cmd fg "$c" || return 1; done
	case $U_TYPE in
	forking | oneshot)
		for c in "${U_START[@]}"; do run_cmd fg "$c" || return 1; done ;;
	*)
		rm -f "$STATE/$UNIT.pid"
		run_cmd bg "${U_START[0]}"
		for ((i = 0; i < 50; i++)); do [ -s "$STATE/$UNIT.pid" ] && break; sleep 0.1; done
		sleep 1
		pid=$(mainpid)
		if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
			echo "atsm-deploy-service: $UNIT exited at start:" >&2
			tail -n 20 "$LOGS/$UNIT.log" >&2
			return 1
		fi ;;
	esac
	touch "$STATE/$UNIT.started"
}

do_stop() {
	local c pid i
	[ -f "$STATE/$UNIT.started" ] || return 0
	pid=$(mainpid)
	for c in "${U_STOP[@]}"; do run_cmd fg "${c//\$MAINPID/$pid}"; done
	if [ -n "$pid" ] && [ ${#U_STOP[@]} -eq 0 ]; then kill -TERM "$pid" 2>/dev/null; fi
	if [ -n "$pid" ]; then
		for ((i = 0; i < 600; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$pid" 2>/dev/null && { echo "atsm-deploy-service: $UNIT did not stop in 60s" >&2; return 1; }
	fi
	rm -f "$STATE/$UNIT.started" "$STATE/$UNIT.pid"
}

do_reload() {
	local c pid
	pid=$(mainpid)
	if [ ${#U_RELOAD[@]} -eq 0 ]; then do_stop && do_start; return; fi
	for c in "${U_RELOAD[@]}"; do run_cmd fg "${c//\$MAINPID/$pid}" || return 1; done
}

# act VERB UNIT INSTANCE TEMPLATE
act() {
	load "$2" "$3" "$4"
	case $1 in
	start) do_start ;;
	stop) do_stop ;;
	restart) do_stop && do_start ;;
	reload) do_reload ;;
	*) die "unknown action $1" ;;
	esac
}

verb=${1:?usage: atsm-deploy-service start|stop|restart|reload NAME}
name=${2:?usage: atsm-deploy-service start|stop|restart|reload NAME}
case $name in
postgresql)
	n=0
	for conf in /etc/postgresql/*/*/postgresql.conf; do
		[ -f "$conf" ] || continue
		c=${conf%/postgresql.conf}; v=${c%/*}; v=${v##*/}
		act "$verb" "postgresql@$v-${c##*/}.service" "$v-${c##*/}" postgresql@.service || exit 1
		n=$((n + 1))
	done
	[ $n -gt 0 ] || die "no PostgreSQL cluster in /etc/postgresql"
	;;
postfix) act "$verb" postfix@-.service - postfix@.service ;;
*.service) act "$verb" "$name" "" "" ;;
*) act "$verb" "$name.service" "" "" ;;
esac

# tests/testbed/testbed-mail.sh -- the Postfix and Dovecot part of the test
# bed (sourced by testbed.sh, which sets TB and the TB_*_PORT variables).
#
#   dovecot_start     private Dovecot: IMAP, LMTP, SASL socket for Postfix
#   postfix_start     private Postfix: MX and submission smtpd, LMTP delivery
#   postfix_stop, dovecot_stop      stop by PID file, wait until gone
#   mail_write_env    prints the lines testbed.env gets from this part
#   mail_adduser ADDRESS PASSWORD   adds a mailbox (testbed.sh adduser)
#
# Configurations come from conf/*.in, with @NAME@ replaced (see mail_render).
# A start that fails prints the component and the end of its log on stderr
# and returns 1.  Layout, ports, users and hooks: docs/testbed.md.

MAIL_CONF_IN=$(cd "$(dirname "${BASH_SOURCE[0]}")/conf" && pwd)
MAIL_DOMAINS="atsmail.test candidate.test client.test"
MAIL_UID=5000
# bounded waits: 200 x 0.05 s
MAIL_WAIT_TRIES=200
: "${TB_MILTER_DEFAULT_ACTION:=tempfail}"
: "${TB_DOVECOT_PLUGIN_DIR:=/usr/lib/dovecot/modules}"

# mail_render TEMPLATE OUT: conf/TEMPLATE with the @NAME@ place holders
# filled.  Replacements are quoted so that "&" in a value stays literal
# (bash 5.2 patsub_replacement).
mail_render() {
	local s
	s=$(<"$MAIL_CONF_IN/$1") || return 1
	s=${s//@TB@/"$TB"}
	s=${s//@CONF_IN@/"$MAIL_CONF_IN"}
	s=${s//@INSTANCE@/"$(basename "$TB")"}
	s=${s//@SMTP_PORT@/"$TB_SMTP_PORT"}
	s=${s//@SUBMISSION_PORT@/"$TB_SUBMISSION_PORT"}
	s=${s//@LMTP_PORT@/"$TB_LMTP_PORT"}
	s=${s//@IMAP_PORT@/"$TB_IMAP_PORT"}
	s=${s//@SINK_PORT@/"$TB_SINK_PORT"}
	s=${s//@MILTERS@/"${TB_POSTFIX_MILTERS:-}"}
	s=${s//@MILTER_DEFAULT_ACTION@/"$TB_MILTER_DEFAULT_ACTION"}
	s=${s//@PLUGIN_DIR@/"$TB_DOVECOT_PLUGIN_DIR"}
	s=${s//@MAIL_PLUGINS@/"${TB_DOVECOT_MAIL_PLUGINS:-}"}
	s=${s//@PLUGIN_SETTINGS@/"${TB_DOVECOT_PLUGIN_SETTINGS:-}"}
	s=${s//@PLUGIN_SERVICES@/"${MAIL_PLUGIN_SERVICES:-}"}
	printf '%s\n' "$s" >"$2"
}

# mail_fail COMPONENT LOG: report a failed start (Postfix prints nothing
# without a tty; its messages are only in the maillog).
mail_fail() {
	echo "testbed: $1 did not start; last lines of $2:" >&2
	tail -n 25 "$2" 2>/dev/null | sed 's/^/  /' >&2
	return 1
}

# mail_listening PORT...: all ports have a listener on 127.0.0.1
mail_listening() {
	local port out
	out=$(ss -Hltn 2>/dev/null) || return 1
	for port in "$@"; do
		case "$out" in *"127.0.0.1:$port "*) ;; *) return 1 ;; esac
	done
}

# mail_session_alive SID: a live (non-zombie) process is in session SID.
# Both masters call setsid(), so their session holds all their children.
mail_session_alive() {
	ps -e -o sid=,pid=,stat= | awk -v s="$1" '$1 == s && $3 !~ /^Z/ { f = 1 } END { exit !f }'
}

# mail_ours PID: the process works in or was started on this test bed
# (PID files outlive their daemon; the PID may have been reused since)
mail_ours() {
	local where
	where="$(readlink "/proc/$1/cwd" 2>/dev/null) $(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null)"
	[[ "$where" == *"$TB/"* ]]
}

# mail_stop_pid NAME PID: SIGTERM the master, wait until it and every
# process of its session are gone; SIGKILL what is left after ~10 s.
mail_stop_pid() {
	local name=$1 p=$2 i
	alive "$p" && mail_ours "$p" || return 0
	kill "$p" 2>/dev/null
	for ((i = 0; i < MAIL_WAIT_TRIES; i++)); do
		alive "$p" || mail_session_alive "$p" || return 0
		sleep 0.05
	done
	echo "testbed: $name ($p) did not stop in time; killing its session" >&2
	ps -e -o sid=,pid= | awk -v s="$p" '$1 == s { print $2 }' | xargs -r kill -KILL 2>/dev/null
	wait_gone "$p" 50
}

# mail_san_runtimes: the sanitizer runtimes (paths, libasan first) that the
# plugins of TB_DOVECOT_MAIL_PLUGINS need; nothing for a plain build.  gcc
# links an instrumented shared object against them (NEEDED libasan.so.N,
# libubsan.so.N); Dovecot is not instrumented, so they must be preloaded
# into the processes that load the plugin (ASan must come first).
mail_san_runtimes() {
	local p
	for p in ${TB_DOVECOT_MAIL_PLUGINS:-}; do
		ldd "$TB_DOVECOT_PLUGIN_DIR"/lib*_"${p}"_plugin.so 2>/dev/null
	done | awk '$1 ~ /^lib(asan|ubsan)\.so/ && $3 ~ /^\// && !seen[$3]++ { print ($1 ~ /asan/ ? 0 : 1), $3 }' |
		sort -n | awk '{ print $2 }'
}

# mail_plugin_exec: write $TB/dovecot/plugin-exec, which runs a Dovecot
# program that loads the plugins (lmtp and imap through the services
# below; a test runs dovecot-lda through it, $TB_DOVECOT_EXEC) with the
# runtimes preloaded and the sanitizer options of the environment the test
# bed was started in (tests/san-run.sh sets them); with a plain build it
# only runs the program.  Sets MAIL_PLUGIN_SERVICES, the dovecot.conf lines
# that start lmtp and imap through it, without an address-space limit
# (ASan reserves terabytes of shadow memory; the default is 256M); GDB=1
# keeps Dovecot from unloading the plugin at exit (lib/module-dir.c), so
# that a leak report can still name the plugin's functions;
# ubsan-options.so (tests/testbed/ubsan-options.c, compiled here) gives
# UBSan its options, which it would read from the environment Dovecot
# has overwritten by then; and lines that keep all this when a program
# started by hand (dovecot-lda) cleans its environment and re-executes
# itself through doveconf.
mail_plugin_exec() {
	local rt exe=$TB/dovecot/plugin-exec libexec=${TB_DOVECOT_LIBEXEC:-/usr/lib/dovecot} s
	rt=$(mail_san_runtimes | tr '\n' ' ')
	rt=${rt% }
	if [ -n "$rt" ]; then
		"${CC:-cc}" -shared -fPIC -O1 -o "$TB/dovecot/ubsan-options.so" \
			"$MAIL_CONF_IN/../ubsan-options.c" || return 1
		# after libasan (it must come first), before libubsan (to be found)
		case $rt in
		*" "*) rt="${rt%% *} $TB/dovecot/ubsan-options.so ${rt#* }" ;;
		*) rt="$rt $TB/dovecot/ubsan-options.so" ;;
		esac
	fi
	{
		echo '#!/bin/sh'
		echo '# written by tests/testbed/testbed-mail.sh: runs a Dovecot program that'
		echo '# loads the plugins, with the sanitizer runtimes they need preloaded'
		if [ -n "$rt" ]; then
			printf 'LD_PRELOAD=%q\n' "$rt"
			printf 'ASAN_OPTIONS=%q\n' "${ASAN_OPTIONS:-}"
			printf 'UBSAN_OPTIONS=%q\n' "${UBSAN_OPTIONS:-}"
			echo '# Dovecot does not dlclose() its modules when GDB is set: the'
			echo '# reports at exit then name the plugin'"'"'s functions and lines'
			echo 'GDB=1'
			echo 'export LD_PRELOAD ASAN_OPTIONS UBSAN_OPTIONS GDB'
		fi
		echo 'exec "$@"'
	} >"$exe" && chmod 755 "$exe" || return 1
	MAIL_PLUGIN_SERVICES=
	[ -n "$rt" ] || return 0
	MAIL_PLUGIN_SERVICES="import_environment = \$import_environment LD_PRELOAD ASAN_OPTIONS UBSAN_OPTIONS GDB
"
	for s in lmtp imap; do
		MAIL_PLUGIN_SERVICES+="service $s {
  executable = $exe $libexec/$s
  vsz_limit = 0
}
"
	done
}

dovecot_start() {
	local d=$TB/dovecot i p
	# The SASL socket goes into Postfix's private/ directory, which must
	# exist before Dovecot (started first) creates the socket.
	mkdir -p "$d/run" "$d/state" "$TB/mail" "$TB/postfix/spool/private" || return 1
	chown root:root "$TB/postfix/spool" && chmod 755 "$TB/postfix/spool"
	chown postfix:root "$TB/postfix/spool/private" && chmod 700 "$TB/postfix/spool/private"
	chown "$MAIL_UID:$MAIL_UID" "$TB/mail" && chmod 750 "$TB/mail"
	# a missing plugin would only show at the first delivery: check now
	for p in ${TB_DOVECOT_MAIL_PLUGINS:-}; do
		compgen -G "$TB_DOVECOT_PLUGIN_DIR/lib*_${p}_plugin.so" >/dev/null && continue
		echo "testbed: dovecot: no plugin $p (lib*_${p}_plugin.so) in $TB_DOVECOT_PLUGIN_DIR" >&2
		return 1
	done
	# imap loads Dovecot's acl plugin (the read-only template folder,
	# dovecot.conf.in): a test's own plugin directory gets a link to it
	if ! compgen -G "$TB_DOVECOT_PLUGIN_DIR/lib*_acl_plugin.so" >/dev/null; then
		ln -sf /usr/lib/dovecot/modules/lib01_acl_plugin.so "$TB_DOVECOT_PLUGIN_DIR/" ||
			return 1
	fi
	mail_plugin_exec || return 1
	mail_render dovecot.conf.in "$d/dovecot.conf" || return 1
	# keep the users a test added when the test bed is restarted
	[ -s "$d/users" ] || cp "$MAIL_CONF_IN/users.in" "$d/users" || return 1
	chown root:dovecot "$d/users" && chmod 640 "$d/users"
	if ! dovecot -c "$d/dovecot.conf" 2>>"$d/dovecot.log"; then
		mail_fail dovecot "$d/dovecot.log"
		return 1
	fi
	for ((i = 0; i < MAIL_WAIT_TRIES; i++)); do
		p=$(pid_of "$d/run/master.pid")
		alive "$p" && [ -S "$TB/postfix/spool/private/auth" ] &&
			mail_listening "$TB_LMTP_PORT" "$TB_IMAP_PORT" && return 0
		sleep 0.05
	done
	mail_fail dovecot "$d/dovecot.log"
}

postfix_start() {
	local d=$TB/postfix i p
	mkdir -p "$d/conf" "$d/spool" "$d/data" || return 1
	chown root:root "$d/spool" && chmod 755 "$d/spool"
	chown postfix:postfix "$d/data"
	mail_render main.cf.in "$d/conf/main.cf" && mail_render master.cf.in "$d/conf/master.cf" || return 1
	# Postfix re-reads a configuration file modified within the last
	# second until it is older (6 x 0.3 s); it was written whole just now.
	touch -d "@$(($(date +%s) - 60))" "$d/conf/main.cf" "$d/conf/master.cf"
	# "master -w" inside "postfix start" returns once the listeners are
	# open; the port check below only guards against surprises.
	if ! postfix -c "$d/conf" start >"$d/start.out" 2>&1; then
		cat "$d/start.out" >&2
		mail_fail postfix "$d/maillog"
		return 1
	fi
	for ((i = 0; i < MAIL_WAIT_TRIES; i++)); do
		p=$(pid_of "$d/spool/pid/master.pid")
		alive "$p" && mail_listening "$TB_SMTP_PORT" "$TB_SUBMISSION_PORT" && return 0
		sleep 0.05
	done
	mail_fail postfix "$d/maillog"
}

# Stopping signals the master from its PID file directly (what "postfix
# abort" / "doveadm stop" do) instead of "postfix stop", which polls in 1 s
# steps.  Postfix's master forwards SIGTERM to its process group.
postfix_stop() {
	mail_stop_pid postfix "$(pid_of "$TB/postfix/spool/pid/master.pid")"
}

dovecot_stop() {
	mail_stop_pid dovecot "$(pid_of "$TB/dovecot/run/master.pid")"
}

# mail_adduser ADDRESS PASSWORD: Dovecot re-reads its passwd-file when it
# changes and Postfix accepts every address of a hosted domain, so one line
# is enough; no reload.  Idempotent it is not: an existing address fails.
mail_adduser() {
	local addr=$1 pw=$2 users=$TB/dovecot/users
	case "$addr" in
	*[!A-Za-z0-9.+_@-]* | *@*@* | @* | *@) echo "testbed: bad address '$addr'" >&2; return 1 ;;
	*@*) ;;
	*) echo "testbed: bad address '$addr'" >&2; return 1 ;;
	esac
	case " $MAIL_DOMAINS " in
	*" ${addr#*@} "*) ;;
	*) echo "testbed: ${addr#*@} is not hosted (hosted: $MAIL_DOMAINS)" >&2; return 1 ;;
	esac
	case "$pw" in
	"" | *:* | *$'\n'*) echo "testbed: the password must be non-empty, without ':' or newline" >&2; return 1 ;;
	esac
	[ -f "$users" ] || { echo "testbed: no Dovecot users file in $TB" >&2; return 1; }
	if awk -F: -v a="$addr" 'tolower($1) == tolower(a) { f = 1 } END { exit !f }' "$users"; then
		echo "testbed: $addr exists already" >&2
		return 1
	fi
	printf '%s:{PLAIN}%s::::::\n' "$addr" "$pw" >>"$users" || return 1
	# Dovecot looks at the file at most once a second: return only once it
	# knows the user, so that the caller can log in at once.
	alive "$(pid_of "$TB/dovecot/run/master.pid")" || return 0
	local i
	for ((i = 0; i < 40; i++)); do
		doveadm -c "$TB/dovecot/dovecot.conf" auth login "$addr" "$pw" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "testbed: Dovecot does not know $addr after 4 s" >&2
	return 1
}

mail_write_env() {
	cat <<ENV
TB_SMTP_PORT=$TB_SMTP_PORT
TB_SUBMISSION_PORT=$TB_SUBMISSION_PORT
TB_LMTP_PORT=$TB_LMTP_PORT
TB_IMAP_PORT=$TB_IMAP_PORT
TB_SINK_PORT=$TB_SINK_PORT
TB_SPARE_PORT=$TB_SPARE_PORT
TB_POSTFIX_CONF='$TB/postfix/conf'
TB_MAILLOG='$TB/postfix/maillog'
TB_DOVECOT_CONF='$TB/dovecot/dovecot.conf'
TB_DOVECOT_LOG='$TB/dovecot/dovecot.log'
TB_DOVECOT_USERS='$TB/dovecot/users'
TB_DOVECOT_EXEC='$TB/dovecot/plugin-exec'
TB_MAIL_DIR='$TB/mail'
TB_COMPANY_DOMAIN=atsmail.test
TB_CANDIDATE_DOMAIN=candidate.test
TB_CLIENT_DOMAIN=client.test
ENV
	# the hooks as they were at start (printf %q: values may hold spaces, newlines)
	local v
	for v in TB_POSTFIX_MILTERS TB_MILTER_DEFAULT_ACTION TB_DOVECOT_PLUGIN_DIR \
	    TB_DOVECOT_MAIL_PLUGINS TB_DOVECOT_PLUGIN_SETTINGS; do
		printf '%s=%q\n' "$v" "${!v:-}"
	done
}

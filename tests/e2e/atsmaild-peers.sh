#!/bin/bash
# tests/e2e/atsmaild-peers.sh -- who may talk to atsmaild (SO_PEERCRED).
#
# tests/e2e/peer-probe.py connects to a socket as the user that runs it
# and speaks the protocol of that socket (the milter option negotiation,
# or a filing request).  Shown:
#   - a process of a user that is in neither milter_peers nor filing_peers
#     (nobody) gets no answer on either socket: the connection is closed
#     unanswered, and atsmaild logs "refused" with that process id and uid;
#   - Postfix's user is served on the milter socket and refused on the
#     filing socket; the mail uid (5000) is served on the filing socket and
#     refused on the milter socket; root is served on both;
#   - the real Postfix and Dovecot of the test bed are served: ATS mail
#     sent and a reply delivered are recorded;
#   - a reload (SIGHUP) that takes uid 5000 out of filing_peers refuses its
#     next connection (and one that puts it back serves it again); a
#     reload whose file names an unknown user is refused and changes
#     nothing;
#   - the same for an atsmaild in the background started with a relative
#     -c path (it changed to "/": the reload must read the same file);
#   - out of descriptors (a low open-files limit, prlimit), connections
#     wait in the backlog: said once in the log (not once per poll, which
#     was a busy loop), then served once descriptors are free again.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/e2e-lib.sh"
. "$top_srcdir/tests/e2e/atsmaild-lib.sh"
. "$top_srcdir/tests/e2e/atsmaild-mail-lib.sh"

PROBE_PY=$top_srcdir/tests/e2e/peer-probe.py
MAIL_UID=5000

[ "$(id -u)" = 0 ] || tap_skip_all "the test bed needs root"
command -v swaks >/dev/null || tap_skip_all "swaks is not installed"
command -v setpriv >/dev/null || tap_skip_all "setpriv (util-linux) is not installed"
id nobody >/dev/null 2>&1 || tap_skip_all "there is no user nobody"
id postfix >/dev/null 2>&1 || tap_skip_all "there is no user postfix"
[ -f "$AD_PLUGIN_SO" ] || tap_skip_all "the Dovecot plugin is not built"

ad_prepare P
ad_wire P
tb_start pg postfix dovecot
trap ad_cleanup EXIT
AM_LOG=$TB_DIR/swaks.log
ad_db
ad_conf P
ad_start P
PID=$(ad_pid P)
MSOCK=$AD_P/milter.sock FSOCK=$AD_P/filing.sock
CONF=$AD_P/atsmail.conf
NOBODY=$(id -u nobody) POSTFIX=$(id -u postfix)
W_HOLD=$TB_DIR/holding

# as WHO SOCKET-KIND: run the probe as WHO (a user name, a uid, or root);
# the program comes on standard input, so no user needs to read the tree,
# and the system's python3 is used (a root-only one may be first in PATH)
as() {
	local who=$1 kind=$2 sock
	[ "$kind" = milter ] && sock=$MSOCK || sock=$FSOCK
	case "$who" in
	root) python3 - "$kind" "$sock" <"$PROBE_PY" ;;
	[0-9]*) setpriv --reuid="$who" --regid="$who" --clear-groups -- \
		env PATH=/usr/local/bin:/usr/bin:/bin python3 - "$kind" "$sock" <"$PROBE_PY" ;;
	*) runuser -u "$who" -- env PATH=/usr/local/bin:/usr/bin:/bin python3 - "$kind" "$sock" <"$PROBE_PY" ;;
	esac
}
# refused WHO KIND: closed without an answer, and logged with pid and uid
refused() {
	local who=$1 kind=$2 out pid uid list setting
	[ "$kind" = milter ] && { list=milter_peers; setting=milter_socket; } ||
		{ list=filing_peers; setting=filing_socket; }
	out=$(as "$who" "$kind" 2>&1)
	read -r _ pid _ uid _ <<<"$out"
	tap_ok "$who on the $kind socket: closed without an answer ($out)" \
		sh -c "printf '%s' '$out' | grep -Eq '^pid [0-9]+ uid [0-9]+ closed\$'"
	tap_ok "$who on the $kind socket: atsmaild logs the refusal with pid $pid and uid $uid" \
		grep -q "$setting .*: connection from pid $pid uid $uid refused: that user is not in $list" \
		"$(ad_log P)"
}
served() {
	local who=$1 kind=$2 want=$3 out
	out=$(as "$who" "$kind" 2>&1)
	tap_ok "$who on the $kind socket: served ($out)" \
		sh -c "printf '%s' '$out' | grep -Eq '^pid [0-9]+ uid [0-9]+ answered $want'"
}

# ---- a stranger: nobody ---------------------------------------------------------------
refused nobody milter
refused nobody filing
tap_is "nobody: no session was started for it (no 'connection N: pid' line with its uid)" \
	"$(grep -c "connection [0-9]*: pid [0-9]* uid $NOBODY\$" "$(ad_log P)")" 0

# ---- the configured peers, each on its own socket only, and root ----------------------
served postfix milter optneg
refused postfix filing
served "$MAIL_UID" filing "OK 1"
refused "$MAIL_UID" milter
served root milter optneg
served root filing "OK 1"

# ---- the real Postfix and Dovecot are served -------------------------------------------
M=$(am_mid sent) R=$(am_mid reply)
reply=$(am_submit "$TB_SUBMISSION_PORT" alice@atsmail.test alice@atsmail.test taro@candidate.test \
	--header "Message-Id: $M" --header "Subject: Interview" --body "Hello.")
tap_is "Postfix (milter_peers) is served: ATS mail accepted" "${reply%% *}" 250
tap_is "... and recorded" \
	"$(am_wait_sql "select count(*) from atsmail.messages where rfc_message_id = '$(am_bare "$M")'" 1)" 1
reply=$(am_mx "$TB_SMTP_PORT" taro@candidate.test alice@atsmail.test --header "Message-Id: $R" \
	--header "In-Reply-To: $M" --header "Subject: Re: Interview" --body "Thanks.")
flags=$(am_imap -w 15 "$TB_IMAP_PORT" alice@atsmail.test flags "$R" 2>&1)
tap_ok "Dovecot's mail uid (filing_peers) is served: the reply is filed (\$ATS; flags: $flags)" \
	sh -c "case ' $flags ' in *' \$ATS '*) exit 0;; esac; exit 1"
tap_ok "the milter connections were Postfix's uid, the filing ones the mail uid" sh -c "
	grep -q 'milter connection [0-9]*: pid [0-9]* uid $POSTFIX\$' '$(ad_log P)' &&
	grep -q 'filing connection [0-9]*: pid [0-9]* uid $MAIL_UID\$' '$(ad_log P)'"

# ---- reloads -------------------------------------------------------------------------
# reload: SIGHUP, then wait until the log says it was done (or refused)
reload() {
	local n
	n=$(grep -c -e "configuration reloaded" -e "reload failed" "$(ad_log P)")
	kill -HUP "$PID"
	for _ in $(seq 1 100); do
		[ "$(grep -c -e "configuration reloaded" -e "reload failed" "$(ad_log P)")" -gt "$n" ] && return 0
		sleep 0.05
	done
	return 1
}
sed -i "s/^filing_peers = .*/filing_peers = $NOBODY/" "$CONF"
tap_ok "SIGHUP with filing_peers = $NOBODY (the mail uid taken out): reloaded" reload
refused "$MAIL_UID" filing
served nobody filing "OK 1"
served root filing "OK 1"

sed -i "s/^filing_peers = .*/filing_peers = $MAIL_UID/" "$CONF"
tap_ok "SIGHUP with filing_peers = $MAIL_UID again: reloaded" reload
served "$MAIL_UID" filing "OK 1"
refused nobody filing

sed -i "s/^filing_peers = .*/filing_peers = $MAIL_UID, no-such-user-here/" "$CONF"
tap_ok "SIGHUP with an unknown user in filing_peers: refused, saying which" sh -c \
	"kill -HUP $PID; for i in \$(seq 1 100); do
	   grep -q 'reload failed, keeping the running configuration: .*filing_peers: no user \"no-such-user-here\"' '$(ad_log P)' && exit 0
	   sleep 0.05; done; exit 1"
served "$MAIL_UID" filing "OK 1"
refused nobody filing

# ---- a reload of an atsmaild in the background, started with a relative -c ------------
# (going to the background changes to "/": the reload must still read the
# file it was started with).  It logs to syslog only, so what it does is
# what shows the reload: uid 5000 refused once filing_peers leaves it out.
ad_prepare Q
ad_conf Q
(cd "$AD_Q" && "$ATSMAILD" -c atsmail.conf -P "$AD_Q/atsmaild.pid" </dev/null >/dev/null 2>&1)
tap_ok "in the background, started with -c atsmail.conf (relative): ready" ad_ready Q
QSOCK=$AD_Q/filing.sock
q_probe() {
	setpriv --reuid="$MAIL_UID" --regid="$MAIL_UID" --clear-groups -- \
		env PATH=/usr/local/bin:/usr/bin:/bin python3 - filing "$QSOCK" <"$PROBE_PY" 2>&1
}
out=$(q_probe)
tap_ok "... uid $MAIL_UID is served ($out)" sh -c "printf '%s' '$out' | grep -q answered"
sed -i "s/^filing_peers = .*/filing_peers = $NOBODY/" "$AD_Q/atsmail.conf"
kill -HUP "$(ad_pid Q)"
for _ in $(seq 1 100); do q_probe | grep -q closed && break; sleep 0.05; done
out=$(q_probe)
tap_ok "... SIGHUP with uid $MAIL_UID out of filing_peers: its next connection is refused ($out)" \
	sh -c "printf '%s' '$out' | grep -q closed"
ad_stop Q

# ---- out of descriptors: connections wait, the log does not fill ------------------------
soft=$(prlimit --pid "$PID" --nofile --noheadings --output SOFT)
prlimit --pid "$PID" --nofile="$(($(ls "/proc/$PID/fd" | wc -l) + 2)):" || tap_bail "prlimit failed"
python3 - "$FSOCK" "$W_HOLD" <<'PY' &
import os, socket, sys, time
held = []
for _ in range(8):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    held.append(s)
open(sys.argv[2], "w").close()
while os.path.exists(sys.argv[2]):
    time.sleep(0.05)
PY
HOLDER=$!
for _ in $(seq 1 100); do [ -e "$W_HOLD" ] && break; sleep 0.05; done
sleep 1
tap_is "out of descriptors: said once in the log, not once per poll" \
	"$(grep -c "Too many open files" "$(ad_log P)")" 1
rm -f "$W_HOLD"
wait "$HOLDER"
prlimit --pid "$PID" --nofile="$soft:"
served root filing "OK 1"
tap_ok "... and says when it accepts again" grep -q "filing_socket .*: accepting connections again" "$(ad_log P)"
tap_ok "atsmaild is still running" kill -0 "$PID"
tap_done

# tests/e2e/atsmaild-mail-lib.sh -- mail in and out of test beds served by
# atsmaild, for atsmaild-hosts.sh, -disk-full.sh, -peers.sh, -restart.sh
# (sourced after e2e-lib.sh and atsmaild-lib.sh).
#
#   am_submit PORT USER FROM RCPTS [SWAKS-ARG...]
#                         SMTP AUTH (password USERpw, the test bed's rule:
#                         alice@ -> alicepw) on a submission port; prints the
#                         server's last reply before QUIT ("250 2.0.0 Ok:
#                         queued as ...", "451 4.3.0 ...", "550 5.7.1 ...")
#   am_mx PORT FROM RCPTS [SWAKS-ARG...]
#                         the same through an MX port (no AUTH)
#   am_imap [-w S] [-m MAILBOX] PORT USER ARGS...
#                         tests/testbed/imap.py on that port (password as
#                         above; -w: wait up to S seconds for the message)
#   am_sql SQL            one query as the superuser, -qAt output
#   am_wait_sql SQL WANT [SECONDS]   poll every 0.1 s (default at most 15 s)
#                         until the query prints WANT; prints what it last
#                         printed
#   am_mid NAME           a fresh Message-ID (with brackets) for this run
#   am_bare MSGID         the Message-ID without brackets
#   am_queue POSTFIX_CONF the queue ids of what Postfix holds, one a line
# The swaks transcripts go to $AM_LOG (default $TB_DIR/swaks.log).
AM_RUN=$$
AM_IMAP=$top_srcdir/tests/testbed/imap.py

am_pw() { echo "${1%%@*}pw"; }

am_reply() {
	awk '/^ -> QUIT/ { print last; exit } /^<[-*~]/ { last = $0 }' | sed 's/^<[-*~]* *//'
}

am_submit() {
	local port=$1 user=$2 from=$3 rcpts=$4
	shift 4
	swaks --server 127.0.0.1 --port "$port" --auth PLAIN --auth-user "$user" \
		--auth-password "$(am_pw "$user")" --from "$from" --to "$rcpts" "$@" 2>&1 |
		tee -a "${AM_LOG:-$TB_DIR/swaks.log}" | am_reply
}

am_mx() {
	local port=$1 from=$2 rcpts=$3
	shift 3
	swaks --server 127.0.0.1 --port "$port" --from "$from" --to "$rcpts" "$@" 2>&1 |
		tee -a "${AM_LOG:-$TB_DIR/swaks.log}" | am_reply
}

am_imap() {
	local opts=() port user
	while [ "${1:-}" = -w ] || [ "${1:-}" = -m ]; do opts+=("$1" "$2"); shift 2; done
	port=$1 user=$2
	shift 2
	python3 "$AM_IMAP" -p "$port" "${opts[@]}" "$user" "$(am_pw "$user")" "$@"
}

am_sql() { tb_psql -c "$1"; }

am_wait_sql() {
	local sql=$1 want=$2 tries=$((${3:-15} * 10)) got
	for _ in $(seq 1 "$tries"); do
		got=$(tb_psql -c "$sql" 2>/dev/null)
		[ "$got" = "$want" ] && break
		sleep 0.1
	done
	printf '%s\n' "$got"
}

am_mid() { echo "<$1.$AM_RUN.$(date +%s%N)@e2e.test>"; }
am_bare() { local m=${1#<}; echo "${m%>}"; }

am_queue() {
	postqueue -c "$1" -j 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    line = line.strip()
    if line:
        print(json.loads(line)["queue_id"])'
}

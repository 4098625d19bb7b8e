# tests/e2e/plugin-lib.sh -- the inbound path end to end: Postfix -> LMTP ->
# Dovecot with the atsmail plugin -> atsmaild (sourced; on top of
# tests/e2e/atsmaild-lib.sh).
#
#   . "$top_srcdir/tests/e2e/plugin-lib.sh"
#   plugin_start [LINE...]      one atsmaild (host H) wired to the test bed's
#                               Postfix and Dovecot (plugin for lmtp, lda and
#                               imap), pg + postfix + dovecot started, the
#                               database migrated and seeded, atsmaild
#                               started with LINE... added to its atsmail.conf;
#                               $PW is its directory (journal/, snapshot/, logs)
#   mx FROM TO [swaks args]     send through the test bed's MX (port 25 role)
#   imap USER PW ARGS...        tests/testbed/imap.py
#   flags_of USER PW MSG        its FLAGS once it is in INBOX (<= 15 s)
#   has FLAGS KEYWORD           the keyword is among FLAGS
#   has_all FLAGS KEYWORD...    all of them are
#   wait_sql SQL EXPECTED       poll (<= 15 s) until the query prints
#                               EXPECTED: the recorder writes a few
#                               milliseconds after the delivery
#   mid NAME                    a fresh Message-ID for this run
#   strip MSGID                 without its angle brackets
#   journal_count               entries in atsmaild's journal segments
# Everything is stopped and removed at exit (TB_KEEP=1 keeps it).
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/e2e-lib.sh"
. "$top_srcdir/tests/e2e/atsmaild-lib.sh"

MAIL_UID=5000
RUN=$$
SEG_GLOB='[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]*' # a segment's number

plugin_start() {
	[ "$(id -u)" = 0 ] || tap_skip_all "the test bed needs root"
	[ -f "$AD_PLUGIN_SO" ] || tap_skip_all "the Dovecot plugin is not built"
	[ -x "$AD_CTL" ] || tap_skip_all "atsmailctl is not built"
	command -v swaks >/dev/null || tap_skip_all "swaks is not installed"
	ad_prepare H
	ad_wire H
	tb_start pg postfix dovecot
	trap ad_cleanup EXIT
	PW=$AD_H
	ad_db
	ad_conf H "$@"
	ad_start H
}

mid() { echo "<$1.$RUN.$(date +%s%N)@e2e.test>"; }
strip() { local m=${1#<}; echo "${m%>}"; }

# mx FROM TO SWAKS-ARGS... : through Postfix's MX service (no AUTH)
mx() {
	local from=$1 to=$2
	shift 2
	swaks --server 127.0.0.1 --port "$TB_SMTP_PORT" --from "$from" --to "$to" "$@" \
		>>"$PW/swaks.log" 2>&1
}

imap() { python3 "$top_srcdir/tests/testbed/imap.py" -p "$TB_IMAP_PORT" "$@"; }
flags_of() { imap -w 15 "$1" "$2" flags "$3" 2>&1; }
has() { case " $1 " in *" $2 "*) return 0 ;; esac; return 1; }
has_all() { local f=$1 k; shift; for k in "$@"; do has "$f" "$k" || return 1; done; }

# wait_sql SQL EXPECTED: the query's output, once it equals EXPECTED or after 15 s
wait_sql() {
	local out=
	for _ in $(seq 1 150); do
		out=$(tb_psql -c "$1" 2>&1)
		[ "$out" = "$2" ] && break
		sleep 0.1
	done
	printf '%s' "$out"
}

# entries (lines) in the segments of atsmaild's journal
journal_count() {
	cat "$PW"/journal/atsmaild.$SEG_GLOB.jsonl 2>/dev/null | grep -c '"key"'
}

# journal_drained: wait (<= 15 s) until the recorder's checkpoint is at the
# end of the journal: everything journaled is in PostgreSQL (or set aside)
journal_drained() {
	local j=$PW/journal cp cs co f s n ok
	for _ in $(seq 1 150); do
		cp=$(cat "$j/atsmaild.checkpoint" 2>/dev/null)
		cs=-1 co=0
		case $cp in [0-9a-f]*" "[0-9]*) cs=$((16#${cp%% *})) co=${cp##* } ;; esac
		ok=1
		for f in "$j"/atsmaild.$SEG_GLOB.jsonl; do
			[ -e "$f" ] || continue
			n=${f##*/atsmaild.}
			n=$((16#${n%.jsonl}))
			s=$(stat -c %s "$f")
			if [ "$n" -gt "$cs" ]; then [ "$s" = 0 ] || ok=0
			elif [ "$n" = "$cs" ]; then [ "$s" = "$co" ] || ok=0
			fi
		done
		[ "$ok" = 1 ] && return 0
		sleep 0.1
	done
	return 1
}

#!/bin/bash
# tests/e2e/dsn-sisimai.sh -- differential test of the bounce classifier: the
# test bed's own Postfix writes the bounces (an unknown local user, and a
# remote server, dsn-answer.py, that refuses with various codes and texts,
# relays nothing, or defers so that Postfix sends a delay notice), and each one is read by
# atsm_dsn_parse (tests/e2e/dsn-classify) and by Debian's Sisimai
# (tests/e2e/dsn-sisimai.pl).  Both must agree on the recipient, on hard or
# soft and on the reason's family; the delay notice must be a delay for us
# (action delayed, no bounce).  TAP output, bounded waits only.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/e2e-lib.sh"
WAIT=40
command -v perl >/dev/null && perl -MSisimai -e1 2>/dev/null ||
	tap_skip_all "libsisimai-perl is not installed"
tb_start pg postfix dovecot
ANSWER_PID=
stop_answer() { [ -n "$ANSWER_PID" ] && kill "$ANSWER_PID" 2>/dev/null; tb_cleanup; }
trap stop_answer EXIT
python3 "$top_srcdir/tests/e2e/dsn-answer.py" "$TB_SPARE_PORT" &
ANSWER_PID=$!
# remote.test goes to dsn-answer.py; deferred mail is retried and warned
# about within seconds
tm=$(postconf -c "$TB_POSTFIX_CONF" -h transport_maps)
postconf -c "$TB_POSTFIX_CONF" -e \
	"transport_maps = ${tm%\}}, remote.test=smtp:[127.0.0.1]:$TB_SPARE_PORT }" \
	"delay_warning_time = 1s" "queue_run_delay = 1s" "minimal_backoff_time = 1s" \
	"maximal_backoff_time = 2s" "smtp_tls_security_level = none" >/dev/null
postfix -c "$TB_POSTFIX_CONF" reload >/dev/null 2>&1
TAG=$$
BOX=$TB_MAIL_DIR/alice@atsmail.test/Maildir
send() {
	swaks --server 127.0.0.1 --port "$TB_SUBMISSION_PORT" --helo client.example \
		--auth PLAIN --auth-user alice@atsmail.test --auth-password alicepw \
		--from alice@atsmail.test --to "$1" --header "Subject: dsn $TAG $1" >/dev/null 2>&1
}
# the notice in alice's mailbox that names $1 (and, with $2, says $2)
find_notice() {
	local i f
	for ((i = 0; i < WAIT * 5; i++)); do
		for f in "$BOX"/new/* "$BOX"/cur/*; do
			[ -f "$f" ] || continue
			grep -qi -- "$1" "$f" && { [ -z "${2:-}" ] || grep -qi -- "$2" "$f"; } &&
				{ echo "$f"; return 0; }
		done
		sleep 0.2
	done
	return 1
}
# the family of a reason: what matters to a recruiter
family() {
	case "$1" in
	userunknown | hostunknown | hasmoved | notaccept) echo dead ;;
	mailboxfull | mesgtoobig | exceedlimit | systemfull) echo full ;;
	filtered | policyviolation | spamdetected | virusdetected | blocked | rejected | securityerror | contenterror | norelaying) echo refused ;;
	expired | delayed | networkerror | toomanyconn | systemerror | mailererror | onhold | undefined) echo later ;;
	*) echo "$1" ;;
	esac
}

CASES=(nobody-$TAG@candidate.test unknown.$TAG@remote.test generic.$TAG@remote.test
	full.$TAG@remote.test spam.$TAG@remote.test policy.$TAG@remote.test big.$TAG@remote.test
	relay.$TAG@remote.test nohost.$TAG@remote.test)
for a in "${CASES[@]}"; do send "$a"; done
send "later.$TAG@remote.test"

for a in "${CASES[@]}"; do
	f=$(find_notice "$a" "report-type=delivery-status") || {
		tap_fail "$a: Postfix returned a bounce" "none within ${WAIT}s; $(tail -n 3 "$TB_MAILLOG")"
		continue
	}
	ours=$("$top_builddir/tests/e2e/dsn-classify" "$f")
	ref=$(perl "$top_srcdir/tests/e2e/dsn-sisimai.pl" "$f")
	IFS=$'\t' read -r _ orcpt oreason osoft _ oaction <<<"$ours"
	IFS=$'\t' read -r _ rrcpt rreason rsoft _ _ <<<"$ref"
	tap_is "$a: recipient as the reference" "$orcpt" "$rrcpt"
	tap_is "$a: hard/soft as the reference ($rreason)" "$osoft" "$rsoft"
	tap_is "$a: reason family as the reference ($oreason / $rreason)" \
		"$(family "$oreason")" "$(family "$rreason")"
	tap_is "$a: a failure, not a delay" "$oaction" failed
done
# the delay notice (Postfix: "Delayed Mail (still being retried)")
a=later.$TAG@remote.test
if f=$(find_notice "$a" "Action: delayed"); then
	ours=$("$top_builddir/tests/e2e/dsn-classify" "$f")
	ref=$(perl "$top_srcdir/tests/e2e/dsn-sisimai.pl" "$f")
	IFS=$'\t' read -r _ orcpt oreason osoft _ oaction <<<"$ours"
	IFS=$'\t' read -r _ rrcpt rreason rsoft _ _ <<<"$ref"
	tap_is "$a: delay notice names the recipient as the reference" "$orcpt" "$rrcpt"
	tap_is "$a: a delay for us (action delayed), never hard" "$oaction/$osoft" delayed/1
	tap_is "$a: soft for the reference too ($rreason)" "$rsoft" 1
else
	tap_fail "$a: Postfix sent a delay notice" "none within ${WAIT}s; $(tail -n 5 "$TB_MAILLOG")"
fi
tap_done

#!/bin/bash
# tests/e2e/neomutt-client.sh -- a real mail client against the whole
# test bed (Postfix submission with atsmaild's milter, Dovecot with the
# atsmail plugin): Debian's NeoMutt, driven interactively in tmux (which
# gives it a terminal; CI has none), the screen read with capture-pane.
#   a. alice sends a mail to a candidate with Bcc ats+job.3005 and
#      ats+phase.interview1: recorded once, and NeoMutt's Fcc copy in =Sent
#      carries $ATSSent (no second record);
#   b. alice sends a mail with a malformed command (ats+job.abc): the
#      refusal (550 and its sentence) is on the screen, and the
#      explanation mail (X-ATS-Explanation, Auto-Submitted: auto-replied)
#      arrives in her INBOX;
#   c. the candidate replies: filed, and NeoMutt's index shows $ATS (%g).
# The screen is polled (bounded); on failure the pane is dumped.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/plugin-lib.sh"

command -v neomutt >/dev/null || tap_skip_all "neomutt is not installed"
command -v tmux >/dev/null || tap_skip_all "tmux is not installed"
plugin_start
# explanations of refused mail go back through the test bed's Postfix
ad_stop H
ad_conf H "explain_smtp = 127.0.0.1:$TB_SMTP_PORT"
ad_start H

ATS=ats.atsmail.test
USER=alice@atsmail.test
PASS=alicepw
NM=$PW/neomutt
mkdir -p "$NM"
: >"$NM/certificates"
sed -e "s|@IMAP_PORT@|$TB_IMAP_PORT|" -e "s|@SUBMISSION_PORT@|$TB_SUBMISSION_PORT|" \
	-e "s|@USER_URL@|${USER/@/%40}|" -e "s|@USER@|$USER|g" -e "s|@PASS@|$PASS|g" -e "s|@DIR@|$NM|" \
	"$top_srcdir/tests/e2e/neomutt/muttrc.in" >"$NM/muttrc"

# One tmux server of this test (its own socket), 200x50, UTF-8.
TMUX_SOCK=$NM/tmux.sock
tm() { LC_ALL=C.UTF-8 tmux -u -S "$TMUX_SOCK" "$@"; }
nm_cleanup() { tm kill-server >/dev/null 2>&1; ad_cleanup; }
trap nm_cleanup EXIT

# nm_run CMD...: NeoMutt (with this muttrc, no system muttrc) in a fresh
# tmux session "nm"; the session ends when NeoMutt exits
nm_run() {
	tm kill-session -t nm >/dev/null 2>&1
	tm new-session -d -s nm -x 200 -y 50 \
		env TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 HOME="$NM" \
		neomutt -n -F "$NM/muttrc" "$@"
}
screen() { tm capture-pane -p -t nm 2>/dev/null; }
keys() { tm send-keys -t nm "$@"; }
alive() { tm has-session -t nm 2>/dev/null; }
# wait_screen PATTERN [SECONDS]: until the screen matches (grep -E), <= 20 s
wait_screen() {
	local n=$((${2:-20} * 10))
	for _ in $(seq 1 "$n"); do
		screen | grep -Eq -- "$1" && return 0
		sleep 0.1
	done
	return 1
}
# wait_screen_gone TEXT [SECONDS]: until TEXT has left the screen, <= 20 s
wait_screen_gone() {
	for _ in $(seq 1 $((${2:-20} * 10))); do
		screen | grep -qF -- "$1" || return 0
		sleep 0.1
	done
	return 1
}
# wait_gone [SECONDS]: until NeoMutt has exited
wait_gone() {
	for _ in $(seq 1 $((${1:-20} * 10))); do alive || return 0; sleep 0.1; done
	return 1
}
dump() { tap_diag "--- screen ($1):"; screen | sed 's/^/# /' >&2; screen >>"$NM/screens.log"; }

# draft NAME TO BCC SUBJECT MSGID: a draft for neomutt -H
draft() {
	printf 'From: Alice Recruiter <%s>\nTo: %s\nBcc: %s\nSubject: %s\nMessage-ID: %s\n\n%s\n' \
		"$USER" "$2" "$3" "$4" "$5" "Dear candidate, about the position." >"$NM/$1.eml"
}

# ---- a. Bcc commands: recorded once, Sent copy marked
MA=$(mid neomutt-a)
draft a taro@candidate.test "ats+job.3005@$ATS, ats+phase.interview1@$ATS" "Interview $RUN" "$MA"
nm_run -H "$NM/a.eml"
if wait_screen '^y:Send' 20; then
	tap_pass "a: NeoMutt opens the compose menu of the draft"
	keys y
	wait_gone 30 || { dump "a: still running after y"; keys q; }
	tap_ok "a: NeoMutt sent the mail and exited" sh -c "! tmux -S '$TMUX_SOCK' has-session -t nm 2>/dev/null"
else
	dump "a: no compose menu"; tap_fail "a: NeoMutt opens the compose menu of the draft"
fi
tap_is "a: the mail is recorded once, alice's, linked to job 3005" \
	"$(wait_sql "select count(*)||':'||min(m.owner_id) from atsmail.messages m join atsmail.message_links l on l.message_id=m.id and l.target_kind='job' and l.target_id=3005 where m.direction='out' and m.rfc_message_id='$(strip "$MA")'" "1:1")" "1:1"
tap_is "a: the selection process resume 1001 x job 3005 is in phase interview1" \
	"$(wait_sql "select phase from atsmail.processes where resume_id=1001 and job_id=3005" "interview1")" "interview1"
F=$(imap -w 15 -m Sent "$USER" "$PASS" flags "$MA" 2>&1)
tap_ok "a: NeoMutt's copy in =Sent carries \$ATSSent (flags: $F)" has "$F" '$ATSSent'
tap_is "a: the Sent copy made no second record, and is a copy row in Sent" \
	"$(wait_sql "select (select count(*) from atsmail.messages where rfc_message_id='$(strip "$MA")')||':'||(select count(*) from atsmail.message_copies c join atsmail.messages m on m.id=c.message_id where m.rfc_message_id='$(strip "$MA")' and c.mailbox='Sent')" "1:1")" "1:1"
tap_ok "a: taro received it" imap -w 15 taro@candidate.test taropw find "$MA"

# ---- b. a malformed command: the refusal on the screen, the explanation by mail
MB=$(mid neomutt-b)
draft b taro@candidate.test "ats+job.abc@$ATS" "Offer $RUN" "$MB"
nm_run -H "$NM/b.eml"
if wait_screen '^y:Send' 20; then
	keys y
	if wait_screen '550' 20; then
		tap_pass "b: the refusal (550) is on the screen"
		tap_ok "b: the screen names the refused command address" \
			sh -c "tmux -S '$TMUX_SOCK' capture-pane -p -t nm | grep -F 'ats+job.abc@$ATS'"
	else
		dump "b: no 550 on the screen"
		tap_fail "b: the refusal (550) is on the screen"
		tap_fail "b: the screen names the refused command address"
	fi
	tap_ok "b: NeoMutt stays in the compose menu (nothing lost)" alive
else
	dump "b: no compose menu"
	tap_fail "b: the refusal (550) is on the screen"
fi
tm kill-session -t nm >/dev/null 2>&1
tap_is "b: nothing is recorded for the refused mail" \
	"$(tb_psql -c "select count(*) from atsmail.messages where rfc_message_id='$(strip "$MB")'")" "0"
tap_ok "b: taro did not receive it" sh -c "! python3 '$top_srcdir/tests/testbed/imap.py' -p '$TB_IMAP_PORT' taro@candidate.test taropw find '$MB' >/dev/null 2>&1"
EU=$(imap -w 20 "$USER" "$PASS" search "HEADER X-ATS-Explanation \"\"" 2>/dev/null)
EU=${EU##* }
tap_ok "b: an explanation mail (X-ATS-Explanation) arrives in alice's INBOX" test -n "$EU"
tap_is "b: it is Auto-Submitted: auto-replied" \
	"$( [ -n "$EU" ] && imap "$USER" "$PASS" header "uid:$EU" Auto-Submitted 2>&1)" "auto-replied"
# NeoMutt gave up at RCPT: no DATA, so nothing to attach; the explanation
# names the refused address and says the client still holds the mail
ER=$( [ -n "$EU" ] && python3 "$top_srcdir/tests/testbed/imap.py" -p "$TB_IMAP_PORT" "$USER" "$PASS" raw "uid:$EU" 2>/dev/null)
tap_ok "b: it names the refused command address" grep -qF "ats+job.abc@$ATS" <<<"$ER"
tap_ok "b: it attaches nothing (the client still holds the mail)" \
	sh -c "[ -n '$EU' ] && ! grep -qi 'message/rfc822' <<'EOF_ER'
$ER
EOF_ER"

# ---- c. the candidate's reply: filed, $ATS in NeoMutt's index (%g); a
#      stranger's mail beside it has no keyword
MC=$(mid neomutt-c)
mx taro@candidate.test "$USER" --header "Message-Id: $MC" --header "In-Reply-To: $MA" \
	--header "Subject: Re: Interview $RUN" --body "Thank you, I will come."
MS=$(mid neomutt-stranger)
mx someone@elsewhere.example "$USER" --header "Message-Id: $MS" --header "Subject: Lunch $RUN" --body "Hi."
F=$(flags_of "$USER" "$PASS" "$MC")
tap_ok "c: the reply is filed (\$ATS, flags: $F)" has "$F" '$ATS'
imap -w 15 "$USER" "$PASS" find "$MS" >/dev/null || tap_fail "c: the stranger's mail arrived"
# index_line SUBJECT: the index line of that subject on the screen
index_line() { screen | grep -F "$1"; }
nm_run
if wait_screen "Lunch $RUN" 20 && wait_screen "Re: Interview $RUN" 5; then
	L=$(index_line "Re: Interview $RUN")
	if printf '%s' "$L" | grep -qF '[$ATS]'; then
		tap_pass "c: NeoMutt's index shows the reply with its keyword \$ATS (%g)"
	else
		dump "c: index"; tap_fail "c: NeoMutt's index shows the reply with its keyword \$ATS (%g)" "$L"
	fi
	tap_ok "c: and the stranger's mail without keyword" sh -c "printf '%s' \"\$1\" | grep -qF '[]'" _ "$(index_line "Lunch $RUN")"
	# NeoMutt's exact search for the keyword: ~Y is a regular expression
	keys l; keys -l "~Y '^\\\$ATS\$'"; keys Enter
	if wait_screen_gone "Lunch $RUN" 10 && screen | grep -qF "Re: Interview $RUN"; then
		tap_pass "c: limit ~Y '^\\\$ATS\$' shows the reply and hides the stranger's mail"
	else
		dump "c: limit"; tap_fail "c: limit ~Y '^\\\$ATS\$' shows the reply and hides the stranger's mail"
	fi
else
	dump "c: the reply is not in the index"
	tap_fail "c: NeoMutt's index shows the reply with its keyword \$ATS (%g)"
fi
keys q
wait_gone 10 || tm kill-session -t nm >/dev/null 2>&1

if [ "$TAP_FAILED" -gt 0 ]; then
	tap_diag "--- atsmaild's log:"; grep -v 'debug: ' "$(ad_log H)" | tail -n 20 | sed 's/^/# /'
	tap_diag "--- maillog:"; tail -n 20 "$TB_MAILLOG" | sed 's/^/# /'
fi
tap_done

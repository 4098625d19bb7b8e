#!/bin/bash
# tests/e2e/refusal-mail.sh -- the explanation mail (docs/refusal-mail.md),
# through the real test bed: alice (a registered recruiter) submits, with
# SMTP AUTH, a mail the outbound decision refuses at its end (the guard:
# two candidates in To).  Her client gets 550 5.7.1; her INBOX gets the
# explanation (Subject, Auto-Submitted, the marker, the refused mail
# attached with its Message-ID), which Postfix's milter passes untouched
# and the Dovecot plugin files on no record.  The same mail again within
# explain_window: no second explanation.  default_language = ja: the text
# is Japanese (ISO-2022-JP).  explain_refusals = no: none.  Mail from
# outside: none.  A command address refused at RCPT whose client gives up
# (QUIT after RCPT): an explanation without the mail -- this needs the
# RCPT-time refusal (issue 11, "Refuse early").
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/e2e-lib.sh"
. "$top_srcdir/tests/e2e/atsmaild-lib.sh"
. "$top_srcdir/tests/e2e/atsmaild-mail-lib.sh"

command -v swaks >/dev/null || tap_skip_all "swaks is not installed"
[ "$(id -u)" = 0 ] || tap_skip_all "the test bed needs root"

ad_prepare M
ad_wire M
tb_start pg postfix dovecot
trap ad_cleanup EXIT
ad_db
W=$(ad_dir M)
LOG=$(ad_log M)
ATS=ats.atsmail.test
ALICE=alice@atsmail.test
"$top_srcdir/tests/testbed/testbed.sh" adduser "$TB_DIR" "$ALICE" alicepw >/dev/null 2>&1

# (re)start atsmaild with these extra settings
restart() {
	ad_stop M
	ad_conf M "explain_smtp = 127.0.0.1:$TB_SMTP_PORT" "$@"
	ad_start M
}
# the guard refuses it at the end of the message: two candidates in To
refused_mail() {
	am_submit "$TB_SUBMISSION_PORT" "$ALICE" "$ALICE" \
		"hanako@candidate.test,taro@candidate.test" \
		--header "To: hanako@candidate.test, taro@candidate.test" \
		--header "Subject: $1 $AM_RUN" --header "Message-Id: $2"
}
# UIDs of the explanations in alice's INBOX whose Subject holds $1
explanations() {
	am_imap "$@" "$TB_IMAP_PORT" "$ALICE" search "HEADER X-ATS-Explanation refused SUBJECT \"$EXPLAIN_SUBJ\""
}

restart "default_language = en"

# ---- 1. refused at the end: 550, and the explanation in the INBOX ----------
M1=$(am_mid refused1)
r=$(refused_mail "guard one" "$M1")
tap_ok "the refused mail gets 550 5.7.1 at the SMTP client" grep -q "^550 5.7.1" <<<"$r"
EXPLAIN_SUBJ="guard one $AM_RUN"
uids=$(explanations -w 20)
tap_ok "an explanation arrives in alice's INBOX" test -n "$uids"
U=${uids%% *}
am_imap "$TB_IMAP_PORT" "$ALICE" raw "uid:${U:-0}" >"$W/explain1.eml" 2>/dev/null
tap_is "its Subject says the mail was not sent" \
	"$(am_imap "$TB_IMAP_PORT" "$ALICE" subject "uid:${U:-0}")" \
	"atsmail: your mail was not sent: guard one $AM_RUN"
tap_is "it is Auto-Submitted: auto-replied" \
	"$(am_imap "$TB_IMAP_PORT" "$ALICE" header "uid:${U:-0}" Auto-Submitted)" auto-replied
tap_ok "its marker survived Postfix's milter (a genuine token)" \
	eval "am_imap '$TB_IMAP_PORT' '$ALICE' header 'uid:${U:-0}' X-ATS-Explanation | grep -q '^refused; ref='"
tap_ok "it was passed untouched: no X-ATS-Ref was added" \
	eval "! am_imap '$TB_IMAP_PORT' '$ALICE' header 'uid:${U:-0}' X-ATS-Ref >/dev/null 2>&1"
tap_is "the attached mail is the refused one (its Message-ID)" "$(python3 - "$W/explain1.eml" <<'PY'
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
for p in m.walk():
    if p.get_content_type() == "message/rfc822":
        print(p.get_payload(0)["Message-ID"])
PY
)" "$M1"
tap_ok "the text says what is wrong and that it was not sent" python3 - "$W/explain1.eml" <<'PY'
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
t = [p for p in m.walk() if p.get_content_type() == "text/plain"][0].get_payload(decode=True).decode()
sys.exit(0 if t.startswith("Your mail was NOT sent") and "What is wrong:" in t else 1)
PY
tap_is "the plugin filed it on no record (no \$ATS keyword)" \
	"$(am_imap "$TB_IMAP_PORT" "$ALICE" flags "uid:${U:-0}" | grep -c '\$ATS')" 0
tap_is "no message is recorded for the refused mail" \
	"$(am_sql "select count(*) from atsmail.messages where rfc_message_id = '$(am_bare "$M1")'")" 0

# ---- 2. the same mail again within explain_window: no second one -----------
r=$(refused_mail "guard one" "$M1")
tap_ok "sent again, it is refused again" grep -q "^550 5.7.1" <<<"$r"
tap_ok "atsmaild says it was explained already" \
	eval "for _ in \$(seq 1 50); do grep -q 'explained within explain_window already' '$LOG' && exit 0; sleep 0.1; done; exit 1"
sleep 2
tap_is "still one explanation in the INBOX" "$(explanations | wc -w)" 1

# ---- 3. Japanese ------------------------------------------------------------
restart "default_language = ja"
M2=$(am_mid refused2)
r=$(refused_mail "guard two" "$M2")
tap_ok "refused (default_language = ja)" grep -q "^550 5.7.1" <<<"$r"
EXPLAIN_SUBJ="guard two $AM_RUN"
uids=$(explanations -w 20)
U=${uids%% *}
tap_ok "an explanation arrives" test -n "$uids"
am_imap "$TB_IMAP_PORT" "$ALICE" raw "uid:${U:-0}" >"$W/explain2.eml" 2>/dev/null
tap_ok "its text is Japanese, in ISO-2022-JP" python3 - "$W/explain2.eml" <<'PY'
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
p = [p for p in m.walk() if p.get_content_type() == "text/plain"][0]
t = p.get_payload(decode=True).decode(p.get_content_charset())
sys.exit(0 if p.get_content_charset() == "iso-2022-jp" and "送信されていません" in t else 1)
PY
tap_ok "its Subject is Japanese" \
	eval "am_imap '$TB_IMAP_PORT' '$ALICE' subject 'uid:${U:-0}' | grep -q '^【atsmail】送信できませんでした: guard two'"

# ---- 4. explain_refusals = no ------------------------------------------------
restart "explain_refusals = no"
M3=$(am_mid refused3)
r=$(refused_mail "guard three" "$M3")
tap_ok "refused (explain_refusals = no)" grep -q "^550 5.7.1" <<<"$r"
EXPLAIN_SUBJ="guard three $AM_RUN"
sleep 3
tap_is "no explanation" "$(explanations | wc -w)" 0

# ---- 5. mail from outside: none -----------------------------------------------
restart "default_language = en"
M4=$(am_mid outside)
am_mx "$TB_SMTP_PORT" someone@outside.test "$ALICE" --header "To: $ALICE" \
	--header "Subject: outside four $AM_RUN" --header "Message-Id: $M4" >/dev/null
tap_ok "the outside mail is delivered" am_imap -w 20 "$TB_IMAP_PORT" "$ALICE" find "$M4"
EXPLAIN_SUBJ="outside four $AM_RUN"
sleep 1
tap_is "no explanation for mail from outside" "$(explanations | wc -w)" 0

# ---- 6. refused at RCPT, the client gives up: explained without the mail ----
# (needs the RCPT-time refusal of a malformed command: issue 11, bullet 1)
r=$(am_submit "$TB_SUBMISSION_PORT" "$ALICE" "$ALICE" "ats+jobb.12@$ATS" --quit-after RCPT)
tap_ok "a malformed command is refused at RCPT" grep -q "^550 5.7.1" <<<"$r"
EXPLAIN_SUBJ="atsmail: your mail was not sent"
tap_ok "an explanation without the mail arrives" eval "
	for u in \$(explanations -w 20 | tr ' ' '\n'); do
		am_imap '$TB_IMAP_PORT' '$ALICE' raw uid:\$u | grep -q 'ats+jobb.12@$ATS' &&
		! am_imap '$TB_IMAP_PORT' '$ALICE' raw uid:\$u | grep -q 'message/rfc822' && exit 0
	done; exit 1"

if [ "$TAP_FAILED" -gt 0 ]; then
	tap_diag "--- atsmaild's log:"; grep -v 'debug: ' "$LOG" | tail -n 40 | sed 's/^/# /'
	tap_diag "--- maillog:"; tail -n 40 "$TB_MAILLOG" | sed 's/^/# /'
fi
tap_done

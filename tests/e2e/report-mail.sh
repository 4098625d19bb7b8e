#!/bin/bash
# tests/e2e/report-mail.sh -- atsmailctl report mail, end to end
# (docs/reports.md, "Report mail"), through the real PostgreSQL, atsmaild,
# Postfix and Dovecot, with the real gnuplot:
#   1. usage: nobody to send it to, an unknown login;
#   2. the report of the last 7 days to a user (alice, English) and to an
#      address that is no user's (boss@, default_language: Japanese): one
#      report.weekly notification each, sent by atsmaild, found in their
#      IMAP INBOX: the table as text/plain, the PNG of the main chart
#      inline, the page as a text/html attachment with its three SVG
#      charts and no network reference;
#   3. run again (the timer twice): nobody gets the period twice; --again
#      sends it again;
#   4. notify_kinds without report.weekly: kept as suppressed, not sent.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/e2e-lib.sh"
. "$top_srcdir/tests/e2e/atsmaild-lib.sh"
. "$top_srcdir/tests/e2e/atsmaild-mail-lib.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "the test bed needs root"
command -v swaks >/dev/null || tap_skip_all "swaks is not installed"
command -v gnuplot >/dev/null || tap_skip_all "gnuplot is not installed (gnuplot-nox)"

ad_prepare M
ad_wire M
tb_start pg postfix dovecot
trap ad_cleanup EXIT
ad_db
W=$(ad_dir M)
LOG=$(ad_log M)
ALICE=alice@atsmail.test
BOSS=boss@atsmail.test                 # a manager who is no user of atsmail
for u in "$ALICE" "$BOSS"; do
	"$top_srcdir/tests/testbed/testbed.sh" adduser "$TB_DIR" "$u" "$(am_pw "$u")" >/dev/null 2>&1
done
# alice reads English; mail of the last days (yesterday and the day before)
am_sql "UPDATE atsmail.users SET lang = 'en' WHERE id = 1;
INSERT INTO atsmail.messages (direction, thread_id, owner_id, counterparts, subject, sent_at,
		received_at, visibility, status, is_bounce, is_auto_reply) VALUES
	('out', NULL, 1, '{c1@cand.test}', 'ご案内', now() - interval '2 days', NULL, 'shared', 'recorded', false, false),
	('out', NULL, 1, '{c2@cand.test}', '面接', now() - interval '3 days', NULL, 'shared', 'recorded', false, false),
	('out', NULL, 2, '{c3@cand.test}', 'Hello', now() - interval '2 days', NULL, 'shared', 'recorded', false, false);" \
	>/dev/null || tap_bail "cannot seed"

start() {
	ad_conf M "notify_smtp = 127.0.0.1:$TB_SMTP_PORT" "explain_smtp = 127.0.0.1:$TB_SMTP_PORT" "$@"
	ad_start M
}
start
CTL=$top_builddir/ctl/atsmailctl
: >"$W/ctl.conf"
ctl() {
	"$CTL" -c "$W/ctl.conf" --db "$TB_PG_ADMIN" report mail --tz UTC "$@" >"$W/out" 2>"$W/err"
	RC=$?
}
REF="$(date -u -d '7 days ago' +%F)/$(date -u -d '1 day ago' +%F)"
PERIOD="$(date -u -d '7 days ago' +%F) - $(date -u -d '1 day ago' +%F) (UTC)"
reports() { am_sql "select count(*) from atsmail.notifications where kind = 'report.weekly' $1"; }

# ---- 1. usage -------------------------------------------------------------------
ctl
tap_is "no --to and no report_mail_to: usage error (2)" "$RC" 2
tap_ok "... which names report_mail_to" grep -q report_mail_to "$W/err"
ctl --to nobody
tap_is "a login that is no user's and no address: exit 1" "$RC" 1
tap_ok "... naming it" grep -q nobody "$W/err"
ctl --period 0d --to "$ALICE"
tap_is "--period 0d: usage error (2)" "$RC" 2
tap_is "nothing was queued" "$(reports "")" 0

# ---- 2. the report to alice and boss ---------------------------------------------
printf 'report_mail_to = %s, %s\n' "$ALICE" "$BOSS" >"$W/ctl.conf"
ctl
tap_is "report mail to report_mail_to: exit 0" "$RC" 0
[ "$RC" = 0 ] || sed 's/^/# /' "$W/err"
tap_ok "it says two were queued" grep -q "^report mail $REF: 2 queued, 0 skipped$" "$W/out"
tap_is "alice's is in English (her users.lang), boss's in Japanese (default_language)" \
	"$(am_sql "select string_agg(to_addr || ' ' || coalesce(to_user_id::text, '-') || ' ' || lang, ', '
	           order by to_addr) from atsmail.notifications where kind = 'report.weekly'
	           and ref_kind = 'report' and ref_id = '$REF'")" \
	"$ALICE 1 en, $BOSS - ja"
tap_is "both are sent by atsmaild through Postfix" \
	"$(am_wait_sql "select count(*) from atsmail.notifications where kind = 'report.weekly'
	                and state = 'sent' and queue_id is not null" 2 60)" 2
U=$(am_imap -w 30 "$TB_IMAP_PORT" "$ALICE" search "HEADER X-ATS-Notification report.weekly" 2>/dev/null)
tap_ok "alice finds the report mail in her INBOX" test -n "$U"
U=${U%% *}
tap_is "its Subject names the period" "$(am_imap "$TB_IMAP_PORT" "$ALICE" subject "uid:${U:-0}")" \
	"[atsmail] Report $PERIOD"
am_imap "$TB_IMAP_PORT" "$ALICE" raw "uid:${U:-0}" >"$W/alice.eml" 2>/dev/null
python3 - "$W/alice.eml" "$W" >"$W/parts.txt" 2>&1 <<'PY'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
print("type", m.get_content_type())
for p in m.iter_parts():
    ct, disp, fn = p.get_content_type(), p.get_content_disposition(), p.get_filename()
    print("part", ct, disp or "-", fn or "-")
    data = p.get_payload(decode=True)
    if ct == "text/plain":
        open(sys.argv[2] + "/text.txt", "wb").write(data)
    elif ct == "text/html":
        open(sys.argv[2] + "/page.html", "wb").write(data)
    elif ct == "image/png":
        open(sys.argv[2] + "/chart.png", "wb").write(data)
PY
tap_is "the mail has the text, the picture inline and the page attached" "$(cat "$W/parts.txt")" \
"type multipart/mixed
part text/plain - -
part image/png inline atsmail-report.png
part text/html attachment atsmail-report-${REF%%/*}.html"
tap_ok "the text says what it is and has the table (alice's row, the days)" eval \
	"grep -q 'The report of atsmail for $PERIOD' '$W/text.txt' &&
	 grep -Eq '^Alice Recruiter +alice@atsmail.test +[0-9]+ ' '$W/text.txt' && grep -q '^Per day' '$W/text.txt'"
tap_is "the picture is a PNG" "$(head -c 8 "$W/chart.png" 2>/dev/null | od -An -c | tr -s ' ')" \
	" 211 P N G \r \n 032 \n"
tap_is "the page has its three SVG charts" "$(grep -o '<svg' "$W/page.html" 2>/dev/null | wc -l)" 3
tap_ok "the page refers to nothing on the network and has no script" \
	eval "test -s '$W/page.html' && ! grep -Eiq 'https?://|<script' '$W/page.html'"
tap_ok "Auto-Submitted and the signed marker, as every notification" eval \
	"[ \"\$(am_imap $TB_IMAP_PORT $ALICE header uid:${U:-0} Auto-Submitted)\" = auto-generated ] &&
	 am_imap $TB_IMAP_PORT $ALICE header uid:${U:-0} X-ATS-Notification | grep -Eq '^report\.weekly; ref=[A-Za-z0-9_-]+$'"
UB=$(am_imap -w 30 "$TB_IMAP_PORT" "$BOSS" search "HEADER X-ATS-Notification report.weekly" 2>/dev/null)
tap_is "boss gets it in Japanese" "$(am_imap "$TB_IMAP_PORT" "$BOSS" subject "uid:${UB%% *}" 2>/dev/null)" \
	"[atsmail] レポート $PERIOD"
am_imap "$TB_IMAP_PORT" "$BOSS" raw "uid:${UB%% *}" >"$W/boss.eml" 2>/dev/null
tap_ok "... and its table is in Japanese too (the words of the attached page)" python3 -c '
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
t = m.get_body(preferencelist=("plain",)).get_content()
lines = t.splitlines()
sys.exit(0 if "担当者別" in lines and "日別" in lines and "By recruiter" not in t else 1)' "$W/boss.eml"
tap_is "the report mail is not recorded as ATS mail" \
	"$(am_sql "select count(*) from atsmail.messages where rfc_message_id like 'atsmail-notify.%'")" 0

# ---- 3. the timer twice ------------------------------------------------------------
ctl
tap_is "run again: exit 0" "$RC" 0
tap_ok "nobody gets the same period twice" grep -q "^report mail $REF: 0 queued, 2 skipped$" "$W/out"
tap_is "still two report notifications" "$(reports "")" 2
ctl --again --to "$ALICE"
tap_ok "--again queues it again" grep -q "^report mail $REF: 1 queued, 0 skipped$" "$W/out"
tap_is "... and it is sent" \
	"$(am_wait_sql "select count(*) from atsmail.notifications where kind = 'report.weekly'
	                and state = 'sent'" 3 60)" 3

# ---- 4. turned off by notify_kinds -------------------------------------------------
ad_stop M
start "notify_kinds = bounce.hard"
ctl --again --to "$ALICE"
tap_is "with notify_kinds = bounce.hard the report is kept as suppressed" \
	"$(am_wait_sql "select state || ': ' || error from atsmail.notifications
	                where kind = 'report.weekly' order by id desc limit 1" \
	   "suppressed: kind turned off (notify_kinds)" 30)" "suppressed: kind turned off (notify_kinds)"

if [ "$TAP_FAILED" -gt 0 ]; then
	tap_diag "--- notifications:"
	am_sql "select id, kind, to_addr, lang, state, attempts, queue_id, error from atsmail.notifications" |
		sed 's/^/# /'
	tap_diag "--- the text part:"; sed 's/^/# /' "$W/text.txt"
	tap_diag "--- atsmailctl:"; sed 's/^/# /' "$W/out" "$W/err"
	tap_diag "--- atsmaild's log:"; grep -v 'debug: ' "$LOG" | tail -n 40 | sed 's/^/# /'
	tap_diag "--- maillog:"; tail -n 40 "$TB_MAILLOG" | sed 's/^/# /'
fi
tap_done

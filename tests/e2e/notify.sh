#!/bin/bash
# tests/e2e/notify.sh -- atsmail's own notifications, end to end
# (docs/notifications.md), through the real Postfix, atsmaild and Dovecot:
#   1. intake mail from a candidate who already has a record: the record's
#      owner (alice, Japanese) finds an intake.duplicate notification in her
#      IMAP INBOX -- Auto-Submitted, X-ATS-Notification, the Japanese text
#      naming the record -- and the row says sent with Postfix's queue id;
#   2. alice's mail to a candidate address that does not exist bounces:
#      alice is told (bounce.hard, naming the address);
#   3. a kind not in notify_kinds (intake.created) is kept as suppressed and
#      no mail is sent;
#   4. no loops: a notification redirected to the intake address with the
#      candidate's From, an auto-reply of the candidate to it, and a
#      notification to an address that does not exist (null sender: no
#      bounce) queue nothing;
#   5. the site's own text: atsmailctl template add notify-intake-duplicate-ja
#      (Japanese, {{notify.*}} and {{user.name}} tags); the next intake
#      duplicate tells alice in those words, merged; a reader of English
#      still gets the built-in English text; a template that cannot merge
#      sends the built-in text and notes why on the row; ats+template. of
#      that code on alice's own mail is refused as no template of hers;
#   6. Postfix unreachable: tried again with a delay, then failed.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/e2e-lib.sh"
. "$top_srcdir/tests/e2e/atsmaild-lib.sh"
. "$top_srcdir/tests/e2e/atsmaild-mail-lib.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "the test bed needs root"
command -v swaks >/dev/null || tap_skip_all "swaks is not installed"

ad_prepare M
ad_wire M
tb_start pg postfix dovecot
trap ad_cleanup EXIT
ad_db
W=$(ad_dir M)
LOG=$(ad_log M)
ALICE=alice@atsmail.test
RECRUIT=recruit@atsmail.test           # an intake address (seed-inbound.sql)
DUP=dup-$AM_RUN@candidate.test         # a candidate with a record of alice's
for u in "$ALICE" "$RECRUIT"; do
	"$top_srcdir/tests/testbed/testbed.sh" adduser "$TB_DIR" "$u" "$(am_pw "$u")" >/dev/null 2>&1
done
# alice reads Japanese; recruit@ is a user too, so that a resume made by
# intake mail to it has an owner (and would be told: intake.created)
am_sql "UPDATE atsmail.users SET lang = 'ja' WHERE id = 1;
INSERT INTO atsmail.users (id, login, display_name) OVERRIDING SYSTEM VALUE
	VALUES (7, '$RECRUIT', 'Recruit desk');
INSERT INTO atsmail.resumes (id, name, phase, shared, owner_id) OVERRIDING SYSTEM VALUE
	VALUES (5201, '重複 太郎', 'new', true, 1), (5202, '不達 花子', 'new', true, 1);
INSERT INTO atsmail.addresses (owner_kind, owner_id, addr_norm, is_primary)
	VALUES ('resume', 5201, '$DUP', true),
	       ('resume', 5202, 'nosuch-$AM_RUN@candidate.test', true);" >/dev/null ||
	tap_bail "cannot seed"

start() {
	ad_conf M "explain_smtp = 127.0.0.1:$TB_SMTP_PORT" "notify_smtp = 127.0.0.1:$TB_SMTP_PORT" \
		"notify_kinds = intake.duplicate, bounce.hard" "notify_retry_base = 1s" \
		"notify_max_attempts = 2" "$@"
	ad_start M
}
start
# notifications NOTIFY_KIND [-w S]: the UIDs in alice's INBOX of that kind
notifications() {
	local kind=$1
	shift
	am_imap "$@" "$TB_IMAP_PORT" "$ALICE" search "HEADER X-ATS-Notification $kind" 2>/dev/null
}
nrows() { am_sql "select count(*) from atsmail.notifications $1"; }
# body_text UID: the decoded text of a notification in alice's INBOX
body_text() {
	am_imap "$TB_IMAP_PORT" "$ALICE" raw "uid:$1" | python3 -c '
import email, email.policy, sys
m = email.message_from_binary_file(sys.stdin.buffer, policy=email.policy.default)
print(m.get_content())'
}

# ---- 1. intake mail from an existing candidate ---------------------------------
M1=$(am_mid dup)
r=$(am_mx "$TB_SMTP_PORT" "$DUP" "$RECRUIT" --header "From: 重複 太郎 <$DUP>" \
	--header "To: $RECRUIT" --header "Subject: 再応募 $AM_RUN" --header "Message-Id: $M1" \
	--body "別の求人にも応募します。")
tap_ok "the candidate's mail to the intake address is accepted" grep -q "^250" <<<"$r"
tap_is "it is filed on the existing record, no new resume" \
	"$(am_wait_sql "select count(*) from atsmail.message_links l join atsmail.messages m
	                on m.id = l.message_id where m.rfc_message_id = '$(am_bare "$M1")'
	                and l.target_kind = 'resume' and l.target_id = 5201" 1 30)" 1
tap_is "one intake.duplicate is queued for alice, in Japanese" \
	"$(am_wait_sql "select kind || ' ' || to_user_id || ' ' || to_addr || ' ' || lang
	                from atsmail.notifications where ref_kind = 'message' and kind = 'intake.duplicate'
	                and params->>'resume_id' = '5201'" "intake.duplicate 1 $ALICE ja" 20)" \
	"intake.duplicate 1 $ALICE ja"
N1=$(am_sql "select id from atsmail.notifications where kind = 'intake.duplicate' and params->>'resume_id' = '5201'")
tap_is "it is sent, with Postfix's queue id" \
	"$(am_wait_sql "select state || ' ' || (queue_id ~ '^[0-9A-Za-z]+$') || ' ' || attempts
	                from atsmail.notifications where id = ${N1:-0}" "sent true 1" 30)" "sent true 1"
tap_is "and audited (queued, sent)" \
	"$(am_sql "select string_agg(action, ' ' order by id) from atsmail.audit_log
	           where object_kind = 'notification' and object_id = '${N1:-0}'")" \
	"notification.queued notification.sent"
U1=$(notifications intake.duplicate -w 30)
tap_ok "alice finds it in her IMAP INBOX" test -n "$U1"
U1=${U1%% *}
tap_is "Auto-Submitted: auto-generated" \
	"$(am_imap "$TB_IMAP_PORT" "$ALICE" header "uid:${U1:-0}" Auto-Submitted)" auto-generated
tap_ok "X-ATS-Notification names the kind, its signed token kept by the milter" \
	grep -Eq '^intake\.duplicate; ref=[A-Za-z0-9_-]+$' \
	<<<"$(am_imap "$TB_IMAP_PORT" "$ALICE" header "uid:${U1:-0}" X-ATS-Notification)"
tap_is "the Subject is Japanese (RFC 2047)" \
	"$(am_imap "$TB_IMAP_PORT" "$ALICE" subject "uid:${U1:-0}")" \
	"[atsmail] 既存の候補者から応募メールが届きました: 重複 太郎"
tap_ok "From is postmaster of the company domain" \
	grep -q "postmaster@atsmail.test" <<<"$(am_imap "$TB_IMAP_PORT" "$ALICE" header "uid:${U1:-0}" From)"
body_text "${U1:-0}" >"$W/b1.txt" 2>&1
tap_ok "the Japanese text names the record and the sender" eval \
	"grep -q '既存のレコード（履歴書 5201：重複 太郎）' '$W/b1.txt' && grep -q '差出人:   $DUP' '$W/b1.txt'"
tap_ok "and says that no new record was made" grep -q "新しいレコードは作成されていません" "$W/b1.txt"
tap_is "the notification itself is not recorded as a message" \
	"$(am_sql "select count(*) from atsmail.messages where rfc_message_id like 'atsmail-notify.${N1:-0}.%'")" 0

# ---- 2. a hard bounce tells the sender ----------------------------------------------
M2=$(am_mid bounce)
r=$(am_submit "$TB_SUBMISSION_PORT" "$ALICE" "$ALICE" "nosuch-$AM_RUN@candidate.test" \
	--header "To: nosuch-$AM_RUN@candidate.test" --header "Subject: 面接のご案内 $AM_RUN" \
	--header "Message-Id: $M2")
tap_ok "alice's mail to a candidate address without a mailbox is accepted" grep -q "^250" <<<"$r"
tap_is "it bounces: one bounce.hard for alice naming the address" \
	"$(am_wait_sql "select count(*) from atsmail.notifications where kind = 'bounce.hard'
	                and to_user_id = 1 and params->>'recipient' = 'nosuch-$AM_RUN@candidate.test'" 1 60)" 1
U2=$(notifications bounce.hard -w 30)
tap_ok "alice finds it in her INBOX" test -n "$U2"
U2=${U2%% *}
tap_is "its Subject names the address" "$(am_imap "$TB_IMAP_PORT" "$ALICE" subject "uid:${U2:-0}")" \
	"[atsmail] 配信できませんでした: nosuch-$AM_RUN@candidate.test"
body_text "${U2:-0}" >"$W/b2.txt" 2>&1
tap_ok "the text gives the subject and the Message-ID of the bounced mail" eval \
	"grep -q '面接のご案内 $AM_RUN' '$W/b2.txt' && grep -q '$(am_bare "$M2")' '$W/b2.txt'"

# ---- 3. a kind turned off ---------------------------------------------------------------
M3=$(am_mid newcomer)
NEWBIE=newbie-$AM_RUN@candidate.test
am_mx "$TB_SMTP_PORT" "$NEWBIE" "$RECRUIT" --header "From: 新人 一郎 <$NEWBIE>" \
	--header "To: $RECRUIT" --header "Subject: 応募 $AM_RUN" --header "Message-Id: $M3" >/dev/null
tap_is "intake mail from a new sender makes a resume owned by recruit@" \
	"$(am_wait_sql "select count(*) from atsmail.resumes r join atsmail.addresses a
	                on a.owner_kind = 'resume' and a.owner_id = r.id
	                where a.addr_norm = '$NEWBIE' and r.owner_id = 7" 1 30)" 1
tap_is "intake.created (not in notify_kinds) is kept as suppressed" \
	"$(am_wait_sql "select state || ': ' || error from atsmail.notifications
	                where kind = 'intake.created' and to_user_id = 7" \
	   "suppressed: kind turned off (notify_kinds)" 20)" "suppressed: kind turned off (notify_kinds)"
sleep 2
tap_is "and no notification reached recruit@" \
	"$(am_imap "$TB_IMAP_PORT" "$RECRUIT" search "HEADER X-ATS-Notification intake" 2>/dev/null)" ""

# ---- 4. no loops -----------------------------------------------------------------
before=$(nrows "")
# a. the notification redirected to the intake address with the candidate
# as its author: its X-ATS-Notification is genuine, it queues nothing
am_imap "$TB_IMAP_PORT" "$ALICE" raw "uid:${U1:-0}" |
	sed -e "s/^From: .*/From: $DUP/" -e '/^Auto-Submitted:/d' -e '/^Message-ID:/d' \
	    -e "s/^To: .*/To: $RECRUIT/" >"$W/redirect.eml"
M4=$(am_mid redirect)
sed -i "1i Message-ID: $M4" "$W/redirect.eml"
am_mx "$TB_SMTP_PORT" "$DUP" "$RECRUIT" --data "$W/redirect.eml" >/dev/null
tap_ok "a notification redirected to the intake address is delivered" \
	am_imap -w 20 "$TB_IMAP_PORT" "$RECRUIT" find "$M4"
tap_ok "it keeps its X-ATS-Notification (genuine)" \
	grep -q "^intake.duplicate; ref=" <<<"$(am_imap "$TB_IMAP_PORT" "$RECRUIT" header "$M4" X-ATS-Notification)"
# b. the candidate's auto-reply to it (Auto-Submitted: auto-replied)
M5=$(am_mid autoreply)
am_mx "$TB_SMTP_PORT" "$DUP" "$RECRUIT" --header "From: $DUP" --header "To: $RECRUIT" \
	--header "Subject: Re: notification $AM_RUN" --header "Message-Id: $M5" \
	--header "Auto-Submitted: auto-replied" --header "In-Reply-To: <atsmail-notify.${N1:-0}.x@atsmail.test>" \
	>/dev/null
tap_ok "the auto-reply is delivered" am_imap -w 20 "$TB_IMAP_PORT" "$RECRUIT" find "$M5"
# c. a notification to an address without a mailbox: from the null sender,
# so Postfix bounces nothing
NX=$(am_sql "select atsmail.notify('bounce.hard', NULL, 'nobody-$AM_RUN@candidate.test',
	'{\"recipient\": \"x@y.test\", \"subject\": \"s\", \"reason\": \"r\", \"sent_at\": \"t\",
	  \"message_id\": \"m\"}', NULL, NULL)")
tap_ok "a notification to a missing mailbox is handed to Postfix (or refused by it)" \
	grep -Eq '^(sent|failed)$' <<<"$(am_wait_sql "select state from atsmail.notifications
	where id = ${NX:-0} and state <> 'queued'" sent 30)"
tap_is "both mails are recorded on the candidate's record" \
	"$(am_wait_sql "select count(*) from atsmail.messages where rfc_message_id in
	                ('$(am_bare "$M4")', '$(am_bare "$M5")')" 2 30)" 2
sleep 3
tap_is "none of them queued a notification (no bounce, no loop)" "$(nrows "")" "$((before + 1))"
tap_is "alice still has exactly one intake.duplicate" "$(notifications intake.duplicate | wc -w)" 1

# ---- 5. the site's own text: a template notify-intake-duplicate-ja ----------------
CTL=$top_builddir/ctl/atsmailctl
printf 'ats_domain = ats.atsmail.test\ncompany_domains = atsmail.test\n' >"$W/ctl.conf"
cat >"$W/own-body.txt" <<'TXT'
{{user.name}} さん

{{notify.from}} から、{{notify.resume_name}} さん（履歴書 {{notify.resume_id}}）の
再応募メールが届きました。件名: {{notify.subject}}
TXT
"$CTL" -c "$W/ctl.conf" --db "$TB_PG_ADMIN" template add notify-intake-duplicate-ja \
	--name "重複応募の通知" --subject "【重複応募】{{notify.resume_name}} 様 {{date}}" \
	--body-file "$W/own-body.txt" --lang ja >"$W/out" 2>"$W/err"
tap_is "template add notify-intake-duplicate-ja: exit 0" "$?" 0
"$CTL" -c "$W/ctl.conf" --db "$TB_PG_ADMIN" template add notify-intake-created \
	--name x --subject "{{notify.held_id}}" --body x >"$W/out" 2>"$W/err"
tap_is "a notify.* tag that is no param of the kind is refused" "$?" 1
tap_ok "naming the tag and the kind's params" \
	grep -q "{{notify.held_id}} is no param of the notification intake.created (its params: notify.resume_id" "$W/err"
M6=$(am_mid dup2)
am_mx "$TB_SMTP_PORT" "$DUP" "$RECRUIT" --header "From: 重複 太郎 <$DUP>" \
	--header "To: $RECRUIT" --header "Subject: 三度目 $AM_RUN" --header "Message-Id: $M6" \
	--body "もう一度応募します。" >/dev/null
Q6="from atsmail.notifications n join atsmail.messages m on n.ref_kind = 'message'
	and n.ref_id = m.id::text where m.rfc_message_id = '$(am_bare "$M6")' and n.kind = 'intake.duplicate'"
am_wait_sql "select count(*) $Q6" 1 30 >/dev/null
N6=$(am_sql "select n.id $Q6")
tap_is "the next intake duplicate is sent, nothing noted on the row" \
	"$(am_wait_sql "select state || ' ' || coalesce(error, '-') from atsmail.notifications
	                where id = ${N6:-0}" "sent -" 30)" "sent -"
am_wait_sql "select 1 from atsmail.notifications where id = ${N6:-0}" 1 1 >/dev/null
U6=$(notifications intake.duplicate)
U6=${U6##* }                    # the newest of alice's two
TODAY=$(am_sql "select to_char(current_date, 'YYYY-MM-DD')")
tap_is "its Subject is the template's, merged" \
	"$(am_imap "$TB_IMAP_PORT" "$ALICE" subject "uid:${U6:-0}")" "【重複応募】重複 太郎 様 $TODAY"
body_text "${U6:-0}" 2>&1 | tr -d '\r' >"$W/b6.txt"   # CRLF lines
ANAME=$(am_sql "select coalesce(nullif(display_name, ''), login) from atsmail.users where id = 1")
tap_ok "its body is the template's, merged: alice's name" grep -qxF "$ANAME さん" "$W/b6.txt"
tap_ok "and the params" eval "grep -qxF '$DUP から、重複 太郎 さん（履歴書 5201）の' '$W/b6.txt' &&
	grep -qxF '再応募メールが届きました。件名: 三度目 $AM_RUN' '$W/b6.txt'"
tap_ok "and none of the built-in text" eval "! grep -q '新しいレコードは作成されていません' '$W/b6.txt'"
tap_ok "it is still atsmail's notification (marker, Auto-Submitted)" \
	grep -Eq '^intake\.duplicate; ref=' <<<"$(am_imap "$TB_IMAP_PORT" "$ALICE" header "uid:${U6:-0}" X-ATS-Notification)"
# the same kind for a reader of English: the Japanese text is not theirs
NE=$(am_sql "insert into atsmail.notifications (kind, to_addr, to_user_id, lang, params)
	values ('intake.duplicate', '$ALICE', 1, 'en', '{\"resume_id\": 5201,
	\"resume_name\": \"en-$AM_RUN\", \"from\": \"$DUP\", \"subject\": \"s\"}') returning id" | head -1)
am_wait_sql "select state from atsmail.notifications where id = ${NE:-0}" sent 30 >/dev/null
UE=$(am_imap -w 20 "$TB_IMAP_PORT" "$ALICE" search "HEADER Subject en-$AM_RUN" 2>/dev/null)
tap_is "a reader of English gets the built-in English text, not the Japanese template" \
	"$(am_imap "$TB_IMAP_PORT" "$ALICE" subject "uid:${UE%% *}")" \
	"[atsmail] Intake mail from an existing candidate: en-$AM_RUN"
# a template that cannot merge: resume_name null has no value and the
# template refuses a missing one; the notification goes all the same
NR=$(am_sql "insert into atsmail.notifications (kind, to_addr, to_user_id, lang, params)
	values ('intake.duplicate', '$ALICE', 1, 'ja', '{\"resume_id\": 5201,
	\"resume_name\": null, \"from\": \"$DUP\", \"subject\": \"s\"}') returning id" | head -1)
tap_is "a template that does not merge: sent with the built-in text, the fault on the row" \
	"$(am_wait_sql "select state || ' ' || (error like 'built-in text sent: template notify-intake-duplicate-ja: %{{notify.resume_name}}%')
	                from atsmail.notifications where id = ${NR:-0}" "sent true" 30)" "sent true"
tap_ok "and logged as a warning" grep -q "notify ${NR:-x}: intake.duplicate to <$ALICE>: the built-in text is sent" "$LOG"
r=$(am_submit "$TB_SUBMISSION_PORT" "$ALICE" "$ALICE" \
	"$DUP,ats+template.notify-intake-duplicate-ja@ats.atsmail.test" --header "To: $DUP" \
	--header "Subject: x $AM_RUN" --header "Message-Id: $(am_mid tplnotify)" --body "x")
tap_ok "ats+template.notify-intake-duplicate-ja on alice's mail is refused: no template of hers" \
	eval "grep -q '^5' <<<\"\$r\" && grep -q 'no template' <<<\"\$r\""

# ---- 6. Postfix unreachable: tried again, then failed -----------------------------
ad_stop M
start "notify_smtp = 127.0.0.1:1"
NF=$(am_sql "select atsmail.notify('intake.duplicate', 1, NULL, '{\"resume_id\": 5201,
	\"resume_name\": \"x\", \"from\": \"$DUP\", \"subject\": \"s\"}', 'resume', '5201')")
tap_is "a connection refused is tried again later" \
	"$(am_wait_sql "select state || ' ' || attempts || ' ' || (next_try_at > now() - interval '1 s')
	                from atsmail.notifications where id = ${NF:-0} and attempts = 1" "queued 1 true" 20)" \
	"queued 1 true"
tap_is "after notify_max_attempts it is failed, with the reason" \
	"$(am_wait_sql "select state || ' ' || attempts || ' ' || (error like '%127.0.0.1:1%')
	                from atsmail.notifications where id = ${NF:-0}" "failed 2 true" 30)" "failed 2 true"

if [ "$TAP_FAILED" -gt 0 ]; then
	tap_diag "--- notifications:"
	am_sql "select id, kind, to_addr, state, attempts, queue_id, error from atsmail.notifications" |
		sed 's/^/# /'
	tap_diag "--- the notification in the site's words:"; sed 's/^/# /' "$W/b6.txt" 2>/dev/null
	tap_diag "--- atsmaild's log:"; grep -v 'debug: ' "$LOG" | tail -n 40 | sed 's/^/# /'
	tap_diag "--- maillog:"; tail -n 40 "$TB_MAILLOG" | sed 's/^/# /'
fi
tap_done

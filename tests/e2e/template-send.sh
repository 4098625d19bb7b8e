#!/bin/bash
# tests/e2e/template-send.sh -- a template used from a mail client, end to
# end (docs/templates.md): the admin registers a Japanese template with a
# process phase; atsmailctl template sync puts its draft into alice's
# read-only "ATS Templates" folder; alice's client opens the draft over
# IMAP, addresses it to a candidate, edits the text and sends it with the
# Bcc the draft carries (ats+template.<code>) and ats+job.<id>.  Through the
# real Postfix, atsmaild and Dovecot, the candidate receives one mail whose
# subject and body are merged from her record, alice's edit kept, recorded
# and linked, and the template's phase set on the process; ats+phase.<code>
# given as well wins over the template's.  A tag without a value refuses the
# mail at SMTP time naming the tag and the record.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/e2e-lib.sh"
. "$top_srcdir/tests/e2e/atsmaild-lib.sh"
. "$top_srcdir/tests/e2e/atsmaild-mail-lib.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "the test bed needs root"

ad_prepare M
ad_wire M
tb_start pg postfix dovecot
trap ad_cleanup EXIT
ad_db
W=$(ad_dir M)
LOG=$(ad_log M)
CTL="$top_builddir/ctl/atsmailctl"
ATS=ats.atsmail.test
ALICE=alice@atsmail.test
HANAKO=hanako@candidate.test
FOLDER="ATS Templates"
CLIENT="$top_srcdir/tests/e2e/bulk-client.py"
for u in "$ALICE" "$HANAKO" nokana@candidate.test; do
	"$top_srcdir/tests/testbed/testbed.sh" adduser "$TB_DIR" "$u" "$(am_pw "$u")" >/dev/null 2>&1
done
# a resume without kana: {{resume.kana}} has no value for it
am_sql "INSERT INTO atsmail.resumes (id, name, phase, shared) OVERRIDING SYSTEM VALUE
	VALUES (5101, '無名 一', 'new', true);
INSERT INTO atsmail.addresses (owner_kind, owner_id, addr_norm, is_primary)
	VALUES ('resume', 5101, 'nokana@candidate.test', true);" >/dev/null || tap_bail "cannot seed"

ad_conf M "explain_smtp = 127.0.0.1:$TB_SMTP_PORT" "bulk_smtp = 127.0.0.1:$TB_SMTP_PORT" \
	"bulk_rate = 0" "default_language = ja"
ad_start M
ctl() { "$CTL" -c "$W/atsmail.conf" "$@"; }
DOVEADM="doveadm -c $TB_DIR/dovecot/dovecot.conf"

printf '%s\n' '{{resume.name}} 様' '' 'お世話になっております。{{user.name}} です。' \
	'{{job.title}} の一次面接のご案内をお送りします。' >"$W/body.txt"
tap_ok "the admin adds a Japanese template with a process phase" \
	ctl template add interview --name "一次面接のご案内" \
	--subject "{{resume.name}} 様 一次面接のご案内" --body-file "$W/body.txt" \
	--lang ja --phase-process interview1 --doveadm "$DOVEADM"
printf '%s\n' '{{resume.name}}（{{resume.kana}}）様' >"$W/kana.txt"
tap_ok "and one that needs the kana" \
	ctl template add kana --name "カナ" --subject "ご確認" --body-file "$W/kana.txt" --lang ja --doveadm "$DOVEADM"
tap_ok "atsmailctl template sync puts the drafts into every user's folder" ctl template sync --doveadm "$DOVEADM"

# ---- the draft, as alice's client sees it -------------------------------------
U=$(am_imap -w 20 -m "$FOLDER" "$TB_IMAP_PORT" "$ALICE" search "HEADER X-ATS-Template interview")
tap_ok "alice sees the template's draft in \"$FOLDER\"" test -n "$U"
am_imap -m "$FOLDER" "$TB_IMAP_PORT" "$ALICE" raw "uid:${U%% *}" >"$W/draft.eml" 2>/dev/null
tap_ok "the draft carries ats+template.interview in Bcc" \
	grep -qi "^Bcc:.*ats+template.interview@$ATS" "$W/draft.eml"

# the client: To the candidate, an edit of the text, a new Message-ID; the
# Bcc addresses go into the envelope only (clients never send a Bcc header)
edit() {   # edit DRAFT OUT TO MSGID
	python3 - "$@" <<'PY'
import email, email.policy, sys
from email.utils import formatdate
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.SMTP)
for h in ("Bcc", "To", "Message-ID", "Date", "X-ATS-Template"):
    del m[h]
m["To"] = sys.argv[3]
m["Message-ID"] = sys.argv[4]
m["Date"] = formatdate(localtime=True)
part = m.get_body(("plain",))
cs = part.get_content_charset() or "utf-8"
text = part.get_content() + "追記: ご都合のよい日時をお知らせください。\n"
part.set_content(text.encode(cs), maintype="text", subtype="plain", cte="7bit" if cs == "iso-2022-jp" else "base64", params={"charset": cs})
open(sys.argv[2], "wb").write(m.as_bytes())
PY
}
M1=$(am_mid tpl1)
edit "$W/draft.eml" "$W/send1.eml" "佐藤 花子 <$HANAKO>" "$M1"
r=$(python3 "$CLIENT" "$TB_SUBMISSION_PORT" "$ALICE" alicepw \
	"$HANAKO,ats+template.interview@$ATS,ats+job.3001@$ATS" "$M1" x x --raw "$W/send1.eml")
tap_ok "the client's mail is accepted (250)" grep -q "^250" <<<"$r"
V=$(am_imap -w 30 "$TB_IMAP_PORT" "$HANAKO" find "$M1")
tap_is "hanako receives it, its subject merged from her record" \
	"$(am_imap "$TB_IMAP_PORT" "$HANAKO" subject "uid:${V:-0}")" "佐藤 花子 様 一次面接のご案内"
am_imap "$TB_IMAP_PORT" "$HANAKO" raw "uid:${V%% *}" >"$W/got1.eml" 2>/dev/null
tap_ok "the body is merged (name, sender, job), alice's edit kept, Japanese as a client reads it" \
	python3 - "$W/got1.eml" <<'PY'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
t = m.get_body(("plain",)).get_content()
ok = (t.startswith("佐藤 花子 様") and "Alice Recruiter です" in t and "Job 3001 の一次面接" in t
      and "追記: ご都合のよい日時" in t and "{{" not in t
      and m.get_body(("plain",)).get_content_charset() in ("iso-2022-jp", "utf-8"))
print(repr(t[:200]), file=sys.stderr)
sys.exit(0 if ok else 1)
PY
tap_ok "only hanako in To, no command address anywhere" \
	eval "! grep -qi 'ats+' '$W/got1.eml' && grep -qi '^To:.*$HANAKO' '$W/got1.eml'"
MID1=$(am_imap "$TB_IMAP_PORT" "$HANAKO" header "uid:${V%% *}" Message-ID)
tap_is "it is recorded once, linked to her resume" \
	"$(am_wait_sql "select count(*) from atsmail.messages m join atsmail.message_links l
	   on l.message_id = m.id and l.target_kind = 'resume' and l.target_id = 1002
	   where m.rfc_message_id = '$(am_bare "$MID1")' and m.direction = 'out'" 1 20)" 1
tap_is "the template's phase is set on the process (job 3001)" \
	"$(am_wait_sql "select phase from atsmail.processes where resume_id = 1002 and job_id = 3001" interview1 20)" \
	interview1
tap_is "the merged mail kept the Message-ID the client gave (its Sent copy is the same thread)" "$(am_bare "$MID1")" "$(am_bare "$M1")"

# ---- ats+phase wins over the template's phase ------------------------------------
M2=$(am_mid tpl2)
edit "$W/draft.eml" "$W/send2.eml" "$HANAKO" "$M2"
r=$(python3 "$CLIENT" "$TB_SUBMISSION_PORT" "$ALICE" alicepw \
	"$HANAKO,ats+template.interview@$ATS,ats+job.3001@$ATS,ats+phase.final@$ATS" "$M2" x x --raw "$W/send2.eml")
tap_ok "the second mail is accepted" grep -q "^250" <<<"$r"
tap_is "ats+phase.final wins over the template's interview1" \
	"$(am_wait_sql "select phase from atsmail.processes where resume_id = 1002 and job_id = 3001" final 30)" final

# one mail from a template that went needs no report: no result mail (CSV)
sleep 1
csvs=0
for u in $(am_imap "$TB_IMAP_PORT" "$ALICE" search ALL 2>/dev/null); do
	am_imap "$TB_IMAP_PORT" "$ALICE" raw "uid:$u" | grep -qi '^Content-Type: text/csv' && csvs=$((csvs + 1))
done
tap_is "no result mail for template mails that went" "$csvs" 0

# ---- a tag without a value: refused at SMTP time -----------------------------------
U2=$(am_imap -m "$FOLDER" "$TB_IMAP_PORT" "$ALICE" search "HEADER X-ATS-Template kana")
am_imap -m "$FOLDER" "$TB_IMAP_PORT" "$ALICE" raw "uid:${U2%% *}" >"$W/draft2.eml" 2>/dev/null
M3=$(am_mid tpl3)
edit "$W/draft2.eml" "$W/send3.eml" "nokana@candidate.test" "$M3"
r=$(python3 "$CLIENT" "$TB_SUBMISSION_PORT" "$ALICE" alicepw \
	"nokana@candidate.test,ats+template.kana@$ATS" "$M3" x x --raw "$W/send3.eml")
tap_ok "a tag without a value refuses the mail (550 5.7.1)" grep -q "^550 5.7.1" <<<"$r"
tap_ok "the sentence names the tag and the record" \
	eval "grep -q 'resume.kana' <<<\"\$r\" && grep -q '5101' <<<\"\$r\""
sleep 2
tap_is "nothing reached nokana@" "$(am_imap "$TB_IMAP_PORT" nokana@candidate.test count)" 0

if [ "$TAP_FAILED" -gt 0 ]; then
	tap_diag "--- reply: $r"
	tap_diag "--- atsmaild's log:"; grep -v 'debug: ' "$LOG" | tail -n 60 | sed 's/^/# /'
	tap_diag "--- maillog:"; tail -n 40 "$TB_MAILLOG" | sed 's/^/# /'
fi
tap_done

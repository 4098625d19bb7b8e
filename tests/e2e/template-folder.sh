#!/bin/bash
# template-folder.sh -- templates end to end on the test bed (PostgreSQL
# and Dovecot): atsmailctl template add (a Japanese template, refusals of
# unknown tags, phases and non-UTF-8 files), sync, and over IMAP the
# read-only folder "ATS Templates": alice LISTs and SELECTs it ([READ-ONLY])
# and FETCHes the draft (Bcc ats+template.<code>, decoded subject, marker),
# APPEND, STORE, EXPUNGE and COPY into it are refused; bob's personal
# template is in bob's folder and not in alice's; edit -> sync leaves only
# the new revision; rm removes the draft; a notification's own text
# (notify-<kind>) is checked against its kind and is nobody's draft, not
# listed --as a user, not rendered; render prints the merged text
# and refuses a missing value naming the tag and the record; the audit log
# has template.created, .changed and .removed with the actor.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/e2e-lib.sh"

tb_start pg dovecot
tb_migrate >"$TB_DIR/migrate.log" 2>&1 || tap_bail "migrations did not apply: $(tail -3 "$TB_DIR/migrate.log")"
tb_psql -f "$top_srcdir/tests/data/seed.sql" >/dev/null || tap_bail "cannot load seed.sql"

W=$TB_DIR/template-test
mkdir -p "$W"
printf 'ats_domain = ats.atsmail.test\ncompany_domains = atsmail.test\n' >"$W/atsmail.conf"
DOVEADM="doveadm -c $TB_DIR/dovecot/dovecot.conf"
ctl() {
	"$top_builddir/ctl/atsmailctl" -c "$W/atsmail.conf" --db "$TB_PG_ADMIN" template "$@" \
		>"$W/out" 2>"$W/err"
	RC=$?
}
sql() { tb_psql -c "$*"; }

# a Japanese template, its body from a UTF-8 file
cat >"$W/body.txt" <<'TXT'
{{resume.name}} 様

{{company.name|弊社}}の{{user.name}}です。
面接日程のご案内をお送りします。

{{job.block}}
TXT
ctl add interview --name "面接のご案内" --subject "【面接のご案内】{{resume.name}} 様" \
	--body-file "$W/body.txt" --phase-process interview1 --actor tester --doveadm "$DOVEADM"
tap_is "template add: exit 0" "$RC" 0
tap_ok "template add: says added" grep -q "template interview added (revision 1, shared)" "$W/out"
tap_is "template add stored it" "$(sql "select name || '|' || phase_process || '|' || revision || '|' || shared from atsmail.templates where code = 'interview'")" \
	"面接のご案内|interview1|1|true"

# refusals, each naming what is wrong
ctl add bad1 --name x --subject "{{resume.nmae}}" --body b
tap_is "unknown tag in the subject: exit 1" "$RC" 1
tap_ok "unknown tag: the error names it" grep -q "{{resume.nmae}}" "$W/err"
ctl add bad2 --name x --subject s --body b --phase-resume interview1
tap_is "phase of another kind: exit 1" "$RC" 1
tap_ok "unknown phase: the error names kind and code" grep -q "no active resume phase 'interview1'" "$W/err"
printf '\x82\xb1\x82\xf1\n' >"$W/sjis.txt"
ctl add bad3 --name x --subject s --body-file "$W/sjis.txt"
tap_is "a Shift_JIS body file: exit 1" "$RC" 1
tap_ok "a Shift_JIS body file: the error names the file" grep -q "$W/sjis.txt is not UTF-8" "$W/err"
ctl add bad4 --name x --subject s --body "{{notify.resume_name}}"
tap_is "a notification's tag in a recruiter's template: exit 1" "$RC" 1
tap_ok "it is named as a notification's param" grep -q "{{notify.resume_name}} is a param of a notification" "$W/err"
tap_is "nothing stored by the refusals" "$(sql "select count(*) from atsmail.templates where code like 'bad%'")" 0

# a notification's own text (docs/notifications.md): checked against its
# kind, and nobody's draft
ctl add notify-intake-duplicate-en --name x --subject "{{notify.resume_name}}" --body b
tap_is "notify-...-en without --lang en: exit 2" "$RC" 2
tap_ok "it says which --lang" grep -q "give --lang en" "$W/err"
ctl add notify-intake-nosuch --name x --subject s --body b
tap_is "a notify- code that names no kind: exit 2" "$RC" 2
ctl add notify-intake-duplicate --name "重複応募" --subject "{{notify.resume_name}} {{date}}" \
	--body "{{user.name}} さん: {{notify.from}}" --doveadm "$DOVEADM"
tap_is "notify-intake-duplicate with its kind's tags: exit 0" "$RC" 0
ctl list --as alice@atsmail.test
tap_ok "list --as: not among alice's templates" eval "! grep -q '^notify-' '$W/out'"
ctl render notify-intake-duplicate --resume 1001 --as alice@atsmail.test
tap_is "render of a notification's text: exit 1" "$RC" 1
tap_ok "render says what it is" grep -q "is the text of a notification" "$W/err"

# bob's personal template; a sync for the Dovecot users
ctl add bobonly --name "Bob" --subject "Bob's {{date}}" --body "hi {{recipient.name}}" \
	--lang en --owner bob@atsmail.test --personal --doveadm "$DOVEADM"
tap_is "personal template add: exit 0" "$RC" 0
ctl sync --doveadm "$DOVEADM"
tap_ok "sync: alice has one draft (no notification's text)" grep -q "^alice@atsmail.test: 1 template draft" "$W/out"
tap_ok "sync: bob has two drafts" grep -q "^bob@atsmail.test: 2 template draft" "$W/out"
tap_ok "sync: a user Dovecot does not know is skipped" grep -q "^dave@atsmail.test: not a Dovecot user here, skipped" "$W/out"
tap_is "sync: exit 0" "$RC" 0
ctl sync --user alice@atsmail.test --doveadm "$DOVEADM"
tap_ok "a second sync changes nothing" grep -qx "alice@atsmail.test: 1 template draft(s), 0 added, 0 removed" "$W/out"

# IMAP: what alice sees and may do
imap() {
	python3 - "$TB_IMAP_PORT" "$@" <<'PY'
import email, email.header, imaplib, sys
port, user, pw, what = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
m = imaplib.IMAP4("127.0.0.1", port)
m.login(user, pw)
F = '"ATS Templates"'
def say(k, v): print("%s=%s" % (k, v))
if what == "list":
    typ, data = m.list('""', '*')
    say("listed", any(b'"ATS Templates"' in l for l in data))
    typ, data = m._simple_command("SELECT", F)
    say("select", typ)
    say("readonly", b"READ-ONLY" in data[0])
    m.state = "SELECTED"; m.is_readonly = True
    typ, data = m.uid("SEARCH", None, "ALL")
    uids = data[0].split()
    say("count", len(uids))
    for u in uids:
        typ, data = m.uid("FETCH", u, "(BODY.PEEK[])")
        msg = email.message_from_bytes(data[0][1])
        subj = str(email.header.make_header(email.header.decode_header(msg["Subject"])))
        say("draft", "%s|%s|%s|%s" % (msg["X-ATS-Template"], msg["Bcc"], subj, msg.get_content_charset()))
        body = msg.get_payload(decode=True).decode(msg.get_content_charset())
        say("body", body.replace("\r\n", "\\n").replace("\n", "\\n"))
    if uids:
        u = uids[0]
        typ, data = m.uid("STORE", u, "+FLAGS", r"(\Deleted)")
        typ, data = m.uid("FETCH", u, "(FLAGS)")
        say("deleted", b"\\Deleted" in data[0])
        typ, data = m.expunge()
        say("expunge", typ)
        typ, data = m.uid("SEARCH", None, "ALL")
        say("after", len(data[0].split()))
    typ, data = m.append(F, None, None, b"Subject: mine\r\n\r\nx\r\n")
    say("append", typ)
    m.select("INBOX")
    m.append("INBOX", None, None, b"Subject: mine\r\n\r\nx\r\n")
    m.select("INBOX")
    typ, data = m.copy("1", F)
    say("copy", typ)
m.logout()
PY
}
imap alice@atsmail.test alicepw list >"$W/alice.out" 2>&1
cat "$W/alice.out" | sed 's/^/# /'
tap_ok "IMAP LIST: alice sees \"ATS Templates\"" grep -qx "listed=True" "$W/alice.out"
tap_ok "IMAP SELECT: OK and [READ-ONLY]" grep -qx "readonly=True" "$W/alice.out"
tap_ok "alice's folder holds one draft (bob's personal one is not there)" grep -qx "count=1" "$W/alice.out"
tap_ok "the draft: marker, Bcc ats+template.interview, decoded subject, ISO-2022-JP" \
	grep -qx "draft=interview; rev=1|ats+template.interview@ats.atsmail.test|【面接のご案内】{{resume.name}} 様|iso-2022-jp" "$W/alice.out"
tap_ok "the draft's body keeps the tags" grep -q "^body={{resume.name}} 様" "$W/alice.out"
tap_ok "STORE \\Deleted has no effect (no right to set it)" grep -qx "deleted=False" "$W/alice.out"
tap_ok "the draft is still there after EXPUNGE" grep -qx "after=1" "$W/alice.out"
tap_ok "APPEND refused" grep -qx "append=NO" "$W/alice.out"
tap_ok "COPY into the folder refused" grep -qx "copy=NO" "$W/alice.out"
imap bob@atsmail.test bobpw list >"$W/bob.out" 2>&1
tap_ok "bob's folder holds two drafts" grep -qx "count=2" "$W/bob.out"
tap_ok "bob's personal draft is there, in UTF-8 (English)" grep -q "^draft=bobonly; rev=1|ats+template.bobonly@ats.atsmail.test|Bob's {{date}}|" "$W/bob.out"

# bob's template made shared: alice's folder gets it at once
ctl edit bobonly --shared --doveadm "$DOVEADM"
tap_is "edit --shared: exit 0" "$RC" 0
imap alice@atsmail.test alicepw list >"$W/alice1.out" 2>&1
tap_ok "after edit --shared: alice sees bob's template, revision 2" \
	grep -q "^draft=bobonly; rev=2|" "$W/alice1.out"
ctl edit bobonly --personal --doveadm "$DOVEADM"
imap alice@atsmail.test alicepw list >"$W/alice1b.out" 2>&1
tap_ok "after edit --personal: gone from alice's folder again" grep -qx "count=1" "$W/alice1b.out"

# edit: a new revision replaces the old draft
ctl edit interview --subject "【面接日程】{{resume.name}} 様" --actor tester --doveadm "$DOVEADM"
tap_is "template edit: exit 0" "$RC" 0
tap_ok "template edit: revision 2" grep -q "template interview changed (revision 2)" "$W/out"
imap alice@atsmail.test alicepw list >"$W/alice2.out" 2>&1
tap_ok "after edit: one draft, revision 2, new subject" \
	grep -qx "draft=interview; rev=2|ats+template.interview@ats.atsmail.test|【面接日程】{{resume.name}} 様|iso-2022-jp" "$W/alice2.out"
tap_ok "after edit: only that one" grep -qx "count=1" "$W/alice2.out"

# render
ctl render interview --resume 1002 --job 3001 --as alice@atsmail.test
tap_is "render: exit 0" "$RC" 0
tap_ok "render: the merged subject" grep -q "^Subject: 【面接日程】" "$W/out"
tap_ok "render: no tag left" bash -c "! grep -q '{{' '$W/out'"
tap_ok "render: the fallback for a resume's company comes from the job" grep -q "の Alice Recruiter\|のAlice Recruiter" "$W/out"
tap_ok "render: the job block" grep -q "^求人番号：3001" "$W/out"
sed 's/^/# /' "$W/out"
ctl render interview --resume 1002 --as alice@atsmail.test
tap_is "render without a job: {{job.block}} has no value: exit 1" "$RC" 1
tap_ok "render: the error names the tag and the record" \
	grep -q "{{job.block}} has no value for resume 1002 <hanako@candidate.test>" "$W/err"
ctl render bobonly --contact 2001 --as alice@atsmail.test
tap_is "render of bob's personal template as alice: exit 1" "$RC" 1

# rm
ctl rm interview --actor tester --doveadm "$DOVEADM"
tap_is "template rm: exit 0" "$RC" 0
imap alice@atsmail.test alicepw list >"$W/alice3.out" 2>&1
tap_ok "after rm: alice's folder is empty" grep -qx "count=0" "$W/alice3.out"

# the audit log
tap_is "audit: created, changed, removed by tester" \
	"$(sql "select string_agg(action || ':' || actor, ' ' order by id) from atsmail.audit_log where object_kind = 'template' and object_id = 'interview'")" \
	"template.created:tester template.changed:tester template.removed:tester"

# The shipped configuration beside Debian's /etc/dovecot, the plugin turned
# on: acl is loaded for imap and not for doveadm or lmtp, and names the
# shipped global ACL file.
D=$TB_DIR/debian-conf
if [ -f /etc/dovecot/dovecot.conf ]; then
	cp -r /etc/dovecot "$D"
	sed -i "s|/etc/dovecot/|$D/|g" "$D/dovecot.conf"
	sed -e "s|@pkgdatadir[@]|$D/share|" -e 's/^#!include_try/!include_try/' \
		"$top_srcdir/packaging/dovecot/90-atsmail.conf.in" >"$D/conf.d/90-atsmail.conf"
	mkdir -p "$D/share/dovecot"
	cp "$top_srcdir/packaging/dovecot/mail-plugins.conf" "$top_srcdir/packaging/dovecot/template-acl" \
		"$D/share/dovecot/"
	tap_ok "Debian + 90-atsmail.conf: imap loads atsmail and acl" \
		bash -c "doveconf -c '$D/dovecot.conf' -f protocol=imap -h mail_plugins | grep -qw acl"
	tap_is "Debian + 90-atsmail.conf: doveadm loads no acl" \
		"$(doveconf -c "$D/dovecot.conf" -f protocol=doveadm -h mail_plugins | grep -cw acl)" 0
	tap_is "Debian + 90-atsmail.conf: the global ACL file" \
		"$(doveconf -c "$D/dovecot.conf" -h plugin/acl)" "vfile:$D/share/dovecot/template-acl"
	tap_ok "the shipped ACL file names the default template_folder, owner lr" \
		grep -qx '"ATS Templates" owner lr' "$top_srcdir/packaging/dovecot/template-acl"
else
	tap_ok "Debian's /etc/dovecot/dovecot.conf exists (dovecot-core)" false
fi
tap_done

#!/bin/bash
# tests/e2e/bulk-mail.sh -- bulk send from a mail client, end to end
# (docs/bulk.md): alice's client submits ONE mail with ats+bulk and
# ats+phase.active among its envelope recipients, a Japanese subject and
# body with merge tags and a PDF attached.  Through the real Postfix,
# atsmaild (milter, bulk runner, recorder) and Dovecot:
#   1. it is taken (250, not delivered itself) and becomes a bulk job whose
#      unmatched address is kept but not sent;
#   2. 51 separate mails leave, each showing only its own recipient, merged
#      from its own record, with the attachment, recorded and linked to its
#      resume, the phase applied per recipient; 50 reach the sink;
#   3. alice gets one acknowledgement naming the unmatched address and one
#      result mail whose CSV matches what the sink received;
#   4. the recipient whose mailbox does not exist bounces; the bounce is tied
#      to it and shown by atsmailctl bulk status;
#   5. atsmaild killed (SIGKILL) in the middle of a paced job: started
#      again, it finishes the job and nobody gets a mail twice;
#   6. above bulk_max_recipients the mail is refused at SMTP time with a
#      sentence that says how many and the limit, and no job is made.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/e2e-lib.sh"
. "$top_srcdir/tests/e2e/atsmaild-lib.sh"
. "$top_srcdir/tests/e2e/atsmaild-mail-lib.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "the test bed needs root"
command -v smtp-sink >/dev/null || tap_skip_all "smtp-sink (Postfix) is not installed"

ad_prepare M
ad_wire M
tb_start pg postfix dovecot
SINK_PID=
trap '[ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null; ad_cleanup' EXIT
ad_db
W=$(ad_dir M)
LOG=$(ad_log M)
CTL="$top_builddir/ctl/atsmailctl"
ATS=ats.atsmail.test
ALICE=alice@atsmail.test
CLIENT="$top_srcdir/tests/e2e/bulk-client.py"
"$top_srcdir/tests/testbed/testbed.sh" adduser "$TB_DIR" "$ALICE" alicepw >/dev/null 2>&1

# 50 resumes at sink.test, one whose mailbox does not exist (it bounces)
am_sql "
INSERT INTO atsmail.resumes (id, name, kana, phase, shared) OVERRIDING SYSTEM VALUE
	SELECT 5000 + g, '受験者 ' || lpad(g::text, 2, '0'), NULL, 'new', true
	FROM generate_series(1, 50) g;
INSERT INTO atsmail.resumes (id, name, phase, shared) OVERRIDING SYSTEM VALUE
	VALUES (5051, '不達 太郎', 'new', true);
INSERT INTO atsmail.addresses (owner_kind, owner_id, addr_norm, is_primary)
	SELECT 'resume', 5000 + g, 'bulk' || lpad(g::text, 2, '0') || '@sink.test', true
	FROM generate_series(1, 50) g;
INSERT INTO atsmail.addresses (owner_kind, owner_id, addr_norm, is_primary)
	VALUES ('resume', 5051, 'nosuch-bulk@candidate.test', true);" >/dev/null ||
	tap_bail "cannot seed the resumes"
RCPTS=$(seq -f 'bulk%02g@sink.test' 1 50 | paste -sd,)
RCPTS="$RCPTS,nosuch-bulk@candidate.test,stranger@sink.test,ats+bulk@$ATS,ats+phase.active@$ATS"

restart() {
	ad_stop M
	ad_conf M "explain_smtp = 127.0.0.1:$TB_SMTP_PORT" "bulk_smtp = 127.0.0.1:$TB_SMTP_PORT" \
		"default_language = ja" "$@"
	ad_start M
}
# sink DIR: a fresh smtp-sink dumping each mail into DIR
sink() {
	[ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null && sleep 0.2
	mkdir -p "$1" && chown postfix "$1"
	smtp-sink -u postfix -d "$1/%H%M%S." "127.0.0.1:$TB_SINK_PORT" 1024 >/dev/null 2>&1 &
	SINK_PID=$!
	for _ in $(seq 1 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$TB_SINK_PORT") 2>/dev/null && return 0; sleep 0.1
	done
	tap_bail "smtp-sink did not start"
}
# files DIR: how many mails the sink holds
files() { find "$1" -type f | wc -l; }
send_bulk() {   # send_bulk MSGID SUBJECT-WORD [RCPTS]
	python3 "$CLIENT" "$TB_SUBMISSION_PORT" "$ALICE" alicepw "${3:-$RCPTS}" "$1" \
		"{{resume.name}} 様 面接のご案内 $2 $AM_RUN" \
		"{{resume.name}} 様\n\nお世話になっております。{{user.name}} です。\n面接日程のご案内をお送りします。\n" \
		--pdf
}

restart "bulk_rate = 0"
sink "$W/sink1"

# ---- 1. taken at SMTP time ----------------------------------------------------
M1=$(am_mid bulk1)
r=$(send_bulk "$M1" one)
tap_ok "the bulk mail is accepted at SMTP time (250)" grep -q "^250" <<<"$r"
am_wait_sql "select count(*) > 0 from atsmail.bulk_jobs where user_id = 1 and origin = 'mail'" t 10 >/dev/null
JOB=$(am_sql "select coalesce(max(id), 0) from atsmail.bulk_jobs where user_id = 1 and origin = 'mail'")
tap_ok "it became a bulk job of alice's (origin mail)" test "$JOB" -gt 0
tap_is "the job holds 52 recipients, one of them unmatched" \
	"$(am_sql "select count(*) || ' ' || count(*) filter (where status = 'unmatched')
	           from atsmail.bulk_items where job_id = $JOB")" "52 1"
tap_is "the unmatched one is stranger@sink.test" \
	"$(am_sql "select rcpt from atsmail.bulk_items where job_id = $JOB and status = 'unmatched'")" \
	"stranger@sink.test"
tap_is "the mail itself is not recorded as a message" \
	"$(am_sql "select count(*) from atsmail.messages where rfc_message_id = '$(am_bare "$M1")'")" 0

# ---- 2. one mail per recipient ------------------------------------------------
tap_is "the job is done" "$(am_wait_sql "select status from atsmail.bulk_jobs where id = $JOB" done 90)" done
for _ in $(seq 1 100); do [ "$(files "$W/sink1")" -ge 50 ] && break; sleep 0.2; done
sleep 1
tap_is "50 separate mails reached the sink" "$(files "$W/sink1")" 50
am_sql "select rcpt || ' ' || message_id || ' ' || (select name from atsmail.resumes r where r.id = record_id)
	from atsmail.bulk_items where job_id = $JOB and status <> 'unmatched'" >"$W/items1"
tap_ok "each shows only its own recipient, merged from its own record, with the PDF" \
	python3 - "$W/sink1" "$W/items1" <<'PY'
import email, email.header, email.policy, glob, re, sys
items = {}
for line in open(sys.argv[2], encoding="utf-8"):
    rcpt, mid, name = line.rstrip("\n").split(" ", 2)
    items[rcpt] = (mid, name)
seen = set()
bad = []
for path in glob.glob(sys.argv[1] + "/*"):
    raw = open(path, "rb").read()
    m = email.message_from_bytes(raw, policy=email.policy.default)
    rcpts = [re.search(r"<([^>]*)>", h).group(1).lower() for h in m.get_all("X-Rcpt-Args", [])]
    if len(rcpts) != 1 or rcpts[0] not in items:
        bad.append("%s: envelope %s" % (path, rcpts)); continue
    r = rcpts[0]
    if r in seen:
        bad.append("%s twice" % r)
    seen.add(r)
    mid, name = items[r]
    to = m.get_all("To", [])
    if len(to) != 1 or r not in str(to[0]).lower() or m.get_all("Cc"):
        bad.append("%s: To %s Cc %s" % (r, to, m.get_all("Cc")))
    if m["Message-ID"].strip().strip("<>") != mid:
        bad.append("%s: Message-ID %s, the job gave %s" % (r, m["Message-ID"], mid))
    if name not in str(m["Subject"]) or "{{" in str(m["Subject"]):
        bad.append("%s: Subject %s" % (r, m["Subject"]))
    text = m.get_body(("plain",)).get_content()
    if not text.startswith(name + " 様") or "Alice Recruiter" not in text or "{{" in text:
        bad.append("%s: body %r" % (r, text[:60]))
    pdf = [p for p in m.iter_attachments() if p.get_filename() == "guide.pdf"]
    want = b"%PDF-1.4\n% atsmail bulk test\n" + bytes(range(256)) * 8
    if len(pdf) != 1 or pdf[0].get_content() != want:
        bad.append("%s: the PDF" % r)
    if m["X-ATS-Bulk"] is not None or m["X-ATS-Ref"] is None:
        bad.append("%s: X-ATS-Bulk %s X-ATS-Ref %s" % (r, m["X-ATS-Bulk"], m["X-ATS-Ref"]))
if len(seen) != 50:
    bad.append("%d distinct recipients" % len(seen))
print("\n".join(bad[:10]), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
tap_is "51 messages recorded, one per mail sent (the bouncing one too)" \
	"$(am_wait_sql "select count(*) from atsmail.messages m join atsmail.bulk_items i
	                on i.message_id = m.rfc_message_id and m.direction = 'out'
	                where i.job_id = $JOB" 51 30)" 51
tap_is "each is linked to its own resume and to no other" \
	"$(am_sql "select count(*) from atsmail.bulk_items i
	           join atsmail.messages m on m.rfc_message_id = i.message_id and m.direction = 'out'
	           where i.job_id = $JOB and i.record_id is not null
	             and (select array_agg(l.target_id) from atsmail.message_links l
	                  where l.message_id = m.id and l.target_kind = 'resume') = array[i.record_id]")" 51
tap_is "the phase command applied to every recipient" \
	"$(am_sql "select count(*) from atsmail.resumes where id between 5001 and 5051 and phase = 'active'")" 51
tap_is "accepted items carry Postfix's queue id" \
	"$(am_sql "select count(*) from atsmail.bulk_items where job_id = $JOB and status = 'accepted'
	           and queue_id ~ '^[0-9A-Za-z]+$'")" 51

# ---- 3. the acknowledgement and the result mail ---------------------------------
got=
for _ in $(seq 1 60); do
	for u in $(am_imap "$TB_IMAP_PORT" "$ALICE" search "ALL" 2>/dev/null); do
		am_imap "$TB_IMAP_PORT" "$ALICE" raw "uid:$u" >"$W/m.eml" 2>/dev/null
		python3 - "$W/m.eml" "$W/result.csv" <<'PY' && got=$u && break 2
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
for p in m.walk():
    if p.get_content_type() == "text/csv" and "bulk" in str(p.get_filename() or "bulk"):
        data = p.get_payload(decode=True)
        if data.count(b"@sink.test") >= 50:
            open(sys.argv[2], "wb").write(data)
            sys.exit(0)
sys.exit(1)
PY
	done
	sleep 0.5
done
tap_ok "one result mail with a CSV arrives in alice's INBOX" test -n "$got"
tap_ok "its CSV lists every recipient with the Message-ID and queue id the sink and the job saw" \
	python3 - "$W/result.csv" "$W/items1" "$W/sink1" <<'PY'
import csv, email, email.policy, glob, io, re, sys
rows = list(csv.DictReader(io.StringIO(open(sys.argv[1], "rb").read().decode("utf-8-sig"))))
cols = {c.lower(): c for c in rows[0].keys()} if rows else {}
need = ["recipient", "message_id", "queue_id", "status"]
if any(n not in cols for n in need):
    print("columns:", list(cols), file=sys.stderr); sys.exit(1)
by = {r[cols["recipient"]].lower(): r for r in rows}
sink = {}
for path in glob.glob(sys.argv[3] + "/*"):
    m = email.message_from_binary_file(open(path, "rb"), policy=email.policy.default)
    rc = re.search(r"<([^>]*)>", m.get_all("X-Rcpt-Args")[0]).group(1).lower()
    sink[rc] = m["Message-ID"].strip().strip("<>")
bad = []
for line in open(sys.argv[2], encoding="utf-8"):
    rcpt = line.split(" ")[0]
    r = by.get(rcpt)
    if r is None:
        bad.append("missing " + rcpt); continue
    if not r[cols["status"]].lower().startswith("accepted"):
        bad.append("%s: %s" % (rcpt, r[cols["status"]]))
    if rcpt in sink and r[cols["message_id"]].strip("<>") != sink[rcpt]:
        bad.append("%s: %s vs sink %s" % (rcpt, r[cols["message_id"]], sink[rcpt]))
    if not r[cols["queue_id"]]:
        bad.append("%s: no queue id" % rcpt)
u = by.get("stranger@sink.test")
if u is None or u[cols["status"]].lower().startswith("accepted"):
    bad.append("stranger@sink.test: %s" % (u and u[cols["status"]]))
print("\n".join(bad[:10]), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
ack=0
for u in $(am_imap "$TB_IMAP_PORT" "$ALICE" search "BODY \"stranger@sink.test\"" 2>/dev/null); do
	[ "$u" = "$got" ] && continue
	am_imap "$TB_IMAP_PORT" "$ALICE" raw "uid:$u" | grep -qi '^Content-Type: text/csv' || ack=$((ack + 1))
done
tap_is "one acknowledgement (no CSV) names the address that matched no record" "$ack" 1
tap_is "the result mail went once (result_sent_at set)" \
	"$(am_sql "select result_sent_at is not null from atsmail.bulk_jobs where id = $JOB")" t

# ---- 4. a bounce tied to its recipient ------------------------------------------
tap_is "the bounce of nosuch-bulk@candidate.test is tied to its mail" \
	"$(am_wait_sql "select r.status from atsmail.bulk_items i
	   join atsmail.messages m on m.rfc_message_id = i.message_id and m.direction = 'out'
	   join atsmail.message_recipients r on r.message_id = m.id and r.address = i.rcpt
	   where i.job_id = $JOB and i.rcpt = 'nosuch-bulk@candidate.test'" bounced 60)" bounced
"$CTL" -c "$W/atsmail.conf" bulk status "$JOB" >"$W/status.out" 2>&1
tap_ok "atsmailctl bulk status shows the recipient bounced" \
	grep -Eiq "nosuch-bulk@candidate.test.*bounced|bounced.*nosuch-bulk@candidate.test" "$W/status.out"
"$CTL" -c "$W/atsmail.conf" bulk status "$JOB" --csv >"$W/status.csv" 2>&1
tap_ok "bulk status --csv has the bounce on that recipient's row" \
	grep -Eiq "nosuch-bulk@candidate.test.*bounced" "$W/status.csv"

# ---- 5. SIGKILL in the middle, started again: nobody twice -----------------------
restart "bulk_rate = 4"
sink "$W/sink2"
M2=$(am_mid bulk2)
RC2=$(seq -f 'bulk%02g@sink.test' 1 50 | paste -sd,),ats+bulk@$ATS
r=$(send_bulk "$M2" two "$RC2")
tap_ok "the second bulk mail is taken" grep -q "^250" <<<"$r"
JOB2=$(am_sql "select max(id) from atsmail.bulk_jobs where user_id = 1")
tap_ok "a second job" test "${JOB2:-0}" -gt "$JOB"
am_wait_sql "select count(*) >= 8 from atsmail.bulk_items where job_id = ${JOB2:-0} and status = 'accepted'" t 60 >/dev/null
kill -KILL "$(ad_pid M)"
sleep 1
before=$(files "$W/sink2")
tap_ok "atsmaild was killed in the middle (some sent, not all: $before)" \
	test "$before" -gt 0 -a "$before" -lt 50
restart "bulk_rate = 0"
tap_is "started again, it finishes the job" \
	"$(am_wait_sql "select status from atsmail.bulk_jobs where id = ${JOB2:-0}" done 90)" done
sleep 2
tap_is "every recipient got exactly one mail" \
	"$(grep -h '^X-Rcpt-Args:' "$W"/sink2/* | sort | uniq -c | awk '$1 == 1' | wc -l) $(files "$W/sink2")" "50 50"
tap_is "50 messages recorded for the job, none twice" \
	"$(am_sql "select count(*) || ' ' || count(distinct m.rfc_message_id) from atsmail.messages m
	           join atsmail.bulk_items i on i.message_id = m.rfc_message_id and m.direction = 'out'
	           where i.job_id = ${JOB2:-0}")" "50 50"

# ---- 6. above the limit: refused at SMTP time, no job ------------------------------
restart "bulk_max_recipients = 10"
M3=$(am_mid bulk3)
jobs_before=$(am_sql "select count(*) from atsmail.bulk_jobs")
r=$(send_bulk "$M3" three "$RC2")
tap_ok "above bulk_max_recipients the mail gets 550 5.7.1" grep -q "^550 5.7.1" <<<"$r"
tap_ok "the sentence says how many recipients and the limit" eval "grep -q '50' <<<\"\$r\" && grep -q '10' <<<\"\$r\""
tap_is "no job was made" "$(am_sql "select count(*) from atsmail.bulk_jobs")" "$jobs_before"

if [ "$TAP_FAILED" -gt 0 ]; then
	tap_diag "--- reply: $r"
	tap_diag "--- atsmaild's log:"; grep -v 'debug: ' "$LOG" | tail -n 60 | sed 's/^/# /'
	tap_diag "--- maillog:"; tail -n 40 "$TB_MAILLOG" | sed 's/^/# /'
fi
tap_done

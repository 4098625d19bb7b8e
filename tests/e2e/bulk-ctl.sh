#!/bin/bash
# tests/e2e/bulk-ctl.sh -- atsmailctl bulk send, end to end (docs/bulk.md):
# through the real Postfix, atsmaild (bulk runner, milter, recorder) and
# Dovecot, with smtp-sink behind Postfix for sink.test:
#   1. --dry-run prints the first merged mail and makes nothing; above
#      bulk_max_recipients the send is refused with a sentence that says how
#      many and the limit, and no job is made; a CSV's unmatched rows are
#      reported; a malformed query names its term;
#   2. a template sent to 51 resumes (--ids): 50 mails at the sink, each
#      showing only its own recipient and merged from its own record, 51
#      messages recorded and linked to their resumes, the template's phase
#      applied; the CSV printed and the result mail's CSV in alice's INBOX
#      list 51 accepted rows whose Message-IDs are the sink's;
#   3. the one at candidate.test bounces: bulk status shows it bounced;
#   4. atsmaild killed (SIGKILL) in the middle of a paced job: started
#      again, it finishes it and every recipient has exactly one mail;
#   5. --attach puts the same file in every mail;
#   6. bulk cancel stops a running job: status cancelled, the rest not sent.
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
ALICE=alice@atsmail.test
"$top_srcdir/tests/testbed/testbed.sh" adduser "$TB_DIR" "$ALICE" alicepw >/dev/null 2>&1

am_sql "
INSERT INTO atsmail.resumes (id, name, phase, shared) OVERRIDING SYSTEM VALUE
	SELECT 6000 + g, '候補者 ' || lpad(g::text, 2, '0'), 'new', true
	FROM generate_series(1, 50) g;
INSERT INTO atsmail.resumes (id, name, phase, shared) OVERRIDING SYSTEM VALUE
	VALUES (6051, 'Nobody Here', 'new', true);
INSERT INTO atsmail.addresses (owner_kind, owner_id, addr_norm, is_primary)
	SELECT 'resume', 6000 + g, 'cand' || lpad(g::text, 2, '0') || '@sink.test', true
	FROM generate_series(1, 50) g;
INSERT INTO atsmail.addresses (owner_kind, owner_id, addr_norm, is_primary)
	VALUES ('resume', 6051, 'nosuch-ctl@candidate.test', true);
INSERT INTO atsmail.templates (code, name, subject, body, lang, phase_resume, shared)
	VALUES ('invite', 'Invitation', '{{resume.name}} 様 面接のご案内',
	        E'{{resume.name}} 様\n\n面接日程のご案内です。\n.leading dot line\n', 'ja',
	        'active', true);" >/dev/null || tap_bail "cannot seed"
IDS=$(seq -f 'r%g' 6001 6051 | paste -sd,)

restart() {
	ad_stop M
	# the runner's client address is not in internal_networks: its mail
	# becomes the user's sent mail by its X-ATS-Bulk marker alone
	ad_conf M "explain_smtp = 127.0.0.1:$TB_SMTP_PORT" "bulk_smtp = 127.0.0.1:$TB_SMTP_PORT" \
		"default_language = en" "$@"
	ad_start M
}
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
files() { find "$1" -type f | wc -l; }
ctl() { "$CTL" -c "$W/atsmail.conf" "$@"; }
jobs() { am_sql "select count(*) from atsmail.bulk_jobs"; }

# ---- 1. checks that make nothing -----------------------------------------------
restart "bulk_rate = 0" "bulk_max_recipients = 10"
j0=$(jobs)
ctl bulk send --template invite --ids "$IDS" --as alice@atsmail.test >"$W/limit.out" 2>&1
rc=$?
tap_is "above bulk_max_recipients: exit 1" "$rc" 1
tap_ok "the refusal says how many, the limit, and that nothing was sent" \
	grep -q "bulk send refused: 51 recipients, more than bulk_max_recipients (10); nothing was sent" "$W/limit.out"
tap_is "no job was made" "$(jobs)" "$j0"
restart "bulk_rate = 0"
ctl bulk send --template invite --ids r6001,r6002 --as alice@atsmail.test --dry-run >"$W/dry.out" 2>&1
tap_ok "--dry-run says how many and prints the first mail merged" \
	eval "grep -q '2 mails from alice@atsmail.test' '$W/dry.out' && grep -q '^To: .* <cand01@sink.test>' '$W/dry.out'"
tap_is "--dry-run made no job" "$(jobs)" "$j0"
printf 'name,email\nA,cand01@sink.test\nB,unknown@sink.test\n' >"$W/list.csv"
ctl bulk send --template invite --csv "$W/list.csv" --as alice@atsmail.test --dry-run >"$W/csv.out" 2>&1
tap_ok "a CSV row whose address matches no record is reported" \
	eval "grep -q '1 address matched no record' '$W/csv.out' && grep -q 'unknown@sink.test' '$W/csv.out'"
ctl bulk send --template invite --query "phase=new, colour=red" --as alice@atsmail.test --dry-run >"$W/q.out" 2>&1
tap_ok "a malformed query term is named" grep -q "query term 'colour=red'" "$W/q.out"
ctl bulk send --template invite --query "phase=new, kind=resume" --as alice@atsmail.test --dry-run >"$W/q2.out" 2>&1
tap_ok "a query finds the records (51 new resumes and the seed's)" grep -Eq '^bulk send --dry-run: [0-9]+ mails' "$W/q2.out"

# ---- 2. 51 resumes, one mail each --------------------------------------------------
sink "$W/sink1"
ctl bulk send --template invite --ids "$IDS" --as alice@atsmail.test >"$W/send.csv" 2>"$W/send.err"
rc=$?
tap_is "bulk send follows the job to its end (exit 0)" "$rc" 0
tap_ok "progress lines on a pipe" grep -Eq '^bulk [0-9]+: 51/51 done, 51 accepted' "$W/send.err"
JOB=$(am_sql "select max(id) from atsmail.bulk_jobs")
tap_is "the printed CSV has 51 accepted rows" "$(grep -c ',accepted,' "$W/send.csv")" 51
for _ in $(seq 1 100); do [ "$(files "$W/sink1")" -ge 50 ] && break; sleep 0.2; done
sleep 1
tap_is "50 mails at the sink" "$(files "$W/sink1")" 50
am_sql "select rcpt || ' ' || message_id || ' ' || (select name from atsmail.resumes r where r.id = record_id)
	from atsmail.bulk_items where job_id = $JOB" >"$W/items1"
tap_ok "each shows only its own recipient, its own name, its own Message-ID" \
	python3 - "$W/sink1" "$W/items1" <<'PY'
import email, email.policy, glob, re, sys
items = {}
for line in open(sys.argv[2], encoding="utf-8"):
    rcpt, mid, name = line.rstrip("\n").split(" ", 2)
    items[rcpt] = (mid, name)
seen, bad = set(), []
for path in glob.glob(sys.argv[1] + "/*"):
    m = email.message_from_binary_file(open(path, "rb"), policy=email.policy.default)
    rcpts = [re.search(r"<([^>]*)>", h).group(1).lower() for h in m.get_all("X-Rcpt-Args", [])]
    if len(rcpts) != 1 or rcpts[0] not in items:
        bad.append("%s: envelope %s" % (path, rcpts)); continue
    r = rcpts[0]
    if r in seen:
        bad.append(r + " twice")
    seen.add(r)
    mid, name = items[r]
    to = m.get_all("To", [])
    if len(to) != 1 or to[0].addresses[0].addr_spec.lower() != r or \
       to[0].addresses[0].display_name != name or m.get_all("Cc") or m.get_all("Bcc"):
        bad.append("%s: To %s" % (r, to))
    if m["Message-ID"].strip().strip("<>") != mid:
        bad.append("%s: Message-ID %s, the job gave %s" % (r, m["Message-ID"], mid))
    if str(m["Subject"]) != name + " 様 面接のご案内":
        bad.append("%s: Subject %s" % (r, m["Subject"]))
    text = m.get_body(("plain",)).get_content()
    if not text.startswith(name + " 様") or ".leading dot line" not in text or "{{" in text:
        bad.append("%s: body %r" % (r, text[:80]))
    if m["X-ATS-Bulk"] is not None or m["X-ATS-Template"] is not None:
        bad.append("%s: X-ATS-* left" % r)
if len(seen) != 50:
    bad.append("%d distinct recipients" % len(seen))
print("\n".join(bad[:10]), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
tap_is "51 messages recorded, one per mail" \
	"$(am_wait_sql "select count(*) from atsmail.messages m join atsmail.bulk_items i
	                on i.message_id = m.rfc_message_id and m.direction = 'out'
	                where i.job_id = $JOB" 51 30)" 51
tap_is "each linked to its own resume" \
	"$(am_sql "select count(*) from atsmail.bulk_items i
	           join atsmail.messages m on m.rfc_message_id = i.message_id and m.direction = 'out'
	           where i.job_id = $JOB and exists (select 1 from atsmail.message_links l
	             where l.message_id = m.id and l.target_kind = 'resume' and l.target_id = i.record_id)")" 51
tap_is "the template's phase applied to every resume" \
	"$(am_wait_sql "select count(*) from atsmail.resumes where id between 6001 and 6051 and phase = 'active'" 51 20)" 51
got=
for _ in $(seq 1 60); do
	for u in $(am_imap "$TB_IMAP_PORT" "$ALICE" search "ALL" 2>/dev/null); do
		am_imap "$TB_IMAP_PORT" "$ALICE" raw "uid:$u" >"$W/m.eml" 2>/dev/null
		python3 - "$W/m.eml" "$W/result.csv" "$JOB" <<'PY' && got=$u && break 2
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
for p in m.walk():
    if p.get_content_type() == "text/csv" and p.get_filename() == "bulk-%s.csv" % sys.argv[3]:
        open(sys.argv[2], "wb").write(p.get_payload(decode=True))
        sys.exit(0)
sys.exit(1)
PY
	done
	sleep 0.5
done
tap_ok "the result mail with the job's CSV is in alice's INBOX" test -n "$got"
tap_ok "its CSV: 51 accepted rows, the Message-IDs the sink received, queue ids" \
	python3 - "$W/result.csv" "$W/sink1" <<'PY'
import csv, email, email.policy, glob, io, re, sys
rows = list(csv.DictReader(io.StringIO(open(sys.argv[1], encoding="utf-8").read())))
sink = {}
for path in glob.glob(sys.argv[2] + "/*"):
    m = email.message_from_binary_file(open(path, "rb"), policy=email.policy.default)
    sink[re.search(r"<([^>]*)>", m["X-Rcpt-Args"]).group(1).lower()] = m["Message-ID"].strip("<> ")
bad = [r["recipient"] for r in rows if r["status"] != "accepted" or not r["queue_id"]]
bad += [r["recipient"] for r in rows if r["recipient"] in sink and sink[r["recipient"]] != r["message_id"]]
if len(rows) != 51 or len([r for r in rows if r["recipient"] in sink]) != 50:
    bad.append("%d rows" % len(rows))
print(bad[:10], file=sys.stderr)
sys.exit(1 if bad else 0)
PY
tap_is "the result mail went once" \
	"$(am_sql "select result_sent_at is not null from atsmail.bulk_jobs where id = $JOB")" t

# ---- 3. the bounce -------------------------------------------------------------------
tap_is "the bounce of nosuch-ctl@candidate.test is tied to its mail" \
	"$(am_wait_sql "select r.status from atsmail.bulk_items i
	   join atsmail.messages m on m.rfc_message_id = i.message_id and m.direction = 'out'
	   join atsmail.message_recipients r on r.message_id = m.id and r.address = i.rcpt
	   where i.job_id = $JOB and i.rcpt = 'nosuch-ctl@candidate.test'" bounced 60)" bounced
ctl bulk status "$JOB" >"$W/status.out" 2>&1
tap_ok "bulk status: 1 bounced, and which" \
	eval "grep -q '^bounced	1$' '$W/status.out' && grep -q '^bounced	nosuch-ctl@candidate.test' '$W/status.out'"
ctl bulk status "$JOB" --csv >"$W/status.csv" 2>&1
tap_ok "bulk status --csv: the bounce on that recipient's row" \
	grep -q '^nosuch-ctl@candidate.test,.*,accepted,.*,bounced,' "$W/status.csv"

# ---- 4. SIGKILL in the middle -----------------------------------------------------------
restart "bulk_rate = 4"
sink "$W/sink2"
IDS2=$(seq -f 'r%g' 6001 6050 | paste -sd,)
JOB2=$(ctl bulk send --template invite --ids "$IDS2" --as alice@atsmail.test --no-wait 2>/dev/null)
tap_ok "--no-wait prints the job's id" test "${JOB2:-0}" -gt "$JOB"
am_wait_sql "select count(*) >= 8 from atsmail.bulk_items where job_id = ${JOB2:-0} and status = 'accepted'" t 60 >/dev/null
kill -KILL "$(ad_pid M)"
sleep 1
before=$(files "$W/sink2")
tap_ok "atsmaild was killed in the middle (sent: $before)" test "$before" -gt 0 -a "$before" -lt 50
restart "bulk_rate = 0"
tap_is "started again, it finishes the job" \
	"$(am_wait_sql "select status from atsmail.bulk_jobs where id = ${JOB2:-0}" done 90)" done
sleep 2
tap_is "every recipient has exactly one mail" \
	"$(grep -h '^X-Rcpt-Args:' "$W"/sink2/* | sort | uniq -c | awk '$1 == 1' | wc -l) $(files "$W/sink2")" "50 50"
tap_is "50 messages recorded for the job, none twice" \
	"$(am_wait_sql "select count(*) || ' ' || count(distinct m.rfc_message_id) from atsmail.messages m
	           join atsmail.bulk_items i on i.message_id = m.rfc_message_id and m.direction = 'out'
	           where i.job_id = ${JOB2:-0}" "50 50" 30)" "50 50"

# ---- 4b. --attach: the same file in every mail -----------------------------------------
sink "$W/sink4"
printf '%%PDF-1.4\n%% bulk-ctl attachment\n' >"$W/guide.pdf"
ctl bulk send --template invite --ids r6001,r6002 --as alice@atsmail.test \
	--attach "$W/guide.pdf" >"$W/attach.csv" 2>"$W/attach.err"
tap_is "bulk send --attach: 2 mails accepted" "$(grep -c ',accepted,' "$W/attach.csv")" 2
for _ in $(seq 1 50); do [ "$(files "$W/sink4")" -ge 2 ] && break; sleep 0.2; done
tap_ok "each carries the file byte for byte and its own merged text" \
	python3 - "$W/sink4" "$W/guide.pdf" <<'PY'
import email, email.policy, glob, sys
want = open(sys.argv[2], "rb").read()
paths = glob.glob(sys.argv[1] + "/*")
ok = len(paths) == 2
for path in paths:
    m = email.message_from_binary_file(open(path, "rb"), policy=email.policy.default)
    pdf = [p for p in m.iter_attachments() if p.get_filename() == "guide.pdf"]
    text = m.get_body(("plain",)).get_content()
    ok = ok and len(pdf) == 1 and pdf[0].get_content() == want and "{{" not in text \
        and text.startswith("候補者 0")
sys.exit(0 if ok else 1)
PY

# ---- 5. cancel ---------------------------------------------------------------------------
restart "bulk_rate = 2"
sink "$W/sink3"
JOB3=$(ctl bulk send --template invite --ids "$IDS2" --as alice@atsmail.test --no-wait 2>/dev/null)
am_wait_sql "select count(*) >= 2 from atsmail.bulk_items where job_id = ${JOB3:-0} and status = 'accepted'" t 60 >/dev/null
ctl bulk cancel "${JOB3:-0}" >"$W/cancel.out" 2>&1
tap_ok "bulk cancel answers" grep -q "cancelled" "$W/cancel.out"
tap_is "the job ends cancelled" \
	"$(am_wait_sql "select status from atsmail.bulk_jobs where id = ${JOB3:-0} and finished_at is not null" cancelled 30)" cancelled
sleep 2
n3=$(files "$W/sink3")
tap_ok "the rest was not sent ($n3 of 50 at the sink)" test "$n3" -lt 50
tap_is "the items not sent are 'cancelled'" \
	"$(am_sql "select count(*) filter (where status = 'cancelled') = 50 - $n3 from atsmail.bulk_items where job_id = ${JOB3:-0}")" t
ctl bulk list >"$W/list.out" 2>&1
tap_ok "bulk list shows the jobs" eval "grep -q \"^${JOB3:-0}	cancelled	alice@atsmail.test	ctl	invite\" '$W/list.out'"

if [ "$TAP_FAILED" -gt 0 ]; then
	tap_diag "--- atsmaild's log:"; grep -v 'debug: ' "$LOG" | grep -i bulk | tail -n 60 | sed 's/^/# /'
	tap_diag "--- maillog:"; tail -n 40 "$TB_MAILLOG" | sed 's/^/# /'
fi
tap_done

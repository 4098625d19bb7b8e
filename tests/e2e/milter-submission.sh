#!/bin/bash
# tests/e2e/milter-submission.sh -- the whole outbound path through Postfix:
# a recruiter authenticates on the submission port and sends ATS mail with
# command addresses in Bcc; atsmaild's milter front consumes the commands,
# tags the mail and journals its record, which the recorder puts into
# PostgreSQL; the candidate receives it (read over IMAP) without the command
# addresses and with X-ATS-Ref; the database holds the message, its links,
# the new selection process and the phase change.  Then: a private user's
# mail is hidden from another recruiter's application session but visible
# to her own; a non-SMTP submission (sendmail(1), which Postfix filters
# through non_smtpd_milters) is outbound too; a forged X-ATS-Ref arriving at
# the MX is removed before delivery.  The database checks wait (bounded) for
# the recorder.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/e2e-lib.sh"
. "$top_srcdir/tests/e2e/atsmaild-lib.sh"

command -v swaks >/dev/null || tap_skip_all "swaks is not installed"
[ "$(id -u)" = 0 ] || tap_skip_all "the test bed needs root"

# The milter socket is where docs/postfix-integration.md puts it: inside
# Postfix's queue directory, named relative to it (unix:atsmail/milter.sock),
# which a chrooted smtpd and cleanup reach as well as unchrooted ones (the
# test bed's are not chrooted; every Postfix daemon runs in the queue
# directory).  Postfix connects per SMTP session, so it is enough that
# atsmaild listens before the first message.  Only the milter is wired:
# delivery into Dovecot goes without the plugin here.
ad_prepare M
W=$(ad_dir M)
export TB_POSTFIX_MILTERS="unix:atsmail/milter.sock"
tb_start pg postfix dovecot
trap ad_cleanup EXIT
QSOCK=$TB_DIR/postfix/spool/atsmail/milter.sock
mkdir -m 0755 "$(dirname "$QSOCK")"

# The test bed's Postfix accepts the command addresses of ats.atsmail.test
# and routes them to discard(8), as docs/postfix-integration.md says.

ad_db
tb_psql >/dev/null <<'SQL' || tap_bail "cannot create the application's login"
DO $$ BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'atsm_webapp') THEN
		CREATE ROLE atsm_webapp LOGIN IN ROLE atsmail_app; END IF;
END $$;
SQL
ad_conf M "milter_socket = unix:$QSOCK"
ad_start M
LOG=$(ad_log M)

# q_wait WANT QUERY: the query's value once it is WANT (the recorder has
# caught up), or after ~30 s the last one
q_wait() {
	local v
	for _ in $(seq 1 150); do
		v=$(tb_psql -c "$2" 2>&1)
		[ "$v" = "$1" ] && break
		sleep 0.2
	done
	printf '%s\n' "$v"
}

RUN=$$
ATS=ats.atsmail.test

# submit USER PASSWORD FROM RCPTS HEADER... : swaks over the submission port
submit() {
	local user=$1 pw=$2 from=$3 rcpts=$4
	shift 4
	local args=()
	for h in "$@"; do args+=(--header "$h"); done
	swaks --server 127.0.0.1 --port "$TB_SUBMISSION_PORT" --auth PLAIN \
		--auth-user "$user" --auth-password "$pw" --from "$from" --to "$rcpts" \
		"${args[@]}" --body "Dear candidate, about the position." >>"$W/swaks.log" 2>&1
}

# fetch USER PASSWORD SUBJECT: the headers of the message with that subject
# (IMAP on the test bed's Dovecot), waiting up to ~20 s for delivery
fetch() {
	python3 - "$TB_IMAP_PORT" "$1" "$2" "$3" <<'PY'
import imaplib, sys, time
port, user, pw, subject = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
for _ in range(100):
    try:
        m = imaplib.IMAP4("127.0.0.1", port)
        m.login(user, pw)
        m.select("INBOX", readonly=True)
        typ, data = m.search(None, "SUBJECT", '"%s"' % subject)
        ids = data[0].split()
        if ids:
            typ, msg = m.fetch(ids[-1], "(BODY.PEEK[HEADER])")
            sys.stdout.write(msg[0][1].decode("utf-8", "replace"))
            m.logout()
            sys.exit(0)
        m.logout()
    except (OSError, imaplib.IMAP4.error):
        pass
    time.sleep(0.2)
sys.exit(1)
PY
}

hdr() { tr -d '\r' | awk -v n="$1" 'BEGIN { IGNORECASE = 1 } tolower($0) ~ "^" tolower(n) ":" { sub(/^[^:]*:[ \t]*/, ""); print; exit }'; }

# ---- 1. alice: ATS mail with commands in Bcc
subj="Interview $RUN"
submit alice@atsmail.test alicepw alice@atsmail.test \
	"taro@candidate.test,ats+job.3005@$ATS,ats+phase.interview1@$ATS" \
	"To: Taro Yamada <taro@candidate.test>" "Subject: $subj" \
	"Message-Id: <interview.$RUN@atsmail.test>"
tap_ok "atsmaild listens inside Postfix's queue directory" test -S "$QSOCK"
tap_is "alice's submission is accepted" "$(grep -c '<-  250 2.0.0 Ok: queued' "$W/swaks.log")" "1"
h=$(fetch taro@candidate.test taropw "$subj")
tap_ok "taro receives the mail" test -n "$h"
tok=$(printf '%s\n' "$h" | hdr X-ATS-Ref)
tap_ok "it carries X-ATS-Ref with a token" sh -c "printf '%s' '$tok' | grep -Eq '^a[a-z2-7]{37}\$'"
tap_ok "no command address in its headers" sh -c "! printf '%s' \"\$1\" | grep -qi 'ats+'" _ "$h"
tap_is "the Message-ID is unchanged" "$(printf '%s\n' "$h" | hdr Message-ID)" "<interview.$RUN@atsmail.test>"
tap_is "Postfix delivered nothing to the command addresses" \
	"$(grep -c "to=<ats+" "$TB_MAILLOG")" "0"
tap_is "the message is recorded: alice's, shared, linked to resume 1001" \
	"$(q_wait "1|shared" "SELECT owner_id, visibility FROM atsmail.messages m
	     JOIN atsmail.message_links l ON l.message_id = m.id AND l.target_kind = 'resume' AND l.target_id = 1001
	     WHERE m.token = '$tok' AND m.rfc_message_id = 'interview.$RUN@atsmail.test'")" "1|shared"
tap_is "the selection process resume 1001 x job 3005 exists, in phase interview1" \
	"$(q_wait interview1 "SELECT phase FROM atsmail.processes WHERE resume_id = 1001 AND job_id = 3005")" "interview1"
tap_is "the mail is linked to that process and the job" \
	"$(q_wait 2 "SELECT count(DISTINCT l.target_kind) FROM atsmail.message_links l
	     JOIN atsmail.messages m ON m.id = l.message_id
	     WHERE m.token = '$tok' AND (l.target_kind = 'job' AND l.target_id = 3005
	        OR l.target_kind = 'process' AND l.target_id =
	           (SELECT id FROM atsmail.processes WHERE resume_id = 1001 AND job_id = 3005))")" "2"
tap_is "the phase change is in the history, caused by the sent mail" \
	"$(q_wait 1 "SELECT count(*) FROM atsmail.phase_history h JOIN atsmail.messages m ON m.id = h.message_id
	     WHERE m.token = '$tok' AND h.kind = 'process' AND h.to_phase = 'interview1' AND h.cause = 'mail_sent'")" "1"

# ---- 2. carol (private mode): bob's application cannot read it, carol's can
subj="Private $RUN"
submit carol@atsmail.test carolpw carol@atsmail.test hanako@candidate.test \
	"To: hanako@candidate.test" "Subject: $subj"
h=$(fetch hanako@candidate.test hanakopw "$subj")
ctok=$(printf '%s\n' "$h" | hdr X-ATS-Ref)
tap_is "carol's mail is recorded private" \
	"$(q_wait private "SELECT visibility FROM atsmail.messages WHERE token = '$ctok'")" "private"
as_app() {
	psql "host=$TB_PGHOST port=$TB_PGPORT dbname=$TB_DB user=atsm_webapp" -qAt -v ON_ERROR_STOP=1 \
		-c "SET atsmail.acting_user = '$1'" \
		-c "SELECT count(*) FROM atsmail.messages WHERE token = '$ctok'" 2>&1
}
tap_is "an application acting for bob cannot read it" "$(as_app bob@atsmail.test)" "0"
tap_is "an application acting for carol reads it" "$(as_app carol@atsmail.test)" "1"

# ---- 3. non-SMTP submission (sendmail -> pickup -> cleanup -> non_smtpd_milters)
subj="Local $RUN"
printf 'From: alice@atsmail.test\nTo: taro@candidate.test\nSubject: %s\n\nsent with sendmail(1)\n' "$subj" |
	sendmail -C "$TB_POSTFIX_CONF" -f alice@atsmail.test taro@candidate.test
h=$(fetch taro@candidate.test taropw "$subj")
ltok=$(printf '%s\n' "$h" | hdr X-ATS-Ref)
tap_ok "a sendmail(1) submission is seen as non-SMTP, outbound" \
	grep -q 'milter connection [0-9]*: client localhost\[127.0.0.1\]:0 (non-SMTP submission)' "$LOG"
tap_is "and recorded as alice's mail" \
	"$(q_wait 1 "SELECT owner_id FROM atsmail.messages WHERE token = '$ltok' AND '$ltok' <> ''")" "1"

# ---- 4. inbound at the MX: a forged X-ATS-Ref is removed
subj="Reply $RUN"
swaks --server 127.0.0.1 --port "$TB_SMTP_PORT" --from suzuki@client.test --to alice@atsmail.test \
	--header "Subject: $subj" --header "X-ATS-Ref: aforgedforgedforgedforgedforgedforgedfo" \
	--body "a reply" >>"$W/swaks.log" 2>&1
h=$(fetch alice@atsmail.test alicepw "$subj")
tap_ok "alice receives the reply" test -n "$h"
tap_is "the forged X-ATS-Ref was removed" "$(printf '%s\n' "$h" | hdr X-ATS-Ref)" ""

if [ "$TAP_FAILED" -gt 0 ]; then
	tap_diag "--- atsmaild's log:"; grep -v 'debug: ' "$LOG" | tail -n 30 | sed 's/^/# /'
	tap_diag "--- maillog:"; tail -n 30 "$TB_MAILLOG" | sed 's/^/# /'
fi
tap_done

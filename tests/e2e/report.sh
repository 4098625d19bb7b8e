#!/bin/bash
# report.sh -- `atsmailctl report` against a private PostgreSQL, on seeded
# mail whose every figure is known (docs/reports.md): per recruiter, shared
# mailbox and job -- sent, replies, reply rate, hard and soft bounces,
# median and p90 of the time to first reply both ways (wall clock and
# office hours), held mail and open items now; the days in the report's
# zone; the funnel; open items by age; CSV with and without the BOM; and
# row-level security: bob's report (--as bob, or his own database login)
# has none of alice's private mail, its reply, its bounce or the phase
# change it caused, and a recruiter sees only the shared mailboxes it is a
# member of.
set -u
. "$top_srcdir/tests/e2e/e2e-lib.sh"

tb_start pg
if ! tb_migrate >"$TB_DIR/migrate.log" 2>&1; then
	echo "1..1"; echo "not ok 1 - migrations did not apply"; sed 's/^/# /' "$TB_DIR/migrate.log"
	exit 1
fi

CTL=$top_builddir/ctl/atsmailctl
WORK=$TB_DIR/report-test
mkdir -p "$WORK"
: >"$WORK/empty.conf"
as_db() { echo "host=$TB_PGHOST port=$TB_PGPORT dbname=$TB_DB user=$1"; }
# rep DB ARGS...: atsmailctl report on conninfo DB for the week of
# 2026-11-02 (a Monday) to 2026-11-08 in Tokyo
rep() {
	local db=$1; shift
	LC_ALL=${REP_LANG:-C} PGTZ=Asia/Tokyo "$CTL" -c "$WORK/empty.conf" --db "$db" report \
		--from 2026-11-02 --to 2026-11-08 "$@" >"$WORK/out" 2>"$WORK/err"
	RC=$?
	OUT=$(tr -d '\r' <"$WORK/out")
}

# The seed (times in Tokyo, +09):
#  thread 1  alice  m1 out Mon 11-02 10:00 (process 1, job 1), m2 in 12:00, m3 out 13:00
#  thread 4  alice  m4 out Tue 11-03 09:00 to two (one bounced 5.1.1), m5 in Thu 11-05 09:00
#  thread 6  alice  PRIVATE m6 out Wed 11-04 10:00 (job 2, bounced 4.2.2), m7 in 11:00,
#                   which moved process 3 to interview1
#  thread 8  bob    m8 out Fri 11-06 15:00 (job 1 directly), m15 an auto-reply to it
#  thread 9  bob    m9 in Fri 11-06 17:00 to recruit@ (shared item 1), m10 out Mon
#                   11-09 10:00 (after the period: answers m9, not counted as sent)
#  thread 16 alice  m16 out Sat 11-07 08:30 (Fri 23:30 UTC), no answer
#  m11 out before the period; m12 held now (job 2); m13 rejected; m14 a bounce
tb_psql >/dev/null <<'SQL'
CREATE ROLE alice_r LOGIN IN ROLE atsmail_reader;
CREATE ROLE bob_r LOGIN IN ROLE atsmail_reader;
CREATE ROLE audit_r LOGIN IN ROLE atsmail_auditor;
INSERT INTO atsmail.users (id, login, display_name, sharing_mode, db_role) OVERRIDING SYSTEM VALUE VALUES
	(1, 'alice@corp.test', '山田 花子', 'custom', 'alice_r'),
	(2, 'bob@corp.test', 'Bob', 'public', 'bob_r');
INSERT INTO atsmail.jobs (id, title) OVERRIDING SYSTEM VALUE VALUES
	(1, 'バックエンドエンジニア'), (2, '営業');
INSERT INTO atsmail.resumes (id, name, owner_id) OVERRIDING SYSTEM VALUE VALUES
	(1, '候補者 一', 1), (2, '候補者 二', 1), (3, '候補者 三', 1);
INSERT INTO atsmail.processes (id, resume_id, job_id, phase, owner_id) OVERRIDING SYSTEM VALUE VALUES
	(1, 1, 1, 'interview1', 1), (2, 2, 1, 'rejected', 1), (3, 3, 2, 'interview1', 1);
INSERT INTO atsmail.messages (id, direction, thread_id, owner_id, counterparts, subject, sent_at, received_at,
		visibility, status, is_bounce, is_auto_reply) OVERRIDING SYSTEM VALUE VALUES
	(1, 'out', NULL, 1, '{c1@cand.test}', 'ご案内', '2026-11-02 10:00+09', NULL, 'shared', 'recorded', false, false),
	(2, 'in', 1, 1, '{c1@cand.test}', 'Re: ご案内', NULL, '2026-11-02 12:00+09', 'shared', 'recorded', false, false),
	(3, 'out', 1, 1, '{c1@cand.test}', 'Re: Re: ご案内', '2026-11-02 13:00+09', NULL, 'shared', 'recorded', false, false),
	(4, 'out', NULL, 1, '{c2@cand.test,old@cand.test}', '面接日程', '2026-11-03 09:00+09', NULL, 'shared', 'recorded', false, false),
	(5, 'in', 4, 1, '{c2@cand.test}', 'Re: 面接日程', NULL, '2026-11-05 09:00+09', 'shared', 'recorded', false, false),
	(6, 'out', NULL, 1, '{c3@cand.test}', '年収のご相談', '2026-11-04 10:00+09', NULL, 'private', 'recorded', false, false),
	(7, 'in', 6, 1, '{c3@cand.test}', 'Re: 年収のご相談', NULL, '2026-11-04 11:00+09', 'private', 'recorded', false, false),
	(8, 'out', NULL, 2, '{c4@cand.test}', 'Job offer', '2026-11-06 15:00+09', NULL, 'shared', 'recorded', false, false),
	(9, 'in', NULL, 2, '{c5@cand.test}', '応募します', NULL, '2026-11-06 17:00+09', 'shared', 'recorded', false, false),
	(10, 'out', 9, 2, '{c5@cand.test}', 'Re: 応募します', '2026-11-09 10:00+09', NULL, 'shared', 'recorded', false, false),
	(11, 'out', NULL, 1, '{c6@cand.test}', 'before', '2026-10-30 10:00+09', NULL, 'shared', 'recorded', false, false),
	(12, 'out', NULL, 1, '{c3@cand.test}', 'held', NULL, NULL, 'shared', 'held', false, false),
	(13, 'out', NULL, 2, '{c4@cand.test}', 'rejected', NULL, NULL, 'shared', 'rejected', false, false),
	(14, 'in', 4, 1, '{mailer-daemon@cand.test}', 'Undelivered', NULL, '2026-11-03 09:05+09', 'shared', 'recorded', true, false),
	(15, 'in', 8, 2, '{c4@cand.test}', 'Out of office', NULL, '2026-11-06 15:05+09', 'shared', 'recorded', false, true),
	(16, 'out', NULL, 1, '{c7@cand.test}', 'ご連絡', '2026-11-07 08:30+09', NULL, 'shared', 'recorded', false, false);
INSERT INTO atsmail.message_recipients (message_id, address, kind, status, status_code, bounced_at) VALUES
	(1, 'c1@cand.test', 'to', 'delivered', NULL, NULL),
	(4, 'c2@cand.test', 'to', 'delivered', NULL, NULL),
	(4, 'old@cand.test', 'cc', 'bounced', '5.1.1', '2026-11-03 09:05+09'),
	(6, 'c3@cand.test', 'to', 'bounced', '4.2.2', '2026-11-04 10:05+09'),
	(8, 'c4@cand.test', 'to', 'delivered', NULL, NULL);
INSERT INTO atsmail.message_links (message_id, target_kind, target_id, rule) VALUES
	(1, 'process', 1, 'command'), (2, 'process', 1, 'in_reply_to'), (3, 'process', 1, 'in_reply_to'),
	(4, 'process', 2, 'command'), (5, 'process', 2, 'in_reply_to'),
	(6, 'process', 3, 'command'), (7, 'process', 3, 'in_reply_to'),
	(8, 'job', 1, 'command'), (12, 'process', 3, 'command');
INSERT INTO atsmail.held_messages (message_id, reason, held_at) VALUES (12, 'needs approval', now());
INSERT INTO atsmail.held_messages (message_id, reason, held_at, decision, decided_by, decided_at)
	VALUES (13, 'needs approval', now(), 'rejected', 'boss', now());
INSERT INTO atsmail.phase_history (kind, record_id, from_phase, to_phase, cause, actor_id, message_id, at) VALUES
	('process', 1, NULL, 'entry', 'mail_sent', 1, 11, '2026-10-30 10:00+09'),
	('process', 1, 'entry', 'screening', 'mail_sent', 1, 1, '2026-11-02 10:00+09'),
	('process', 1, 'screening', 'interview1', 'reply', 1, 2, '2026-11-02 12:00+09'),
	('process', 2, 'entry', 'screening', 'mail_sent', 1, 4, '2026-11-03 09:00+09'),
	('process', 2, 'screening', 'rejected', 'manual', 1, NULL, '2026-11-05 10:00+09'),
	('process', 3, 'screening', 'interview1', 'reply', 1, 7, '2026-11-04 11:00+09');
INSERT INTO atsmail.shared_members (mailbox, user_id) VALUES
	('recruit@corp.test', 2), ('sales@corp.test', 1);
INSERT INTO atsmail.shared_items (id, mailbox, rfc_message_id, thread_key, received_at, status,
		assignee_user_id, status_by, message_id) OVERRIDING SYSTEM VALUE VALUES
	(1, 'recruit@corp.test', 'm9@cand.test', 'm9@cand.test', '2026-11-06 17:00+09', 'done', 2, 'bob@corp.test', 9),
	(2, 'recruit@corp.test', 'i2@cand.test', 'i2@cand.test', now() - interval '2 hours', 'unhandled', NULL, 'atsmaild', NULL),
	(3, 'recruit@corp.test', 'i3@cand.test', 'i3@cand.test', now() - interval '2 days', 'progress', 2, 'bob@corp.test', NULL),
	(4, 'recruit@corp.test', 'i4@cand.test', 'i4@cand.test', now() - interval '5 days', 'unhandled', 2, 'atsmaild', NULL),
	(5, 'recruit@corp.test', 'i5@cand.test', 'i5@cand.test', now() - interval '10 days', 'progress', 2, 'bob@corp.test', NULL),
	(6, 'recruit@corp.test', 'i6@cand.test', 'i6@cand.test', now() - interval '1 hour', 'done', 2, 'bob@corp.test', NULL),
	(7, 'sales@corp.test', 'i7@cand.test', 'i7@cand.test', now() - interval '4 days', 'unhandled', 1, 'atsmaild', NULL);
SQL

HEAD="section,label,key,sent,replies,reply_rate,bounces_hard,bounces_soft,in_median_s,in_p90_s,out_median_s,out_p90_s,held,open"

# ---------------------------------------------------------------- usage
rep "$TB_PG_ADMIN" --help
tap_is "report --help exits 0" "$RC" 0
rep "$TB_PG_ADMIN" --bom
tap_is "--bom without --csv is a usage error (2)" "$RC" 2
rep "$TB_PG_ADMIN" --by team
tap_is "--by team is a usage error (2)" "$RC" 2
PGTZ=Asia/Tokyo "$CTL" -c "$WORK/empty.conf" --db "$TB_PG_ADMIN" report --from 2026-11-31x >/dev/null 2>&1
tap_is "a --from that is not YYYY-MM-DD is a usage error (2)" "$?" 2
PGTZ=Asia/Tokyo "$CTL" -c "$WORK/empty.conf" --db "$TB_PG_ADMIN" report --from 2026-11-09 --to 2026-11-02 >/dev/null 2>"$WORK/err"
tap_is "--from after --to fails (1)" "$?" 1
tap_ok "... and says so" grep -q "after --to" "$WORK/err"
rep "$TB_PG_ADMIN" --as nobody@corp.test --csv
tap_is "--as an unknown login fails (1)" "$RC" 1
tap_ok "... naming the login" grep -q "nobody@corp.test" "$WORK/err"

# ---------------------------------------------------- every figure (CSV)
rep "$TB_PG_ADMIN" --csv
tap_is "admin: exit 0" "$RC" 0
tap_is "admin: every figure of every row" "$OUT" "$HEAD
recruiter,山田 花子,alice@corp.test,5,3,0.7500,1,1,7200,172800,3600,3600,1,1
recruiter,Bob,bob@corp.test,1,0,0.0000,0,0,,,234000,234000,0,3
mailbox,recruit@corp.test,recruit@corp.test,0,0,,0,0,,,234000,234000,0,4
mailbox,sales@corp.test,sales@corp.test,0,0,,0,0,,,,,0,1
job,バックエンドエンジニア,1,4,2,0.6667,1,0,7200,172800,3600,3600,0,0
job,営業,2,1,1,1.0000,0,1,3600,3600,,,1,0"
tap_is "CSV: every line ends in CRLF" "$(grep -c $'\r$' "$WORK/out")" 7
tap_is "CSV without --bom: no byte order mark" "$(head -c 3 "$WORK/out" | od -An -tx1 | tr -d ' ')" "736563"

rep "$TB_PG_ADMIN" --csv --bom --by recruiter
tap_is "--bom: the file starts with EF BB BF" "$(head -c 3 "$WORK/out" | od -An -tx1 | tr -d ' ')" "efbbbf"
tap_is "--bom --by recruiter: the recruiters only, after the mark" "$(tail -c +4 "$WORK/out" | tr -d '\r')" "$HEAD
recruiter,山田 花子,alice@corp.test,5,3,0.7500,1,1,7200,172800,3600,3600,1,1
recruiter,Bob,bob@corp.test,1,0,0.0000,0,0,,,234000,234000,0,3"

rep "$TB_PG_ADMIN" --csv --part days
tap_is "days in Tokyo: sent and replies per day, empty days too" "$OUT" "date,sent,replies
2026-11-02,2,1
2026-11-03,1,0
2026-11-04,1,1
2026-11-05,0,1
2026-11-06,1,0
2026-11-07,1,0
2026-11-08,0,0"
rep "$TB_PG_ADMIN" --csv --part days --tz UTC
tap_is "--tz UTC: Saturday 08:30 in Tokyo is Friday's mail" "$(sed -n '6,7p' <<<"$OUT")" "2026-11-06,2,0
2026-11-07,0,0"

rep "$TB_PG_ADMIN" --csv --part funnel
tap_is "funnel: processes moved by mail per job, in phase order (not manual, not before)" "$OUT" \
"job,job_key,phase,phase_code,processes
バックエンドエンジニア,1,書類選考,screening,2
バックエンドエンジニア,1,一次面接,interview1,1
営業,2,一次面接,interview1,1"

rep "$TB_PG_ADMIN" --csv --part aging
tap_is "open shared mail by age (done items left out)" "$OUT" "mailbox,under_1d,1d_3d,3d_7d,over_7d
recruit@corp.test,1,1,1,1
sales@corp.test,0,0,1,0"

rep "$TB_PG_ADMIN" --csv --by recruiter --office-hours
tap_is "--office-hours (09:00-18:00 mon-fri): nights and the weekend not counted" "$OUT" "$HEAD
recruiter,山田 花子,alice@corp.test,5,3,0.7500,1,1,7200,64800,3600,3600,1,1
recruiter,Bob,bob@corp.test,1,0,0.0000,0,0,,,7200,7200,0,3"
printf 'report_office_hours = 10:00-17:00\nreport_office_days = mon-thu\n' >"$WORK/office.conf"
PGTZ=Asia/Tokyo "$CTL" -c "$WORK/office.conf" --db "$TB_PG_ADMIN" report --from 2026-11-02 \
	--to 2026-11-08 --csv --by recruiter --office-hours >"$WORK/out" 2>"$WORK/err"
tap_is "the office-hours settings are used (10-17, mon-thu: bob's Friday-to-Monday answer is 0 s)" \
	"$(tr -d '\r' <"$WORK/out" | sed -n 3p)" "recruiter,Bob,bob@corp.test,1,0,0.0000,0,0,,,0,0,0,3"
printf 'report_office_days = weekdays\n' >"$WORK/bad.conf"
PGTZ=Asia/Tokyo "$CTL" -c "$WORK/bad.conf" --db "$TB_PG_ADMIN" report --office-hours >/dev/null 2>"$WORK/err"
tap_is "a bad report_office_days fails (1)" "$?" 1
tap_ok "... naming the setting" grep -q "report_office_days" "$WORK/err"

# --------------------------------------------------------- the terminal
rep "$TB_PG_ADMIN"
tap_is "table: exit 0" "$RC" 0
tap_diag "$OUT"
norm=$(tr -s ' ' <<<"$OUT")
tap_ok "table: the title names the period and the zone" \
	grep -qx "atsmail report 2026-11-02 .. 2026-11-08 (Asia/Tokyo)" <<<"$OUT"
tap_ok "table: alice's row for people (75.0%, 2h, 2d)" \
	grep -qx "山田 花子 alice@corp.test 5 3 75.0% 1 1 2h 00m 2d 00h 1h 00m 1h 00m 1 1" <<<"$norm"
tap_ok "table: bob's row, no data as -" \
	grep -qx "Bob bob@corp.test 1 0 0.0% 0 0 - - 2d 17h 2d 17h 0 3" <<<"$norm"
tap_ok "table: every part" bash -c 'for t in "By recruiter" "By shared mailbox" "By job" "Per day" \
	"Funnel: processes moved by mail" "Open shared mailbox mail by age"; do grep -qx "$t" "$1" || exit 1; done' _ "$WORK/out"
w1=$(grep "^山田 花子" "$WORK/out" | sed 's/alice@.*//' | wc -m)
w2=$(grep "^Bob " "$WORK/out" | sed 's/bob@.*//' | wc -m)
tap_is "table: the id column is aligned by display width (山田 花子: 5 characters, 9 columns)" \
	"$((w1 + 4))" "$w2"
REP_LANG=ja_JP.UTF-8 rep "$TB_PG_ADMIN"
norm=$(tr -s ' ' <<<"$OUT")
tap_ok "table in a Japanese locale: Japanese words, durations in Japanese" eval \
	'grep -qx "atsmail レポート 2026-11-02 .. 2026-11-08 (Asia/Tokyo)" <<<"$OUT" &&
	 grep -qx "担当者別" <<<"$OUT" && grep -qx "日別" <<<"$OUT" &&
	 grep -qx "山田 花子 alice@corp.test 5 3 75.0% 1 1 2時間00分 2日00時間 1時間00分 1時間00分 1 1" <<<"$norm"'

# ------------------------------------------------------ row-level security
rep "$TB_PG_ADMIN" --csv --as bob@corp.test
tap_is "--as bob: exit 0" "$RC" 0
BOB="$HEAD
recruiter,山田 花子,alice@corp.test,4,2,0.6667,1,0,7200,172800,3600,3600,1,0
recruiter,Bob,bob@corp.test,1,0,0.0000,0,0,,,234000,234000,0,3
mailbox,recruit@corp.test,recruit@corp.test,0,0,,0,0,,,234000,234000,0,4
job,バックエンドエンジニア,1,4,2,0.6667,1,0,7200,172800,3600,3600,0,0
job,営業,2,0,0,,0,0,,,,,1,0"
tap_is "--as bob: alice's private mail, its reply and its soft bounce are not counted; no sales@ (not a member)" \
	"$OUT" "$BOB"
rep "$(as_db bob_r)" --csv
tap_is "bob's own database login: the same figures as --as bob" "$OUT" "$BOB"
rep "$TB_PG_ADMIN" --csv --part funnel --as bob@corp.test
tap_is "--as bob: the phase change alice's private reply made is not in the funnel" "$OUT" \
"job,job_key,phase,phase_code,processes
バックエンドエンジニア,1,書類選考,screening,2
バックエンドエンジニア,1,一次面接,interview1,1"
rep "$TB_PG_ADMIN" --csv --part days --as bob@corp.test
tap_is "--as bob: Wednesday's private mail is not in the days" "$(sed -n 4p <<<"$OUT")" "2026-11-04,0,0"
rep "$TB_PG_ADMIN" --csv --part aging --as bob@corp.test
tap_is "--as bob: only the shared mailbox bob is a member of" "$OUT" "mailbox,under_1d,1d_3d,3d_7d,over_7d
recruit@corp.test,1,1,1,1"
rep "$(as_db alice_r)" --csv
tap_is "alice's own login: all her mail; sales@ and not recruit@; bob's open items there unseen" "$OUT" "$HEAD
recruiter,山田 花子,alice@corp.test,5,3,0.7500,1,1,7200,172800,3600,3600,1,1
recruiter,Bob,bob@corp.test,1,0,0.0000,0,0,,,234000,234000,0,0
mailbox,sales@corp.test,sales@corp.test,0,0,,0,0,,,,,0,1
job,バックエンドエンジニア,1,4,2,0.6667,1,0,7200,172800,3600,3600,0,0
job,営業,2,1,1,1.0000,0,1,3600,3600,,,1,0"
rep "$(as_db audit_r)" --csv --by recruiter
tap_is "an auditor's login: every row, private mail included" "$(sed -n 2p <<<"$OUT")" \
	"recruiter,山田 花子,alice@corp.test,5,3,0.7500,1,1,7200,172800,3600,3600,1,1"

tap_done

# tests/e2e/report-page-lib.sh -- the seeded week behind the report page
# tests (report-page.sh, report-browser.sh); sourced after e2e-lib.sh.
#
#   rp_start NAME       the test bed's PostgreSQL, migrated (or the test
#                       fails), rp_prepare NAME and rp_seed
#   rp_prepare NAME     WORK=$TB_DIR/NAME with an empty conf; PWNED is the
#                       file a successful injection would create
#   rp_seed             alice (Japanese name), a job, two candidates, four
#                       mails of the week of 2026-11-02 (Asia/Tokyo), phase
#                       moves, and eve, whose name tries to inject a
#                       gnuplot command, a shell command and HTML
#   rp_page CONF LANG FILE
#                       atsmailctl report --html of that week into FILE in
#                       locale LANG; RC is its exit status, $WORK/out and
#                       $WORK/err its output

CTL=$top_builddir/ctl/atsmailctl

rp_start() {
	tb_start pg
	if ! tb_migrate >"$TB_DIR/migrate.log" 2>&1; then
		echo "1..1"; echo "not ok 1 - migrations did not apply"; sed 's/^/# /' "$TB_DIR/migrate.log"
		exit 1
	fi
	rp_prepare "$1"
	rp_seed
}

rp_prepare() {
	WORK=$TB_DIR/$1
	mkdir -p "$WORK"
	: >"$WORK/empty.conf"
	PWNED=$WORK/pwned
}

rp_page() {
	LC_ALL= LC_MESSAGES= LANG=$2 PGTZ=Asia/Tokyo "$CTL" -c "$1" --db "$TB_PG_ADMIN" report \
		--from 2026-11-02 --to 2026-11-08 --html "$3" >"$WORK/out" 2>"$WORK/err"
	RC=$?
}

# alice (Japanese name), and a recruiter whose name tries everything
rp_seed() {
	tb_psql >/dev/null <<SQL
INSERT INTO atsmail.users (id, login, display_name) OVERRIDING SYSTEM VALUE VALUES
	(1, 'alice@corp.test', '山田 花子'),
	(2, 'eve@corp.test', E'x'' ; system(''touch $PWNED'')\n\`touch $PWNED\` <script>alert(1)</script>');
INSERT INTO atsmail.jobs (id, title) OVERRIDING SYSTEM VALUE VALUES (1, 'バックエンドエンジニア');
INSERT INTO atsmail.resumes (id, name, owner_id) OVERRIDING SYSTEM VALUE VALUES
	(1, '候補者 一', 1), (2, '候補者 二', 1);
INSERT INTO atsmail.processes (id, resume_id, job_id, phase, owner_id) OVERRIDING SYSTEM VALUE VALUES
	(1, 1, 1, 'interview1', 1), (2, 2, 1, 'screening', 1);
INSERT INTO atsmail.messages (id, direction, thread_id, owner_id, counterparts, subject, sent_at, received_at,
		visibility, status, is_bounce, is_auto_reply) OVERRIDING SYSTEM VALUE VALUES
	(1, 'out', NULL, 1, '{c1@cand.test}', 'ご案内', '2026-11-02 10:00+09', NULL, 'shared', 'recorded', false, false),
	(2, 'in', 1, 1, '{c1@cand.test}', 'Re: ご案内', NULL, '2026-11-02 12:00+09', 'shared', 'recorded', false, false),
	(3, 'out', NULL, 1, '{c2@cand.test}', '面接日程', '2026-11-03 09:00+09', NULL, 'shared', 'recorded', false, false),
	(4, 'out', NULL, 2, '{c3@cand.test}', 'Hello', '2026-11-05 15:00+09', NULL, 'shared', 'recorded', false, false);
INSERT INTO atsmail.message_links (message_id, target_kind, target_id, rule) VALUES
	(1, 'process', 1, 'command'), (2, 'process', 1, 'in_reply_to'), (3, 'process', 2, 'command');
INSERT INTO atsmail.phase_history (kind, record_id, from_phase, to_phase, cause, actor_id, message_id, at) VALUES
	('process', 1, 'entry', 'screening', 'mail_sent', 1, 1, '2026-11-02 10:00+09'),
	('process', 1, 'screening', 'interview1', 'reply', 1, 2, '2026-11-02 12:00+09'),
	('process', 2, 'entry', 'screening', 'mail_sent', 1, 3, '2026-11-03 09:00+09');
SQL
}

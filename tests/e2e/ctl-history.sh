#!/bin/bash
# ctl-history.sh -- `atsmailctl history` against a private PostgreSQL: the
# mail and phase history of a resume in time order, and row-level security
# when it runs for a recruiter: with --as LOGIN (SET ROLE atsmail_app +
# atsmail.acting_user) and with a recruiter's own database login (--db),
# another recruiter's private mail does not appear.
set -u
. "$top_srcdir/tests/e2e/e2e-lib.sh"

tb_start pg
if ! tb_migrate >"$TB_DIR/migrate.log" 2>&1; then
	echo "1..1"; echo "not ok 1 - migrations did not apply"; sed 's/^/# /' "$TB_DIR/migrate.log"
	exit 1
fi

CTL=$top_builddir/ctl/atsmailctl
WORK=$TB_DIR/history-test
mkdir -p "$WORK"
: >"$WORK/empty.conf"
# hist DB ARGS...: run atsmailctl history on conninfo DB
hist() {
	local db=$1; shift
	PGTZ=Asia/Tokyo "$CTL" -c "$WORK/empty.conf" --db "$db" history "$@" >"$WORK/out" 2>"$WORK/err"
	RC=$?
	OUT=$(cat "$WORK/out")
}
as_db() { echo "host=$TB_PGHOST port=$TB_PGPORT dbname=$TB_DB user=$1"; }

tb_psql >/dev/null <<'SQL'
CREATE ROLE alice_r LOGIN IN ROLE atsmail_reader;
CREATE ROLE bob_r LOGIN IN ROLE atsmail_reader;
CREATE ROLE webapp_r LOGIN IN ROLE atsmail_app;
CREATE ROLE writer_r LOGIN IN ROLE atsmail_writer;
INSERT INTO atsmail.users (id, login, display_name, sharing_mode, db_role) OVERRIDING SYSTEM VALUE VALUES
	(1, 'alice@corp.test', 'Alice', 'private', 'alice_r'),
	(2, 'bob@corp.test', 'Bob', 'public', 'bob_r');
INSERT INTO atsmail.resumes (id, name, kana, phase, owner_id, shared) OVERRIDING SYSTEM VALUE
	VALUES (1, '山田 太郎', 'ヤマダ タロウ', 'active', 1, true);
INSERT INTO atsmail.addresses (owner_kind, owner_id, addr_norm, is_primary)
	VALUES ('resume', 1, 'taro@cand.test', true);
INSERT INTO atsmail.messages (id, direction, owner_id, counterparts, subject, sent_at, received_at, visibility, visibility_reason) OVERRIDING SYSTEM VALUE VALUES
	(1, 'out', 2, '{taro@cand.test}', 'ご紹介の件', '2025-02-01 10:00+09', NULL, 'shared', NULL),
	(2, 'out', 1, '{taro@cand.test}', '年収のご相談（内密）', '2025-02-02 11:00+09', NULL, 'private', 'user mode private'),
	(3, 'in', 1, '{taro@cand.test}', 'Re: 年収のご相談（内密）', NULL, '2025-02-03 09:30+09', 'private', 'user mode private'),
	(4, 'in', 2, '{taro@cand.test}', 'Re: ご紹介の件', NULL, '2025-02-04 08:15+09', 'shared', NULL);
INSERT INTO atsmail.message_links (message_id, target_kind, target_id, rule) VALUES
	(1, 'resume', 1, 'recipient_address'), (2, 'resume', 1, 'recipient_address'),
	(3, 'resume', 1, 'sender_address'), (4, 'resume', 1, 'sender_address');
INSERT INTO atsmail.phase_history (kind, record_id, from_phase, to_phase, cause, actor_id, message_id, at) VALUES
	('resume', 1, 'new', 'active', 'reply', 1, 3, '2025-02-03 09:30:01+09');
SQL

hist "$TB_PG_ADMIN" --help
tap_is "history --help exits 0" "$RC" 0
hist "$TB_PG_ADMIN" resume abc
tap_is "a non-numeric id is a usage error (2)" "$RC" 2
hist "$TB_PG_ADMIN" job 1
tap_is "a kind other than resume/contact is a usage error (2)" "$RC" 2

hist "$TB_PG_ADMIN" resume 1
tap_is "admin view: exit 0" "$RC" 0
tap_is "admin view: header, every mail and the phase change in time order" "$OUT" \
"resume 1  山田 太郎 (ヤマダ タロウ)
  phase 活動中 (active) since $(tb_psql -c "select current_date"), owner alice@corp.test
  addresses taro@cand.test
2025-02-01 10:00  →  taro@cand.test  ご紹介の件  [by bob@corp.test]
2025-02-02 11:00  →  taro@cand.test  年収のご相談（内密）  [private, by alice@corp.test]
2025-02-03 09:30  ←  taro@cand.test  Re: 年収のご相談（内密）  [private, by alice@corp.test]
2025-02-03 09:30  phase 新規 → 活動中  (reply, by alice@corp.test, mail 3)
2025-02-04 08:15  ←  taro@cand.test  Re: ご紹介の件  [by bob@corp.test]
4 mail(s), 1 phase change(s)"

hist "$TB_PG_ADMIN" resume 1 --as alice@corp.test
tap_is "--as the owner: exit 0" "$RC" 0
tap_ok "--as the owner: her private mail is shown" grep -q "年収のご相談" "$WORK/out"
tap_ok "--as the owner: 4 mails" grep -qx "4 mail(s), 1 phase change(s)" "$WORK/out"

hist "$TB_PG_ADMIN" resume 1 --as bob@corp.test
tap_is "--as another recruiter: exit 0" "$RC" 0
tap_is "--as another recruiter: alice's private mail does not appear" "$(grep -c "年収" "$WORK/out")" 0
tap_ok "--as another recruiter: the shared mail does" grep -q "ご紹介の件" "$WORK/out"
# a phase change caused by mail he may not read leaves no trace either
# (row-level security on phase_history, sql/012)
tap_is "--as another recruiter: not the phase change its private mail caused" \
	"$(grep -c "phase 新規 → 活動中" "$WORK/out")" 0
tap_ok "--as another recruiter: 2 mails" grep -qx "2 mail(s), 0 phase change(s)" "$WORK/out"

hist "$(as_db webapp_r)" resume 1 --as bob@corp.test
tap_is "an atsmail_app login with --as: private mail hidden" "$RC $(grep -c "年収" "$WORK/out")" "0 0"
hist "$(as_db webapp_r)" resume 1 --as alice@corp.test
tap_is "an atsmail_app login with --as the owner: shown" "$RC $(grep -c "年収" "$WORK/out")" "0 2"

hist "$(as_db bob_r)" resume 1
tap_is "bob's own database login: exit 0" "$RC" 0
tap_is "bob's own database login: alice's private mail does not appear" "$(grep -c "年収" "$WORK/out")" 0
hist "$(as_db alice_r)" resume 1
tap_is "alice's own database login: her private mail is shown" "$(grep -c "年収" "$WORK/out")" 2

hist "$TB_PG_ADMIN" resume 1 --as nobody@corp.test
tap_is "--as an unknown login: exit 1" "$RC" 1
tap_ok "--as an unknown login: says so" grep -q "no active user" "$WORK/err"
hist "$(as_db writer_r)" resume 1 --as bob@corp.test
tap_is "--as from a login outside atsmail_app: refused (exit 1), nothing shown" "$RC ${OUT:-none}" "1 none"
hist "$TB_PG_ADMIN" resume 99
tap_is "an unknown resume: exit 1" "$RC" 1
tap_ok "an unknown resume: named" grep -q "no resume 99" "$WORK/err"

tap_done

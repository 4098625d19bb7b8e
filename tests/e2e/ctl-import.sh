#!/bin/bash
# ctl-import.sh -- `atsmailctl import` against a private PostgreSQL: CSV
# files as Japanese ATS products export them (Shift_JIS/CP932 with CRLF,
# UTF-8 with a BOM, quoted cells with commas, quotes and line breaks),
# header names in Japanese and English, bad rows reported by line number
# and skipped, a re-import that updates instead of duplicating, the audit
# entry, and the exit codes.  The files are in tests/data/import/.
set -u
. "$top_srcdir/tests/e2e/e2e-lib.sh"

tb_start pg
if ! tb_migrate >"$TB_DIR/migrate.log" 2>&1; then
	echo "1..1"; echo "not ok 1 - migrations did not apply"; sed 's/^/# /' "$TB_DIR/migrate.log"
	exit 1
fi

CTL=$top_builddir/ctl/atsmailctl
DATA=$top_srcdir/tests/data/import
WORK=$TB_DIR/import-test
mkdir -p "$WORK"
: >"$WORK/empty.conf"

# imp ARGS...: run atsmailctl import; sets RC, OUT (stdout) and ERR (stderr)
imp() {
	"$CTL" -c "$WORK/empty.conf" --db "$TB_PG_ADMIN" import "$@" >"$WORK/out" 2>"$WORK/err"
	RC=$?
	OUT=$(cat "$WORK/out")
	ERR=$(cat "$WORK/err")
}
sql() { tb_psql -c "$*"; }

# --- usage
imp --help
tap_is "import --help exits 0" "$RC" 0
tap_ok "import --help names the kinds" grep -q "users|resumes|contacts|companies|jobs" "$WORK/out"
imp pets "$DATA/users.csv"
tap_is "an unknown kind is a usage error (2)" "$RC" 2
imp users
tap_is "a missing file argument is a usage error (2)" "$RC" 2
imp users "$DATA/users.csv" --encoding latin9
tap_is "an unknown --encoding is a usage error (2)" "$RC" 2
imp users "$WORK/no-such.csv"
tap_is "an unreadable file exits 1" "$RC" 1
tap_ok "... naming the file" grep -q "no-such.csv" "$WORK/err"

# --- users (UTF-8, LF, a line break inside a quoted cell)
imp users "$DATA/users.csv" --actor importer
tap_is "users: exit 1 because rows were skipped" "$RC" 1
tap_is "users: summary" "$OUT" "$DATA/users.csv: imported 2, updated 0, unchanged 0, skipped 2"
tap_ok "users: line 5 named for the login with white space" \
	grep -q "users.csv line 5: login 'carol atsmail' contains white space" "$WORK/err"
tap_ok "users: line 6 named for the unknown sharing mode" \
	grep -q "users.csv line 6: sharing_mode 'とても公開'" "$WORK/err"
tap_is "users: Japanese role and mode mapped" \
	"$(sql "select login, display_name, role, sharing_mode, default_share from atsmail.users order by login")" \
	"alice@atsmail.test|アリス|recruiter|public|t
bob@atsmail.test|ボブ|admin|private|f"
tap_is "users: login primary, additional addresses from a two-line cell" \
	"$(sql "select a.addr_norm || ':' || a.is_primary from atsmail.addresses a join atsmail.users u on u.id = a.owner_id and a.owner_kind = 'user' where u.login = 'alice@atsmail.test' order by a.id")" \
	"alice@atsmail.test:true
alice.sales@atsmail.test:false
alice.jp@atsmail.test:false"
tap_is "users: the import is audited with its counts and actor" \
	"$(sql "select actor || ' ' || (detail->>'imported') || ' ' || (detail->>'skipped') from atsmail.audit_log where action = 'import.users'")" \
	"importer 2 2"

# --- companies, contacts (CP932), jobs
imp companies "$DATA/companies.csv"
tap_is "companies: exit 0" "$RC" 0
tap_ok "companies: the unknown column is reported once as ignored" \
	grep -q "ignored column(s): '電話番号'" "$WORK/err"
tap_is "companies: quoted comma kept, external ids stored" \
	"$(sql "select external_id || '|' || name || '|' || coalesce(note, '') from atsmail.companies order by external_id")" \
	"C01|株式会社アクメ|大口顧客, 東京
C02|グローベックス株式会社|"
imp contacts "$DATA/contacts.csv"
tap_is "contacts: exit 1 (one unknown company)" "$RC" 1
tap_ok "contacts: line 3 names the unknown company" \
	grep -q "contacts.csv line 3: company '存在しない会社' is not known" "$WORK/err"
tap_is "contacts: linked to their companies" \
	"$(sql "select c.external_id || ' ' || c.name || ' ' || co.external_id from atsmail.contacts c join atsmail.companies co on co.id = c.company_id order by 1")" \
	"K01 鈴木 一郎 C01
K03 佐藤 次郎 C02"
imp jobs "$DATA/jobs.csv"
tap_is "jobs: exit 1 (empty title)" "$RC" 1
tap_ok "jobs: line 4 named for the empty title" grep -q "jobs.csv line 4: title is empty" "$WORK/err"
tap_is "jobs: company by its 企業ID, status from Japanese" \
	"$(sql "select j.external_id || ' ' || j.title || ' ' || j.status || ' ' || c.external_id from atsmail.jobs j join atsmail.companies c on c.id = j.company_id order by 1")" \
	"J01 バックエンドエンジニア open C01
J02 法人営業 on_hold C02"

# --- resumes in Shift_JIS with bad rows
imp resumes "$DATA/resumes-sjis.csv"
tap_is "resumes (Shift_JIS): exit 1 because rows were skipped" "$RC" 1
tap_is "resumes (Shift_JIS): summary counts" "$OUT" \
	"$DATA/resumes-sjis.csv: imported 4, updated 0, unchanged 0, skipped 3"
tap_ok "line 4: the bad email is named" \
	grep -q "resumes-sjis.csv line 4: email 'taro@' is not an address" "$WORK/err"
tap_ok "line 5: the missing name is named" grep -q "resumes-sjis.csv line 5: name is empty" "$WORK/err"
tap_ok "line 8: the wrong column count is named (after a two-line record)" \
	grep -q "resumes-sjis.csv line 8: 4 field(s), but the header has 8" "$WORK/err"
tap_is "exactly three row errors reported" "$(grep -c ' line [0-9]*: ' "$WORK/err")" 3
tap_is "names and kana are correct UTF-8 in the database" \
	"$(sql "select external_id || ' ' || name || ' ' || kana from atsmail.resumes order by external_id")" \
	"R001 山田 太郎 ヤマダ タロウ
R002 佐藤 花子 サトウ ハナコ
R005 鈴木, 次郎 スズキ ジロウ
R007 渡辺 五郎 ワタナベ ゴロウ"
tap_is "two addresses from one cell, normalised, first is primary" \
	"$(sql "select a.addr_norm || ':' || a.is_primary from atsmail.addresses a join atsmail.resumes r on r.id = a.owner_id and a.owner_kind = 'resume' where r.external_id = 'R002' order by a.id")" \
	"hanako@candidate.test:true
hanako.home@example.jp:false"
tap_is "phase by label (入社決定) and by code; owner by login and by name" \
	"$(sql "select r.external_id || ' ' || r.phase || ' ' || coalesce(u.login, '-') from atsmail.resumes r left join atsmail.users u on u.id = r.owner_id order by 1")" \
	"R001 new alice@atsmail.test
R002 active -
R005 new bob@atsmail.test
R007 placed -"
tap_is "a phase set by import is in phase_history with cause import" \
	"$(sql "select count(*) from atsmail.phase_history where cause = 'import' and to_phase = 'placed'")" 1
tap_is "created_from is import" "$(sql "select count(*) from atsmail.resumes where created_from <> 'import'")" 0

# --- re-import: updates, no duplicates
imp resumes "$DATA/resumes-update-sjis.csv"
tap_is "re-import: exit 0" "$RC" 0
tap_is "re-import: summary (2 updated by id, 1 by address, 1 unchanged)" "$OUT" \
	"$DATA/resumes-update-sjis.csv: imported 0, updated 3, unchanged 1, skipped 0"
tap_is "re-import: no duplicate resumes" "$(sql "select count(*) from atsmail.resumes")" 4
tap_is "re-import: the changed kana and name are updated" \
	"$(sql "select external_id || ' ' || name || ' ' || kana from atsmail.resumes where external_id in ('R001', 'R002', 'R007') order by 1")" \
	"R001 山田 太郎 ヤマダ タロー
R002 佐藤 はな子 サトウ ハナコ
R007 渡辺 吾郎 ワタナベ ゴロウ"
tap_is "re-import: no duplicate addresses" \
	"$(sql "select count(*) - count(distinct (owner_kind, owner_id, addr_norm)) from atsmail.addresses")" 0

# --- re-importing the other files changes nothing and adds nothing
imp users "$DATA/users.csv"
tap_is "users again: the good rows are unchanged" "$OUT" \
	"$DATA/users.csv: imported 0, updated 0, unchanged 2, skipped 2"
imp companies "$DATA/companies.csv"
tap_is "companies again: unchanged" "$OUT" "$DATA/companies.csv: imported 0, updated 0, unchanged 2, skipped 0"
imp contacts "$DATA/contacts.csv"
tap_is "contacts again: unchanged" "$OUT" "$DATA/contacts.csv: imported 0, updated 0, unchanged 2, skipped 1"
imp jobs "$DATA/jobs.csv"
tap_is "jobs again: unchanged" "$OUT" "$DATA/jobs.csv: imported 0, updated 0, unchanged 2, skipped 1"
tap_is "nothing was duplicated" \
	"$(sql "select (select count(*) from atsmail.users) || ' ' || (select count(*) from atsmail.companies) || ' ' || (select count(*) from atsmail.contacts) || ' ' || (select count(*) from atsmail.jobs)")" \
	"2 2 2 2"
printf 'login,role\nbob@atsmail.test,recruiter\n' >"$WORK/bob.csv"
imp users "$WORK/bob.csv"
tap_is "a users file with fewer columns updates only those" \
	"$OUT|$(sql "select role || ' ' || sharing_mode || ' ' || display_name from atsmail.users where login = 'bob@atsmail.test'")" \
	"$WORK/bob.csv: imported 0, updated 1, unchanged 0, skipped 0|recruiter private ボブ"

# --- UTF-8 with BOM, English headers, forced encoding, dry run
imp resumes "$DATA/resumes-utf8-bom.csv" --dry-run
tap_is "dry run: exit 0" "$RC" 0
tap_ok "dry run: says nothing was written" grep -q "imported 2.*dry run: nothing was written" "$WORK/out"
tap_is "dry run: nothing was written" "$(sql "select count(*) from atsmail.resumes")" 4
imp resumes "$DATA/resumes-utf8-bom.csv"
tap_is "UTF-8 with BOM: exit 0" "$RC" 0
tap_is "UTF-8 with BOM: the first header (after the BOM) is mapped; doubled quotes kept" \
	"$(sql "select name || '|' || coalesce(kana, '-') || '|' || phase || '|' || shared from atsmail.resumes where external_id is null order by id")" \
	"木村 六郎|キムラ ロクロウ|new|true
Smith, \"Jo\"|-|active|false"
imp resumes "$DATA/resumes-sjis.csv" --encoding utf-8
tap_ok "forcing the wrong encoding is reported" grep -q "not valid UTF-8" "$WORK/err"

# --- a missing required column; an unclosed quote
printf 'ID,フリガナ\nX1,カナ\n' >"$WORK/noname.csv"
imp resumes "$WORK/noname.csv"
tap_is "no name column: exit 1" "$RC" 1
tap_ok "no name column: named" grep -q "no name column" "$WORK/err"
printf 'name,email\nA,a@x.test\n"B,b@x.test\nC,c@x.test\n' >"$WORK/open.csv"
imp resumes "$WORK/open.csv"
tap_is "unclosed quote: exit 1, the good row before it is imported" \
	"$RC $(sql "select count(*) from atsmail.resumes where name = 'A'")" "1 1"
tap_ok "unclosed quote: its line is named" grep -q "line 3: a quoted field is not closed" "$WORK/err"

# --- database unavailable
"$CTL" -c "$WORK/empty.conf" --db "host=$TB_PGHOST port=1 dbname=x user=postgres connect_timeout=2" \
	import users "$DATA/users.csv" >/dev/null 2>&1
tap_is "database unavailable: exit 4" "$?" 4

tap_done

#!/bin/bash
# migrate.sh -- `atsmailctl db migrate` and `db status` against a private
# PostgreSQL: ordered, once-only, idempotent files; a changed or broken
# file is refused naming it; exit codes for an unreachable database, a bad
# command and a bad configuration file.
set -u
. "$top_srcdir/tests/e2e/e2e-lib.sh"

tb_start pg

CTL=$top_builddir/ctl/atsmailctl
SQL=$top_srcdir/sql
WORK=$TB_DIR/migrate-test
mkdir -p "$WORK"
# no configuration file on this host unless a test names one
NOCONF=$WORK/none.conf

# ctl ARGS...: run atsmailctl on the test database; sets OUT and RC,
# leaves stdout and stderr in $WORK/out and $WORK/err
ctl() {
	"$CTL" -c "$WORK/empty.conf" --db "$TB_PG_ADMIN" "$@" >"$WORK/out" 2>"$WORK/err"
	RC=$?
	OUT=$(cat "$WORK/out")
}
: >"$WORK/empty.conf"
versions=$(cd "$SQL" && for f in ./*.sql; do f=${f#./}; echo "${f%.sql}"; done)
nfiles=$(echo "$versions" | wc -l)

# --- status on an empty database
ctl --sql-dir "$SQL" db status
tap_is "status on an empty database exits 0" "$RC" 0
tap_is "status lists every file as pending" \
	"$(echo "$OUT" | awk '$2 == "pending" && $1 !~ /^[0-9]+$/ {print $1}')" "$versions"
tap_ok "status says $nfiles pending" grep -qx "$nfiles pending" "$WORK/out"
tap_is "status created nothing" \
	"$(tb_psql -c "select to_regclass('atsmail.schema_migrations') is null")" t

# --- migrate applies all, once
ctl --sql-dir "$SQL" db migrate
tap_is "migrate exits 0" "$RC" 0
tap_is "migrate applies every file of sql/ in order" \
	"$(echo "$OUT" | sed -n 's/^applied //p')" "$versions"
tap_is "schema_migrations records them with checksums" \
	"$(tb_psql -c "select version || ' ' || checksum from atsmail.schema_migrations order by 1")" \
	"$(cd "$SQL" && for f in *.sql; do echo "${f%.sql} $(sha256sum "$f" | cut -d' ' -f1)"; done)"
ctl --sql-dir "$SQL" db migrate
tap_is "second migrate exits 0" "$RC" 0
tap_ok "second migrate applies nothing" grep -q "nothing to apply" "$WORK/out"
tap_is "second migrate printed no 'applied' line" "$(grep -c '^applied' "$WORK/out")" 0
ctl --sql-dir "$SQL" db status
tap_ok "status says up to date" grep -qx "database is up to date" "$WORK/out"
tap_is "status shows every file applied" "$(echo "$OUT" | awk '$2 == "applied"' | wc -l)" "$nfiles"

# --- the default SQL directory comes from ATSMAIL_SQL_DIR
out=$(ATSMAIL_SQL_DIR=$SQL "$CTL" -c "$WORK/empty.conf" --db "$TB_PG_ADMIN" db status 2>&1)
tap_ok "ATSMAIL_SQL_DIR names the directory when --sql-dir is absent" \
	grep -qx "database is up to date" <<<"$out"
out=$(tb_migrate 2>&1)
tap_ok "tb_migrate (the test-bed helper) finds nothing to apply" grep -q "nothing to apply" <<<"$out"

# --- every table exists
for t in users phases companies contacts resumes jobs processes phase_history addresses \
	address_flags exclusion_domains intake_addresses phase_rules messages message_recipients \
	message_links message_copies unresolved_items journal_applied audit_log audit_head outbox \
	schema_migrations; do
	tap_is "table atsmail.$t exists" "$(tb_psql -c "select to_regclass('atsmail.$t') is not null")" t
done
tap_is "process phases are seeded with Japanese labels" \
	"$(tb_psql -c "select label from atsmail.phases where kind='process' and code='interview1'")" "一次面接"

# --- each file re-run by hand is harmless
before=$(tb_psql -c "select count(*) from atsmail.phases")
for f in "$SQL"/*.sql; do
	tap_ok "re-running $(basename "$f") with psql succeeds" \
		psql "$TB_PG_ADMIN" -v ON_ERROR_STOP=1 -q -1 -f "$f"
done
tap_is "re-running the files added no seed twice" \
	"$(tb_psql -c "select count(*) from atsmail.phases")" "$before"
tap_is "re-running kept the policies (7 tables of mail, templates, 4 of shared mailboxes)" \
	"$(tb_psql -c "select count(*) from pg_policies where schemaname='atsmail' and policyname='reader_visible'")" 12
tap_is "re-running kept RLS forced on messages" \
	"$(tb_psql -c "select relforcerowsecurity from pg_class where oid='atsmail.messages'::regclass")" t

# --- a file changed after it was applied
cp -r "$SQL" "$WORK/changed"
echo "-- an edit after the fact" >>"$WORK/changed/002-messages.sql"
ctl --sql-dir "$WORK/changed" db migrate
tap_is "migrate with a changed applied file exits 1" "$RC" 1
tap_ok "the error names the changed file" \
	grep -q "$WORK/changed/002-messages.sql was changed after it was applied on " "$WORK/err"
ctl --sql-dir "$WORK/changed" db status
tap_is "status with a changed file exits 1" "$RC" 1
tap_ok "status marks the file as changed" grep -q "^002-messages .*CHANGED" "$WORK/out"

# --- a broken new file
cp -r "$SQL" "$WORK/broken"
cat >"$WORK/broken/005-bad.sql" <<'EOF'
CREATE TABLE atsmail.bad_first (id int);
-- the next statement fails: nothing of this file may stay
CREATE TABLE atsmail.bad_second (id int REFERENCES atsmail.no_such_table (id));
EOF
ctl --sql-dir "$WORK/broken" db migrate
tap_is "migrate with a broken file exits 1" "$RC" 1
tap_ok "the error names the broken file and gives the server's message" \
	grep -q "^atsmailctl: $WORK/broken/005-bad.sql: .*no_such_table.*nothing of it was applied" "$WORK/err"
tap_is "nothing of the broken file was applied" \
	"$(tb_psql -c "select to_regclass('atsmail.bad_first') is null")" t
tap_is "the broken file was not recorded" \
	"$(tb_psql -c "select count(*) from atsmail.schema_migrations where version='005-bad'")" 0
ctl --sql-dir "$WORK/broken" db status
tap_ok "status shows the broken file as pending" grep -qx "1 pending" "$WORK/out"
printf 'CREATE TABLE atsmail.bad_first (id int);\n\nCREATE TABLE atsmail.bad_second (id intt);\n' \
	>"$WORK/broken/005-bad.sql"
ctl --sql-dir "$WORK/broken" db migrate
tap_is "a syntax error in a new file gives exit 1" "$RC" 1
tap_ok "the error gives the line of the mistake" \
	grep -q "$WORK/broken/005-bad.sql line 3: type \"intt\" does not exist" "$WORK/err"
tap_is "nothing of it was applied either" \
	"$(tb_psql -c "select to_regclass('atsmail.bad_first') is null")" t

# --- a good new file is applied alone; a file that commits is refused
cp -r "$SQL" "$WORK/more"
echo "CREATE TABLE IF NOT EXISTS atsmail.extra_test (id int);" >"$WORK/more/005-extra.sql"
ctl --sql-dir "$WORK/more" db migrate
tap_is "a new file is applied alone" "$RC:$OUT" "0:applied 005-extra
1 migration(s) applied: database is up to date"
printf 'CREATE TABLE atsmail.commit_test (id int);\nCOMMIT;\n' >"$WORK/more/006-commit.sql"
ctl --sql-dir "$WORK/more" db migrate
tap_is "a file with COMMIT in it is refused (exit 1)" "$RC" 1
tap_ok "the error says why" grep -q "006-commit.sql ended the migration's transaction" "$WORK/err"

# --- two migrate runs at once: each file applied once
cp -r "$SQL" "$WORK/race"
echo "SELECT pg_sleep(1); CREATE TABLE atsmail.race_test (id int);" >"$WORK/race/005-race.sql"
"$CTL" -c "$WORK/empty.conf" --db "$TB_PG_ADMIN" --sql-dir "$WORK/race" db migrate >"$WORK/r1" 2>&1 &
p1=$!
"$CTL" -c "$WORK/empty.conf" --db "$TB_PG_ADMIN" --sql-dir "$WORK/race" db migrate >"$WORK/r2" 2>&1 &
p2=$!
wait $p1; r1=$?; wait $p2; r2=$?
tap_is "two concurrent migrate runs both succeed" "$r1:$r2" "0:0"
tap_is "the file was applied by exactly one of them" \
	"$(cat "$WORK/r1" "$WORK/r2" | grep -c '^applied 005-race')" 1

# --- exit codes
"$CTL" -c "$WORK/empty.conf" --db "host=127.0.0.1 port=1 dbname=atsmail user=postgres connect_timeout=3" \
	db status >"$WORK/out" 2>"$WORK/err"
RC=$?
tap_is "a closed port gives exit 4" "$RC" 4
tap_ok "with a message about the connection" grep -q "cannot connect to the database" "$WORK/err"
"$CTL" -c "$WORK/empty.conf" --db "host=127.0.0.1 port=1 dbname=atsmail user=postgres" \
	db migrate >/dev/null 2>&1
tap_is "migrate against a closed port gives exit 4" "$?" 4

"$CTL" frobnicate >"$WORK/out" 2>"$WORK/err"
tap_is "an unknown command gives exit 2" "$?" 2
tap_ok "naming the command" grep -q "unknown command 'frobnicate'" "$WORK/err"
"$CTL" db frob >/dev/null 2>&1
tap_is "an unknown db subcommand gives exit 2" "$?" 2
"$CTL" --bogus db status >/dev/null 2>&1
tap_is "an unknown option gives exit 2" "$?" 2
"$CTL" >/dev/null 2>&1
tap_is "no command gives exit 2" "$?" 2

printf '# test configuration\ndb_conninfo = %s\nno_such_setting = 1\n' "$TB_PG_ADMIN" >"$WORK/bad.conf"
"$CTL" -c "$WORK/bad.conf" db status >"$WORK/out" 2>"$WORK/err"
tap_is "a bad configuration file gives exit 3" "$?" 3
tap_ok "the message names the file and the line" \
	grep -q "^atsmailctl: $WORK/bad.conf line 3: .*no_such_setting" "$WORK/err"
"$CTL" -c "$NOCONF" db status >/dev/null 2>"$WORK/err"
tap_is "a missing file named with -c gives exit 3" "$?" 3
printf 'db_conninfo = %s\n' "$TB_PG_ADMIN" >"$WORK/good.conf"
out=$(ATSMAIL_SQL_DIR=$SQL "$CTL" -c "$WORK/good.conf" db status 2>&1)
tap_ok "db_conninfo from the configuration file is used" grep -qx "database is up to date" <<<"$out"

# --- help and version
for args in "--help" "help" "db --help" "db help" "help db" "db migrate --help" "db status help"; do
	# shellcheck disable=SC2086
	out=$("$CTL" $args 2>&1); rc=$?
	if [ "$rc" = 0 ] && grep -q '^usage:' <<<"$out"; then
		tap_pass "atsmailctl $args exits 0 and prints a usage"
	else
		tap_fail "atsmailctl $args exits 0 and prints a usage" "exit $rc: $out"
	fi
done
out=$("$CTL" --help)
tap_ok "--help documents exit code 4" grep -q "4  database unavailable" <<<"$out"
out=$("$CTL" --version); rc=$?
tap_ok "--version prints the version" grep -Eq "^atsmailctl .* [0-9]+\.[0-9]+" <<<"$out"

tap_done

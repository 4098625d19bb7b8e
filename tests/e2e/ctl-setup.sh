#!/bin/bash
# ctl-setup.sh -- `atsmailctl setup` on an empty cluster with Debian's peer
# authentication: it creates the database, applies the migrations, creates
# the logins of the service user and of root in atsmail_writer, and checks
# that atsmaild's db_conninfo logs in; a second run changes nothing and says
# "already there" for each step; atsmaild, run as the service user, then
# logs in and loads its snapshot; `audit verify` works for the admin's login
# (atsmail_writer, the role atsmailctl(8) names) and fails without the grant
# of sql/011; a bad database or role name is refused with a message that
# names it; a db_conninfo with user= gets a hint.
#
# What differs from a real host: the test bed's cluster runs on its own
# socket directory and port (db_conninfo names them, and setup derives the
# superuser's connection from it, as on a host whose cluster is not on the
# default port); its pg_hba.conf is replaced by Debian's rule for local
# sockets, "local all all peer", so setup can only reach the superuser by
# becoming the OS user postgres, as on Debian.  The service user is the OS
# user nobody (the test creates no OS user); the admin is root.
set -u
. "$top_srcdir/tests/e2e/e2e-lib.sh"

ATSMAILD=$top_builddir/atsmaild/atsmaild
CTL=$top_builddir/ctl/atsmailctl
SVC=nobody
getent passwd "$SVC" >/dev/null || tap_skip_all "no OS user $SVC"
getent passwd postgres >/dev/null || tap_skip_all "no OS user postgres"

tb_start pg
WORK=$TB_DIR/setup-test
# the atsmaild this test starts (by its PID file, only if it is ours), then
# the test bed
stop_atsmaild() {
	local p
	p=$(cat "$WORK/run/atsmaild.pid" 2>/dev/null)
	[ -n "$p" ] || return 0
	if [ "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -d' ' -f1)" = "$ATSMAILD" ]; then
		kill -TERM "$p"
		for _ in $(seq 1 200); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
	fi
	rm -f "$WORK/run/atsmaild.pid"
}
trap 'stop_atsmaild; tb_cleanup' EXIT
mkdir -p "$WORK"
chmod 755 "$WORK"
# setup reads the migrations as postgres, and atsmaild runs as $SVC: as
# installed, /usr/share/atsmail/sql and /usr/sbin are open to them, but a
# clone under /root is not -- so both come from copies of their own
mkdir -p "$WORK/sql" "$WORK/bin"
cp "$ATSMAIL_SQL_DIR"/*.sql "$WORK/sql/"
cp "$ATSMAILD" "$WORK/bin/atsmaild"
chmod -R a+rX "$WORK/sql" "$WORK/bin"
ATSMAIL_SQL_DIR=$WORK/sql
export ATSMAIL_SQL_DIR
ATSMAILD=$WORK/bin/atsmaild
# and the postgres user's commands start in a directory it may enter
cd /
# the service user must reach the socket, as /run/postgresql lets it
chmod 711 "$TB_DIR/pg"

# Debian's rule for local connections, and nothing else
PGDATA=$TB_DIR/pg/data
echo "local all all peer" >"$PGDATA/pg_hba.conf"
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" reload >/dev/null
# psql as the superuser, the way Debian's admins do it
su_psql() {
	runuser -u postgres -- psql -h "$TB_PGHOST" -p "$TB_PGPORT" -v ON_ERROR_STOP=1 -qAt "$@"
}
for _ in $(seq 1 50); do
	psql "host=$TB_PGHOST port=$TB_PGPORT dbname=postgres user=postgres" -c 'select 1' \
		>/dev/null 2>&1 || break
	sleep 0.1
done
# the test bed made a database; the cluster is to be empty
su_psql -d postgres -c "DROP DATABASE $TB_DB" >/dev/null
tap_is "root cannot log in as postgres (peer authentication)" \
	"$(psql "host=$TB_PGHOST port=$TB_PGPORT dbname=postgres user=postgres" -c 'select 1' \
		2>&1 | grep -c 'Peer authentication failed')" 1
tap_is "the cluster is empty: no database atsmail, no atsmail roles" \
	"$(su_psql -d postgres -c "select count(*) from pg_database where datname = 'atsmail'")+$(
	   su_psql -d postgres -c "select count(*) from pg_roles where rolname like 'atsmail%' or rolname in ('$SVC', 'root')")" "0+0"

CONNINFO="host=$TB_PGHOST port=$TB_PGPORT dbname=$TB_DB"
head -c 48 /dev/urandom | base64 | tr -d '\n/+=' >"$WORK/secret"
mkdir -p "$WORK/journal" "$WORK/snapshot"
chown "$SVC" "$WORK/secret" "$WORK/journal" "$WORK/snapshot"
chmod 600 "$WORK/secret"
cat >"$WORK/atsmail.conf" <<EOF
# no user=: every program logs in as its own OS user (peer authentication)
db_conninfo = $CONNINFO
db_connect_timeout = 2s
ats_domain = ats.atsmail.test
company_domains = atsmail.test
secret_file = $WORK/secret
milter_socket = unix:$WORK/run/milter.sock
filing_socket = unix:$WORK/run/filing.sock
milter_peers = postfix
filing_peers = 5000
journal_dir = $WORK/journal
snapshot_dir = $WORK/snapshot
EOF
chmod 644 "$WORK/atsmail.conf"
mkdir -p "$WORK/run"
chown "$SVC" "$WORK/run"

setup() {
	"$CTL" -c "$WORK/atsmail.conf" setup --service-user "$SVC" "$@" >"$WORK/out" 2>"$WORK/err"
	RC=$?
	OUT=$(cat "$WORK/out")
	ERR=$(cat "$WORK/err")
}
# state: what setup may change, to compare two runs
state() {
	su_psql -d postgres -c "select datname, pg_encoding_to_char(encoding) from pg_database
	    where datname = 'atsmail'"
	su_psql -d postgres -c "select r.rolname, r.rolcanlogin, r.rolsuper, m.rolname
	    from pg_roles r left join pg_auth_members a on a.member = r.oid
	    left join pg_roles m on m.oid = a.roleid
	    where r.rolname like 'atsmail%' or r.rolname in ('$SVC', 'root') order by 1, 4"
	su_psql -d atsmail -c "select version, checksum, applied_at from atsmail.schema_migrations
	    order by 1"
}
NSQL=$(ls "$ATSMAIL_SQL_DIR"/*.sql | wc -l)
LAST=$(basename "$(ls "$ATSMAIL_SQL_DIR"/*.sql | sort | tail -1)" .sql)

# ---------------------------------------------------------------- first run
setup
tap_is "first run: exit 0" "$RC" 0
tap_diag "$OUT" "$ERR"
tap_ok "first run: the configuration it read" grep -qx "configuration: $WORK/atsmail.conf" "$WORK/out"
tap_ok "first run: database created" grep -qx "database atsmail: created (encoding UTF8)" "$WORK/out"
tap_ok "first run: every migration applied" \
	grep -qx "migrations: applied $NSQL (001-core .. $LAST)" "$WORK/out"
tap_ok "first run: the service user's login created" \
	grep -qx "login role $SVC (atsmaild, atsmail-notifyd) in atsmail_writer: created" "$WORK/out"
tap_ok "first run: root's login created" \
	grep -qx "login role root (atsmailctl) in atsmail_writer: created" "$WORK/out"
tap_ok "first run: atsmaild's db_conninfo logs in as the service user" \
	grep -qx "login of atsmaild (db_conninfo as OS user $SVC): logs in as $SVC to atsmail, member of atsmail_writer, schema at $LAST" "$WORK/out"
tap_ok "first run: and as root for atsmailctl" \
	grep -qx "login of atsmailctl (db_conninfo as OS user root): logs in as root to atsmail, member of atsmail_writer, schema at $LAST" "$WORK/out"
tap_is "first run: one line per step, nothing else" "$(wc -l <"$WORK/out")" 7
tap_is "the database is UTF8" "$(su_psql -d postgres -c "select pg_encoding_to_char(encoding) from pg_database where datname = 'atsmail'")" UTF8
tap_is "both logins can log in, are members of atsmail_writer, are no superusers" \
	"$(su_psql -d postgres -c "select string_agg(rolname || ':' || rolcanlogin || rolsuper || pg_has_role(oid, 'atsmail_writer', 'MEMBER'), ' ' order by rolname) from pg_roles where rolname in ('$SVC', 'root')")" \
	"$SVC:truefalsetrue root:truefalsetrue"
tap_is "every migration recorded" "$(su_psql -d atsmail -c "select count(*) from atsmail.schema_migrations")" "$NSQL"
BEFORE=$(state)

# --------------------------------------------------------------- second run
setup
tap_is "second run: exit 0" "$RC" 0
tap_is "second run: each step says already there" "$(grep -c ': already there' "$WORK/out")" 4
tap_ok "second run: migrations already there" \
	grep -qx "migrations: already there ($NSQL applied, none pending)" "$WORK/out"
tap_is "second run: nothing created or applied" "$(grep -cE 'created|applied [0-9]|: was there' "$WORK/out")" 0
tap_is "second run: the checks pass again" "$(grep -c '^login of .*: logs in as ' "$WORK/out")" 2
tap_is "second run: nothing changed in the cluster" "$(state)" "$BEFORE"

# ------------------------------------- a login that lost something is repaired
su_psql -d postgres -c "ALTER ROLE $SVC NOLOGIN; REVOKE atsmail_writer FROM $SVC" >/dev/null
setup
tap_is "repair: exit 0" "$RC" 0
tap_ok "repair: says what it gave back" grep -qx \
	"login role $SVC (atsmaild, atsmail-notifyd) in atsmail_writer: was there; LOGIN added, made a member of atsmail_writer" \
	"$WORK/out"
tap_is "repair: the cluster is as after the first run" "$(state)" "$BEFORE"

# ------------------------------------------ atsmaild as the service user
runuser -u "$SVC" -- setsid "$ATSMAILD" -f -c "$WORK/atsmail.conf" -P "$WORK/run/atsmaild.pid" \
	</dev/null >>"$WORK/atsmaild.log" 2>&1 &
loaded=no
for _ in $(seq 1 200); do
	if "$CTL" -c "$WORK/atsmail.conf" snapshot status >/dev/null 2>&1; then loaded=yes; break; fi
	sleep 0.05
done
tap_is "atsmaild as $SVC logs in (peer) and loads its snapshot" "$loaded" yes
[ "$loaded" = yes ] || tap_diag "$(tail -5 "$WORK/atsmaild.log")"
tap_is "its database session is the service user's" \
	"$(su_psql -d postgres -c "select count(*) > 0 from pg_stat_activity where usename = '$SVC' and datname = 'atsmail'")" t
stop_atsmaild

# -------------------------------------- the admin's atsmailctl, as root
"$CTL" -c "$WORK/atsmail.conf" import users "$top_srcdir/tests/data/import/users.csv" \
	>"$WORK/imp" 2>&1
tap_ok "atsmailctl import users as root (its own login)" grep -q "imported [1-9]" "$WORK/imp"
"$CTL" -c "$WORK/atsmail.conf" audit verify >"$WORK/aud" 2>&1
tap_ok "audit verify as root (atsmail_writer): intact" grep -qE "^audit log intact: [1-9][0-9]* rows" "$WORK/aud"
# the grant of sql/011 is what makes it work
su_psql -d atsmail -c "REVOKE SELECT ON atsmail.audit_head FROM atsmail_writer" >/dev/null
"$CTL" -c "$WORK/atsmail.conf" audit verify >"$WORK/aud" 2>&1
tap_ok "without sql/011's grant: permission denied for table audit_head" \
	grep -q "permission denied for table audit_head" "$WORK/aud"
su_psql -d atsmail -c "GRANT SELECT ON atsmail.audit_head TO atsmail_writer" >/dev/null

# ------------------------------------------------------------- bad input
setup --database 'ats;drop'
tap_is "bad database name: exit 2" "$RC" 2
tap_is "bad database name: the message names it and what is wrong" "$ERR" \
	"atsmailctl: setup: --database 'ats;drop': ';' at position 4 is not allowed: a name is lower-case letters, digits and '_', starting with a letter or '_'"
tap_is "bad database name: nothing was done" "$(state)" "$BEFORE"
setup --database AtsMail
tap_ok "upper case refused too" grep -q "'A' at position 1 is not allowed" "$WORK/err"
setup --service-user atsmail_writer
tap_is "a group role as the service user: exit 2" "$RC" 2
tap_ok "a group role as the service user: says why" grep -q "one of atsmail's group roles, which cannot log in" "$WORK/err"
setup --database template1
tap_is "a system database: exit 2" "$RC" 2

# ---------------------------------------- db_conninfo that names a user
sed "s|^db_conninfo = .*|db_conninfo = $CONNINFO user=$SVC|" "$WORK/atsmail.conf" >"$WORK/user.conf"
"$CTL" -c "$WORK/user.conf" setup --service-user "$SVC" >"$WORK/out" 2>"$WORK/err"
tap_is "db_conninfo with user=: exit 1 (root's atsmailctl cannot log in)" "$?" 1
tap_ok "db_conninfo with user=: the hint" \
	grep -q "db_conninfo names user=$SVC, which peer authentication refuses to the OS user root" "$WORK/err"

tap_done

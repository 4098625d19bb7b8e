#!/bin/bash
# ctl-policy.sh -- `atsmailctl policy` against a private PostgreSQL: each
# kind of change (user sharing mode and default share, exclusion domains,
# intake addresses, phases, phase rules), what it prints, what it stores,
# and its audit entry; changes that change nothing write no entry; usage
# and failure exit codes.
set -u
. "$top_srcdir/tests/e2e/e2e-lib.sh"

tb_start pg
if ! tb_migrate >"$TB_DIR/migrate.log" 2>&1; then
	echo "1..1"; echo "not ok 1 - migrations did not apply"; sed 's/^/# /' "$TB_DIR/migrate.log"
	exit 1
fi

CTL=$top_builddir/ctl/atsmailctl
WORK=$TB_DIR/policy-test
mkdir -p "$WORK"
: >"$WORK/empty.conf"
pol() {
	"$CTL" -c "$WORK/empty.conf" --db "$TB_PG_ADMIN" policy "$@" >"$WORK/out" 2>"$WORK/err"
	RC=$?
	OUT=$(cat "$WORK/out")
}
sql() { tb_psql -c "$*"; }
# last_audit: action|actor|object_kind|object_id|detail of the newest entry
last_audit() {
	sql "select action || '|' || actor || '|' || coalesce(object_kind, '') || '|' || coalesce(object_id, '') || '|' || detail::text from atsmail.audit_log order by id desc limit 1"
}
naudit() { sql "select count(*) from atsmail.audit_log"; }

sql "insert into atsmail.users (login, display_name, sharing_mode, default_share) values ('alice@corp.test', 'Alice', 'public', true)"

pol --help
tap_is "policy --help exits 0" "$RC" 0
pol user --help
tap_ok "policy user --help shows the usage" grep -q "policy user LOGIN" "$WORK/out"
pol frobnicate
tap_is "unknown subcommand: exit 2" "$RC" 2

# --- user
pol user alice@corp.test
tap_is "user: show exits 0" "$RC" 0
tap_ok "user: shows the sharing mode" grep -qx "sharing_mode   public" "$WORK/out"
tap_ok "user: shows the language (the site's default)" grep -qx "lang           default" "$WORK/out"
pol user Alice@Corp.Test --mode private --actor boss
tap_is "user --mode: prints the change" "$OUT" "alice@corp.test: sharing_mode public -> private"
tap_is "user --mode: stored" "$(sql "select sharing_mode from atsmail.users where login = 'alice@corp.test'")" private
tap_is "user --mode: audited with actor and before/after" "$(last_audit)" \
	'policy.user|boss|user|alice@corp.test|{"to": {"lang": "default", "sharing_mode": "private", "default_share": true}, "from": {"lang": "default", "sharing_mode": "public", "default_share": true}}'
pol user alice@corp.test --default-share no --actor boss
tap_is "user --default-share: prints the change" "$OUT" "alice@corp.test: default_share yes -> no"
tap_ok "user --default-share: audited" grep -q '"default_share": false' <<<"$(last_audit)"
n=$(naudit)
pol user alice@corp.test --mode private
tap_is "user: a change to the same value says unchanged" "$OUT" \
	"alice@corp.test: unchanged (sharing_mode private, default_share no, lang default)"
tap_is "user: ... and writes no audit entry" "$(naudit)" "$n"
pol user alice@corp.test --mode secret
tap_is "user: a bad mode is a usage error (2)" "$RC" 2
pol user nobody@corp.test --mode public
tap_is "user: an unknown user exits 1" "$RC" 1
tap_ok "user: ... naming it" grep -q "no user 'nobody@corp.test'" "$WORK/err"
pol user alice@corp.test --lang ja --actor boss
tap_is "user --lang: prints the change" "$OUT" "alice@corp.test: lang default -> ja"
tap_is "user --lang: stored" "$(sql "select lang from atsmail.users where login = 'alice@corp.test'")" ja
tap_ok "user --lang: audited" grep -q '"lang": "ja"' <<<"$(last_audit)"
pol user alice@corp.test --lang default
tap_is "user --lang default: back to the site's default (NULL)" \
	"$(sql "select coalesce(lang, 'NULL') from atsmail.users where login = 'alice@corp.test'")" NULL
pol user alice@corp.test --lang fr
tap_is "user: a language atsmail does not write is a usage error (2)" "$RC" 2
tap_ok "user: ... naming it" grep -q "'fr' is not en, ja or default" "$WORK/err"
pol user alice@corp.test --action resume
tap_is "user: an option of another subcommand is a usage error (2)" "$RC" 2

# --- exclusion
pol exclusion add @Rival.Example --note "競合他社" --actor boss
tap_is "exclusion add: prints" "$OUT" "exclusion domain rival.example added"
tap_is "exclusion add: audited" "$(last_audit)" \
	'policy.exclusion.add|boss|exclusion_domain|rival.example|{"note": "競合他社"}'
pol exclusion add ライバル.jp
tap_is "exclusion add: an IDN is stored as its A-label" \
	"$(sql "select count(*) from atsmail.exclusion_domains where domain = 'xn--eckue3ck.jp'")" 1
n=$(naudit)
pol exclusion add rival.example
tap_is "exclusion add again: unchanged, exit 0, no entry" "$RC $(naudit)" "0 $n"
pol exclusion list
tap_ok "exclusion list shows it with its note" grep -q "^rival.example *競合他社" "$WORK/out"
pol exclusion remove rival.example --actor boss
tap_is "exclusion remove: prints" "$OUT" "exclusion domain rival.example removed"
tap_is "exclusion remove: audited" "$(last_audit | cut -d'|' -f1-4)" \
	"policy.exclusion.remove|boss|exclusion_domain|rival.example"
pol exclusion remove rival.example
tap_is "exclusion remove of an absent domain: exit 1" "$RC" 1
pol exclusion add not@domain
tap_is "exclusion add of an address: usage error (2)" "$RC" 2

# --- intake
pol intake add Recruit@Corp.Test --actor boss
tap_is "intake add: prints" "$OUT" "intake address recruit@corp.test added (action resume)"
tap_ok "intake add: audited" grep -q '^policy.intake.add|boss|intake_address|recruit@corp.test|' <<<"$(last_audit)"
pol intake add recruit@corp.test --action unresolved
tap_is "intake add with another action: prints the change" "$OUT" \
	"intake address recruit@corp.test: action resume -> unresolved"
tap_is "intake: stored" "$(sql "select action from atsmail.intake_addresses")" unresolved
tap_ok "intake: the change is audited with from" grep -q '"from": "resume"' <<<"$(last_audit)"
pol intake add jobs@corp.test --action maybe
tap_is "intake add with a bad action: usage error (2)" "$RC" 2
pol intake list
tap_ok "intake list shows it" grep -q "^recruit@corp.test *unresolved" "$WORK/out"
pol intake remove recruit@corp.test
tap_is "intake remove: prints and stores" "$OUT $(sql "select count(*) from atsmail.intake_addresses")" \
	"intake address recruit@corp.test removed 0"
tap_is "intake remove: audited" "$(last_audit | cut -d'|' -f1)" policy.intake.remove

# --- phase
pol phase add resume screening2 書類確認中 --order 15 --actor boss
tap_is "phase add: prints" "$OUT" "resume phase screening2 added: 書類確認中"
tap_is "phase add: audited" "$(last_audit)" \
	'policy.phase.add|boss|phase|resume/screening2|{"label": "書類確認中", "sort_order": 15}'
pol phase label resume screening2 書類確認
tap_is "phase label: prints" "$OUT" "resume phase screening2: label 書類確認中 -> 書類確認"
tap_ok "phase label: audited" grep -q '^policy.phase.label|.*"from": "書類確認中"' <<<"$(last_audit)"
pol phase deactivate resume screening2
tap_is "phase deactivate: prints" "$OUT" "resume phase screening2 deactivated"
tap_is "phase deactivate: audited" "$(last_audit | cut -d'|' -f1)" policy.phase.deactivate
pol phase list resume
tap_ok "phase list resume shows it inactive, in order" \
	grep -q "^resume *screening2 *15 *inactive *書類確認$" "$WORK/out"
tap_is "phase list resume shows only resume phases" "$(grep -vc '^resume' "$WORK/out")" 0
pol phase add resume new 新規2
tap_is "phase add of an existing code: exit 1" "$RC" 1
pol phase add resume Bad-Code ラベル
tap_is "phase add with a bad code: usage error (2)" "$RC" 2
pol phase label resume nosuch x
tap_is "phase label of an unknown phase: exit 1" "$RC" 1

# --- rule
pol rule add resume reply new active --priority 5 --actor boss
tap_is "rule add: exit 0" "$RC" 0
id=$(sql "select id from atsmail.phase_rules")
tap_is "rule add: prints" "$OUT" "rule $id added: resume on reply, new -> active, priority 5"
tap_is "rule add: audited" "$(last_audit)" \
	"policy.rule.add|boss|phase_rule|$id|{\"to\": \"active\", \"from\": \"new\", \"kind\": \"resume\", \"event\": \"reply\", \"priority\": 5}"
pol rule add contact bounce - inactive
tap_is "rule add with any phase (-): stored with from NULL" \
	"$(sql "select count(*) from atsmail.phase_rules where kind = 'contact' and from_phase is null")" 1
pol rule list
tap_ok "rule list shows both" grep -q "resume   on reply  new *-> active *priority 5" "$WORK/out"
pol rule add resume reply new hired
tap_is "rule add with an unknown phase: exit 1" "$RC" 1
tap_ok "... naming the phase" grep -q "no resume phase 'hired'" "$WORK/err"
pol rule add resume clicked new active
tap_is "rule add with an unknown event: usage error (2)" "$RC" 2
pol rule remove "$id"
tap_is "rule remove: prints" "$OUT" "rule $id removed"
tap_is "rule remove: audited" "$(last_audit | cut -d'|' -f1,4)" "policy.rule.remove|$id"
pol rule remove "$id"
tap_is "rule remove of an unknown id: exit 1" "$RC" 1

# --- the actor defaults to the OS login
pol exclusion add default-actor.example
tap_is "without --actor the actor is the OS login" "$(last_audit | cut -d'|' -f2)" \
	"$(if [ -n "${SUDO_USER:-}" ] && [ "$(id -u)" = 0 ]; then echo "$SUDO_USER (sudo)"; else id -un; fi)"

out=$("$CTL" -c "$WORK/empty.conf" --db "$TB_PG_ADMIN" audit verify 2>&1)
tap_is "the audit chain is intact after all changes" "$?" 0

tap_done

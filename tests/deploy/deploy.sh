#!/bin/bash
# tests/deploy/deploy.sh -- the install test: atsmail's Debian packages on a
# fresh Debian 12 root with the distribution's Postfix, Dovecot and
# PostgreSQL, set up by the install guide's own commands, then mail through
# it as a recruiter and a candidate would send it (docs/deploy-test.md).
#
#   sudo tests/deploy/deploy.sh [--guide FILE] [--break milter-path] [--keep]
#
# 1. builds the packages (tests/deploy/build-packages.sh OUTDIR);
# 2. makes a fresh bookworm root (mkroot.sh, cached) with its own /dev,
#    network namespace (so its ports 25, 587, 143, 5432 are not the host's)
#    and hostname;
# 3. installs postfix, dovecot-imapd, dovecot-lmtpd, postgresql and the
#    packages (noninteractive; Postfix answered "Internet Site"), with a
#    policy-rc.d that keeps the packages from starting daemons, then starts
#    PostgreSQL, Postfix and Dovecot as their units would (unit-run.sh);
# 4. runs the guide's marked blocks verbatim, in order (extract-guide.sh),
#    a service block (re)starting its daemon as the unit would; then starts,
#    as at boot, what is enabled and not running: atsmaild and
#    atsmail-notifyd must then run;
# 5. checks: a recruiter sends over 587 with STARTTLS and SASL to a
#    candidate -> tagged (X-ATS-Ref) and recorded; the candidate's reply over
#    25 -> LMTP -> filed, $ATS seen over IMAP; PostgreSQL stopped: a mail and
#    its reply go through, PostgreSQL started again: both recorded.
# TAP on standard output; exit 0 only if everything passed.
#
# --break milter-path runs the same with the guide's Postfix milter lines
# pointing at /run/atsmail/milter.sock (outside Postfix's chroot, the fault
# a first install on Debian ran into): the send check must then FAIL, and the run passes
# only if it does (the self-check that the test catches a broken guide).
# --guide FILE uses another guide (default docs/install.md); --keep (or
# ATSM_DEPLOY_KEEP=1) leaves the work directory, root unmounted, for a look.
# ATSM_DEPLOY_WORK (default /var/tmp) holds the work directory;
# ATSM_DEPLOY_CACHE the cached root (mkroot.sh); ATSM_DEPLOY_WAIT the
# seconds a check waits (default 30).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
here=$top/tests/deploy
. "$top/tests/tap.sh"
. "$here/mkroot.sh"

guide=$top/docs/install.md
brk='' keep=${ATSM_DEPLOY_KEEP:-0}
while [ $# -gt 0 ]; do
	case $1 in
	--guide) guide=$2; shift 2 ;;
	--break) brk=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	*) echo "usage: deploy.sh [--guide FILE] [--break milter-path] [--keep]" >&2; exit 2 ;;
	esac
done
case $brk in '' | milter-path) ;; *) echo "deploy.sh: unknown break '$brk'" >&2; exit 2 ;; esac
WAIT=${ATSM_DEPLOY_WAIT:-30}
DISTRO_PACKAGES=(postfix dovecot-imapd dovecot-lmtpd postgresql)

[ "$(id -u)" = 0 ] || tap_skip_all "needs root (debootstrap, chroot, mounts, a network namespace)"
for t in debootstrap ip swaks python3 zstd dpkg-deb; do
	command -v "$t" >/dev/null || tap_skip_all "needs $t on the host (scripts/install-deps.sh)"
done
perl -MNet::SSLeay -e1 2>/dev/null || tap_skip_all "needs libnet-ssleay-perl (swaks --tls)"
[ -r "$guide" ] || tap_bail "no guide $guide"

W=$(mktemp -d "${ATSM_DEPLOY_WORK:-/var/tmp}/atsm-deploy.XXXXXX") || tap_bail "mktemp"
ROOT=$W/root
NS=atsm-deploy-$$
SYSLOG_PID=
T0=$(date +%s)

cleanup() {
	local p
	for p in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
	[ -d "$ROOT" ] && mkroot_kill "$ROOT"
	[ -n "$SYSLOG_PID" ] && kill "$SYSLOG_PID" 2>/dev/null
	mkroot_umount
	ip netns delete "$NS" 2>/dev/null
	if [ "$keep" = 1 ]; then
		echo "# kept: $W (the root's logs: $ROOT/var/log)"
	else
		mkroot_remove "$W"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# in_root CMD...: CMD in the root, its network namespace and its hostname
in_root() {
	ip netns exec "$NS" unshare --uts sh -c 'r=$1; shift; hostname "$0" && exec chroot "$r" "$@"' \
		"$HOSTNAME_FQDN" "$ROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive "$@"
}
# on_net CMD...: CMD on the host, in the root's network namespace (a client)
on_net() { ip netns exec "$NS" "$@"; }
service() { in_root /usr/local/sbin/atsm-deploy-service "$@"; }
psql_q() { in_root runuser -u postgres -- psql -XAtq -d atsmail -c "$1" 2>&1; }
# logs: the end of the root's syslog, for a failure's diagnosis
logs() { grep -v ' su\[[0-9]*\]: \| pam_' "$ROOT/var/log/syslog" 2>/dev/null | tail -n 25; }
elapsed() { echo "$(($(date +%s) - T0))s"; }

# ---- 1. packages
debs=$W/debs
if [ -x "$here/build-packages.sh" ]; then
	builder=$here/build-packages.sh
else
	builder=$here/stand-in-packages.sh
	tap_diag "tests/deploy/build-packages.sh does not exist: STAND-IN packages (stand-in-packages.sh)"
fi
if out=$("$builder" "$debs" 2>&1) && ls "$debs"/atsmail_*.deb "$debs"/dovecot-atsmail_*.deb >/dev/null 2>&1; then
	tap_pass "packages built: $(cd "$debs" && echo atsmail_*.deb dovecot-atsmail_*.deb) ($(elapsed))"
else
	tap_fail "packages built ($builder)" "$(tail -n 30 <<<"$out")"
	tap_bail "no packages to install"
fi

# what the packages depend on and recommend (apt installs recommends, as an
# admin's apt-get does), to have it in the cached root's apt cache
deps=()
for d in "$debs"/atsmail_*.deb "$debs"/dovecot-atsmail_*.deb; do
	for p in $({ dpkg-deb -f "$d" Depends; dpkg-deb -f "$d" Pre-Depends; dpkg-deb -f "$d" Recommends; } | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/:any//' | tr -d ' '); do
		case $p in atsmail | dovecot-atsmail | '') ;; *) deps+=("$p") ;; esac
	done
done

# ---- 2. the root
if mkroot_make "$ROOT" "${DISTRO_PACKAGES[@]}" "${deps[@]}" >"$W/mkroot.log" 2>&1; then
	tap_pass "a fresh Debian 12 root: $(cat "$ROOT/etc/debian_version") ($(grep -q 'cold cache' "$W/mkroot.log" && echo cold || echo warm) cache, $(elapsed))"
else
	tap_fail "a fresh Debian 12 root" "$(tail -n 20 "$W/mkroot.log")"
	tap_bail "no root"
fi
mkroot_mount "$ROOT" || tap_bail "cannot mount /proc, /sys, /dev in the root"
{ ip netns add "$NS" && ip -n "$NS" link set lo up; } || tap_bail "cannot make the network namespace $NS"
python3 "$here/syslog-catch.py" "$ROOT/dev/log" "$ROOT/var/log/syslog" </dev/null >/dev/null 2>&1 &
SYSLOG_PID=$!

# the names a mail server has; the guide's own example names for the checks
eval "$("$here/extract-guide.sh" --env "$guide" | sed -n "s/^\([A-Z_][A-Z0-9_]*\)=\(.*\)$/G_\1='\2'/p")"
for v in RECRUITER RECRUITER_PASSWORD CANDIDATE; do
	eval "[ -n \"\${G_$v:-}\" ]" || tap_bail "$guide has no <!-- deploy:env $v=... --> line"
done
HOSTNAME_FQDN=${G_HOSTNAME:-mail.${G_RECRUITER#*@}}
echo "$HOSTNAME_FQDN" >"$ROOT/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s %s\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
	"$HOSTNAME_FQDN" "${HOSTNAME_FQDN%%.*}" >"$ROOT/etc/hosts"
install -m 0755 "$here/unit-run.sh" "$ROOT/usr/local/sbin/atsm-deploy-service"

# ---- 3. install, as an admin would, then the daemons the packages start
mkroot_policy "$ROOT" on
cp "$debs"/atsmail_*.deb "$debs"/dovecot-atsmail_*.deb "$ROOT/root/"
in_root debconf-set-selections <<EOF
postfix postfix/main_mailer_type select Internet Site
postfix postfix/mailname string $HOSTNAME_FQDN
EOF
if in_root sh -c 'cd /root && apt-get install -y -q postfix dovecot-imapd dovecot-lmtpd postgresql ./atsmail_*.deb ./dovecot-atsmail_*.deb' \
	>"$W/install.log" 2>&1; then
	tap_pass "apt-get installs postfix, dovecot-imapd, dovecot-lmtpd, postgresql and the packages, offline ($(elapsed))"
else
	tap_fail "apt-get installs postfix, dovecot-imapd, dovecot-lmtpd, postgresql and the packages" \
		"$(tail -n 30 "$W/install.log")"
	tap_bail "installation failed"
fi
for s in postgresql postfix dovecot; do
	tap_ok "$s starts as its unit would" service start "$s"
done

# ---- 4. the guide, verbatim
gd=$ROOT/run/atsm-deploy-guide
"$here/extract-guide.sh" --split "$gd" "$guide" >"$W/extract.log" 2>&1 ||
	tap_bail "cannot extract $guide: $(cat "$W/extract.log")"
if [ "$brk" = milter-path ]; then
	sed -i 's#unix:atsmail/milter\.sock#unix:/run/atsmail/milter.sock#g' "$gd"/*.sh
	if grep -q 'unix:/run/atsmail/milter\.sock' "$gd"/*.sh; then
		tap_pass "--break milter-path: the guide's Postfix milter lines now name /run/atsmail/milter.sock"
	else
		tap_fail "--break milter-path: the guide's Postfix milter lines now name /run/atsmail/milter.sock" \
			"no 'unix:atsmail/milter.sock' in the guide's blocks: nothing to break"
	fi
fi
# break_caught HOW: with --break, a failure is the expected outcome when it
# is the broken milter path that Postfix's log names
break_caught() {
	local why
	why=$(grep -F 'Milter service unix:/run/atsmail/milter.sock' "$ROOT/var/log/syslog" | tail -n 1)
	if [ -n "$why" ]; then
		tap_pass "--break $brk: $1, and Postfix's log names the misplaced milter socket (the test catches the broken guide)"
		tap_diag "$why"
	else
		tap_fail "--break $brk: $1, but not for the broken milter path (Postfix's log does not name it)" "$(logs)"
	fi
}
guide_ok=1 failed_block=
# block_failed WHAT DETAIL: a guide block failed; with --break that may be
# the expected outcome, which break_caught judges, so it is not counted here
block_failed() {
	guide_ok=0 failed_block=$1
	if [ -n "$brk" ]; then tap_diag "${1% runs} fails:" "$2"; else tap_fail "$1" "$2"; fi
}
while read -r n kind line name; do
	what="guide block $n ($(basename "$guide"):$line)"
	if [ "$guide_ok" = 0 ]; then
		[ -n "$brk" ] || tap_fail "$what: not run, an earlier block failed"
		continue
	fi
	if [ "$kind" = service ]; then
		what="$what: (re)start $name as its unit would"
		if out=$(service restart "$name" 2>&1); then tap_pass "$what"
		else block_failed "$what" "$out
$(logs)"; fi
	else
		if out=$(in_root bash -e -c 'cd /root && . "$0"' "/run/atsm-deploy-guide/$n.sh" </dev/null 2>&1); then
			tap_pass "$what runs"
		else
			block_failed "$what runs" "$(sed 's/^/> /' "$gd/$n.sh")
$out"
		fi
	fi
done <"$gd/index"
mkroot_policy "$ROOT" off
if [ "$guide_ok" = 0 ]; then
	# with the guide broken on purpose, its own check may be what catches it
	[ -n "$brk" ] && { break_caught "${failed_block% runs} fails"; tap_done; exit; }
	tap_diag "the guide failed: the mail checks are not run (elapsed $(elapsed))"
	tap_done; exit 1
fi

# as at boot: what is enabled (a symlink in /etc/systemd/system/*.wants)
# and not running yet is started; atsmaild and atsmail-notifyd must then run,
# started by the guide or enabled by the packages or the guide
for s in atsmaild atsmail-notifyd; do
	if [ -f "$ROOT/run/atsm-deploy/$s.service.started" ]; then
		tap_pass "$s runs (started by the guide: its unit's ExecStart, as its User)"
	elif ls "$ROOT"/etc/systemd/system/*.wants/"$s.service" >/dev/null 2>&1; then
		tap_ok "$s runs (enabled: started as at boot, its unit's ExecStart, as its User)" service start "$s"
	else
		tap_fail "$s runs" "the guide does not start it (no deploy:service $s block) and it is not enabled"
	fi
done
u=$(in_root sh -c 'ps -o user= -p "$(cat /run/atsm-deploy/atsmaild.service.pid)"' 2>&1)
tap_is "atsmaild runs as the atsmail user" "$u" atsmail

# ---- 5. mail
TAG=$$.$(date +%s)
imap_flags() {  # imap_flags USER PASSWORD MESSAGE-ID: FLAGS of that mail, waiting for it
	on_net python3 - "$@" "$WAIT" <<'PY'
import imaplib, ssl, sys, time
user, pw, mid, wait = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
end = time.time() + wait
while True:
    try:
        m = imaplib.IMAP4("127.0.0.1", 143)
        if "STARTTLS" in m.capabilities:
            m.starttls(ssl_context=ssl._create_unverified_context())
        m.login(user, pw)
        m.select("INBOX")
        typ, data = m.search(None, "HEADER", "Message-ID", mid)
        ids = data[0].split()
        if ids:
            typ, data = m.fetch(ids[-1], "(FLAGS)")
            print(" ".join(f.decode() for f in imaplib.ParseFlags(data[0])))
            sys.exit(0)
        m.logout()
    except (OSError, imaplib.IMAP4.error) as e:
        if time.time() > end:
            print("IMAP: %s" % e); sys.exit(1)
    if time.time() > end:
        print("not in INBOX within %ds" % wait); sys.exit(1)
    time.sleep(0.5)
PY
}
# send_sub MID: the recruiter sends to the candidate over 587 (STARTTLS, SASL)
send_sub() {
	on_net swaks --server 127.0.0.1 --port 587 --tls --helo client.example \
		--auth PLAIN --auth-user "$G_RECRUITER" --auth-password "$G_RECRUITER_PASSWORD" \
		--from "$G_RECRUITER" --to "$G_CANDIDATE" \
		--header "Message-Id: $1" --header "Subject: interview $TAG" --body "Dear candidate" 2>&1
}
# send_reply MID IN-REPLY-TO: the candidate replies over port 25
send_reply() {
	on_net swaks --server 127.0.0.1 --port 25 --helo candidate.example \
		--from "$G_CANDIDATE" --to "$G_RECRUITER" \
		--header "Message-Id: $1" --header "In-Reply-To: $2" \
		--header "Subject: Re: interview $TAG" --body "Thank you" 2>&1
}
# queued_ref MID: X-ATS-Ref of the queued mail with that Message-ID (the
# candidate's domain is not reachable from the namespace: it waits in the queue)
queued_ref() {
	local i
	for ((i = 0; i < WAIT * 2; i++)); do
		ref=$(in_root sh -c '
			for id in $(postqueue -j | sed -n "s/.*\"queue_id\": *\"\([0-9A-Za-z]*\)\".*/\1/p"); do
				h=$(postcat -hq "$id" 2>/dev/null)
				printf "%s\n" "$h" | grep -qiF "Message-Id: $0" || continue
				printf "%s\n" "$h" | sed -n "s/^X-ATS-Ref: *//Ip"; exit 0
			done; exit 1' "$1" 2>/dev/null) && { echo "$ref"; return 0; }
		sleep 0.5
	done
	return 1
}
# bare MID: a Message-ID as atsmail stores it, without the angle brackets
bare() { local m=${1#<}; echo "${m%>}"; }
# recorded SQL-CONDITION: wait until one message matches; "1" or what it got
recorded() {
	local i got
	for ((i = 0; i < WAIT * 2; i++)); do
		got=$(psql_q "SELECT count(*) FROM atsmail.messages WHERE $1")
		[ "$got" = 1 ] && { echo 1; return 0; }
		sleep 0.5
	done
	echo "$got"
	return 1
}

MID1="<deploy-out-$TAG@${G_RECRUITER#*@}>"
out=$(send_sub "$MID1"); rc=$?
if [ -n "$brk" ]; then
	if [ $rc != 0 ]; then
		tap_diag "$(grep -E '^<\*\*|^\*\*\*' <<<"$out" | head -3)"
		break_caught "the send check fails"
	else
		tap_fail "--break $brk: the send check fails, as it must" "the mail was accepted with the guide broken:
$out"
	fi
	tap_diag "elapsed $(elapsed)"
	tap_done; exit
fi
tap_is "the recruiter sends to the candidate over 587 (STARTTLS, AUTH PLAIN): accepted" "$rc" 0
[ $rc = 0 ] || tap_diag "$(tail -n 12 <<<"$out")" "$(logs)"
ref=$(queued_ref "$MID1")
if [[ "$ref" =~ ^a[a-z2-7]{37}$ ]]; then
	tap_pass "atsmaild tagged it: X-ATS-Ref $ref"
else
	tap_fail "atsmaild tagged it: X-ATS-Ref is a token" "got '$ref'
$(logs)"
fi
tap_is "the mail is recorded once (messages, direction out, its token)" \
	"$(recorded "direction = 'out' AND token = '${ref//\'/}'")" 1

MID2="<deploy-reply-$TAG@${G_CANDIDATE#*@}>"
out=$(send_reply "$MID2" "$MID1"); rc=$?
tap_is "the candidate's reply over port 25 is accepted" "$rc" 0
[ $rc = 0 ] || tap_diag "$(tail -n 12 <<<"$out")"
flags=$(imap_flags "$G_RECRUITER" "$G_RECRUITER_PASSWORD" "$MID2")
if [[ " $flags " == *' $ATS '* ]]; then
	tap_pass "delivered over LMTP and filed: the recruiter's IMAP client sees \$ATS ($flags)"
else
	tap_fail "delivered over LMTP and filed: the recruiter's IMAP client sees \$ATS" "flags: $flags
$(logs)"
fi
tap_is "the reply is recorded once (messages, direction in)" \
	"$(recorded "direction = 'in' AND rfc_message_id = '$(bare "$MID2")'")" 1

# ---- PostgreSQL down and up again
tap_ok "PostgreSQL stops (its unit's ExecStop)" service stop postgresql
MID3="<deploy-outage-$TAG@${G_RECRUITER#*@}>"
MID4="<deploy-outage-reply-$TAG@${G_CANDIDATE#*@}>"
out=$(send_sub "$MID3"); rc=$?
tap_is "with PostgreSQL down, the recruiter's mail is accepted" "$rc" 0
[ $rc = 0 ] || tap_diag "$(tail -n 12 <<<"$out")"
ref3=$(queued_ref "$MID3")
tap_ok "with PostgreSQL down, it is tagged" sh -c "printf '%s' '$ref3' | grep -Eq '^a[a-z2-7]{37}\$'"
out=$(send_reply "$MID4" "$MID3"); rc=$?
flags=$(imap_flags "$G_RECRUITER" "$G_RECRUITER_PASSWORD" "$MID4")
if [ $rc = 0 ] && [[ " $flags " == *' $ATS '* ]]; then
	tap_pass "with PostgreSQL down, the reply is filed (\$ATS)"
else
	tap_fail "with PostgreSQL down, the reply is filed (\$ATS)" "rc=$rc flags: $flags
$(logs)"
fi
tap_ok "PostgreSQL starts again" service start postgresql
tap_is "after the outage the mail is recorded, once" \
	"$(recorded "direction = 'out' AND token = '${ref3//\'/}'")" 1
tap_is "after the outage the reply is recorded, once" \
	"$(recorded "direction = 'in' AND rfc_message_id = '$(bare "$MID4")'")" 1
tap_is "nothing recorded twice: 4 messages of this run" \
	"$(psql_q "SELECT count(*) FROM atsmail.messages WHERE rfc_message_id LIKE '%$TAG%'")" 4

tap_diag "elapsed $(elapsed)"
tap_done

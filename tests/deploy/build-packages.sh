#!/bin/bash
# tests/deploy/build-packages.sh OUTDIR -- build atsmail's Debian packages
# from a clean export of this tree, copy the .debs to OUTDIR, run lintian.
#
# The export is what git would commit (tracked and new files, ignored ones
# left out), so a build tree or a stray configure in the worktree cannot
# leak into the package.  The build is dpkg-buildpackage -us -uc -b with
# DEB_BUILD_OPTIONS from the environment (default "nocheck": CI runs the
# unit tests in its own builds; DEB_BUILD_OPTIONS= runs them here too).
# Speaks TAP; exits non-zero when the build fails, a package is missing or
# wrong, or lintian reports an error.  Needs dpkg-dev, debhelper, lintian
# and the Build-Depends of debian/control (scripts/install-deps.sh).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/tap.sh"

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 64; }
mkdir -p "$1" || exit 1
out=$(cd "$1" && pwd)
export DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS-nocheck}

for tool in dpkg-buildpackage dh lintian git; do
	command -v "$tool" >/dev/null 2>&1 || tap_skip_all "$tool is not installed (scripts/install-deps.sh)"
done

git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1 ||
	tap_skip_all "$top is not a git checkout (the export takes what git sees)"

tmp=$(mktemp -d /tmp/atsm-deb.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
src=$tmp/atsmail
mkdir "$src"

# ---- the export --------------------------------------------------------------
if (cd "$top" && git ls-files -z -co --exclude-standard) |
	(cd "$top" && tar --null -T - -cf -) | tar -C "$src" -xf -; then
	tap_pass "the tree is exported as git sees it"
else
	tap_fail "the tree is exported as git sees it"
	tap_done; exit 1
fi
version=$(cd "$src" && dpkg-parsechangelog -S Version)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)

# ---- the build ---------------------------------------------------------------
if (cd "$src" && dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1; then
	tap_pass "dpkg-buildpackage -us -uc -b builds (DEB_BUILD_OPTIONS=$DEB_BUILD_OPTIONS)"
else
	tap_fail "dpkg-buildpackage -us -uc -b builds (DEB_BUILD_OPTIONS=$DEB_BUILD_OPTIONS)" \
		"$(tail -40 "$tmp/build.log")"
	tap_done; exit 1
fi
# without nocheck the build ran the unit tests (dh_auto_test, debian/rules)
case " $DEB_BUILD_OPTIONS " in
*" nocheck "*) ;;
*)	total=$(sed -n 's/^# TOTAL: *//p' "$tmp/build.log" | tail -1)
	failed=$(sed -n 's/^# FAIL: *//p' "$tmp/build.log" | tail -1)
	tap_diag "unit tests in the package build: ${total:-none} run, ${failed:-?} failed"
	[ "${total:-0}" -gt 0 ] && [ "$failed" = 0 ]
	tap_is "the package build ran the unit tests and they passed" "$?" 0 ;;
esac
for p in atsmail dovecot-atsmail; do
	deb=$tmp/${p}_${version}_${arch}.deb
	if [ -f "$deb" ] && cp "$deb" "$out/"; then
		tap_pass "$p ${version} is built and copied to $out"
	else
		tap_fail "$p ${version} is built and copied to $out" "$(ls "$tmp")"
	fi
done
cp "$tmp/atsmail_${version}_${arch}.changes" "$out/" 2>/dev/null || true

# ---- what the packages hold ------------------------------------------------
a=$out/atsmail_${version}_${arch}.deb
d=$out/dovecot-atsmail_${version}_${arch}.deb
alist=$(dpkg-deb -c "$a" 2>/dev/null | awk '{print $NF}' | sed 's|^\./|/|')
dlist=$(dpkg-deb -c "$d" 2>/dev/null | awk '{print $NF}' | sed 's|^\./|/|')
missing=
for f in /usr/sbin/atsmaild /usr/sbin/atsmailctl /usr/sbin/atsmail-notifyd \
	/usr/share/atsmail/sql/001-core.sql /etc/atsmail/atsmail.conf \
	/lib/systemd/system/atsmaild.service /lib/systemd/system/atsmail-notifyd.service \
	/lib/systemd/system/atsmail-report.service /lib/systemd/system/atsmail-report.timer \
	/usr/lib/tmpfiles.d/atsmail.conf /usr/share/atsmail/postfix/main.cf.snippet \
	/usr/share/atsmail/postfix/master.cf.snippet /usr/share/man/man8/atsmaild.8.gz \
	/usr/share/man/man8/atsmailctl.8.gz /usr/share/man/man8/atsmail-notifyd.8.gz \
	/usr/share/man/man5/atsmail.conf.5.gz /usr/share/doc/atsmail/README.Debian; do
	# dh_compress leaves files under 4 kB as they are
	printf '%s\n' "$alist" | grep -qxE "$f(\.gz)?" || missing="$missing $f"
done
tap_is "atsmail holds the programs, migrations, conffile, units, tmpfiles.d, snippets, man pages, README.Debian" "$missing" ""
if [ -f "$top/docs/install.md" ]; then
	printf '%s\n' "$alist" | grep -qxF /usr/share/doc/atsmail/install.md
	tap_is "the install guide is /usr/share/doc/atsmail/install.md" "$?" 0
fi
missing=
for f in /usr/lib/dovecot/modules/lib90_atsmail_plugin.so /etc/dovecot/conf.d/90-atsmail.conf \
	/usr/share/atsmail/dovecot/mail-plugins.conf; do
	printf '%s\n' "$dlist" | grep -qxF "$f" || missing="$missing $f"
done
tap_is "dovecot-atsmail holds the plugin, its conf.d snippet and mail-plugins.conf" "$missing" ""
conffiles=$(dpkg-deb -I "$a" conffiles 2>/dev/null; dpkg-deb -I "$d" conffiles 2>/dev/null)
tap_is "the conffiles are atsmail.conf and 90-atsmail.conf" \
	"$(printf '%s\n' "$conffiles" | sort | tr '\n' ' ')" \
	"/etc/atsmail/atsmail.conf /etc/dovecot/conf.d/90-atsmail.conf "

abi=$(cat /usr/share/dovecot/dovecot-abi)
dep=$(dpkg-deb -f "$d" Depends)
case ", $dep," in
*", dovecot-abi-$abi,"*) tap_pass "dovecot-atsmail depends on dovecot-abi-$abi" ;;
*) tap_fail "dovecot-atsmail depends on dovecot-abi-$abi" "Depends: $dep" ;;
esac

# the plugin is off as shipped: no active mail_plugins line in conf.d, and
# the one line that turns it on is commented out
dpkg-deb -x "$d" "$tmp/dx"
snip=$tmp/dx/etc/dovecot/conf.d/90-atsmail.conf
active=$(grep -v '^[[:space:]]*#' "$snip" | grep -E 'mail_plugins|include' || true)
tap_is "the Dovecot snippet leaves the plugin off" "$active" ""
grep -qx '#!include_try /usr/share/atsmail/dovecot/mail-plugins.conf' "$snip"
tap_is "the Dovecot snippet names mail-plugins.conf in a commented !include_try line" "$?" 0

# every setting of atsmail.conf(5) is in the conffile, commented, with its default
dpkg-deb -x "$a" "$tmp/ax"
want=$(awk '/^\.SH SETTINGS/ { p = 1 } !p { next }
	/^\.SS / { name = $2; next }
	/^Default:/ { getline; d = $0; sub(/^\.B /, "", d); if (d == "(empty)") d = "";
		print "#" name " =" (d == "" ? "" : " " d) }' "$top/docs/atsmail.conf.5" |
	perl -CO -pe 's/\\\[u([0-9A-F]{4,6})\]/chr(hex($1))/ge')
bad=$(printf '%s\n' "$want" | while IFS= read -r line; do
	grep -qxF "$line" "$tmp/ax/etc/atsmail/atsmail.conf" || printf '%s; ' "$line"; done)
tap_is "/etc/atsmail/atsmail.conf lists every setting of atsmail.conf(5), commented, with its default" "$bad" ""
tap_is "/etc/atsmail/atsmail.conf sets nothing" \
	"$(grep -Ev '^[[:space:]]*(#|$)' "$tmp/ax/etc/atsmail/atsmail.conf")" ""

# ---- lintian -------------------------------------------------------------------
# on the .changes, beside every package it names (the -dbgsym ones too)
lintian --tag-display-limit 0 --display-info "$tmp/atsmail_${version}_${arch}.changes" \
	>"$tmp/lintian.out" 2>&1
rc=$?
cp "$tmp/lintian.out" "$out/lintian.txt"
errors=$(grep -c '^E: ' "$tmp/lintian.out")
checked=$(grep -c 'Skipping\|No packages selected' "$tmp/lintian.out")
tap_diag "lintian: $(grep -c '^W: ' "$tmp/lintian.out") warning(s), $errors error(s), exit $rc"
grep -E '^(E|W|I): ' "$tmp/lintian.out" | while IFS= read -r l; do tap_diag "  $l"; done
tap_is "lintian checks every package of the .changes" "$checked" 0
tap_is "lintian reports no errors" "$rc:$errors" "0:0"

tap_done

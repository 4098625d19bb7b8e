#!/bin/bash
# tests/deploy/stand-in-packages.sh -- STAND-IN for build-packages.sh while
# the real packaging (debian/) is not in this tree: wraps `make install` in
# two bare .debs so that the deploy harness can be developed end to end.
#
#   stand-in-packages.sh OUTDIR
#
# It is not the packaging: no maintainer scripts (no system user, no
# /etc/atsmail, no secret), no conffile, no lintian.  What those would do, a
# guide used with these packages must do itself (tests/deploy/sample-install.md
# does).  deploy.sh uses it only when tests/deploy/build-packages.sh does not
# exist, and says so in its output.  ATSM_DEPLOY_BUILDDIR names a build
# directory configured with --prefix=/usr --sysconfdir=/etc
# --localstatedir=/var to reuse (default: a fresh one under OUTDIR).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mkdir -p "${1:?usage: stand-in-packages.sh OUTDIR}" && cd "$1" && pwd)
build=${ATSM_DEPLOY_BUILDDIR:-$out/build}
stage=$out/stage
arch=$(dpkg --print-architecture)
version=0~standin

if [ ! -f "$build/Makefile" ]; then
	[ -x "$top/configure" ] || (cd "$top" && autoreconf -fi)
	mkdir -p "$build"
	(cd "$build" && "$top/configure" -q --prefix=/usr --sysconfdir=/etc --localstatedir=/var)
fi
make -C "$build" -j"${ATSM_JOBS:-2}" >"$out/make.log" 2>&1 || { tail -30 "$out/make.log" >&2; exit 1; }
rm -rf "$stage"
make -C "$build" install DESTDIR="$stage/all" >>"$out/make.log" 2>&1 || { tail -30 "$out/make.log" >&2; exit 1; }

# dovecot-atsmail: the plugin; atsmail: everything else, with the units
mkdir -p "$stage/plugin/usr/lib/dovecot" "$stage/all/lib/systemd/system" \
	"$stage/all/usr/share/doc/atsmail/examples"
mv "$stage/all/usr/lib/dovecot/modules" "$stage/plugin/usr/lib/dovecot/"
find "$stage" -name '*.la' -delete
cp "$top"/packaging/systemd/*.service "$stage/all/lib/systemd/system/"
cp "$top/packaging/atsmail/atsmail.conf.example" "$top/packaging/dovecot/90-atsmail.conf" \
	"$top"/packaging/postfix/*.snippet "$stage/all/usr/share/doc/atsmail/examples/"

control() {  # control DIR PACKAGE DEPENDS DESCRIPTION
	mkdir -p "$1/DEBIAN"
	cat >"$1/DEBIAN/control" <<-EOF
	Package: $2
	Version: $version
	Architecture: $arch
	Maintainer: atsmail deploy test <root@localhost>
	Depends: $3
	Description: $4
	 Stand-in built by tests/deploy/stand-in-packages.sh, not the packaging.
	EOF
}
control "$stage/all" atsmail \
	"libc6, libpq5, libjansson4, libcurl4, libssl3, libidn2-0, liblmdb0, adduser" \
	"atsmail service, atsmailctl and atsmail-notifyd (stand-in)"
control "$stage/plugin" dovecot-atsmail "libc6, dovecot-core" \
	"atsmail Dovecot plugin (stand-in)"
rm -f "$out"/atsmail_*.deb "$out"/dovecot-atsmail_*.deb
dpkg-deb --root-owner-group -b "$stage/all" "$out/atsmail_${version}_$arch.deb" >/dev/null
dpkg-deb --root-owner-group -b "$stage/plugin" "$out/dovecot-atsmail_${version}_$arch.deb" >/dev/null
rm -rf "$stage"
ls "$out"/*.deb

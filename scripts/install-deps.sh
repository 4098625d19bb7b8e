#!/bin/bash
# install-deps.sh -- install, on Debian 12, every package atsmail needs to
# build, test and run its test bed.  Runs as root; changes nothing else.
# The servers are installed but not started (the test bed starts private
# instances under a temporary directory).
set -eu
[ "$(id -u)" = 0 ] || { echo "install-deps.sh: run as root (apt-get)" >&2; exit 1; }
packages=(
	build-essential autoconf automake libtool pkg-config
	libpq-dev libjansson-dev libcurl4-openssl-dev libssl-dev libidn2-dev libmilter-dev
	liblmdb-dev lmdb-utils
	dovecot-dev check clang libclang-rt-14-dev
	postgresql postfix dovecot-core dovecot-imapd dovecot-lmtpd
	miltertest swaks python3 procps iproute2 man-db
	debhelper dpkg-dev lintian git debootstrap zstd libnet-ssleay-perl
	libsisimai-perl
	neomutt tmux
	gnuplot-nox fonts-ipafont-gothic
	chromium chromium-driver python3-selenium fontconfig
)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps.sh: all ${#packages[@]} packages present"
	exit 0
fi
echo "install-deps.sh: installing ${missing[*]}"
# Postfix's two debconf questions take their defaults non-interactively; the
# test bed never uses the system instance (nor starts any system daemon).
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"

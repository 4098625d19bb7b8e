#!/bin/bash
# tests/deploy/mkroot.sh -- a fresh Debian 12 (bookworm) root for the deploy
# test, and the helpers that mount, enter and tear it down.
#
#   tests/deploy/mkroot.sh ROOT [PACKAGE...]     (as root)
#
# makes ROOT a fresh bookworm root: debootstrap of the release this machine
# runs, from the mirror its apt uses, with the .deb files of PACKAGE...
# (and their dependencies) already downloaded into its apt cache, so that
# installing them later needs no network.  The result is cached as a tarball
# under ATSM_DEPLOY_CACHE (default /var/cache/atsmail-deploy), keyed by the
# release, the mirror, the ISO week and the sorted package list: a rerun in
# the same week with the same packages only unpacks it (seconds, not
# minutes); a new week starts from the archive again, so the root never
# lags Debian's point releases by more than a week.  ATSM_DEPLOY_REFRESH=1
# ignores the cache.
#
# Sourced (". mkroot.sh"), it defines the functions below for deploy.sh;
# run, it makes ROOT and leaves it unmounted.  Whatever it mounts is
# unmounted on exit, success or not (mkroot_umount in an EXIT trap).
#
# Why a tarball and not debootstrap each time: debootstrap plus the
# download is minutes; the test must fit a 2-core CI run.  Why a week in
# the key: a tarball kept forever would hold apt lists that name versions
# the mirror no longer has.

MKROOT_SUITE=${ATSM_DEPLOY_SUITE:-bookworm}
MKROOT_CACHE=${ATSM_DEPLOY_CACHE:-/var/cache/atsmail-deploy}
MKROOT_MOUNTS=()

# mkroot_mirror: the Debian mirror this machine's apt uses (first deb822
# URIs or one-line "deb" entry naming the main archive, not -security)
mkroot_mirror() {
	local f m=
	for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list; do
		[ -f "$f" ] || continue
		case $f in *.sources)
			m=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f") ;;
		*)
			m=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' "$f") ;;
		esac
		[ -n "$m" ] && { echo "$m"; return 0; }
	done
	echo http://deb.debian.org/debian
}

# mkroot_key PACKAGE...: the cache key (release, mirror, ISO week, packages)
mkroot_key() {
	local week sum
	week=${ATSM_DEPLOY_WEEK:-$(date -u +%G-W%V)}
	sum=$(printf '%s\n' "$MKROOT_SUITE" "$(mkroot_mirror)" "$@" | sort -u | sha256sum | cut -c1-16)
	echo "$MKROOT_SUITE-$week-$sum"
}

# mkroot_mount ROOT: /proc, /sys, and a /dev of the root's own (a tmpfs with
# the usual device nodes, a new devpts instance, a private /dev/shm): the
# root's syslog socket /dev/log and PostgreSQL's shared memory must not land
# in the host's /dev
mkroot_mount() {
	local r=$1 d name maj min
	mount -t proc proc "$r/proc" && MKROOT_MOUNTS+=("$r/proc") || return 1
	mount -t sysfs sysfs "$r/sys" && MKROOT_MOUNTS+=("$r/sys") || return 1
	mount -t tmpfs -o mode=0755,size=16m dev "$r/dev" && MKROOT_MOUNTS+=("$r/dev") || return 1
	for d in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
		IFS=: read -r name maj min <<<"$d"
		mknod -m 0666 "$r/dev/$name" c "$maj" "$min" || return 1
	done
	mkdir -p "$r/dev/pts" "$r/dev/shm"
	mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$r/dev/pts" &&
		MKROOT_MOUNTS+=("$r/dev/pts") || return 1
	ln -s pts/ptmx "$r/dev/ptmx"
	ln -s /proc/self/fd "$r/dev/fd"
	ln -s /proc/self/fd/0 "$r/dev/stdin"
	ln -s /proc/self/fd/1 "$r/dev/stdout"
	ln -s /proc/self/fd/2 "$r/dev/stderr"
	mount -t tmpfs -o mode=1777,size=256m shm "$r/dev/shm" && MKROOT_MOUNTS+=("$r/dev/shm") || return 1
}

# mkroot_kill ROOT: end the processes whose root directory is ROOT (the
# daemons the test started there), each by its id
mkroot_kill() {
	local r p pids sig
	r=$(readlink -f "$1")
	for sig in TERM KILL; do
		pids=()
		for p in /proc/[0-9]*; do
			[ "$(readlink "$p/root" 2>/dev/null)" = "$r" ] && pids+=("${p#/proc/}")
		done
		[ ${#pids[@]} -eq 0 ] && return 0
		kill -s "$sig" "${pids[@]}" 2>/dev/null
		sleep 2
	done
}

# mkroot_umount: unmount, in reverse order, what mkroot_mount mounted
mkroot_umount() {
	local i
	for ((i = ${#MKROOT_MOUNTS[@]} - 1; i >= 0; i--)); do
		umount "${MKROOT_MOUNTS[i]}" 2>/dev/null || umount -l "${MKROOT_MOUNTS[i]}"
	done
	MKROOT_MOUNTS=()
}

# mkroot_remove DIR: remove a root (or a half-made one), never following a
# mount left inside it into the host's /proc or /dev
mkroot_remove() {
	local d m
	[ -d "$1" ] || return 0
	d=$(readlink -f "$1")
	for m in $(awk -v d="$d/" 'index($2 "/", d) == 1 { print $2 }' /proc/mounts | sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m"
	done
	rm -rf --one-file-system "$d"
}

# mkroot_policy ROOT on|off: /usr/sbin/policy-rc.d exiting 101 (no daemon
# started by a package's maintainer scripts: the test starts them itself)
mkroot_policy() {
	if [ "$2" = on ]; then
		printf '#!/bin/sh\n# deploy test: packages start no daemon\nexit 101\n' >"$1/usr/sbin/policy-rc.d"
		chmod 0755 "$1/usr/sbin/policy-rc.d"
	else
		rm -f "$1/usr/sbin/policy-rc.d"
	fi
}

# mkroot_build TARBALL PACKAGE...: debootstrap (or its own cached tarball,
# so that a new package list costs only the download), download
# PACKAGE..., pack
mkroot_build() {
	local tarball=$1 tmp mirror base rc=0
	shift
	mirror=$(mkroot_mirror)
	base=$MKROOT_CACHE/base-$(mkroot_key).tar.zst
	tmp=$(mktemp -d "$MKROOT_CACHE/build.XXXXXX") || return 1
	chmod 0755 "$tmp"
	trap 'mkroot_umount; mkroot_remove "$tmp"; rm -f "$tmp.log"' INT TERM
	if [ -f "$base" ] && [ "${ATSM_DEPLOY_REFRESH:-0}" != 1 ]; then
		echo "mkroot: debootstrap's root from $base" >&2
		tar -C "$tmp" --zstd -xpf "$base" || rc=1
	else
		echo "mkroot: debootstrap $MKROOT_SUITE from $mirror (cold cache)" >&2
		rm -f "$MKROOT_CACHE"/base-*.tar.zst
		if debootstrap --arch="$(dpkg --print-architecture)" "$MKROOT_SUITE" "$tmp" "$mirror" \
			>"$tmp.log" 2>&1; then
			# the same sources the machine uses for this release
			cat >"$tmp/etc/apt/sources.list" <<-EOF
			deb $mirror $MKROOT_SUITE main
			deb $mirror $MKROOT_SUITE-updates main
			deb ${mirror%/debian}/debian-security $MKROOT_SUITE-security main
			EOF
			cp /etc/resolv.conf "$tmp/etc/resolv.conf" 2>/dev/null
			tar -C "$tmp" --zstd -cf "$base.part" . && mv "$base.part" "$base" || rc=1
		else
			rc=1
		fi
	fi
	[ $rc = 0 ] && { mkroot_mount "$tmp" || rc=1; }
	if [ $rc = 0 ] && [ $# -gt 0 ]; then
		chroot "$tmp" apt-get update -q >>"$tmp.log" 2>&1 &&
			chroot "$tmp" env DEBIAN_FRONTEND=noninteractive \
				apt-get install -y -q --download-only "$@" >>"$tmp.log" 2>&1 || rc=1
	fi
	mkroot_umount
	[ $rc = 0 ] && { tar -C "$tmp" --zstd -cf "$tarball.part" . && mv "$tarball.part" "$tarball" || rc=1; }
	[ $rc = 0 ] || tail -20 "$tmp.log" >&2
	mkroot_remove "$tmp"; rm -f "$tmp.log"
	trap 'exit 130' INT TERM
	return $rc
}

# mkroot_make ROOT PACKAGE...: ROOT (empty or absent) becomes a fresh root
mkroot_make() {
	local root=$1 key tarball
	shift
	mkdir -p "$MKROOT_CACHE" "$root" || return 1
	key=$(mkroot_key "$@")
	tarball=$MKROOT_CACHE/root-$key.tar.zst
	if [ "${ATSM_DEPLOY_REFRESH:-0}" = 1 ] || [ ! -f "$tarball" ]; then
		# keep the newest other one (a second package list, e.g. a branch's),
		# remove the older ones
		ls -t "$MKROOT_CACHE"/root-*.tar.zst 2>/dev/null | tail -n +2 | xargs -r rm -f
		mkroot_build "$tarball" "$@" || return 1
	else
		echo "mkroot: cached root $tarball" >&2
	fi
	tar -C "$root" --zstd -xpf "$tarball" || return 1
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	[ "$(id -u)" = 0 ] || { echo "mkroot.sh: run as root" >&2; exit 1; }
	[ $# -ge 1 ] || { echo "usage: mkroot.sh ROOT [PACKAGE...]" >&2; exit 2; }
	command -v debootstrap >/dev/null || { echo "mkroot.sh: apt-get install debootstrap" >&2; exit 1; }
	trap mkroot_umount EXIT
	mkroot_make "$@"; exit
fi

#!/bin/bash
# tests/e2e/client-mailboxes.sh -- the mailboxes a mail client expects:
# a user who has never logged in finds Sent, Drafts, Trash and Junk over
# IMAP, listed with their special-use attributes (LIST (SPECIAL-USE),
# RFC 6154) and subscribed (LSUB), on the test bed's Dovecot; and the
# shipped snippet packaging/dovecot/90-atsmail.conf.in, placed beside
# Debian's own /etc/dovecot configuration, turns Debian's auto = no
# mailboxes into auto = subscribe in the same namespace (doveconf).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/e2e-lib.sh"

tb_start dovecot
"$top_srcdir/tests/testbed/testbed.sh" adduser "$TB_DIR" "fresh$$@atsmail.test" freshpw >/dev/null ||
	tap_bail "cannot add a fresh user"

# one line per mailbox: "NAME ATTRS" from LIST (SPECIAL-USE), then
# "lsub NAME" per subscribed mailbox
python3 - "$TB_IMAP_PORT" "fresh$$@atsmail.test" freshpw >"$TB_DIR/list.out" 2>&1 <<'PY'
import imaplib, re, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.login(sys.argv[2], sys.argv[3])
typ, data = m._simple_command("LIST", "(SPECIAL-USE)", '""', '"*"')
for line in m._untagged_response(typ, data, "LIST")[1]:
    mt = re.match(rb'\(([^)]*)\) "[^"]*" "?([^"]*)"?', line)
    print(mt.group(2).decode(), mt.group(1).decode())
typ, data = m.lsub('""', "*")
for line in data:
    print("lsub", re.match(rb'\([^)]*\) "[^"]*" "?([^"]*)"?', line).group(1).decode())
m.logout()
PY
L=$(cat "$TB_DIR/list.out")
for mb in Sent Drafts Trash Junk; do
	tap_ok "LIST (SPECIAL-USE) of a fresh user: $mb is \\$mb" \
		grep -Eq "^$mb .*\\\\$mb( |\$)" "$TB_DIR/list.out"
	tap_ok "LSUB of a fresh user: $mb is subscribed" grep -qx "lsub $mb" "$TB_DIR/list.out"
done
tap_is "LIST (SPECIAL-USE) returns nothing else" \
	"$(grep -vc '^lsub ' "$TB_DIR/list.out")" "4"
[ "$TAP_FAILED" -gt 0 ] && printf '%s\n' "$L" | sed 's/^/# /'

# The shipped snippet beside Debian's configuration (dovecot-core's
# /etc/dovecot, with 15-mailboxes.conf): the mailboxes merge into Debian's
# namespace inbox, special-use kept, auto = subscribe.
D=$TB_DIR/debian-conf
if [ -f /etc/dovecot/conf.d/15-mailboxes.conf ]; then
	cp -r /etc/dovecot "$D"
	sed -i "s|/etc/dovecot/|$D/|g" "$D/dovecot.conf"
	sed 's|@pkgdatadir[@]|/usr/share/atsmail|' "$top_srcdir/packaging/dovecot/90-atsmail.conf.in" \
		>"$D/conf.d/90-atsmail.conf"
	for mb in Sent Drafts Trash Junk; do
		tap_is "Debian's configuration + 90-atsmail.conf: $mb is \\$mb, auto = subscribe" \
			"$(doveconf -c "$D/dovecot.conf" -h "namespace/inbox/mailbox/$mb/special_use" \
			"namespace/inbox/mailbox/$mb/auto" 2>&1 | tr '\n' ' ')" "\\$mb subscribe "
	done
	tap_is "Debian's configuration + 90-atsmail.conf: still one namespace" \
		"$(doveconf -c "$D/dovecot.conf" -n 2>&1 | grep -c '^namespace ')" "1"
else
	tap_ok "Debian's /etc/dovecot/conf.d/15-mailboxes.conf exists (dovecot-core)" false
fi
tap_done

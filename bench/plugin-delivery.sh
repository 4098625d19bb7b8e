#!/bin/bash
# bench/plugin-delivery.sh -- what the Dovecot plugin costs a delivery.
#
# One run, one private test bed: a database of 100,000 resumes (one
# INSERT ... SELECT generate_series, with their addresses), then N mails
# (default 2,000) delivered over LMTP straight to Dovecot by S parallel
# sessions, first without the plugin, then with it (the same Dovecot,
# mail_plugins changed and `doveadm reload`), then without it again.  Each
# mail comes from a different resume's address, so every one is filed
# (rule sender_address) while the plugin is on.  Prints the delivery rate
# of each pass, the ratio on/off (target >= 0.90) and the delivery-to-
# record latency: messages.created_at minus the send time of each mail
# (kept by the sender per Message-ID), median and p99.
# Usage: bench/plugin-delivery.sh [N] [SESSIONS]      (root; ~2 minutes)
set -u
N=${1:-2000}
S=${2:-10}
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/plugin-lib.sh"
RESUMES=100000
TAP_N=0

plugin_start
echo "# test bed $TB_DIR, $RESUMES resumes, $N mails per pass, $S LMTP sessions"
tb_psql >/dev/null <<SQL || { echo "cannot create the resumes"; exit 1; }
INSERT INTO atsmail.resumes (id, name, created_from)
	SELECT 100000 + g, 'Bench ' || g, 'import' FROM generate_series(1, $RESUMES) g;
INSERT INTO atsmail.addresses (owner_kind, owner_id, addr_norm, is_primary)
	SELECT 'resume', 100000 + g, 'cand' || g || '@bench.example', true
	FROM generate_series(1, $RESUMES) g;
ANALYZE atsmail.resumes; ANALYZE atsmail.addresses;
SQL

plugin_switch() {   # on | off
	local want=""
	[ "$1" = on ] && want=" atsmail"
	sed -i "s/^\(  mail_plugins = \$mail_plugins\).*/\1$want/" "$TB_DOVECOT_CONF"
	doveadm -c "$TB_DOVECOT_CONF" reload
	sleep 1.5
}

# send PASS RCPT: N mails over LMTP to RCPT; prints the rate and writes
# PASS.times (msgid sent_at).  Each pass has a mailbox of its own, empty at
# the start, so that no pass pays for a bigger maildir than another.
send() {
	python3 - "$TB_LMTP_PORT" "$N" "$S" "$1" "$RESUMES" "$PW/$1.times" "$2" <<'PY'
import smtplib, sys, threading, time, random
port, n, s, tag, resumes, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), sys.argv[6]
rcpt = sys.argv[7]
times = []
lock = threading.Lock()
body = "x" * 3000
def worker(k):
    c = smtplib.LMTP("127.0.0.1", port)
    c.ehlo("bench")  # LMTP: LHLO
    for i in range(k, n, s):
        mid = f"{tag}.{i}@bench.test"
        frm = f"cand{random.randint(1, resumes)}@bench.example"
        msg = (f"From: {frm}\r\nTo: {rcpt}\r\nSubject: bench {tag} {i}\r\n"
               f"Message-Id: <{mid}>\r\n\r\n{body}\r\n")
        t = time.time()
        c.sendmail(frm, [rcpt], msg)
        with lock: times.append((mid, t))
    c.quit()
t0 = time.time()
th = [threading.Thread(target=worker, args=(k,)) for k in range(s)]
for x in th: x.start()
for x in th: x.join()
el = time.time() - t0
with open(out, "w") as f:
    for mid, t in times: f.write(f"{mid} {t:.6f}\n")
print(f"{n / el:.1f}")
PY
}

plugin_switch off
OFF1=$(send off1 alice@atsmail.test)
plugin_switch on
ON=$(send on bob@atsmail.test)
plugin_switch off
OFF2=$(send off2 admin@atsmail.test)

LAT=$(tb_psql -c "select rfc_message_id || ' ' || extract(epoch from created_at) from atsmail.messages where direction='in' and rfc_message_id like 'on.%'" |
	python3 -c '
import sys
sent = dict(l.split() for l in open(sys.argv[1]))
lat = sorted(float(t) - float(sent[m]) for m, t in (l.split() for l in sys.stdin) if m in sent)
if not lat: print("0 0 0"); sys.exit()
p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000
print(f"{len(lat)} {p(0.5):.1f} {p(0.99):.1f}")' "$PW/on.times")
read -r FILED MED P99 <<<"$LAT"
python3 - "$OFF1" "$ON" "$OFF2" "$FILED" "$MED" "$P99" "$N" <<'PY'
import sys
off1, on, off2, filed, med, p99, n = sys.argv[1:8]
off = (float(off1) + float(off2)) / 2
print(f"without plugin (pass 1) : {float(off1):8.1f} mails/s")
print(f"with plugin             : {float(on):8.1f} mails/s   ({filed} of {n} filed)")
print(f"without plugin (pass 2) : {float(off2):8.1f} mails/s")
print(f"ratio with/without      : {float(on) / off:8.2f}   (target >= 0.90; without = mean of both passes)")
print(f"delivery-to-record      : median {med} ms, p99 {p99} ms (messages.created_at - send time)")
PY

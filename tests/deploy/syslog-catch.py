#!/usr/bin/python3
# tests/deploy/syslog-catch.py -- the deploy root's syslog: reads datagrams
# on SOCKET (the root's /dev/log) and appends them, one per line, to FILE.
#
#   syslog-catch.py SOCKET FILE
#
# Why: the root has no journald or rsyslog, and Postfix, Dovecot and
# atsmaild log only to syslog; without this a failing check would have no
# log to show.  It runs on the host (no python3 in the admin's root) until
# the test kills it by its pid.
import os
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
with open(out, "ab", buffering=0) as f:
    while True:
        data = s.recv(65536)
        # "<PRI>" dropped: the facility and level do not help a reader here
        if data.startswith(b"<"):
            data = data.split(b">", 1)[-1]
        f.write(data.rstrip(b"\0\n") + b"\n")

#!/bin/bash
# tests/e2e/atsmaild-disk-full.sh -- atsmaild whose journal cannot be
# written: temporary failures, nothing lost, nothing half-written.
#
# journal_dir is a tiny tmpfs mounted here (unmounted at exit).  One ATS
# mail is journaled first, so the segment is not empty; then a filler file
# takes every free block.  The mails that follow are large (a long folded
# Subject: an entry longer than a page), so their write starts in the
# segment's last page and runs out of space half-way: the journal must cut
# it back.  While the disk is full:
#   - ATS mail submitted over SMTP is answered 451 4.3.0 and stays with
#     the client; ATS mail given to sendmail(1) stays in Postfix's queue
#     (maildrop); a reply delivered through LMTP gets 451 from the plugin
#     (atsmaild answers TEMPFAIL) and Postfix defers it; none of them is
#     delivered, none is recorded;
#   - mail that is not ATS mail passes both ways (it needs no journal);
#   - every line of every segment is a complete entry, and only the one
#     journaled before is there;
# then the filler is removed, `postqueue -f` and the client's retry:
# every mail held back is delivered once, tagged, and recorded once.
# The same again with another way of not being able to write that holds
# for root: a file-size limit on the running atsmaild (prlimit --fsize:
# "File too large"); a read-only remount of the tmpfs is refused by the
# kernel while atsmaild holds the segment open for writing, so it is not
# used (a bind mount made read-only is refused the same way).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/e2e-lib.sh"
. "$top_srcdir/tests/e2e/atsmaild-lib.sh"
. "$top_srcdir/tests/e2e/atsmaild-mail-lib.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "the test bed and mounting a tmpfs need root"
command -v swaks >/dev/null || tap_skip_all "swaks is not installed"
command -v prlimit >/dev/null || tap_skip_all "prlimit (util-linux) is not installed"
[ -f "$AD_PLUGIN_SO" ] || tap_skip_all "the Dovecot plugin is not built"

ad_prepare D
MNT=$AD_D/journal
mount -t tmpfs -o size=256k,mode=0700 tmpfs "$MNT" || tap_skip_all "cannot mount a tmpfs here"
cleanup() {
	ad_stop D
	umount "$MNT" 2>/dev/null
	ad_cleanup
}
trap cleanup EXIT
ad_wire D
tb_start pg postfix dovecot
trap cleanup EXIT
AM_LOG=$TB_DIR/swaks.log
ad_db
ad_conf D
ad_start D
PID=$(ad_pid D)
ATS=ats.atsmail.test
W=$TB_DIR/df
mkdir -p "$W"

# big_mail FILE FROM TO MSGID [IN-REPLY-TO]: a mail whose journal entry is
# longer than a page (its Subject is about 6 KB, folded)
big_mail() {
	local f=$1 i
	{
		printf 'From: %s\nTo: %s\nMessage-Id: %s\n' "$2" "$3" "$4"
		[ -n "${5:-}" ] && printf 'In-Reply-To: %s\n' "$5"
		printf 'Subject: Offer'
		for i in $(seq 1 10); do printf '\n %s' "$(head -c 600 /dev/zero | tr '\0' 'x')"; done
		printf '\nDate: %s\n\nDear all,\nsee the offer.\n' "$(date -R)"
	} >"$f"
}
# every line of every segment is a whole entry: JSON, with its newline
journal_whole() {
	python3 - "$MNT" <<'PY'
import glob, json, os, sys
n = 0
for seg in sorted(glob.glob(os.path.join(sys.argv[1], "atsmaild.*.jsonl"))):
    if seg.endswith(".rejected.jsonl"):
        continue
    data = open(seg, "rb").read()
    if data and not data.endswith(b"\n"):
        sys.exit("%s: the last line has no newline (%d bytes)" % (seg, len(data)))
    for i, line in enumerate(data.split(b"\n")[:-1], 1):
        try:
            e = json.loads(line)
            assert e["key"] and e["kind"] and "data" in e
        except Exception as ex:
            sys.exit("%s line %d: not a whole entry: %r" % (seg, i, ex))
        n += 1
print(n)
PY
}
recorded() { am_sql "select count(*) from atsmail.messages where rfc_message_id = '$(am_bare "$1")'"; }
# delivered PORT USER MSGID: how many copies of it are in USER's INBOX
delivered() {
	local uids
	uids=$(am_imap "$1" "$2" search "HEADER Message-ID \"$(am_bare "$3")\"" 2>/dev/null)
	set -- $uids
	echo $#
}
# queued NAME: entries of Postfix's queue NAME (maildrop, deferred, ...)
queued() {
	postqueue -c "$TB_POSTFIX_CONF" -j 2>/dev/null | python3 -c '
import json, sys
print(sum(1 for l in sys.stdin if l.strip() and json.loads(l)["queue_name"] == sys.argv[1]))' "$1"
}
# wait_log FILE FROM PATTERN: until PATTERN is in FILE past line FROM (<= 15 s)
wait_log() {
	for _ in $(seq 1 150); do tail -n "+$(($2 + 1))" "$1" | grep -q -- "$3" && return 0; sleep 0.1; done
	return 1
}

# ---- before: one ATS mail journaled and recorded
M0=$(am_mid before)
reply=$(am_submit "$TB_SUBMISSION_PORT" alice@atsmail.test alice@atsmail.test taro@candidate.test \
	--header "Message-Id: $M0" --header "Subject: Hello" --body "Hello.")
tap_is "before: ATS mail is accepted" "${reply%% *}" 250
tap_is "before: and recorded" "$(am_wait_sql "select count(*) from atsmail.messages where rfc_message_id = '$(am_bare "$M0")'" 1)" 1

# ---- the disk is full ---------------------------------------------------------------
dd if=/dev/zero of="$MNT/filler" bs=4k status=none 2>/dev/null
tap_is "the journal's file system is full" "$(df -P -k "$MNT" | awk 'NR == 2 { print $4 }')" 0

# full_phase TAG REASON: ATS mail in three ways, non-ATS mail both ways;
# sets S_MID (SMTP), P_MID (sendmail), R_MID (reply)
full_phase() {
	local tag=$1 why=$2 reply n from entries
	from=$(wc -l <"$TB_MAILLOG")
	entries=$(journal_whole)
	S_MID=$(am_mid "smtp-$tag") P_MID=$(am_mid "pickup-$tag") R_MID=$(am_mid "reply-$tag")
	big_mail "$W/s-$tag" alice@atsmail.test taro@candidate.test "$S_MID"
	reply=$(am_submit "$TB_SUBMISSION_PORT" alice@atsmail.test alice@atsmail.test taro@candidate.test \
		--data "@$W/s-$tag")
	tap_is "$tag: ATS mail over SMTP is answered 451 4.3.0 ($reply)" "${reply%% *} $(echo "$reply" | cut -d' ' -f2)" \
		"451 4.3.0"
	tap_ok "$tag: atsmaild logs why ($why)" grep -q "cannot journal the record (mail tempfailed):.*$why" \
		"$(ad_log D)"
	big_mail "$W/p-$tag" alice@atsmail.test hanako@candidate.test "$P_MID"
	sendmail -C "$TB_POSTFIX_CONF" -f alice@atsmail.test hanako@candidate.test <"$W/p-$tag"
	tap_ok "$tag: ATS mail given to sendmail is refused by atsmaild (maillog: milter-reject 4.3.0)" \
		wait_log "$TB_MAILLOG" "$from" "milter-reject: END-OF-MESSAGE from localhost.*4.3.0 atsmail: cannot record"
	tap_is "$tag: ... and stays in Postfix's queue (maildrop)" "$(queued maildrop)" 1
	big_mail "$W/r-$tag" taro@candidate.test alice@atsmail.test "$R_MID" "<out-5001@atsmail.test>"
	reply=$(am_mx "$TB_SMTP_PORT" taro@candidate.test alice@atsmail.test --data "@$W/r-$tag")
	tap_is "$tag: a candidate's reply is queued by the MX" "${reply%% *}" 250
	tap_ok "$tag: ... and deferred by Postfix after LMTP 451 from the plugin" \
		wait_log "$TB_MAILLOG" "$from" "status=deferred (host 127.0.0.1\[127.0.0.1\] said: 451 4.2.0 <alice@atsmail.test> atsmail could not file"
	tap_is "$tag: ... it is in the deferred queue" "$(queued deferred)" 1
	tap_ok "$tag: ... atsmaild answered TEMPFAIL, saying why" \
		grep -q "$(am_bare "$R_MID")>: cannot journal it:.*$why (delivery tempfailed)" "$(ad_log D)"
	tap_is "$tag: none of the three is recorded" \
		"$(recorded "$S_MID")$(recorded "$P_MID")$(recorded "$R_MID")" 000
	tap_is "$tag: none of them is delivered" \
		"$(delivered "$TB_IMAP_PORT" taro@candidate.test "$S_MID")$(delivered "$TB_IMAP_PORT" hanako@candidate.test "$P_MID")$(delivered "$TB_IMAP_PORT" alice@atsmail.test "$R_MID")" \
		000
	# not ATS mail needs no journal
	n=$(am_mid "colleague-$tag")
	reply=$(am_submit "$TB_SUBMISSION_PORT" alice@atsmail.test alice@atsmail.test bob@atsmail.test \
		--header "Message-Id: $n" --header "Subject: Lunch" --body "Lunch?")
	tap_is "$tag: mail to a colleague (not ATS mail) is accepted" "${reply%% *}" 250
	tap_ok "$tag: ... and delivered" am_imap -w 15 "$TB_IMAP_PORT" bob@atsmail.test find "$n"
	n=$(am_mid "stranger-$tag")
	reply=$(am_mx "$TB_SMTP_PORT" someone@elsewhere.example alice@atsmail.test \
		--header "Message-Id: $n" --header "Subject: Hi" --body "Hi.")
	tap_ok "$tag: mail from a stranger (not ATS mail) is delivered through LMTP" \
		am_imap -w 15 "$TB_IMAP_PORT" alice@atsmail.test find "$n"
	tap_is "$tag: the journal holds whole entries only, and only those from before ($entries)" \
		"$(journal_whole 2>&1)" "$entries"
}

# after_phase TAG: the client retries, Postfix is flushed: all once
after_phase() {
	local tag=$1 reply
	postqueue -c "$TB_POSTFIX_CONF" -f
	reply=$(am_submit "$TB_SUBMISSION_PORT" alice@atsmail.test alice@atsmail.test taro@candidate.test \
		--data "@$W/s-$tag")
	tap_is "$tag, after: the client's retry is accepted" "${reply%% *}" 250
	tap_is "$tag, after: each held-back mail is recorded once" \
		"$(am_wait_sql "select count(*) from atsmail.messages where rfc_message_id in
		     ('$(am_bare "$S_MID")', '$(am_bare "$P_MID")', '$(am_bare "$R_MID")')" 3)" 3
	am_imap -w 15 "$TB_IMAP_PORT" alice@atsmail.test find "$R_MID" >/dev/null 2>&1
	am_imap -w 15 "$TB_IMAP_PORT" hanako@candidate.test find "$P_MID" >/dev/null 2>&1
	am_imap -w 15 "$TB_IMAP_PORT" taro@candidate.test find "$S_MID" >/dev/null 2>&1
	tap_is "$tag, after: and delivered once each (SMTP, sendmail, reply)" \
		"$(delivered "$TB_IMAP_PORT" taro@candidate.test "$S_MID")$(delivered "$TB_IMAP_PORT" hanako@candidate.test "$P_MID")$(delivered "$TB_IMAP_PORT" alice@atsmail.test "$R_MID")" \
		111
	tap_ok "$tag, after: the sent ones carry their X-ATS-Ref" sh -c "
		python3 '$AM_IMAP' -p $TB_IMAP_PORT taro@candidate.test taropw header '$S_MID' X-ATS-Ref | grep -Eq '^a[a-z2-7]{37}\$' &&
		python3 '$AM_IMAP' -p $TB_IMAP_PORT hanako@candidate.test hanakopw header '$P_MID' X-ATS-Ref | grep -Eq '^a[a-z2-7]{37}\$'"
	tap_ok "$tag, after: the reply is filed (\$ATS)" sh -c \
		"python3 '$AM_IMAP' -p $TB_IMAP_PORT alice@atsmail.test alicepw flags '$R_MID' | grep -q '\\\$ATS'"
	tap_is "$tag, after: the reply is linked to resume 1001 by In-Reply-To" \
		"$(am_sql "select l.target_kind||':'||l.target_id||':'||l.rule from atsmail.message_links l
		     join atsmail.messages m on m.id = l.message_id where m.rfc_message_id = '$(am_bare "$R_MID")'
		     and l.target_kind = 'resume'")" "resume:1001:in_reply_to"
	tap_is "$tag, after: Postfix's queue is empty" "$(queued maildrop)$(queued deferred)$(queued active)" 000
	tap_ok "$tag, after: the journal holds whole entries only" journal_whole
}

full_phase "disk full" "No space left on device"
rm -f "$MNT/filler"
after_phase "disk full"

# ---- another way: a file-size limit on the running atsmaild --------------------------
seg=$(ls "$MNT"/atsmaild.*.jsonl | grep -v rejected | tail -1)
# 100 bytes of room: the next entry is cut by the limit half-way
prlimit --pid "$PID" --fsize="$(($(stat -c %s "$seg") + 100)):" || tap_bail "prlimit failed"
full_phase "file-size limit" "File too large"
prlimit --pid "$PID" --fsize=unlimited:
after_phase "file-size limit"

tap_is "no entry was set aside (atsmaild.rejected.jsonl)" \
	"$(cat "$MNT"/atsmaild.rejected.jsonl 2>/dev/null | wc -l)" 0
tap_ok "atsmaild is still running" kill -0 "$PID"
tap_done

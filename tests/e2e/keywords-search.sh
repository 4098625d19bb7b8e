#!/bin/bash
# tests/e2e/keywords-search.sh -- every keyword atsmail sets is found by an
# exact IMAP search (SEARCH KEYWORD, what a client's saved search or tag
# filter sends) and only there: mail gets its keywords from the real path
# (Postfix -> LMTP -> Dovecot with the plugin -> atsmaild, and an IMAP
# APPEND of a Sent copy), then for each keyword K and each mailbox,
# SEARCH KEYWORD K returns exactly the mails that carry K -- $ATS does not
# find the $ATSSent, $ATSNewRecord or $ATSUnfiled mails although its name
# is their prefix, and UNKEYWORD $ATS finds the rest.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/plugin-lib.sh"

plugin_start
"$top_srcdir/tests/testbed/testbed.sh" adduser "$TB_DIR" jobs@atsmail.test jobspw >/dev/null \
	|| tap_bail "cannot add jobs@atsmail.test"

# uid_of USER PW MSG: its UID in USER's INBOX, once delivered (<= 15 s)
uid_of() { imap -w 15 "$1" "$2" find "$3" 2>/dev/null; }

# alice's INBOX: a reply ($ATS), an ambiguous sender ($ATS $ATSAmbiguous),
# an auto-reply ($ATS $ATSAutoReply), a stranger (nothing)
M_REPLY=$(mid reply)
mx taro@candidate.test alice@atsmail.test --header "Message-Id: $M_REPLY" \
	--header "In-Reply-To: <out-5001@atsmail.test>" --header "Subject: Re: Interview" --body "Thank you."
M_AMB=$(mid ambiguous)
mx family@candidate.test alice@atsmail.test --header "Message-Id: $M_AMB" --header "Subject: About us" --body "Hi."
M_AUTO=$(mid auto)
mx hanako@candidate.test alice@atsmail.test --header "Message-Id: $M_AUTO" --header "Auto-Submitted: auto-replied" \
	--header "In-Reply-To: <out-5002@atsmail.test>" --header "Subject: Away" --body "I am away."
M_NONE=$(mid none)
mx someone@elsewhere.example alice@atsmail.test --header "Message-Id: $M_NONE" --header "Subject: Lunch?" --body "Hi."
U_REPLY=$(uid_of alice@atsmail.test alicepw "$M_REPLY")
U_AMB=$(uid_of alice@atsmail.test alicepw "$M_AMB")
U_AUTO=$(uid_of alice@atsmail.test alicepw "$M_AUTO")
U_NONE=$(uid_of alice@atsmail.test alicepw "$M_NONE")
tap_ok "the four mails reached alice's INBOX" test -n "$U_REPLY" -a -n "$U_AMB" -a -n "$U_AUTO" -a -n "$U_NONE"

# alice's Sent: her client's copy of recorded mail ($ATSSent only); a
# second, unrecorded copy gets nothing
printf 'From: alice@atsmail.test\r\nTo: taro@candidate.test\r\nSubject: Interview\r\nMessage-Id: <out-5001@atsmail.test>\r\nDate: %s\r\n\r\nSee you.\r\n' \
	"$(date -R)" >"$PW/sent.eml"
U_SENT=$(imap alice@atsmail.test alicepw append Sent "$PW/sent.eml" 2>&1)
printf 'From: alice@atsmail.test\r\nTo: lunch@elsewhere.example\r\nSubject: Lunch\r\nMessage-Id: %s\r\nDate: %s\r\n\r\nNoon?\r\n' \
	"$(mid private)" "$(date -R)" >"$PW/private.eml"
U_PRIV=$(imap alice@atsmail.test alicepw append Sent "$PW/private.eml" 2>&1)

# the intake addresses: $ATSNewRecord (recruit@) and $ATSUnfiled (jobs@)
M_NEW=$(mid intake)
mx "newcomer.$RUN@example.org" recruit@atsmail.test --header "Message-Id: $M_NEW" --header "Subject: Application" --body "CV."
M_UNF=$(mid jobs)
mx "other.$RUN@example.org" jobs@atsmail.test --header "Message-Id: $M_UNF" --header "Subject: Enquiry" --body "Hello."
U_NEW=$(uid_of recruit@atsmail.test recruitpw "$M_NEW")
U_UNF=$(uid_of jobs@atsmail.test jobspw "$M_UNF")

# the keywords each mail got (the premise of the searches below)
tap_is "premise: the reply carries \$ATS" "$(flags_of alice@atsmail.test alicepw "$M_REPLY")" '$ATS'
tap_is "premise: the ambiguous mail carries \$ATS \$ATSAmbiguous" \
	"$(flags_of alice@atsmail.test alicepw "$M_AMB")" '$ATS $ATSAmbiguous'
tap_is "premise: the auto-reply carries \$ATS \$ATSAutoReply" \
	"$(flags_of alice@atsmail.test alicepw "$M_AUTO")" '$ATS $ATSAutoReply'
tap_is "premise: the Sent copy carries \$ATSSent" "$(imap -m Sent alice@atsmail.test alicepw flags "uid:$U_SENT" 2>&1)" '$ATSSent'
tap_is "premise: recruit@'s intake mail carries \$ATSNewRecord" \
	"$(flags_of recruit@atsmail.test recruitpw "$M_NEW")" '$ATSNewRecord'
tap_is "premise: jobs@'s intake mail carries \$ATSUnfiled" "$(flags_of jobs@atsmail.test jobspw "$M_UNF")" '$ATSUnfiled'

# search USER PW MAILBOX CRITERIA: the UIDs found, sorted, space-separated
search() {
	imap -m "$3" "$1" "$2" search "$4" 2>/dev/null | tr ' ' '\n' | sort -n | tr '\n' ' ' | sed 's/ $//'
}
sorted() { printf '%s\n' "$@" | sort -n | tr '\n' ' ' | sed 's/ $//'; }
A="alice@atsmail.test alicepw"

tap_is "INBOX: KEYWORD \$ATS finds exactly the three filed mails" "$(search $A INBOX 'KEYWORD $ATS')" \
	"$(sorted "$U_REPLY" "$U_AMB" "$U_AUTO")"
tap_is "INBOX: KEYWORD \$ATSAmbiguous finds only the ambiguous one" "$(search $A INBOX 'KEYWORD $ATSAmbiguous')" "$U_AMB"
tap_is "INBOX: KEYWORD \$ATSAutoReply finds only the auto-reply" "$(search $A INBOX 'KEYWORD $ATSAutoReply')" "$U_AUTO"
tap_is "INBOX: UNKEYWORD \$ATS finds only the stranger's mail" "$(search $A INBOX 'UNKEYWORD $ATS')" "$U_NONE"
tap_is "INBOX: KEYWORD \$ATSSent finds nothing" "$(search $A INBOX 'KEYWORD $ATSSent')" ""
tap_is "Sent: KEYWORD \$ATSSent finds only the recorded copy" "$(search $A Sent 'KEYWORD $ATSSent')" "$U_SENT"
tap_is "Sent: KEYWORD \$ATS finds nothing (\$ATSSent is not \$ATS)" "$(search $A Sent 'KEYWORD $ATS')" ""
tap_is "Sent: UNKEYWORD \$ATSSent finds the unrecorded copy" "$(search $A Sent 'UNKEYWORD $ATSSent')" "$U_PRIV"
tap_is "recruit@: KEYWORD \$ATSNewRecord finds the intake mail" \
	"$(search recruit@atsmail.test recruitpw INBOX 'KEYWORD $ATSNewRecord')" "$U_NEW"
tap_is "recruit@: KEYWORD \$ATS finds nothing (\$ATSNewRecord is not \$ATS)" \
	"$(search recruit@atsmail.test recruitpw INBOX 'KEYWORD $ATS')" ""
tap_is "jobs@: KEYWORD \$ATSUnfiled finds the intake mail" \
	"$(search jobs@atsmail.test jobspw INBOX 'KEYWORD $ATSUnfiled')" "$U_UNF"
tap_is "jobs@: KEYWORD \$ATS finds nothing (\$ATSUnfiled is not \$ATS)" \
	"$(search jobs@atsmail.test jobspw INBOX 'KEYWORD $ATS')" ""
tap_is "keywords are atoms: KEYWORD ATS (no \$) finds nothing" "$(search $A INBOX 'KEYWORD ATS')" ""
tap_done

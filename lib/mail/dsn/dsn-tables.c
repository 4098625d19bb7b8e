/* mail/dsn/dsn-tables.c -- the wording of bounces, as data.
 *
 * What a bounce says is learnt from real ones (the Sisimai corpus in
 * tests/data/bounces/, docs/bounces.md), not derived: so
 * it is kept here as lists that dsn-classify.c, dsn-text.c and
 * dsn-notice.c apply, and a new wording is one line in one table.  Every
 * text is matched case-insensitively as a substring; within a list the
 * first match wins, so the order of the entries matters where one text
 * contains another.
 */
#include "mail/dsn/dsn-int.h"

#include <stddef.h>

/* Texts that say the mailbox exists but cannot take mail now (full,
 * disabled) or that the message is too big for it: soft, and checked
 * before the dead-address texts so that a "5.1.1 mailbox full" is not
 * taken for an unknown user. */
const struct atsm_dsn_pattern atsm_dsn_soft_first[] = {
	{ "mailbox full", "mailboxfull" }, { "mailbox is full", "mailboxfull" },
	{ "over quota", "mailboxfull" }, { "overquota", "mailboxfull" },
	{ "quota exceeded", "mailboxfull" }, { "exceeded storage", "mailboxfull" },
	{ "exceeds the quota", "mailboxfull" }, { "quota", "mailboxfull" },
	{ "insufficient disk", "mailboxfull" }, { "mailbox size limit", "mailboxfull" },
	{ "not enough storage", "mailboxfull" }, { "out of storage", "mailboxfull" },
	{ "mailbox is over", "mailboxfull" }, { "disk full", "systemfull" },
	{ "message is too large", "mesgtoobig" }, { "message too large", "mesgtoobig" },
	{ "message size exceeds", "mesgtoobig" }, { "size limit", "mesgtoobig" },
	{ "relay access denied", "norelaying" },
	{ "relaying denied", "norelaying" }, { "relay not permitted", "norelaying" },
	{ "unable to relay", "norelaying" },
	{ "account is disabled", "suspend" }, { "account has been disabled", "suspend" },
	{ "account disabled", "suspend" }, { "mailbox disabled", "suspend" },
	{ "is inactive", "suspend" }, { "suspended", "suspend" },
	{ NULL, NULL }
};

/* Texts that say the message or the sender was refused, or that the
 * delivery failed on the way: soft, but only when no dead-address text
 * is there too (a "user unknown" that also mentions a block list, a
 * "try again" or a time-out is still about the address). */
const struct atsm_dsn_pattern atsm_dsn_soft_late[] = {
	{ "spam", "spamdetected" }, { "virus", "virusdetected" },
	{ "blocked", "blocked" }, { "blacklist", "blocked" }, { "block list", "blocked" },
	{ "blocklist", "blocked" }, { "denied by policy", "policyviolation" },
	{ "policy", "policyviolation" }, { "rate limit", "toomanyconn" },
	{ "too many", "toomanyconn" },
	{ "retry timeout exceeded", "expired" }, { "retry time not reached", "expired" },
	{ "delivery time expired", "expired" }, { "message expired", "expired" },
	{ "could not be delivered for", "expired" }, { "has not yet been delivered", "expired" },
	{ "delayed", "expired" }, { "timed out", "expired" }, { "timeout", "expired" },
	{ "connection refused", "networkerror" }, { "no route to host", "networkerror" },
	{ "mail loop", "networkerror" }, { "loops back to myself", "networkerror" },
	{ "too many hops", "networkerror" }, { "routing loop", "networkerror" },
	{ "domain filter", "filtered" }, { "rejected by the domain", "filtered" },
	{ "rejected due to", "filtered" }, { "syntax", "syntaxerror" }, { "try again", "networkerror" },
	{ "malformed or unexpected name server", "networkerror" },
	{ NULL, NULL }
};

/* Texts that say the address is dead: hard. */
const struct atsm_dsn_pattern atsm_dsn_hard_patterns[] = {
	{ "user unknown", "userunknown" }, { "unknown user", "userunknown" },
	{ "no such user", "userunknown" }, { "user not found", "userunknown" },
	{ "user doesn't exist", "userunknown" }, { "user does not exist", "userunknown" },
	{ "no such mailbox", "userunknown" }, { "mailbox not found", "userunknown" },
	{ "mailbox unavailable", "userunknown" }, { "mailbox does not exist", "userunknown" },
	{ "no mailbox", "userunknown" }, { "invalid mailbox", "userunknown" },
	{ "unknown recipient", "userunknown" }, { "recipient unknown", "userunknown" },
	{ "no such recipient", "userunknown" }, { "invalid recipient", "userunknown" },
	{ "recipient not found", "userunknown" }, { "recipient does not exist", "userunknown" },
	{ "address unknown", "userunknown" }, { "unknown address", "userunknown" },
	{ "address does not exist", "userunknown" }, { "address doesn't exist", "userunknown" },
	{ "account does not exist", "userunknown" }, { "account that you tried to reach does not exist", "userunknown" },
	{ "no such person", "userunknown" }, { "not a valid mailbox", "userunknown" },
	{ "unknown local part", "userunknown" }, { "unknown or illegal alias", "userunknown" },
	{ "no such local user", "userunknown" }, { "unrouteable address", "userunknown" },
	{ "is not a known user", "userunknown" }, { "not listed in", "userunknown" },
	{ "does not have an account", "userunknown" }, { "no valid recipients", "userunknown" },
	{ "recipient address rejected: undeliverable", "userunknown" },
	{ "recipient address rejected: access denied", "userunknown" },
	{ "unknown mailbox", "userunknown" }, { "invalid address", "userunknown" },
	{ "this account does not exist", "userunknown" },
	{ "not our customer", "userunknown" },
	{ "user not exist", "userunknown" }, { "recipient not exist", "userunknown" },
	{ "address rejected.", "userunknown" }, { "recipientnotfound", "userunknown" },
	{ "invalid domain", "hostunknown" }, { "illegal host/domain", "hostunknown" },
	{ "no mx record", "notaccept" },
	{ "host unknown", "hostunknown" }, { "unknown host", "hostunknown" },
	{ "host not found", "hostunknown" }, { "domain not found", "hostunknown" },
	{ "host or domain name not found", "hostunknown" },
	{ "name or service not known", "hostunknown" }, { "no such domain", "hostunknown" },
	{ "unrouteable mail domain", "hostunknown" }, { "domain does not exist", "hostunknown" },
	{ "non-existent hosts", "hostunknown" }, { "nxdomain", "hostunknown" },
	{ "find a mail exchanger", "hostunknown" },
	{ "no smtp service", "notaccept" }, { "doesn't have a", "userunknown" },
	{ "invalid final delivery userid", "userunknown" },
	{ "見つかりません", "userunknown" },
	{ "address couldn't be found", "userunknown" },
	{ "address could not be found", "userunknown" },
	{ "ディレクトリのリストにありません", "userunknown" },
	{ "domain may not exist", "hostunknown" },
	{ "domain is not reachable", "hostunknown" },
	{ "has moved", "hasmoved" }, { "address has been changed", "hasmoved" },
	{ "does not accept mail", "notaccept" }, { "null mx", "notaccept" },
	{ NULL, NULL }
};

/* Words of a temporary failure: a host or domain "not found, try
 * again" is a name server that did not answer, not a dead domain. */
const struct atsm_dsn_pattern atsm_dsn_temporary[] = {
	{ "try again", "networkerror" }, { "temporary failure", "networkerror" },
	{ "temporarily", "networkerror" },
	{ NULL, NULL }
};

/* Status codes that say the address is dead when no text said otherwise
 * (RFC 3463; 5.1.10 and 5.7.27 are a domain's null MX, RFC 7505).  A
 * 4.1.1 is listed: some servers answer an unknown user with 4xx. */
const struct atsm_dsn_pattern atsm_dsn_status_reasons[] = {
	{ "5.1.1", "userunknown" }, { "4.1.1", "userunknown" },
	{ "5.1.2", "hostunknown" }, { "5.1.6", "hasmoved" },
	{ "5.1.10", "notaccept" }, { "5.7.27", "notaccept" },
	{ NULL, NULL }
};

/* The SMTP command a failure answered, from the words around it.  First
 * match wins: "no valid recipients" is the answer to DATA when every RCPT
 * TO was refused, so the refusal seen after ">>> DATA" was a pipelined
 * RCPT TO reply; DATA wins over RCPT TO, which wins over MAIL FROM. */
const struct atsm_dsn_phrase atsm_dsn_smtp_phrases[] = {
	{ "no valid recipients", 'R' },
	{ "end of data", 'D' }, { ">>> data", 'D' }, { "after data", 'D' },
	{ "reply to data", 'D' },
	{ "rcpt to", 'R' }, { ">>> rcpt", 'R' }, { "reply to rcpt", 'R' },
	{ "rcpt command", 'R' }, { "[rcpt_to]", 'R' },
	{ "does not like recipient", 'R' },
	{ "mail from", 'M' }, { "reply to mail", 'M' },
	{ NULL, 0 }
};

/* A plain-text notice that is a warning of a delay, not a failure
 * (Exim's "Warning: message delayed", "Delivery Status Notification
 * (Delay)", Sendmail's "Warning: could not send message for past 4
 * hours"), unless it also says the failure is permanent. */
const char *const atsm_dsn_delay_words[] = {
	"warning message only", "has not yet been delivered",
	"not been delivered yet", "delivery delayed", "message delayed",
	"(delay)", "will continue trying", "will keep trying",
	"will be retried", "still being retried", "could not send message for past",
	"delivery is delayed", NULL
};
const char *const atsm_dsn_permanent_words[] = {
	"permanent", "giving up", "gave up", "returning message to sender",
	"retry timeout exceeded", "will not be retried", "has been deleted",
	"could not be delivered for", NULL
};

/* The refusals of fml's error notices, and their reasons (dsn-fml.c). */
const struct atsm_dsn_pattern atsm_dsn_fml_notices[] = {
	{ "not a member of this mailing list", "rejected" },
	{ "you are not a member", "rejected" },
	{ "not allowed to post", "rejected" },
	{ "duplicated message-id", "systemerror" },
	{ "loop alert", "systemerror" },
	{ NULL, NULL }
};

/* Words just before an address in running text that make it the failed
 * recipient ("undeliverable to a@b"); matched at the end of the text
 * before the address, case-insensitively. */
const char *const atsm_dsn_recipient_leadins[] = {
	"undeliverable to", "could not be delivered to", "not delivered to",
	"delivery to", "failed to deliver to",
	"unable to deliver to", "undeliverable address", "delivery failed for",
	NULL
};

/* Subjects of bounces, for notices that are no RFC 3464 report and do
 * not come from a mailer-daemon or the null sender. */
const char *const atsm_dsn_bounce_subjects[] = {
	"undeliver", "undelivered", "delivery status notification",
	"delivery failure", "delivery failed", "delivery has failed",
	"failure notice", "returned mail", "mail delivery", "mail system error",
	"nondeliverable", "non-deliverable", "non remis", "could not send",
	"delivery notification", "not delivered", "rejected", "bounce",
	"failed delivery", "delivery problem", "error sending", "warning:",
	"message delivery", "unable to deliver", "mail failure",
	"permanent error", "nicht zustellbar", "配信", "エラー", "不達",
	NULL
};

/* Words of the rule line ("--- Below this line is a copy of the
 * message.") after which a notice carries the original message. */
const char *const atsm_dsn_original_markers[] = {
	"original message", "copy of the message", "copy of your message",
	"below this line", "returned message", "message text follows",
	"unsent message", "original headers", "headers of the original",
	"undelivered message", "message headers follow", "rfc822",
	"this is a copy", "included is a copy", "message follows",
	"original mail", NULL
};

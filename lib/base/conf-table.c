/* base/conf-table.c -- every setting of atsmail.conf, described once.
 *
 * atsm_conf_settings[] gives, for each key: its type, the field of struct
 * atsm_conf that holds it, its default (as written in the file), its bounds,
 * whether it is secret, what it does and why the default is what it is.
 * conf.c parses with it, and ctl/confdoc.c prints atsmail.conf(5) from it,
 * so a setting cannot exist without being documented.  Keep the order of
 * the man page: database, site, journal, logging, limits on input.
 * Defaults are literal paths, not configure's prefix, so that the man page
 * committed in docs/ is the same for every build.
 */
#include "base/conf.h"

#include <stddef.h>

#define F(field) offsetof(struct atsm_conf, field)

#define SEC  1000ul
#define KIB  1024ul
#define MIB  (1024ul * 1024ul)

const struct atsm_conf_setting atsm_conf_settings[] = {
	/* ---- database ---- */
	{
		"db_conninfo", ATSM_CONF_STRING, F(db_conninfo), "dbname=atsmail",
		NULL, 0, 0, true,
		"The libpq connection string of the atsmail database, in the key=value "
		"or URI form of PostgreSQL (for example \"host=db.example.com "
		"dbname=atsmail user=atsmail_writer\"). It may name a password, but a "
		"passfile (~/.pgpass of the service user, or passfile=) keeps the password "
		"out of this file; the value is therefore treated as a secret and never "
		"printed in errors or by atsmailctl.",
		"A local PostgreSQL reached over its Unix socket with peer authentication "
		"needs no password and no network, which is the simplest safe set-up on "
		"one host.",
	},
	{
		"db_statement_timeout", ATSM_CONF_TIME, F(db_statement_timeout), "2s",
		NULL, 50, 10 * SEC, false,
		"The longest a single database statement may take: each record call of "
		"atsmaild's recorder (one per mail, several in one pipelined batch), and "
		"the statements of atsmail-notifyd and atsmailctl. A statement that runs "
		"longer is cancelled and counted as the database being unavailable: the "
		"recorder keeps the entries in the journal and tries again. No mail waits "
		"on it: atsmaild answers Postfix and Dovecot once the journal holds the mail.",
		"Recording one mail is a few indexed inserts, milliseconds even in a batch "
		"of hundreds; two seconds is far above that and short enough that a stuck "
		"server is noticed and logged quickly.",
	},
	{
		"db_connect_timeout", ATSM_CONF_TIME, F(db_connect_timeout), "2s",
		NULL, 1 * SEC, 10 * SEC, false,
		"The longest an attempt to open a database connection may take (libpq's "
		"connect_timeout, which counts whole seconds). When it fails the mail "
		"follows the failure policy and the pool tries again later.",
		"A server on the local network answers in milliseconds; a connection that "
		"takes two seconds is a server that is down or unreachable, and waiting "
		"longer would only hold mail in Postfix.",
	},
	/* ---- site ---- */
	{
		"ats_domain", ATSM_CONF_STRING, F(ats_domain), "",
		NULL, 0, 0, false,
		"The domain of the command addresses ats+COMMAND@ats_domain: a recruiter "
		"puts one in Bcc (for example ats+phase.interview@ats.example.com, with "
		"ats_domain = ats.example.com) to tell the server what to do with a mail. "
		"The milter consumes these addresses; they are never delivered. Empty "
		"turns command addresses off.",
		"No domain can be guessed safely: a wrong guess would swallow real mail "
		"to that domain, so command addresses stay off until the administrator "
		"names a domain that exists only for them.",
	},
	{
		"company_domains", ATSM_CONF_LIST, F(company_domains), "",
		NULL, 0, 0, false,
		"The company's own mail domains, separated by commas and/or white space. "
		"An address in one of them is never taken for a candidate or a client "
		"contact, so internal mail that copies a colleague is not ATS mail because "
		"of that colleague.",
		"Only the administrator knows the company's domains; an empty list means "
		"no address is excluded on the ground of its domain.",
	},
	{
		"secret_file", ATSM_CONF_PATH, F(secret_file), "/etc/atsmail/secret",
		NULL, 0, 0, false,
		"The file that holds the site secret, the key of the HMAC that signs the "
		"X-ATS-Ref tokens, the VERP and Reply-To addresses and the webhooks. It "
		"must be readable only by the atsmail service user, or by a group it shares "
		"with Dovecot's mail user (mode 0600 or 0640; others are refused); "
		"every host of one site must hold the same secret.",
		"Keeping the secret out of atsmail.conf lets this file stay readable by "
		"administrators and tools while the secret is not; /etc/atsmail is where "
		"the package puts both.",
	},
	/* ---- the service: atsmaild ---- */
	{
		"milter_socket", ATSM_CONF_STRING, F(milter_socket),
		"unix:/var/spool/postfix/atsmail/milter.sock",
		NULL, 0, 0, false,
		"The unix socket where atsmaild speaks the milter protocol to Postfix "
		"(unix:/path or a plain path). Postfix names it in smtpd_milters and "
		"non_smtpd_milters; when smtpd runs chrooted in its queue directory (Debian's "
		"default) the socket must be inside it and Postfix names it relative to it "
		"(unix:atsmail/milter.sock). Read at start only.",
		"Debian's Postfix runs smtpd chrooted in /var/spool/postfix: a socket outside it "
		"does not exist for smtpd, and every mail would be answered 451. Only unix "
		"sockets are offered so that atsmaild can check who connects (milter_peers).",
	},
	{
		"filing_socket", ATSM_CONF_STRING, F(filing_socket), "unix:/run/atsmail/filing.sock",
		NULL, 0, 0, false,
		"The unix socket where atsmaild answers the Dovecot plugin's filing requests "
		"(docs/filing-protocol.md); the plugin's atsmail_socket names the same path. "
		"Read at start only.",
		"Dovecot's mail processes are not chrooted, so /run, which is cleared at boot, "
		"is the natural place.",
	},
	{
		"milter_peers", ATSM_CONF_LIST, F(milter_peers), "postfix",
		NULL, 0, 0, false,
		"The local users (names or numeric uids) whose processes may connect to "
		"milter_socket: Postfix's user. root may always connect. A connection from any "
		"other user is refused and logged with its process id and uid.",
		"Whoever can speak the milter protocol can claim any SASL login and so act as "
		"any recruiter; file permissions alone are easy to get wrong.",
	},
	{
		"filing_peers", ATSM_CONF_LIST, F(filing_peers), "vmail",
		NULL, 0, 0, false,
		"The local users (names or numeric uids) whose processes may connect to "
		"filing_socket: the user Dovecot's mail processes run as (its virtual-mail "
		"user, mail_uid), plus root. A connection from any other user is refused and "
		"logged. Every name must exist on the system.",
		"A filing request says which mailbox a mail reached; only Dovecot may say "
		"that. vmail is the usual name of the virtual-mail user.",
	},
	{
		"service_max_connections", ATSM_CONF_UINT, F(service_max_connections), "256",
		NULL, 1, 10000, false,
		"How many connections (Postfix smtpd and cleanup processes, Dovecot LMTP and "
		"IMAP processes) atsmaild serves at once; each is a thread. A connection past "
		"the limit is closed at once and logged (Postfix then applies "
		"milter_default_action, the plugin atsmail_on_failure). Read at start only.",
		"Postfix's default_process_limit is 100 smtpd processes, Dovecot's lmtp and imap "
		"limits are of the same order: 256 leaves room for both.",
	},
	/* ---- outbound: the milter front ---- */
	{
		"command_localpart", ATSM_CONF_STRING, F(command_localpart), "ats",
		NULL, 0, 0, false,
		"The local part of command addresses: a recruiter gives a command by "
		"adding <command_localpart>+<command>@<ats_domain> as a recipient, "
		"usually in Bcc (ats+phase.interview1@ats.example.com).",
		"Short, and the same word in every language a recruiter types.",
	},
	{
		"internal_networks", ATSM_CONF_LIST, F(internal_networks), "",
		NULL, 0, 0, false,
		"Client networks (IPv4 or IPv6 CIDR, for example \"10.0.0.0/8, "
		"2001:db8::/32\") whose mail is outbound even without SMTP "
		"authentication, such as an application server that relays through "
		"Postfix. Authenticated submissions and sendmail(1) are always outbound.",
		"Empty: only authenticated senders are trusted, so that a spoofed From "
		"from the Internet can never be recorded as a recruiter's sent mail.",
	},
	{
		"non_smtp_senders", ATSM_CONF_ENUM, F(non_smtp_senders), "checked",
		"checked|untrusted", 0, 0, false,
		"Whom mail submitted on the server with sendmail(1) belongs to. A milter "
		"is not told which local account submitted it, only the envelope sender "
		"that Postfix accepted. checked: Postfix's local_login_sender_maps lets "
		"each local login use only its own addresses (docs/postfix-integration.md), "
		"so that mail is the user's whose address its envelope sender is (never "
		"its From header). untrusted: nothing checks them, so it is nobody's: "
		"its ats+ commands are refused with 550 5.7.1 and ATS mail passes "
		"unrecorded.",
		"Postfix 3.6 and later check the sender of local submissions and the "
		"install guide turns that on; on a server where it is off, untrusted "
		"keeps any local account from being recorded as a recruiter.",
	},
	{
		"guard_action", ATSM_CONF_ENUM, F(guard_action), "reject",
		"reject|hold|allow", 0, 0, false,
		"What happens to a mail that shows two or more candidates' addresses to "
		"each other in To/Cc: reject it (550 5.7.1 with a sentence telling the "
		"recruiter to send one mail per candidate or use Bcc), hold it on "
		"Postfix's hold queue for an admin, or allow it.",
		"Showing one candidate's address to another is a privacy breach that "
		"cannot be undone once sent; the sender sees the rejection at once in "
		"their own client and can resend correctly.",
	},
	{
		"verp", ATSM_CONF_BOOL, F(verp), "no",
		NULL, 0, 0, false,
		"Stamp the envelope sender of ATS mail as "
		"<local><recipient_delimiter><verp_tag><token>@<domain>, so that a "
		"bounce names the exact sent item. Needs recipient_delimiter in Postfix "
		"(and Dovecot) so that the stamped address still reaches the sender.",
		"Off by default because it changes the envelope sender, which SPF and "
		"some receiving filters look at; bounces are still matched without it.",
	},
	{
		"verp_tag", ATSM_CONF_STRING, F(verp_tag), "ats-",
		NULL, 0, 0, false,
		"The marker placed before the token in a VERP envelope sender.",
		"Makes stamped addresses recognisable in logs and unlikely to clash with "
		"a user's own address extensions.",
	},
	{
		"recipient_delimiter", ATSM_CONF_STRING, F(recipient_delimiter), "+",
		NULL, 0, 0, false,
		"The address extension delimiter, as Postfix's recipient_delimiter.",
		"Postfix's and Dovecot's usual choice.",
	},
	/* ---- the explanation mail (atsmaild, docs/refusal-mail.md) ---- */
	{
		"explain_refusals", ATSM_CONF_BOOL, F(explain_refusals), "yes",
		NULL, 0, 0, false,
		"Whether a registered user whose mail atsmail refuses for an ATS reason "
		"(a wrong command address, a guard, a contradiction) also receives a "
		"short mail in their own mailbox that says what was wrong and how to fix "
		"it, with the refused mail attached. Never for mail from outside or "
		"from atsmail itself.",
		"Many mail clients hide an SMTP refusal (a status line that goes blank): "
		"the mail in the mailbox is seen on every client and phone, and nothing "
		"is lost.",
	},
	{
		"explain_window", ATSM_CONF_TIME, F(explain_window), "1h",
		NULL, 0, 7 * 86400 * SEC, false,
		"The same refused mail (the same sender and Message-ID, or the same "
		"command address refused at RCPT) is explained once within this time: "
		"clients retry. Kept in memory: a restart of atsmaild may send one more. "
		"0 explains every refusal.",
		"Clients retry a refused mail within minutes; one explanation an hour "
		"reminds without flooding the mailbox.",
	},
	{
		"explain_from", ATSM_CONF_STRING, F(explain_from), "",
		NULL, 0, 0, false,
		"The From of the explanation mail, as written in a header (\"atsmail "
		"<postmaster@example.com>\"). Empty: \"atsmail <postmaster@D>\", D being "
		"the first of company_domains, else ats_domain, else the host's name. "
		"It is sent with the null envelope sender, so that it never bounces.",
		"postmaster exists on every mail domain (RFC 5321): a recruiter who "
		"replies reaches a person.",
	},
	{
		"explain_attach_max", ATSM_CONF_SIZE, F(explain_attach_max), "10m",
		NULL, 64 * KIB, 100 * MIB, false,
		"The largest refused mail attached whole to its explanation; atsmaild "
		"keeps a mail in memory up to this size while it may be refused (sent "
		"mail of registered users only). A larger one gets its headers attached "
		"and a sentence saying so.",
		"It equals Postfix's default message_size_limit (10240000 bytes): any "
		"mail Postfix takes is attached whole.",
	},
	{
		"explain_smtp", ATSM_CONF_STRING, F(explain_smtp), "127.0.0.1:25",
		NULL, 0, 0, false,
		"Where atsmaild submits the explanation by SMTP: host:port, [IPv6]:port "
		"or unix:/path. The mail goes through Postfix like any other, to the "
		"recruiter's mailbox.",
		"Postfix's sendmail(1) needs a setgid helper (postdrop), which atsmaild "
		"cannot run under systemd's NoNewPrivileges; the local SMTP service is "
		"always there.",
	},
	{
		"default_language", ATSM_CONF_ENUM, F(default_language), "ja",
		"en|ja", 0, 0, false,
		"The language atsmail writes to a user whose users.lang is empty "
		"(the explanation mail).",
		"atsmail is made for Japanese recruiting companies first.",
	},
	/* ---- templates and bulk send ---- */
	{
		"bulk_max_recipients", ATSM_CONF_UINT, F(bulk_max_recipients), "5000",
		NULL, 1, 100000, false,
		"The most recipients one bulk job may have (ats+bulk from a mail client, "
		"or atsmailctl bulk send). A larger one is refused whole, with a sentence "
		"that says how many it had and what the limit is; nothing is sent.",
		"PORTERS recommends about 5,000 recipients per bulk send; a larger list is "
		"more likely a mistake than a campaign, and splitting it keeps one job's "
		"bounces readable.",
	},
	{
		"bulk_rate", ATSM_CONF_UINT, F(bulk_rate), "10",
		NULL, 0, 10000, false,
		"How many mails per second atsmaild's bulk runner submits to Postfix for "
		"one job (all its SMTP sessions together); 0 submits as fast as Postfix "
		"takes them.",
		"Ten a second sends 5,000 mails in under ten minutes while leaving room "
		"in Postfix's queue for the recruiters' own mail, and stays below the "
		"rates large receiving providers throttle.",
	},
	{
		"bulk_smtp", ATSM_CONF_STRING, F(bulk_smtp), "127.0.0.1:25",
		NULL, 0, 0, false,
		"Where atsmaild's bulk runner submits each mail of a bulk job by SMTP: "
		"host:port, [IPv6]:port or unix:/path. The service must run atsmaild's "
		"milter, which records every mail (the runner's signed X-ATS-Bulk "
		"header says whose mail it is).",
		"The local SMTP service is always there and runs the milter.",
	},
	{
		"bulk_connections", ATSM_CONF_UINT, F(bulk_connections), "2",
		NULL, 1, 16, false,
		"How many SMTP sessions the bulk runner uses at once for one job.",
		"Two sessions let the journal's group commit take two mails per fsync "
		"without crowding Postfix's smtpd processes.",
	},
	{
		"template_folder", ATSM_CONF_STRING, F(template_folder), "ATS Templates",
		NULL, 0, 0, false,
		"The IMAP folder in which atsmailctl template sync puts, for every "
		"active user, a draft of each template the user may use. Dovecot's acl "
		"plugin keeps it read-only (docs/templates.md).",
		"A name that sorts near the user's own folders and says what it holds.",
	},
	/* ---- shared mailboxes (docs/shared-mailboxes.md) ---- */
	{
		"shared_mailboxes", ATSM_CONF_LIST, F(shared_mailboxes), "",
		NULL, 0, 0, false,
		"The Dovecot users that are shared mailboxes (for example "
		"\"recruit@example.com\"): mail delivered to one is recorded as an "
		"unhandled item, given an assignee by the rules of atsmailctl shared rule, "
		"and filed in the unhandled folder; a member who moves it between the "
		"status folders changes its status and assignee. Members reach it through "
		"Dovecot's shared namespace; atsmailctl shared sync makes the folders and "
		"gives each member its rights. Empty: no shared mailbox.",
		"A shared mailbox is a decision of the site, and an ordinary user's "
		"mailbox must never be treated as one by default.",
	},
	{
		"shared_folder_unhandled", ATSM_CONF_STRING, F(shared_folder_unhandled), "未対応",
		NULL, 0, 0, false,
		"The folder of a shared mailbox holding the mail nobody handles yet; new "
		"mail lands in it, or in its subfolder named after the assignee a rule "
		"chose. A subfolder per member (\"未対応/alice\") assigns the mail to the "
		"member; the folder itself means no assignee.",
		"The word Japanese shared-mailbox products (Mailwise) show for the status.",
	},
	{
		"shared_folder_progress", ATSM_CONF_STRING, F(shared_folder_progress), "対応中",
		NULL, 0, 0, false,
		"The folder of a shared mailbox holding the mail being handled. A mail "
		"moved into the folder itself is assigned to the member who moved it; "
		"into a member's subfolder, to that member.",
		"As shared_folder_unhandled.",
	},
	{
		"shared_folder_done", ATSM_CONF_STRING, F(shared_folder_done), "完了",
		NULL, 0, 0, false,
		"The folder of a shared mailbox holding the mail that is handled; a mail "
		"moved into it keeps its assignee.",
		"As shared_folder_unhandled.",
	},
	{
		"shared_answered_status", ATSM_CONF_ENUM, F(shared_answered_status), "done",
		"done|progress", 0, 0, false,
		"What a member's reply from their own client makes of a shared-mailbox "
		"thread: done, or in progress (a conversation that goes on). The mail is "
		"moved to that status folder for every member.",
		"Most mail to a shared address needs one answer.",
	},
	{
		"shared_doveadm", ATSM_CONF_STRING, F(shared_doveadm), "doveadm",
		NULL, 0, 0, false,
		"The doveadm command (a path, or a name looked up in PATH, optionally "
		"followed by options such as \"-c /etc/dovecot/dovecot.conf\") that "
		"atsmailctl shared sync and atsmaild run to make the folders of a shared "
		"mailbox, set its members' rights and move a thread between status folders.",
		"Debian's doveadm is in PATH and reads the system's Dovecot configuration.",
	},
	/* ---- notifications ---- */
	{
		"notify_kinds", ATSM_CONF_LIST, F(notify_kinds), "all",
		NULL, 0, 0, false,
		"The kinds of notification atsmaild sends, separated by commas and/or "
		"white space: shared.assigned, approval.request, approval.reminder, "
		"approval.rejected, approval.approved, intake.duplicate, intake.created, "
		"bounce.hard, report.weekly, or all. A notification of another kind is kept in "
		"atsmail.notifications as suppressed and not sent; an empty list sends "
		"none (docs/notifications.md).",
		"Each kind answers a question someone asked; a site that has its own way "
		"of hearing about one (the ATS's screen, say) turns that kind off.",
	},
	{
		"notify_from", ATSM_CONF_STRING, F(notify_from), "",
		NULL, 0, 0, false,
		"The From of notifications, as written in a header (\"atsmail "
		"<postmaster@example.com>\"). Empty: explain_from, and as it is empty, "
		"\"atsmail <postmaster@D>\", D being the first of company_domains, else "
		"ats_domain, else the host's name. Notifications are sent with the null "
		"envelope sender, so that none bounces.",
		"One sender for all of atsmail's own mail is what users learn to "
		"recognise and what their filters match.",
	},
	{
		"notify_smtp", ATSM_CONF_STRING, F(notify_smtp), "127.0.0.1:25",
		NULL, 0, 0, false,
		"Where atsmaild submits notifications by SMTP: host:port, [IPv6]:port or "
		"unix:/path. The service should run atsmaild's milter, which passes a "
		"notification untouched (its X-ATS-Notification header is signed).",
		"The local SMTP service is always there, as for explain_smtp.",
	},
	{
		"notify_max_attempts", ATSM_CONF_UINT, F(notify_max_attempts), "10",
		NULL, 1, 100, false,
		"How many times atsmaild tries to submit one notification while the SMTP "
		"service answers 4xx or cannot be reached; then the notification is "
		"marked failed, with the last reply. A 5xx reply fails it at once.",
		"With notify_retry_base 30s, ten attempts cover about four hours: a "
		"restart or a full disk of Postfix, not a notification days late.",
	},
	{
		"notify_retry_base", ATSM_CONF_TIME, F(notify_retry_base), "30s",
		NULL, SEC, 3600 * SEC, false,
		"The delay before the first retry of a notification; each further "
		"attempt doubles it, up to an hour.",
		"Long enough for Postfix to come back from a restart.",
	},
	/* ---- approval of held mail ---- */
	{
		"approval_remind_after", ATSM_CONF_TIME, F(approval_remind_after), "4h",
		NULL, 1 * SEC, 7u * 24u * 3600u * SEC, false,
		"How long mail held for approval waits before its approvers are reminded "
		"(approval.reminder, once per mail), by atsmailctl approval run. The "
		"approvers were told when the mail was held; the reminder is for the mail "
		"nobody has decided.",
		"Half a working day: a candidate waits no longer than that for an "
		"answer that was written, and an approver who was out gets one more "
		"mail, not one an hour.",
	},
	/* ---- reports (atsmailctl report) ---- */
	{
		"report_office_hours", ATSM_CONF_STRING, F(report_office_hours), "09:00-18:00",
		NULL, 0, 0, false,
		"The working hours of a day as HH:MM-HH:MM in the report's time zone: with "
		"atsmailctl report --office-hours, a time to first reply counts only the "
		"time inside them, on the days of report_office_days (docs/reports.md).",
		"The usual office day (定時) of a Japanese company: nine to six.",
	},
	{
		"report_office_days", ATSM_CONF_STRING, F(report_office_days), "mon-fri",
		NULL, 0, 0, false,
		"The working days for report_office_hours: English day names (sun, mon, "
		"tue, wed, thu, fri, sat) and ranges, separated by commas "
		"(\"mon-fri\", \"mon-fri,sat\"). Public holidays are not known and "
		"count as working days.",
		"Monday to Friday is the working week of most companies.",
	},
	{
		"report_statement_timeout", ATSM_CONF_TIME, F(report_statement_timeout), "60s",
		NULL, 1 * SEC, 3600 * SEC, false,
		"The longest one statement of atsmailctl report may take, in place of "
		"db_statement_timeout (which is for the mail path). A report over a long "
		"period reads every mail of it.",
		"A month's report (80,000 mails) takes seconds with the indexes of "
		"sql/022-report.sql (docs/benchmarks.md, \"Reports\"); a minute leaves room "
		"for a busy server and still stops a runaway query. A year's report on a "
		"busy site may need more.",
	},
	{
		"report_gnuplot", ATSM_CONF_STRING, F(report_gnuplot), "gnuplot",
		NULL, 0, 0, false,
		"The gnuplot program that draws the charts of atsmailctl report --html "
		"and of the report mail (a name looked up in PATH, or a path). It is run "
		"with -d and the script on its standard input, and killed after 30 "
		"seconds.",
		"Debian's gnuplot-nox installs gnuplot in PATH; its SVG output leaves "
		"text as text, so Japanese names are drawn by the browser's fonts.",
	},
	{
		"report_mail_to", ATSM_CONF_LIST, F(report_mail_to), "",
		NULL, 0, 0, false,
		"Who gets the report mail of atsmailctl report mail (the weekly timer "
		"atsmail-report.timer): mail addresses or logins of users, separated by "
		"commas or spaces. A login is sent to the user's primary address. Empty: "
		"atsmailctl report mail needs --to.",
		"Who the managers are differs in every company; no one is sent a report "
		"before an admin names them.",
	},
	{
		"report_mail_lang", ATSM_CONF_ENUM, F(report_mail_lang), "recipient",
		"recipient|en|ja", 0, 0, false,
		"The language of the report mail: recipient (each user's users.lang, else "
		"default_language; an address that is no user's gets default_language), "
		"or en or ja for everyone.",
		"Each manager reads the report in the language atsmail already writes to "
		"them.",
	},
	/* ---- journal ---- */
	/* ---- inbound: the Dovecot plugin ---- */
	{
		"inbound_parse_max_bytes", ATSM_CONF_SIZE, F(inbound_parse_max_bytes), "1m",
		NULL, 64 * KIB, 64 * MIB, false,
		"How much of a delivered message the Dovecot plugin reads to classify it "
		"(bounce, auto-reply) and to find the original of a bounce. The rest of "
		"a larger message is not read; it is still delivered whole.",
		"Bounces and replies carry what matters in their first kilobytes; a "
		"megabyte covers a bounce that quotes the original with attachments "
		"while bounding the memory of each delivery.",
	},
	{
		"intake_max_per_hour", ATSM_CONF_UINT, F(intake_max_per_hour), "5",
		NULL, 1, 10000, false,
		"The most records (resumes or unresolved items) that mail to intake "
		"addresses may create from one sender address within an hour; further "
		"mail from that sender is delivered but creates nothing.",
		"A loop guard: an auto-responder or a misconfigured list writing to "
		"recruit@ must not flood the ATS, while a real applicant rarely writes "
		"more than a few times an hour.",
	},
	{
		"bounce_forwarders", ATSM_CONF_LIST, F(bounce_forwarders), "",
		NULL, 0, 0, false,
		"Envelope senders, as addresses or domains (a domain covers its "
		"subdomains), separated by commas and/or white space, whose bounces are "
		"believed although they do not come from the null sender: a service "
		"that forwards the bounces of mail sent through it (a relay's or "
		"sending service's feedback forwarding). Every other bounce must come "
		"from the null sender <> and name a recipient of the sent item "
		"(docs/inbound.md, Bounces).",
		"Empty: a bounce from a non-null sender is anyone's mail to a VERP "
		"address seen in a Return-Path, and a forged one would mark a recipient "
		"bounced; only the administrator knows which forwarders the site uses.",
	},
	/* ---- events to the ATS: atsmail-notifyd ---- */
	{
		"webhook_urls", ATSM_CONF_LIST, F(webhook_urls), "",
		NULL, 0, 0, false,
		"The endpoints of the ATS that receive events (message.sent, "
		"message.received, message.bounced, phase.changed, record.created) as "
		"signed JSON POST requests; every event goes to every URL. https:// in "
		"production; http:// is accepted for a receiver on the same host.",
		"Empty: events stay in the outbox until an endpoint is configured; "
		"nothing is lost.",
	},
	{
		"webhook_secret_file", ATSM_CONF_PATH, F(webhook_secret_file),
		"/etc/atsmail/webhook-secret", NULL, 0, 0, false,
		"The file holding the key of the HMAC-SHA256 signature of each request "
		"body (header X-Atsmail-Signature: sha256=<hex>), shared with the ATS. "
		"Same format and permissions as secret_file.",
		"A separate key: the ATS must verify webhooks without being able to "
		"forge the tokens of sent mail.",
	},
	{
		"webhook_connect_timeout", ATSM_CONF_TIME, F(webhook_connect_timeout), "5s",
		NULL, 100, 60 * SEC, false,
		"How long atsmail-notifyd waits to connect to an endpoint.",
		"An endpoint that cannot be reached within seconds is down; the event is "
		"retried later instead of holding a worker.",
	},
	{
		"webhook_timeout", ATSM_CONF_TIME, F(webhook_timeout), "15s",
		NULL, 100, 300 * SEC, false,
		"The longest one delivery (connect, send, answer) may take.",
		"Long enough for a busy ATS, short enough that a hung endpoint does not "
		"stop the outbox; a timed-out event is retried.",
	},
	{
		"webhook_max_attempts", ATSM_CONF_UINT, F(webhook_max_attempts), "12",
		NULL, 1, 1000, false,
		"After this many failed attempts an event is marked dead (kept in the "
		"outbox with its last error, for an admin to inspect and retry).",
		"With the default backoff (10s doubling up to 2h) twelve attempts span "
		"about five hours, which rides over a restart or a short outage of the "
		"ATS; raise it for longer outages (each further attempt adds two hours).",
	},
	{
		"webhook_retry_base", ATSM_CONF_TIME, F(webhook_retry_base), "10s",
		NULL, 100, 3600 * SEC, false,
		"The first retry delay; each further attempt doubles it, up to "
		"webhook_retry_max.",
		"Quick enough to ride over a restart of the ATS, slow enough not to "
		"hammer an endpoint that is down.",
	},
	{
		"webhook_retry_max", ATSM_CONF_TIME, F(webhook_retry_max), "2h",
		NULL, SEC, 86400 * SEC, false,
		"The longest delay between two attempts.",
		"Exponential backoff must not grow to days; every two hours keeps "
		"trying through a long outage.",
	},
	{
		"journal_dir", ATSM_CONF_PATH, F(journal_dir), "/var/spool/atsmail/journal",
		NULL, 0, 0, false,
		"The directory of the local journal. atsmaild appends every decided mail "
		"here (one JSON document per line, on disk before Postfix or Dovecot gets "
		"its answer) and its recorder feeds the entries to the database in "
		"batches; the milter and the Dovecot plugin of earlier releases journal "
		"here what they could not record, for atsmailctl replay. When the "
		"journal cannot be written (disk full, permissions), mail is answered "
		"with a temporary failure rather than accepted unrecorded.",
		"/var/spool is where mail software keeps data that must survive a reboot "
		"until it is processed, on the same disk as Postfix's own queue.",
	},
	{
		"journal_segment_size", ATSM_CONF_SIZE, F(journal_segment_size), "64m",
		NULL, 1 * MIB, 1024 * MIB, false,
		"The size at which atsmaild closes a segment of its journal and starts "
		"the next one. A segment is deleted once the recorder has recorded all of "
		"it, so while the database is down the journal grows by whole segments "
		"and, when it is back, shrinks by whole segments.",
		"64 MiB holds some tens of thousands of mails: few files even during a "
		"day-long outage, while a recorded segment gives its space back soon "
		"after the database returns.",
	},
	{
		"recorder_batch_max", ATSM_CONF_UINT, F(recorder_batch_max), "200",
		NULL, 1, 1000, false,
		"The most journal entries atsmaild's recorder writes to the database in "
		"one transaction (one round trip, in libpq's pipeline mode). Under load "
		"the recorder takes whatever is waiting, up to this many; a lone mail is "
		"recorded alone, at once.",
		"Batches of a few hundred spread the cost of a round trip and a commit "
		"over many mails, while one transaction stays short enough not to hold "
		"the audit chain's lock for long; the limit of 1000 is the recorder's "
		"(ATSM_RECORDER_BATCH_MAX).",
	},
	/* ---- the snapshot of the directory (atsmaild) ---- */
	{
		"snapshot_dir", ATSM_CONF_PATH, F(snapshot_dir), "/var/lib/atsmail/snapshot",
		NULL, 0, 0, false,
		"The directory of atsmaild's local snapshot of the directory: an LMDB "
		"environment (data.mdb, lock.mdb) holding the users and their addresses, "
		"the resumes and contacts, jobs, selection processes, phase codes and rules, "
		"exclusion domains, intake addresses and the recorded messages that "
		"decisions read, so that every mail is decided the same way whether "
		"PostgreSQL is up or down. It is created (mode 0700) when missing. It is a "
		"copy of PostgreSQL plus the effects of mail not yet recorded, which the "
		"journal also holds: removing the directory while atsmaild is stopped "
		"forces a full resync and loses nothing (docs/snapshot.md).",
		"/var/lib is where a service keeps state that survives a reboot but can be "
		"rebuilt; apart from the journal's spool, so that deleting the snapshot "
		"never touches mail that is not yet recorded.",
	},
	{
		"snapshot_map_size", ATSM_CONF_SIZE, F(snapshot_map_size), "4g",
		NULL, 16 * MIB, 1024ul * 1024 * MIB, false,
		"The largest the snapshot may grow (LMDB's map size). It reserves address "
		"space, not disk or memory: the file grows with what it holds. When the "
		"snapshot is full, what would add to it fails with an error that names this "
		"setting (decisions go on from what it holds); raise it and restart "
		"atsmaild.",
		"1,000,000 resumes, each with an address and a selection process, take "
		"well under 1 GiB (bench/snapshot-sync.sh prints the size); 4 GiB leaves "
		"room for growth, for recorded messages and for LMDB's copy-on-write pages, "
		"and costs nothing on a 64-bit system until it is used.",
	},
	{
		"snapshot_resync_interval", ATSM_CONF_TIME, F(snapshot_resync_interval), "1h",
		NULL, 0, 7 * 86400 * SEC, false,
		"How often atsmaild reads every table again (a full resync) although "
		"notifications keep the snapshot fresh within a second: the resync repairs "
		"whatever a lost notification, a change made without the triggers (a "
		"restore) or a bug left behind. It also runs at start and after every "
		"reconnection to PostgreSQL. 0 turns the periodic resync off.",
		"A resync reads every row but writes only what changed; once an hour "
		"bounds how long a missed change can last, at a cost of a few seconds of "
		"database time per hour for 1,000,000 resumes.",
	},
	/* ---- logging ---- */
	{
		"log_level", ATSM_CONF_ENUM, F(log_level), "info",
		"error|warning|info|debug", 0, 0, false,
		"The least severe messages that are logged: error logs only failures, "
		"warning adds problems that were worked around, info adds one line per "
		"decision (a mail recorded, a command applied), debug adds the details of "
		"matching.",
		"One info line per decision is what an administrator needs to answer "
		"\"what happened to this mail?\" from the mail log, at the volume of the "
		"mail log itself.",
	},
	{
		"syslog_facility", ATSM_CONF_ENUM, F(syslog_facility), "mail",
		"mail|local0|local1|local2|local3|local4|local5|local6|local7", 0, 0, false,
		"The syslog facility of every atsmail message.",
		"atsmail is part of the mail system: with the mail facility its lines "
		"appear in the mail log beside those of Postfix and Dovecot for the same "
		"message.",
	},
	/* ---- limits on input ---- */
	{
		"header_max_bytes", ATSM_CONF_SIZE, F(header_max_bytes), "256k",
		NULL, 1 * KIB, 64 * MIB, false,
		"The most header bytes of one message that the milter and the plugin keep "
		"and parse; the rest of an over-long header section is ignored (and the "
		"fact is logged).",
		"It is above Postfix's own header_size_limit (102400 bytes), so that on "
		"an ordinary server Postfix's limit applies first, and it bounds the "
		"memory that one hostile message can make a process use.",
	},
	{
		"address_max_count", ATSM_CONF_UINT, F(address_max_count), "1000",
		NULL, 1, 100000, false,
		"The most addresses (envelope recipients and addresses in To, Cc, Bcc, "
		"From and Reply-To together) examined in one message; the addresses past "
		"it are not examined, and a warning names the message.",
		"It equals Postfix's default smtpd_recipient_limit (1000): no legitimate "
		"recruiting mail has more, and the bound keeps the cost of one message's "
		"lookups flat.",
	},
	{
		"decode_max_bytes", ATSM_CONF_SIZE, F(decode_max_bytes), "64k",
		NULL, 1 * KIB, 16 * MIB, false,
		"The most bytes of UTF-8 that decoding one header value (RFC 2047 "
		"encoded words, RFC 2231 parameters) may produce; the rest is cut at a "
		"character boundary.",
		"A subject or display name longer than 64 KiB is never read by a person, "
		"and the bound keeps decoding of hostile input in constant memory.",
	},
};

const size_t atsm_conf_nsettings = sizeof(atsm_conf_settings) / sizeof(atsm_conf_settings[0]);

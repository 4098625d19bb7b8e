-- quoted-command.lua -- command addresses in other written forms are
-- commands all the same (lib/rules/command.c, atsm_command_canon): a quoted
-- local part in RCPT, a quoted one with a quoted-pair in To, the command in
-- capitals with a trailing dot on the domain, a quoted one in a Bcc header
-- that the client left in the mail.  The first mail is tagged, its
-- commands applied (the runner checks the process and the visibility in
-- the database) and removed from the envelope as the MTA sent them and from
-- To and Bcc; none is recorded as a recipient.  The second mail's quoted command does not parse
-- and the mail is refused (the runner checks the sentence in the log).
local t = dofile(dir .. "/common.lua")

local quoted = "\"ats+job.3012\"@ats.atsmail.test"
local upper = "ATS+Phase.Interview1@ATS.ATSMAIL.TEST."
local conn = t.connect()
local rep, qid = t.send(conn, {
	login = "alice@atsmail.test", from = "alice@atsmail.test",
	rcpts = { "taro@candidate.test", quoted, upper },
	headers = {
		{ "To", "taro@candidate.test, \"ats+job\\.3012\"@ats.atsmail.test" },
		{ "Bcc", "\"ats+private\"@ats.atsmail.test, boss@atsmail.test" },
	},
})
t.expect_reply(rep, SMFIR_CONTINUE, "eom")
for _, c in ipairs({ quoted, upper }) do
	if not mt.eom_check(conn, MT_RCPTDELETE, "<" .. c .. ">") then t.fail(c .. " not removed from the envelope") end
end
if mt.eom_check(conn, MT_RCPTDELETE, "<taro@candidate.test>") then t.fail("the candidate was removed") end
if not mt.eom_check(conn, MT_HDRCHANGE, "To", "taro@candidate.test") then
	t.fail("To was not rewritten to the candidate alone")
end
if not mt.eom_check(conn, MT_HDRCHANGE, "Bcc", "boss@atsmail.test") then
	t.fail("Bcc was not cut of its command address")
end
t.token_added(conn, qid)
mt.disconnect(conn)

conn = t.connect()
rep = t.send(conn, {
	login = "alice@atsmail.test", from = "alice@atsmail.test",
	rcpts = { "taro@candidate.test", "\"ats+job.30x2\"@ats.atsmail.test" },
	headers = { { "To", "taro@candidate.test" } },
})
t.expect_rejected(conn, rep, "\"ats+job.30x2\"")
mt.disconnect(conn)
mt.echo("PASS quoted-command")

-- bcc-command.lua -- a command address in Bcc (envelope only) is consumed:
-- removed from the envelope, never delivered; the mail is tagged.
local t = dofile(dir .. "/common.lua")

local cmd = t.cmd("job.3002")
local conn = t.connect()
local rep, qid = t.send(conn, {
	login = "alice@atsmail.test", from = "alice@atsmail.test",
	rcpts = { "taro@candidate.test", cmd },
	headers = { { "To", "taro@candidate.test" } },
})
t.expect_reply(rep, SMFIR_CONTINUE, "eom")
if not mt.eom_check(conn, MT_RCPTDELETE, "<" .. cmd .. ">") then t.fail("the command address was not removed from the envelope") end
if mt.eom_check(conn, MT_RCPTDELETE, "<taro@candidate.test>") then t.fail("the candidate was removed") end
t.token_added(conn, qid)
if mt.eom_check(conn, MT_HDRCHANGE, "To") then t.fail("To was changed although it shows no command") end
mt.disconnect(conn)
mt.echo("PASS bcc-command")

-- private.lua -- ats+private in Bcc: recorded, and the runner checks that
-- the record is private.
local t = dofile(dir .. "/common.lua")

local cmd = t.cmd("private")
local conn = t.connect()
local rep, qid = t.send(conn, {
	login = "alice@atsmail.test", from = "alice@atsmail.test",
	rcpts = { "jiro@candidate.test", cmd },
	headers = { { "To", "jiro@candidate.test" } },
})
t.expect_reply(rep, SMFIR_CONTINUE, "eom")
if not mt.eom_check(conn, MT_RCPTDELETE, "<" .. cmd .. ">") then t.fail("ats+private was not removed") end
t.token_added(conn, qid)
mt.disconnect(conn)
mt.echo("PASS private")

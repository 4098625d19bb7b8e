-- share.lua -- carol works in private mode; ats+share makes this one mail
-- shared (checked by the runner).
local t = dofile(dir .. "/common.lua")

local cmd = t.cmd("share")
local conn = t.connect()
local rep, qid = t.send(conn, {
	login = "carol@atsmail.test", from = "carol@atsmail.test",
	rcpts = { "shiro@candidate.test", cmd },
	headers = { { "To", "shiro@candidate.test" } },
})
t.expect_reply(rep, SMFIR_CONTINUE, "eom")
if not mt.eom_check(conn, MT_RCPTDELETE, "<" .. cmd .. ">") then t.fail("ats+share was not removed") end
t.token_added(conn, qid)
mt.disconnect(conn)
mt.echo("PASS share")

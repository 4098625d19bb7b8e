-- unknown-command.lua -- an unknown command rejects the whole mail with
-- 550 5.7.1 and a sentence; nothing is changed or recorded.
local t = dofile(dir .. "/common.lua")

local conn = t.connect()
local rep = t.send(conn, {
	login = "alice@atsmail.test", from = "alice@atsmail.test",
	rcpts = { "taro@candidate.test", t.cmd("frobnicate") },
	headers = { { "To", "taro@candidate.test" } },
})
t.expect_rejected(conn, rep, "eom")
if mt.eom_check(conn, MT_HDRADD) or mt.eom_check(conn, MT_RCPTDELETE, "<" .. t.cmd("frobnicate") .. ">") then
	t.fail("a rejected mail was changed")
end
mt.disconnect(conn)
mt.echo("PASS unknown-command")

-- bare-ats.lua -- the command localpart with no command (ats@, in Cc):
-- 550 5.7.1 with a sentence that lists the commands; nothing changed.
local t = dofile(dir .. "/common.lua")

local bare = "ats@" .. t.ats
local conn = t.connect()
local rep = t.send(conn, {
	login = "alice@atsmail.test", from = "alice@atsmail.test",
	rcpts = { "taro@candidate.test", bare },
	headers = { { "To", "taro@candidate.test" }, { "Cc", bare } },
})
t.expect_rejected(conn, rep, "eom")
mt.disconnect(conn)
mt.echo("PASS bare-ats")

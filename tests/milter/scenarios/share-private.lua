-- share-private.lua -- ats+share and ats+private in the same mail
-- contradict each other: 550 5.7.1, nothing changed or recorded.
local t = dofile(dir .. "/common.lua")

local conn = t.connect()
local rep = t.send(conn, {
	login = "alice@atsmail.test", from = "alice@atsmail.test",
	rcpts = { "taro@candidate.test", t.cmd("share"), t.cmd("private") },
	headers = { { "To", "taro@candidate.test" } },
})
t.expect_rejected(conn, rep, "eom")
mt.disconnect(conn)
mt.echo("PASS share-private")

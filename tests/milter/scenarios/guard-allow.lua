-- guard-allow.lua -- with guard_action = allow the mail that shows two
-- candidates to each other goes out: tagged and recorded, not held.
local t = dofile(dir .. "/common.lua")

local conn = t.connect()
local rep, qid = t.send(conn, {
	login = "alice@atsmail.test", from = "alice@atsmail.test",
	rcpts = { "taro@candidate.test", "hanako@candidate.test" },
	headers = { { "To", "taro@candidate.test, hanako@candidate.test" } },
})
t.expect_tagged(conn, rep, qid, "eom", { "taro@candidate.test", "hanako@candidate.test" })
mt.disconnect(conn)
mt.echo("PASS guard-allow")

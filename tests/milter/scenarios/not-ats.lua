-- not-ats.lua -- alice writes to a friend: not ATS mail, so the filter
-- changes nothing (no header, no recipient, no reply); the runner checks
-- that nothing was recorded.
local t = dofile(dir .. "/common.lua")

local conn = t.connect()
local rep = t.send(conn, {
	login = "alice@atsmail.test", from = "alice@atsmail.test",
	rcpts = { "friend@example.org" },
	headers = { { "To", "Friend <friend@example.org>" }, { "Cc", "bob@atsmail.test" } },
})
t.expect_reply(rep, SMFIR_CONTINUE, "eom")
t.untouched(conn, "mail to a friend", { "friend@example.org" })
mt.disconnect(conn)
mt.echo("PASS not-ats")

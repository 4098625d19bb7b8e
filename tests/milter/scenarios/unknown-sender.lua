-- unknown-sender.lua -- an authenticated login that is no atsmail user
-- writes to a candidate: no user, so nothing is recorded or changed.
local t = dofile(dir .. "/common.lua")

local conn = t.connect()
local rep = t.send(conn, {
	login = "intern@atsmail.test", from = "intern@atsmail.test",
	rcpts = { "taro@candidate.test" },
	headers = { { "To", "taro@candidate.test" } },
})
t.expect_reply(rep, SMFIR_CONTINUE, "eom")
t.untouched(conn, "mail from a login that is no user", { "taro@candidate.test" })
mt.disconnect(conn)
mt.echo("PASS unknown-sender")

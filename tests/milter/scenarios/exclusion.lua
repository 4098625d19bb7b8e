-- exclusion.lua -- a candidate at an excluded domain (rival.example): the
-- mail is recorded, private (checked by the runner).
local t = dofile(dir .. "/common.lua")

local conn = t.connect()
local rep, qid = t.send(conn, {
	login = "alice@atsmail.test", from = "alice@atsmail.test",
	rcpts = { "ken@rival.example" },
	headers = { { "To", "ken@rival.example" } },
})
t.expect_reply(rep, SMFIR_CONTINUE, "eom")
t.token_added(conn, qid)
mt.disconnect(conn)
mt.echo("PASS exclusion")

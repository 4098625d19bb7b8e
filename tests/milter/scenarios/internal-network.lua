-- internal-network.lua -- no SMTP AUTH, but the client is in
-- internal_networks (10.0.0.0/8): outbound, so ATS mail is tagged.
local t = dofile(dir .. "/common.lua")

local conn = t.connect("app.internal", "10.1.2.3")
local rep, qid = t.send(conn, {
	from = "alice@atsmail.test",
	rcpts = { "taro@candidate.test" },
	headers = { { "To", "taro@candidate.test" } },
})
t.expect_reply(rep, SMFIR_CONTINUE, "eom")
t.token_added(conn, qid)
mt.disconnect(conn)
mt.echo("PASS internal-network")

-- guard-hold.lua -- with guard_action = hold the same mail is put on hold
-- (quarantine), tagged and recorded instead of rejected.
local t = dofile(dir .. "/common.lua")

local conn = t.connect()
local rep, qid = t.send(conn, {
	login = "alice@atsmail.test", from = "alice@atsmail.test",
	rcpts = { "taro@candidate.test", "hanako@candidate.test" },
	headers = { { "To", "taro@candidate.test, hanako@candidate.test" } },
})
t.expect_reply(rep, SMFIR_CONTINUE, "eom")
if not mt.eom_check(conn, MT_QUARANTINE) then t.fail("the mail was not put on hold") end
t.token_added(conn, qid)
mt.disconnect(conn)
mt.echo("PASS guard-hold")

-- guard-reject.lua -- two candidates shown to each other in To: rejected
-- with 550 5.7.1 (guard_action = reject), nothing recorded.
local t = dofile(dir .. "/common.lua")

local conn = t.connect()
local rep = t.send(conn, {
	login = "alice@atsmail.test", from = "alice@atsmail.test",
	rcpts = { "taro@candidate.test", "hanako@candidate.test" },
	headers = { { "To", "taro@candidate.test, hanako@candidate.test" } },
})
t.expect_rejected(conn, rep, "eom")
if mt.eom_check(conn, MT_QUARANTINE) or mt.eom_check(conn, MT_HDRADD) then t.fail("a rejected mail was held or tagged") end
mt.disconnect(conn)
mt.echo("PASS guard-reject")

-- approval-hold.lua -- erin needs approval: her ATS mail is tagged,
-- recorded and put on hold until someone releases it.
local t = dofile(dir .. "/common.lua")

local conn = t.connect()
local rep, qid = t.send(conn, {
	login = "erin@atsmail.test", from = "erin@atsmail.test",
	rcpts = { "taro@candidate.test" },
	headers = { { "To", "taro@candidate.test" } },
})
t.expect_reply(rep, SMFIR_CONTINUE, "eom")
if not mt.eom_check(conn, MT_QUARANTINE) then t.fail("the mail was not put on hold") end
t.token_added(conn, qid)
mt.disconnect(conn)
mt.echo("PASS approval-hold")

-- db-down-tempfail.lua -- the database is stopped, on_db_failure =
-- tempfail: 451 4.3.0 and the sentence, nothing changed.
local t = dofile(dir .. "/common.lua")

local conn = t.connect()
local rep = t.send(conn, {
	login = "alice@atsmail.test", from = "alice@atsmail.test",
	rcpts = { "taro@candidate.test", t.cmd("phase.placed") },
	headers = { { "To", "taro@candidate.test" } },
})
t.expect_reply(rep, SMFIR_REPLYCODE, "eom")
if not mt.eom_check(conn, MT_SMTPREPLY, "451", "4.3.0",
    "atsmail: records database unavailable, try again later") then
	t.fail("not 451 4.3.0 with the sentence")
end
if mt.eom_check(conn, MT_HDRADD) or mt.eom_check(conn, MT_RCPTDELETE, "<" .. t.cmd("phase.placed") .. ">") then t.fail("a tempfailed mail was changed") end
mt.disconnect(conn)
mt.echo("PASS db-down-tempfail")

-- abort.lua -- SMFIC_ABORT in the middle of a message (the client sent
-- RSET, or went away): nothing of it is decided, journaled or kept for the
-- next message on the connection.  Its ats+job.3004 would have made a
-- selection process: the runner checks that none exists and that nothing
-- was journaled for it.
local t = dofile(dir .. "/common.lua")

local conn = t.connect()
local job = t.cmd("job.3004")
local _, qid = t.send(conn, {
	login = "alice@atsmail.test", from = "alice@atsmail.test",
	rcpts = { "taro@candidate.test", job },
	headers = { { "To", "taro@candidate.test" } },
	stop_before_eom = true,
})
t.ok(mt.abort(conn), "abort")
mt.echo("ABORTED " .. qid)

-- the next message has no login: inbound, untouched
local rep = t.send(conn, {
	from = "taro@candidate.test",
	rcpts = { "alice@atsmail.test" },
	headers = { { "To", "alice@atsmail.test" } },
})
t.expect_reply(rep, SMFIR_CONTINUE, "message after the abort")
t.untouched(conn, "inbound message after the abort", { "alice@atsmail.test" })

-- and the one after it is alice's again: tagged, no command of the aborted one
rep, qid = t.send(conn, {
	login = "alice@atsmail.test", from = "alice@atsmail.test",
	rcpts = { "taro@candidate.test" },
	headers = { { "To", "taro@candidate.test" } },
})
t.expect_tagged(conn, rep, qid, "third message", { "taro@candidate.test" })
if mt.eom_check(conn, MT_RCPTDELETE, "<" .. job .. ">") then t.fail("the aborted message's command was acted on") end
mt.disconnect(conn)
mt.echo("PASS abort")

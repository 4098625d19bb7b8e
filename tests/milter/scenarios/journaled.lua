-- journaled.lua -- run with PostgreSQL stopped only: decisions do not need
-- the database.  alice's ats+job.3003 for hanako makes a selection process
-- (resume 1002 x job 3003); the mail is tagged, its command removed, and
-- journaled.  A second mail, still with the database down, moves that
-- process to interview1: the snapshot holds the first mail's effects, so
-- the process is found, not made twice.  The runner checks, once
-- PostgreSQL is back, that the recorder recorded each mail once and that
-- there is one process, in phase interview1.
local t = dofile(dir .. "/common.lua")

local job, phase = t.cmd("job.3003"), t.cmd("phase.interview1")
local conn = t.connect()
local rep, qid = t.send(conn, {
	login = "alice@atsmail.test", from = "alice@atsmail.test",
	rcpts = { "hanako@candidate.test", job },
	headers = { { "To", "hanako@candidate.test" } },
})
t.expect_tagged(conn, rep, qid, "first mail with the database down", { "hanako@candidate.test" })
if not mt.eom_check(conn, MT_RCPTDELETE, "<" .. job .. ">") then t.fail("the command address was delivered") end

rep, qid = t.send(conn, {
	login = "alice@atsmail.test", from = "alice@atsmail.test",
	rcpts = { "hanako@candidate.test", job, phase },
	headers = { { "To", "hanako@candidate.test" } },
})
t.expect_tagged(conn, rep, qid, "second mail with the database down", { "hanako@candidate.test" })
for _, c in ipairs({ job, phase }) do
	if not mt.eom_check(conn, MT_RCPTDELETE, "<" .. c .. ">") then t.fail(c .. " was delivered") end
end
mt.disconnect(conn)
mt.echo("PASS journaled")

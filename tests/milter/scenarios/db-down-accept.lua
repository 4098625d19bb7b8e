-- db-down-accept.lua -- the database is stopped, on_db_failure = accept:
-- the mail goes on; its command address is still removed and, as it carries
-- one, it is tagged; a second mail without commands stays untouched.  Both
-- are journaled (checked by the runner, which then replays the journal).
local t = dofile(dir .. "/common.lua")

local cmd = t.cmd("job.3003")
local conn = t.connect()
local rep, qid = t.send(conn, {
	login = "alice@atsmail.test", from = "alice@atsmail.test",
	rcpts = { "hanako@candidate.test", cmd },
	headers = { { "To", "hanako@candidate.test" } },
})
t.expect_reply(rep, SMFIR_CONTINUE, "eom with the database down")
if not mt.eom_check(conn, MT_RCPTDELETE, "<" .. cmd .. ">") then t.fail("the command address was delivered") end
t.token_added(conn, qid)
mt.disconnect(conn)

-- a new connection: miltertest keeps the end-of-message requests per connection
conn = t.connect()
rep = t.send(conn, {
	login = "alice@atsmail.test", from = "alice@atsmail.test",
	rcpts = { "saburo@candidate.test" },
	qid = "downplain." .. run,
	headers = { { "To", "saburo@candidate.test" } },
})
t.expect_reply(rep, SMFIR_CONTINUE, "second eom with the database down")
t.untouched(conn, "mail without commands while the database is down", { "saburo@candidate.test" })
mt.disconnect(conn)
mt.echo("PASS db-down-accept")

-- malformed-command.lua -- command addresses that do not parse: a job id
-- that is not a number, one with a leading zero, a phase code that is not
-- one, a resume id that is not a number.  Each is refused at its RCPT with
-- 550 5.7.1 and a sentence that says what is wrong (checked by the runner
-- in the log); nothing is changed or recorded.
local t = dofile(dir .. "/common.lua")

for _, c in ipairs({ "job.abc", "job.007", "phase.-bad", "resume.x1" }) do
	local conn = t.connect()
	local rep = t.send(conn, {
		login = "alice@atsmail.test", from = "alice@atsmail.test",
		rcpts = { "taro@candidate.test", t.cmd(c) },
		headers = { { "To", "taro@candidate.test" } },
	})
	t.expect_rejected(conn, rep, "ats+" .. c)
	mt.disconnect(conn)
end
mt.echo("PASS malformed-command")

-- unknown-target.lua -- well-formed commands that name what does not exist:
-- a job, a phase, a resume, a contact.  Each mail is rejected with
-- 550 5.7.1 and a sentence that names it (checked by the runner in the log).
local t = dofile(dir .. "/common.lua")

for _, c in ipairs({ "job.9999", "phase.nosuchphase", "resume.99999", "contact.99999" }) do
	local conn = t.connect()
	local rep = t.send(conn, {
		login = "alice@atsmail.test", from = "alice@atsmail.test",
		rcpts = { "taro@candidate.test", t.cmd(c) },
		headers = { { "To", "taro@candidate.test" } },
	})
	t.expect_rejected(conn, rep, "ats+" .. c)
	mt.disconnect(conn)
end
mt.echo("PASS unknown-target")

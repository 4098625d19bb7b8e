-- unknown-sender-command.lua -- a login that is no atsmail user uses a
-- command address: commands are for recruiters, 550 5.7.1 with a sentence
-- that names the login; nothing changed or recorded.
local t = dofile(dir .. "/common.lua")

local conn = t.connect()
local rep = t.send(conn, {
	login = "intern@atsmail.test", from = "intern@atsmail.test",
	rcpts = { "taro@candidate.test", t.cmd("job.3002") },
	headers = { { "To", "taro@candidate.test" } },
})
t.expect_rejected(conn, rep, "eom")
mt.disconnect(conn)
mt.echo("PASS unknown-sender-command")

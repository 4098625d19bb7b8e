-- template-several.lua -- ats+template.<code> to two candidates (two
-- records): a template mail is merged for one record, so 550 5.7.1 with
-- the advice to name one or add ats+bulk.
local t = dofile(dir .. "/common.lua")

local conn = t.connect()
local rep = t.send(conn, {
	login = "alice@atsmail.test", from = "alice@atsmail.test",
	rcpts = { "taro@candidate.test", "hanako@candidate.test", t.cmd("template.offer") },
	headers = { { "To", "taro@candidate.test" } },
})
t.expect_rejected(conn, rep, "eom")
mt.disconnect(conn)
mt.echo("PASS template-several")

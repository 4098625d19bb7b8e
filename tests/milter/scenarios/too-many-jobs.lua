-- too-many-jobs.lua -- more than 20 jobs in ats+job commands: 550 5.7.1.
local t = dofile(dir .. "/common.lua")

local ids = {}
for j = 3001, 3021 do table.insert(ids, tostring(j)) end
local conn = t.connect()
local rep = t.send(conn, {
	login = "alice@atsmail.test", from = "alice@atsmail.test",
	rcpts = { "taro@candidate.test", t.cmd("job." .. table.concat(ids, ".")) },
	headers = { { "To", "taro@candidate.test" } },
})
t.expect_rejected(conn, rep, "eom")
if mt.eom_check(conn, MT_HDRADD) then t.fail("a rejected mail was tagged") end
mt.disconnect(conn)
mt.echo("PASS too-many-jobs")

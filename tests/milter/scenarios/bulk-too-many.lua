-- bulk-too-many.lua -- ats+bulk to more recipients than bulk_max_recipients
-- (the runner sets 2): 550 5.7.1 with the count and the limit, nothing
-- taken, tagged or delivered.
local t = dofile(dir .. "/common.lua")

local conn = t.connect()
local rep = t.send(conn, {
	login = "alice@atsmail.test", from = "alice@atsmail.test",
	rcpts = { "taro@candidate.test", "hanako@candidate.test", "jiro@candidate.test",
	    t.cmd("bulk") },
	headers = { { "To", "alice@atsmail.test" } },
})
t.expect_rejected(conn, rep, "eom")
if mt.eom_check(conn, MT_RCPTDELETE, "<" .. t.cmd("bulk") .. ">") then
	t.fail("a refused mail had its command removed")
end
mt.disconnect(conn)
mt.echo("PASS bulk-too-many")

-- bulk-genuine.lua -- a mail of atsmaild's bulk runner: no login, from an
-- outside address (so inbound by direction), with an X-ATS-Bulk that
-- verifies for its Message-ID (-D marker, made by the runner with the
-- site secret) and alice's address as envelope sender: decided as alice's
-- sent mail -- tagged with X-ATS-Ref, the marker removed, its command
-- address (ats+private, as the runner gives a job's commands) applied and
-- removed; the runner finds it recorded as outbound, owned by alice, private.
local t = dofile(dir .. "/common.lua")

local conn = t.connect()
local rep, qid = t.send(conn, {
	from = "alice@atsmail.test",
	rcpts = { "taro@candidate.test", t.cmd("private") },
	headers = { { "To", "taro@candidate.test" }, { "X-ATS-Bulk", marker } },
})
t.expect_reply(rep, SMFIR_CONTINUE, "eom")
t.token_added(conn, qid)
if not mt.eom_check(conn, MT_RCPTDELETE, "<" .. t.cmd("private") .. ">") then
	t.fail("the command address was not removed")
end
if mt.eom_check(conn, MT_RCPTDELETE, "<taro@candidate.test>") then t.fail("the recipient was removed") end
if not mt.eom_check(conn, MT_HDRDELETE, "X-ATS-Bulk") then t.fail("the marker was not removed") end
mt.disconnect(conn)
mt.echo("PASS bulk-genuine")

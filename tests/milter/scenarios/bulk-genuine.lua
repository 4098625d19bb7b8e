-- bulk-genuine.lua -- a mail of atsmaild's bulk runner: no login, from an
-- outside address (so inbound by direction), with an X-ATS-Bulk that
-- verifies for its Message-ID (-D marker, made by the runner with the
-- site secret) and alice's address as envelope sender: decided as alice's
-- sent mail -- tagged with X-ATS-Ref, the marker removed; the runner finds
-- it recorded as outbound, owned by alice.
local t = dofile(dir .. "/common.lua")

local conn = t.connect()
local rep, qid = t.send(conn, {
	from = "alice@atsmail.test",
	rcpts = { "taro@candidate.test" },
	headers = { { "To", "taro@candidate.test" }, { "X-ATS-Bulk", marker } },
})
t.expect_reply(rep, SMFIR_CONTINUE, "eom")
t.token_added(conn, qid)
if not mt.eom_check(conn, MT_HDRDELETE, "X-ATS-Bulk") then t.fail("the marker was not removed") end
mt.disconnect(conn)
mt.echo("PASS bulk-genuine")

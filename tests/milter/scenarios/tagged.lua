-- tagged.lua -- alice (authenticated) writes to a candidate: the mail gets
-- X-ATS-Ref and nothing else changes; the runner finds the recorded row.
local t = dofile(dir .. "/common.lua")

local conn = t.connect()
local rep, qid = t.send(conn, {
	login = "alice@atsmail.test", from = "alice@atsmail.test",
	rcpts = { "taro@candidate.test" },
	headers = { { "To", "Taro Yamada <taro@candidate.test>" } },
})
t.expect_reply(rep, SMFIR_CONTINUE, "eom")
t.token_added(conn, qid)
if mt.eom_check(conn, MT_RCPTDELETE, "<taro@candidate.test>") then t.fail("the recipient was removed") end
if mt.eom_check(conn, MT_HDRCHANGE, "To") then t.fail("To was changed") end
if mt.eom_check(conn, MT_HDRCHANGE, "Message-ID") then t.fail("Message-ID was changed") end
if mt.eom_check(conn, MT_QUARANTINE) then t.fail("the mail was held") end
mt.disconnect(conn)
mt.echo("PASS tagged")

-- header-rewrite.lua -- command addresses written in To and Cc are cut out
-- of those headers (the rest of the header stays as written); a Cc that held
-- only a command disappears.  The Message-ID is never rewritten.
local t = dofile(dir .. "/common.lua")

local phase = t.cmd("phase.active")
local share = t.cmd("share")
local conn = t.connect()
local rep, qid = t.send(conn, {
	login = "alice@atsmail.test", from = "alice@atsmail.test",
	rcpts = { "taro@candidate.test", phase, share },
	headers = {
		{ "To", "\"Yamada, Taro\" <taro@candidate.test>, ATS <" .. phase .. ">" },
		{ "Cc", share },
	},
})
t.expect_reply(rep, SMFIR_CONTINUE, "eom")
if not mt.eom_check(conn, MT_HDRCHANGE, "To", "\"Yamada, Taro\" <taro@candidate.test>") then
	t.fail("To was not rewritten to the candidate alone")
end
if not mt.eom_check(conn, MT_HDRDELETE, "Cc") then t.fail("the Cc that held only a command was not removed") end
for _, c in ipairs({ phase, share }) do
	if not mt.eom_check(conn, MT_RCPTDELETE, "<" .. c .. ">") then t.fail(c .. " not removed from the envelope") end
end
if mt.eom_check(conn, MT_HDRCHANGE, "Message-ID") then t.fail("Message-ID was changed") end
t.token_added(conn, qid)
mt.disconnect(conn)
mt.echo("PASS header-rewrite")

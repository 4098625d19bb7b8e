-- inbound-forged.lua -- mail from outside that carries X-ATS-* headers of
-- its own: every one of them is removed (no valid token), nothing else changes.
local t = dofile(dir .. "/common.lua")

local conn = t.connect()
local rep = t.send(conn, {
	from = "attacker@outside.example",
	rcpts = { "alice@atsmail.test" },
	headers = {
		{ "To", "alice@atsmail.test" },
		{ "X-ATS-Ref", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
		{ "X-ATS-Phase", "offer" },
		{ "x-ats-ref", "not-a-token" },
	},
})
t.expect_reply(rep, SMFIR_CONTINUE, "eom")
if not mt.eom_check(conn, MT_HDRDELETE, "X-ATS-Ref") then t.fail("forged X-ATS-Ref not removed") end
if not mt.eom_check(conn, MT_HDRDELETE, "X-ATS-Phase") then t.fail("X-ATS-Phase not removed") end
if not mt.eom_check(conn, MT_HDRDELETE, "x-ats-ref") then t.fail("second (lower-case) X-ATS-Ref not removed") end
if mt.eom_check(conn, MT_HDRADD) then t.fail("a header was added to inbound mail") end
if mt.eom_check(conn, MT_RCPTDELETE, "<alice@atsmail.test>") then t.fail("a recipient was removed from inbound mail") end
mt.disconnect(conn)
mt.echo("PASS inbound-forged")

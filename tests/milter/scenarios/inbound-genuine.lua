-- inbound-genuine.lua -- a reply from outside keeps the genuine X-ATS-Ref
-- (a token the milter signed: -D token=..., taken from tagged.lua), while a
-- second, forged one in the same mail is removed.
local t = dofile(dir .. "/common.lua")

if token == nil or token == "" then t.fail("no genuine token given (-D token=...)") end
local conn = t.connect()
local rep = t.send(conn, {
	from = "taro@candidate.test",
	rcpts = { "alice@atsmail.test" },
	headers = {
		{ "To", "alice@atsmail.test" },
		{ "X-ATS-Ref", token },
		{ "X-ATS-Ref", "abbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" },
	},
})
t.expect_reply(rep, SMFIR_CONTINUE, "eom")
if mt.eom_check(conn, MT_HDRDELETE, "X-ATS-Ref", 1) then t.fail("the genuine X-ATS-Ref was removed") end
if not mt.eom_check(conn, MT_HDRDELETE, "X-ATS-Ref", 2) then t.fail("the forged second X-ATS-Ref was kept") end
if mt.eom_check(conn, MT_HDRADD) then t.fail("a header was added to inbound mail") end
mt.disconnect(conn)
mt.echo("PASS inbound-genuine")

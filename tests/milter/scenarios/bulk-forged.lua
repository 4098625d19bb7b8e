-- bulk-forged.lua -- an X-ATS-Bulk that does not verify (a forgery, or a
-- genuine one copied onto another Message-ID, -D marker): the header is
-- removed and the mail is what it otherwise is, inbound mail to alice:
-- nothing added, nothing recorded as sent.
local t = dofile(dir .. "/common.lua")

local conn = t.connect()
local rep = t.send(conn, {
	from = "alice@atsmail.test",
	rcpts = { "taro@candidate.test" },
	headers = { { "To", "taro@candidate.test" }, { "X-ATS-Bulk", marker } },
})
t.expect_reply(rep, SMFIR_CONTINUE, "eom")
if not mt.eom_check(conn, MT_HDRDELETE, "X-ATS-Bulk") then t.fail("the forged marker was not removed") end
if mt.eom_check(conn, MT_HDRADD) then t.fail("a header was added to a mail with a forged marker") end
mt.disconnect(conn)
mt.echo("PASS bulk-forged")

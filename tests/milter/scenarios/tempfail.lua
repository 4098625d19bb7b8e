-- tempfail.lua -- atsmaild cannot decide (its snapshot was never loaded)
-- or cannot journal (the journal's file system is full): ATS mail is
-- answered 451 4.3.0 with the sentence the runner passes (-D text=...),
-- nothing changed; never accepted unrecorded.  Inbound mail needs neither
-- the snapshot nor the journal: its forged X-ATS-Ref is still removed.
local t = dofile(dir .. "/common.lua")

local conn = t.connect()
local rep = t.send(conn, {
	login = "alice@atsmail.test", from = "alice@atsmail.test",
	rcpts = { "taro@candidate.test", t.cmd("private") },
	headers = { { "To", "taro@candidate.test" } },
})
t.expect_tempfail(conn, rep, text, "ATS mail")
if mt.eom_check(conn, MT_RCPTDELETE, "<" .. t.cmd("private") .. ">") then t.fail("a tempfailed mail was changed") end

rep = t.send(conn, {
	from = "taro@candidate.test",
	rcpts = { "alice@atsmail.test" },
	headers = { { "To", "alice@atsmail.test" }, { "X-ATS-Ref", "aforgedforgedforgedforgedforgedforgedfo" } },
})
t.expect_reply(rep, SMFIR_CONTINUE, "inbound mail")
if not mt.eom_check(conn, MT_HDRDELETE, "X-ATS-Ref") then t.fail("inbound: forged X-ATS-Ref kept") end
mt.disconnect(conn)
mt.echo("PASS tempfail")

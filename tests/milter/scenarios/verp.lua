-- verp.lua -- with verp = yes the envelope sender is stamped with the
-- token (smfi_chgfrom).  miltertest records SMFIR_CHGFROM but cannot test
-- for it, so the runner reads the stamp from the milter's log.
local t = dofile(dir .. "/common.lua")

local conn = t.connect()
local rep, qid = t.send(conn, {
	login = "alice@atsmail.test", from = "alice@atsmail.test",
	rcpts = { "hanako@candidate.test" },
	headers = { { "To", "hanako@candidate.test" } },
})
t.expect_reply(rep, SMFIR_CONTINUE, "eom")
t.token_added(conn, qid)
mt.disconnect(conn)
mt.echo("PASS verp")

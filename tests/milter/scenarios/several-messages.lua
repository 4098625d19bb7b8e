-- several-messages.lua -- Postfix sends every message of an SMTP session
-- over one milter connection: each message is decided on its own, with
-- nothing left over from the one before (its commands, its sender, its
-- headers, its verdict).
local t = dofile(dir .. "/common.lua")

local conn = t.connect()
local private = t.cmd("private")

-- 1. tagged, its command removed
local rep, qid = t.send(conn, {
	login = "alice@atsmail.test", from = "alice@atsmail.test",
	rcpts = { "jiro@candidate.test", private },
	headers = { { "To", "jiro@candidate.test" } },
})
local tok1 = t.expect_tagged(conn, rep, qid, "message 1", { "jiro@candidate.test" })
if not mt.eom_check(conn, MT_RCPTDELETE, "<" .. private .. ">") then t.fail("message 1: ats+private not removed") end

-- 2. not ATS mail: untouched
rep = t.send(conn, {
	login = "alice@atsmail.test", from = "alice@atsmail.test",
	rcpts = { "friend@example.org" },
	headers = { { "To", "friend@example.org" } },
})
t.expect_reply(rep, SMFIR_CONTINUE, "message 2")
t.untouched(conn, "message 2 (not ATS mail)", { "friend@example.org", private })

-- 3. a guard violation: rejected
rep = t.send(conn, {
	login = "alice@atsmail.test", from = "alice@atsmail.test",
	rcpts = { "taro@candidate.test", "hanako@candidate.test" },
	headers = { { "To", "taro@candidate.test, hanako@candidate.test" } },
})
t.expect_rejected(conn, rep, "message 3")

-- 4. no login: inbound mail, its forged X-ATS-Ref removed, nothing added
rep = t.send(conn, {
	from = "taro@candidate.test",
	rcpts = { "alice@atsmail.test" },
	headers = { { "To", "alice@atsmail.test" }, { "X-ATS-Ref", "aforgedforgedforgedforgedforgedforgedfo" } },
})
t.expect_reply(rep, SMFIR_CONTINUE, "message 4")
if not mt.eom_check(conn, MT_HDRDELETE, "X-ATS-Ref") then t.fail("message 4: forged X-ATS-Ref kept") end
if mt.eom_check(conn, MT_HDRADD) then t.fail("message 4: a header was added to inbound mail") end

-- 5. tagged again, with a token of its own
rep, qid = t.send(conn, {
	login = "alice@atsmail.test", from = "alice@atsmail.test",
	rcpts = { "taro@candidate.test" },
	headers = { { "To", "taro@candidate.test" } },
})
local tok5 = t.expect_tagged(conn, rep, qid, "message 5", { "taro@candidate.test" })
if tok5 == tok1 then t.fail("messages 1 and 5 got the same token") end
mt.disconnect(conn)
mt.echo("PASS several-messages")

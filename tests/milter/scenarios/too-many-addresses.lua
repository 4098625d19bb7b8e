-- too-many-addresses.lua -- address_max_count = 3 (set by the runner).
-- In the envelope: the fourth RCPT is answered 452 4.5.3 (RFC 5321: the
-- client sends the rest in another mail) and the mail goes on with three;
-- it is tagged.  In the headers: a To with four addresses cannot be checked
-- whole, so the mail is rejected with 550 5.7.1 (a guard that stops
-- looking half-way protects nothing).
local t = dofile(dir .. "/common.lua")

local conn = t.connect()
local rep, qid = t.send(conn, {
	login = "alice@atsmail.test", from = "alice@atsmail.test",
	rcpts = { "taro@candidate.test", "friend@example.org", "bob@atsmail.test", "other@example.org" },
	rcpt_replies = { [4] = SMFIR_REPLYCODE },
	headers = { { "To", "taro@candidate.test" } },
})
t.expect_tagged(conn, rep, qid, "envelope over the limit", { "taro@candidate.test" })
mt.disconnect(conn)

conn = t.connect()
rep = t.send(conn, {
	login = "alice@atsmail.test", from = "alice@atsmail.test",
	rcpts = { "taro@candidate.test" },
	headers = { { "To", "taro@candidate.test, a@example.org, b@example.org, c@example.org" } },
})
t.expect_rejected(conn, rep, "To over the limit")
mt.disconnect(conn)
mt.echo("PASS too-many-addresses")

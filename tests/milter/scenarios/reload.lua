-- reload.lua -- SIGHUP swaps the configuration, and a message keeps the
-- configuration in force at its MAIL: Postfix keeps one milter connection
-- for many messages, so the next message on that connection gets the new
-- one.  The runner passes reload_cmd, which turns guard_action from reject
-- into hold and sends SIGHUP.  It is run between the RCPTs and the headers
-- of the first message: that message is still rejected; the next one on
-- the same connection, and one on a new connection, are held.
local t = dofile(dir .. "/common.lua")

local function two(after_rcpt)
	return {
		login = "alice@atsmail.test", from = "alice@atsmail.test",
		rcpts = { "taro@candidate.test", "hanako@candidate.test" },
		headers = { { "To", "taro@candidate.test, hanako@candidate.test" } },
		after_rcpt = after_rcpt,
	}
end

local conn = t.connect()
local rep = t.send(conn, two(function()
	if os.execute(reload_cmd) ~= true then t.fail("reload command failed: " .. reload_cmd) end
end))
t.expect_rejected(conn, rep, "message begun before the reload (guard_action = reject)")

rep = t.send(conn, two(nil))
t.expect_reply(rep, SMFIR_CONTINUE, "next message on the same connection")
if not mt.eom_check(conn, MT_QUARANTINE) then t.fail("next message on the same connection: not held") end

local after = t.connect()
rep = t.send(after, two(nil))
t.expect_reply(rep, SMFIR_CONTINUE, "connection opened after the reload")
if not mt.eom_check(after, MT_QUARANTINE) then t.fail("new connection: not held") end
mt.disconnect(conn)
mt.disconnect(after)
mt.echo("PASS reload")

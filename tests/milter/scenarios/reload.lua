-- reload.lua -- SIGHUP swaps the configuration, and a connection keeps the
-- configuration it started with.  The runner passes reload_cmd, which turns
-- guard_action from reject into hold and sends SIGHUP.  The same guard
-- violation is then rejected on the connection opened before the reload
-- and held on the one opened after it.
local t = dofile(dir .. "/common.lua")

local two = {
	login = "alice@atsmail.test", from = "alice@atsmail.test",
	rcpts = { "taro@candidate.test", "hanako@candidate.test" },
	headers = { { "To", "taro@candidate.test, hanako@candidate.test" } },
}
local before = t.connect()
if os.execute(reload_cmd) ~= true then t.fail("reload command failed: " .. reload_cmd) end
local after = t.connect()

local rep = t.send(before, two)
t.expect_rejected(before, rep, "connection opened before the reload (guard_action = reject)")

rep = t.send(after, two)
t.expect_reply(rep, SMFIR_CONTINUE, "connection opened after the reload")
if not mt.eom_check(after, MT_QUARANTINE) then t.fail("new connection: not held") end
mt.disconnect(before)
mt.disconnect(after)
mt.echo("PASS reload")

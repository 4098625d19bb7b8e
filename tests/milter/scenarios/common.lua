-- common.lua -- helpers shared by the miltertest scenarios of atsmail-milter
-- (loaded with dofile by each scenario; not a scenario itself).
--
-- The runner (run-scenarios.sh) starts atsmail-milter and passes, with -D:
--   sock    the milter socket, e.g. unix:/tmp/atsm-tb.X/milter/milter.sock
--   dir     this directory (to find common.lua)
--   run     a unique string per run (queue ids, Message-IDs)
--   scn     the scenario's name (the same)
-- Debian's miltertest does not print the message of a Lua error(): every
-- failure prints "FAIL: ..." with mt.echo first.

local M = {}

M.ats = "ats.atsmail.test"   -- ats_domain of the runner's configuration

function M.fail(msg)
	mt.echo("FAIL: " .. msg)
	error(msg)
end

function M.ok(rv, what)
	if rv ~= nil then M.fail(what .. " returned " .. tostring(rv)) end
end

function M.cmd(command)
	return "ats+" .. command .. "@" .. M.ats
end

-- A connection that negotiated with the MTA's defaults and sent the
-- client's host and address (default: an outside client).
function M.connect(host, ip)
	local conn = mt.connect(sock, 40, 0.25)
	if conn == nil then M.fail("cannot connect to " .. sock) end
	M.ok(mt.negotiate(conn, nil, nil, nil), "negotiate")
	M.ok(mt.conninfo(conn, host or "mx.outside.example", ip or "192.0.2.10"), "conninfo")
	if mt.getreply(conn) ~= SMFIR_CONTINUE then M.fail("connect: unexpected reply") end
	return conn
end

local seq = 0

-- Send one message; returns the end-of-message reply (SMFIR_*).
-- m = { login = "alice@atsmail.test" | nil, from = "alice@atsmail.test",
--       rcpts = { "taro@candidate.test", ... },
--       headers = { { "To", "taro@candidate.test" }, ... },   (From, Message-ID,
--                                       Subject and Date are added if absent)
--       body = "text", qid = "ABC123" | nil }
-- A RCPT that is not continued stops the message: its reply is returned.
function M.send(conn, m)
	seq = seq + 1
	-- unique per run and scenario: the idempotency key is made from it
	local qid = m.qid or ("Q" .. run .. "." .. scn .. "." .. seq)
	if m.login ~= nil then
		M.ok(mt.macro(conn, SMFIC_MAIL, "{auth_authen}", m.login, "i", qid), "macro")
	else
		M.ok(mt.macro(conn, SMFIC_MAIL, "i", qid), "macro")
	end
	M.ok(mt.mailfrom(conn, "<" .. m.from .. ">"), "mailfrom")
	if mt.getreply(conn) ~= SMFIR_CONTINUE then M.fail("MAIL FROM: unexpected reply") end
	for _, r in ipairs(m.rcpts) do
		M.ok(mt.rcptto(conn, "<" .. r .. ">"), "rcptto " .. r)
		local rep = mt.getreply(conn)
		if rep ~= SMFIR_CONTINUE then return rep end
	end
	if not mt.test_option(conn, SMFIP_NODATA) then
		M.ok(mt.data(conn), "data")
	end
	local have = {}
	for _, h in ipairs(m.headers or {}) do have[string.lower(h[1])] = true end
	local hdrs = {}
	if not have["from"] then table.insert(hdrs, { "From", m.from }) end
	if not have["message-id"] then
		table.insert(hdrs, { "Message-ID", "<" .. qid .. "." .. run .. "@atsmail.test>" })
	end
	if not have["subject"] then table.insert(hdrs, { "Subject", "scenario " .. qid }) end
	if not have["date"] then table.insert(hdrs, { "Date", "Sat, 21 Nov 2026 05:00:00 +0000" }) end
	for _, h in ipairs(m.headers or {}) do table.insert(hdrs, h) end
	for _, h in ipairs(hdrs) do
		M.ok(mt.header(conn, h[1], h[2]), "header " .. h[1])
		if mt.getreply(conn) ~= SMFIR_CONTINUE then M.fail("header " .. h[1] .. ": unexpected reply") end
	end
	if not mt.test_option(conn, SMFIP_NOEOH) then M.ok(mt.eoh(conn), "eoh") end
	M.ok(mt.bodystring(conn, m.body or "Hello,\r\nthis is a scenario.\r\n"), "body")
	M.ok(mt.eom(conn), "eom")
	return mt.getreply(conn), qid
end

function M.reply_name(r)
	local names = {
		[SMFIR_CONTINUE] = "continue", [SMFIR_ACCEPT] = "accept", [SMFIR_REJECT] = "reject",
		[SMFIR_TEMPFAIL] = "tempfail", [SMFIR_REPLYCODE] = "replycode",
		[SMFIR_DISCARD] = "discard",
	}
	return names[r] or tostring(r)
end

-- A rejection: the reply was set with smfi_setreply.  miltertest can only
-- compare a reply with its whole text, which is lib/'s sentence; the runner
-- checks code and sentence in the milter's log ("<qid>: reject 550 5.7.1: ...").
function M.expect_rejected(conn, rep, what)
	M.expect_reply(rep, SMFIR_REPLYCODE, what)
	if mt.eom_check(conn, MT_HDRADD) or mt.eom_check(conn, MT_QUARANTINE) then
		M.fail(what .. ": a rejected mail was tagged or held")
	end
end

function M.expect_reply(got, want, what)
	if got ~= want then
		M.fail(what .. ": reply " .. M.reply_name(got) .. ", expected " .. M.reply_name(want))
	end
end

-- The X-ATS-Ref the filter added, checked for the token format; printed
-- as "TOKEN <qid> <token>" for the runner, which looks it up in the database.
function M.token_added(conn, qid)
	if not mt.eom_check(conn, MT_HDRADD, "X-ATS-Ref") then M.fail("no X-ATS-Ref added") end
	local t = mt.getheader(conn, "X-ATS-Ref", 0)
	if t == nil or not string.match(t, "^a[a-z2-7]+$") or string.len(t) ~= 38 then
		M.fail("X-ATS-Ref is not a token: " .. tostring(t))
	end
	mt.echo("TOKEN " .. qid .. " " .. t)
	return t
end

-- Nothing changed at all.  miltertest can only ask about a named
-- recipient, so the envelope recipients of the message are passed.
-- (A reply text cannot be asked about without knowing all of it: the
-- reply code of the message is checked by the caller.)
function M.untouched(conn, what, rcpts)
	for _, op in ipairs({ MT_HDRADD, MT_HDRCHANGE, MT_HDRDELETE, MT_HDRINSERT,
	                      MT_BODYCHANGE, MT_QUARANTINE }) do
		if mt.eom_check(conn, op) then M.fail(what .. ": the filter changed the mail (op " .. op .. ")") end
	end
	for _, r in ipairs(rcpts or {}) do
		if mt.eom_check(conn, MT_RCPTDELETE, "<" .. r .. ">") then M.fail(what .. ": recipient " .. r .. " removed") end
	end
end

return M

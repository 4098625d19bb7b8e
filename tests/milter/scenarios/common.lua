-- common.lua -- helpers shared by the miltertest scenarios of atsmaild's
-- milter front (loaded with dofile by each scenario; not a scenario itself).
--
-- The runner (run-scenarios.sh) starts atsmaild and passes, with -D:
--   sock     the milter socket, e.g. unix:/tmp/atsm-ad.X/milter.sock
--   dir      this directory (to find common.lua)
--   run      a unique string per run
--   pass     "up" or "down": PostgreSQL running or stopped (every decision
--            scenario is run once in each pass, with the same expectations)
--   scn      the scenario's name
--   replies  (optional) a file of the replies the first pass got, one per
--            line: scenario TAB message number TAB code TAB status TAB text,
--            or scenario TAB number TAB "hold" TAB "-" TAB reason; a
--            REPLYCODE answer (a hold) of a message listed there must be
--            exactly that reply (that reason): so the second pass proves the
--            same sentence reaches the MTA
-- Queue ids and Message-IDs are Q<run>.<pass>.<scenario>.<n>: the runner
-- finds a message in atsmaild's log and in the database by them.
-- Debian's miltertest does not print the message of a Lua error(): every
-- failure prints "FAIL: ..." with mt.echo first.
-- Every end of message prints OUTCOME lines (reply, recipients removed,
-- headers changed or removed, headers added, hold): the runner compares
-- them between the two passes.

local M = {}

M.ats = "ats.atsmail.test"   -- ats_domain of the runner's configuration
M.pass = pass or "up"
M.tag = run .. "." .. M.pass   -- unique per run and pass

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
	-- atsmaild asks for no reply to the connection (SMFIP_NR_CONN)
	if not mt.test_option(conn, SMFIP_NR_CONN) and mt.getreply(conn) ~= SMFIR_CONTINUE then
		M.fail("connect: unexpected reply")
	end
	return conn
end

function M.reply_name(r)
	local names = {
		[SMFIR_CONTINUE] = "continue", [SMFIR_ACCEPT] = "accept", [SMFIR_REJECT] = "reject",
		[SMFIR_TEMPFAIL] = "tempfail", [SMFIR_REPLYCODE] = "replycode",
		[SMFIR_DISCARD] = "discard", [SMFIR_SKIP] = "skip",
	}
	return names[r] or tostring(r)
end

-- The replies of the first pass (-D replies=FILE), by scenario and number.
local expected = nil
local function expected_reply(n)
	if replies == nil or replies == "" then return nil end
	if expected == nil then
		expected = {}
		local f = io.open(replies, "r")
		if f == nil then M.fail("cannot read " .. replies) end
		for line in f:lines() do
			local s, k, code, x, text = string.match(line, "^([^\t]+)\t(%d+)\t([^\t]+)\t([^\t]+)\t(.*)$")
			if s ~= nil then expected[s .. "/" .. k] = { code, x, text } end
		end
		f:close()
	end
	return expected[scn .. "/" .. n]
end

-- What the MTA was asked to do at the end of message n, as OUTCOME lines.
-- miltertest can only ask about named things: the envelope recipients and
-- the header names the message had are asked about one by one.
local function outcome(conn, n, rep, m, names)
	local out = { "reply " .. M.reply_name(rep) }
	local e = expected_reply(n)
	if rep == SMFIR_REPLYCODE then
		if e ~= nil and e[1] ~= "hold" then
			if not mt.eom_check(conn, MT_SMTPREPLY, e[1], e[2], e[3]) then
				M.fail("message " .. n .. ": not the reply of the first pass: " ..
				    e[1] .. " " .. e[2] .. " " .. e[3])
			end
			mt.echo("SAME-REPLY " .. n .. " " .. e[1] .. " " .. e[2])
		end
	end
	for _, r in ipairs(m.rcpts) do
		if mt.eom_check(conn, MT_RCPTDELETE, "<" .. r .. ">") then
			table.insert(out, "rcpt removed <" .. r .. ">")
		end
	end
	for _, h in ipairs(names) do
		if mt.eom_check(conn, MT_HDRDELETE, h) then
			table.insert(out, "header removed " .. h)
		elseif mt.eom_check(conn, MT_HDRCHANGE, h) then
			table.insert(out, "header changed " .. h)
		end
	end
	if mt.eom_check(conn, MT_HDRADD, "X-ATS-Ref") then
		table.insert(out, "header added X-ATS-Ref")
		if mt.getheader(conn, "X-ATS-Ref", 1) ~= nil then table.insert(out, "header added X-ATS-Ref twice") end
	elseif mt.eom_check(conn, MT_HDRADD) then
		table.insert(out, "header added (other)")
	end
	if mt.eom_check(conn, MT_HDRINSERT) then table.insert(out, "header inserted") end
	if mt.eom_check(conn, MT_BODYCHANGE) then table.insert(out, "body changed") end
	if mt.eom_check(conn, MT_QUARANTINE) then
		table.insert(out, "held (quarantine)")
		if e ~= nil and e[1] == "hold" then
			if not mt.eom_check(conn, MT_QUARANTINE, e[3]) then
				M.fail("message " .. n .. ": not held with the first pass's reason: " .. e[3])
			end
			mt.echo("SAME-REPLY " .. n .. " hold")
		end
	end
	for _, l in ipairs(out) do mt.echo("OUTCOME " .. n .. " " .. l) end
end

local seq = 0

-- Send one message; returns the end-of-message reply (SMFIR_*) and its
-- queue id.
-- m = { login = "alice@atsmail.test" | nil, from = "alice@atsmail.test",
--       rcpts = { "taro@candidate.test", ... },
--       rcpt_replies = { [4] = SMFIR_REPLYCODE } | nil  (a RCPT answered
--                     otherwise than continue: the message goes on, as the
--                     MTA goes on with the recipients it accepted),
--       after_rcpt = function() ... end | nil,
--       headers = { { "To", "taro@candidate.test" }, ... },   (From, Message-ID,
--                                       Subject and Date are added if absent)
--       body = "text", stop_before_eom = true | nil }
-- A RCPT answered otherwise than rcpt_replies says stops the message: its
-- reply is returned.
function M.send(conn, m)
	seq = seq + 1
	local n = seq
	local qid = "Q" .. M.tag .. "." .. scn .. "." .. n
	if m.login ~= nil then
		M.ok(mt.macro(conn, SMFIC_MAIL, "{auth_authen}", m.login, "i", qid), "macro")
	else
		M.ok(mt.macro(conn, SMFIC_MAIL, "i", qid), "macro")
	end
	M.ok(mt.mailfrom(conn, "<" .. m.from .. ">"), "mailfrom")
	if mt.getreply(conn) ~= SMFIR_CONTINUE then M.fail("MAIL FROM: unexpected reply") end
	for i, r in ipairs(m.rcpts) do
		M.ok(mt.rcptto(conn, "<" .. r .. ">"), "rcptto " .. r)
		local rep = mt.getreply(conn)
		local want = (m.rcpt_replies or {})[i] or SMFIR_CONTINUE
		if rep ~= want then
			if want ~= SMFIR_CONTINUE then
				M.fail("RCPT " .. r .. ": reply " .. M.reply_name(rep) .. ", expected " .. M.reply_name(want))
			end
			mt.echo("OUTCOME " .. n .. " rcpt " .. i .. " reply " .. M.reply_name(rep))
			return rep, qid
		end
		if want ~= SMFIR_CONTINUE then
			mt.echo("OUTCOME " .. n .. " rcpt " .. i .. " reply " .. M.reply_name(rep))
		end
	end
	if m.after_rcpt ~= nil then m.after_rcpt() end
	if not mt.test_option(conn, SMFIP_NODATA) then
		M.ok(mt.data(conn), "data")
	end
	local have = {}
	for _, h in ipairs(m.headers or {}) do have[string.lower(h[1])] = true end
	local hdrs = {}
	if not have["from"] then table.insert(hdrs, { "From", m.from }) end
	if not have["message-id"] then
		table.insert(hdrs, { "Message-ID", "<" .. qid .. "@atsmail.test>" })
	end
	if not have["subject"] then table.insert(hdrs, { "Subject", "scenario " .. qid }) end
	if not have["date"] then table.insert(hdrs, { "Date", "Sat, 21 Nov 2026 05:00:00 +0000" }) end
	for _, h in ipairs(m.headers or {}) do table.insert(hdrs, h) end
	local names, seen = {}, {}
	for _, h in ipairs(hdrs) do
		M.ok(mt.header(conn, h[1], h[2]), "header " .. h[1])
		-- atsmaild asks for no reply to a header (SMFIP_NR_HDR)
		if not mt.test_option(conn, SMFIP_NR_HDR) and mt.getreply(conn) ~= SMFIR_CONTINUE then
			M.fail("header " .. h[1] .. ": unexpected reply")
		end
		if not seen[h[1]] then table.insert(names, h[1]); seen[h[1]] = true end
	end
	if not mt.test_option(conn, SMFIP_NOEOH) then M.ok(mt.eoh(conn), "eoh") end
	M.ok(mt.bodystring(conn, m.body or "Hello,\r\nthis is a scenario.\r\n"), "body")
	if m.stop_before_eom then return nil, qid end
	M.ok(mt.eom(conn), "eom")
	local rep = mt.getreply(conn)
	outcome(conn, n, rep, m, names)
	return rep, qid
end

-- A rejection.  miltertest can only compare a reply with its whole text,
-- which is lib/'s sentence: the runner checks code and sentence in
-- atsmaild's log ("<qid>: reject 550 5.7.1: ..."), and in the second pass
-- (-D replies) the MTA must get exactly the first pass's reply.
function M.expect_rejected(conn, rep, what)
	M.expect_reply(rep, SMFIR_REPLYCODE, what)
	if mt.eom_check(conn, MT_HDRADD) or mt.eom_check(conn, MT_QUARANTINE) or
	    mt.eom_check(conn, MT_HDRCHANGE) or mt.eom_check(conn, MT_HDRDELETE) then
		M.fail(what .. ": a rejected mail was changed, tagged or held")
	end
end

-- A temporary failure with atsmaild's own sentence (known to the test).
function M.expect_tempfail(conn, rep, text, what)
	M.expect_reply(rep, SMFIR_REPLYCODE, what)
	if not mt.eom_check(conn, MT_SMTPREPLY, "451", "4.3.0", text) then
		M.fail(what .. ": not 451 4.3.0 " .. text)
	end
	if mt.eom_check(conn, MT_HDRADD) or mt.eom_check(conn, MT_QUARANTINE) then
		M.fail(what .. ": a tempfailed mail was tagged or held")
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
function M.untouched(conn, what, rcpts)
	for _, op in ipairs({ MT_HDRADD, MT_HDRCHANGE, MT_HDRDELETE, MT_HDRINSERT,
	                      MT_BODYCHANGE, MT_QUARANTINE }) do
		if mt.eom_check(conn, op) then M.fail(what .. ": the filter changed the mail (op " .. op .. ")") end
	end
	for _, r in ipairs(rcpts or {}) do
		if mt.eom_check(conn, MT_RCPTDELETE, "<" .. r .. ">") then M.fail(what .. ": recipient " .. r .. " removed") end
	end
end

-- A tagged mail, nothing else: X-ATS-Ref added, not held, the recipients
-- kept.  Returns the token.
function M.expect_tagged(conn, rep, qid, what, rcpts)
	M.expect_reply(rep, SMFIR_CONTINUE, what)
	local tok = M.token_added(conn, qid)
	if mt.eom_check(conn, MT_QUARANTINE) then M.fail(what .. ": held") end
	for _, r in ipairs(rcpts or {}) do
		if mt.eom_check(conn, MT_RCPTDELETE, "<" .. r .. ">") then M.fail(what .. ": recipient " .. r .. " removed") end
	end
	return tok
end

return M

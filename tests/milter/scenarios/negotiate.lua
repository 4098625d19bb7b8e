-- negotiate.lua -- atsmaild asks for exactly the actions it uses and the
-- steps it needs, and refuses an MTA that cannot perform one of its
-- actions, or speaks an older protocol: the connection is closed (the
-- runner finds the refusal, naming what is missing, and the close in the
-- log).
local t = dofile(dir .. "/common.lua")

local conn = mt.connect(sock, 40, 0.25)
if conn == nil then t.fail("cannot connect to " .. sock) end
t.ok(mt.negotiate(conn, nil, nil, nil), "negotiate")
for _, a in ipairs({ SMFIF_ADDHDRS, SMFIF_CHGHDRS, SMFIF_DELRCPT, SMFIF_CHGFROM, SMFIF_QUARANTINE }) do
	if not mt.test_action(conn, a) then t.fail("action " .. a .. " was not requested") end
end
for _, a in ipairs({ SMFIF_CHGBODY, SMFIF_ADDRCPT, SMFIF_ADDRCPT_PAR }) do
	if mt.test_action(conn, a) then t.fail("action " .. a .. " requested but never used") end
end
-- steps it does not use are switched off (HELO, unknown commands, end of
-- headers, DATA), and it wants no reply to the connection and each header;
-- the ones it uses are not switched off
for _, o in ipairs({ SMFIP_NOHELO, SMFIP_NOUNKNOWN, SMFIP_NOEOH, SMFIP_NODATA,
                     SMFIP_NR_CONN, SMFIP_NR_HDR }) do
	if not mt.test_option(conn, o) then t.fail("step option " .. o .. " not set") end
end
for _, o in ipairs({ SMFIP_NOCONNECT, SMFIP_NOMAIL, SMFIP_NORCPT, SMFIP_NOHDRS, SMFIP_NOBODY,
                     SMFIP_NR_MAIL, SMFIP_NR_RCPT, SMFIP_NR_BODY }) do
	if mt.test_option(conn, o) then t.fail("a needed step or reply is switched off: " .. o) end
end
mt.disconnect(conn)

-- An MTA that offers every action but quarantine: refused.
local offered = SMFIF_ADDHDRS + SMFIF_CHGHDRS + SMFIF_DELRCPT + SMFIF_CHGFROM + SMFIF_ADDRCPT + SMFIF_CHGBODY
conn = mt.connect(sock, 40, 0.25)
if conn == nil then t.fail("cannot connect to " .. sock) end
-- Debian's miltertest takes (conn, version, steps, actions), not the order its man page gives
if mt.negotiate(conn, nil, nil, offered) == nil then
	t.fail("negotiation without SMFIF_QUARANTINE was accepted")
end
-- abrupt: the filter closed the connection, a QUIT would raise SIGPIPE
mt.disconnect(conn, false)

-- An MTA of protocol version 2 (Sendmail 8.13 and older, Postfix's
-- milter_protocol = 2): refused too.
conn = mt.connect(sock, 40, 0.25)
if conn == nil then t.fail("cannot connect to " .. sock) end
if mt.negotiate(conn, 2, nil, nil) == nil then
	t.fail("negotiation with protocol version 2 was accepted")
end
mt.disconnect(conn, false)
mt.echo("PASS negotiate")

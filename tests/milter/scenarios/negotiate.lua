-- negotiate.lua -- atsmail-milter asks for exactly the actions it uses and
-- refuses an MTA that cannot perform one of them.
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
-- steps it does not use are switched off, the ones it uses are not
for _, o in ipairs({ SMFIP_NOHELO, SMFIP_NOUNKNOWN, SMFIP_NOEOH }) do
	if not mt.test_option(conn, o) then t.fail("step option " .. o .. " not set") end
end
for _, o in ipairs({ SMFIP_NOCONNECT, SMFIP_NOMAIL, SMFIP_NORCPT, SMFIP_NOHDRS, SMFIP_NOBODY, SMFIP_NODATA }) do
	if mt.test_option(conn, o) then t.fail("a needed step is switched off: " .. o) end
end
mt.disconnect(conn)

-- An MTA that offers every action but quarantine: the filter refuses.
local offered = SMFIF_ADDHDRS + SMFIF_CHGHDRS + SMFIF_DELRCPT + SMFIF_CHGFROM + SMFIF_ADDRCPT + SMFIF_CHGBODY
conn = mt.connect(sock, 40, 0.25)
if conn == nil then t.fail("cannot connect to " .. sock) end
-- Debian's miltertest takes (conn, version, steps, actions), not the order its man page gives
local rv = mt.negotiate(conn, nil, nil, offered)
if rv == nil then
	t.fail("negotiation without SMFIF_QUARANTINE was accepted")
end
-- abrupt: the filter closed the connection, a QUIT would raise SIGPIPE
mt.disconnect(conn, false)
mt.echo("PASS negotiate")

-- 004-roles-rls.sql -- database roles, privileges and row-level security.
--
-- Group roles (NOLOGIN; give them to login roles with GRANT ... TO login):
--   atsmail_owner    owns schema atsmail and every object in it
--   atsmail_writer   milter, Dovecot plugin, notifyd, atsmailctl: read and
--                    write what they need, see every row; audit_log is
--                    INSERT/SELECT only
--   atsmail_reader   applications acting for one recruiter: SELECT only,
--                    messages filtered by row-level security
--   atsmail_app      a trusted application that acts for any recruiter
--                    (SET atsmail.acting_user = '<login>'); it is a reader
--   atsmail_auditor  SELECT on everything, private mail and the audit log
--                    included; nothing else
-- Sharing is enforced here, not only by callers: RLS is enabled and FORCEd
-- on messages and on every table that reveals one.  See docs/data-model.md.
-- Idempotent: roles are created only when missing; policies are dropped and
-- created again so that the definitions in this file always win (RLS
-- denies by default, so a moment without a policy shows nothing).

DO $$
DECLARE
	r text;
BEGIN
	FOREACH r IN ARRAY ARRAY['atsmail_owner', 'atsmail_writer', 'atsmail_reader',
	                         'atsmail_app', 'atsmail_auditor'] LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
			EXECUTE format('CREATE ROLE %I NOLOGIN', r);
		END IF;
	END LOOP;
	IF NOT pg_has_role('atsmail_app', 'atsmail_reader', 'MEMBER') THEN
		GRANT atsmail_reader TO atsmail_app;
	END IF;
END $$;

-- Hand every object to atsmail_owner, when the migrating role may do so
-- (a superuser, or a member of atsmail_owner that owns the object).
-- Sequences owned by a column move with their table.
DO $$
DECLARE
	r record;
	owner_oid oid := 'atsmail_owner'::regrole;
BEGIN
	IF NOT pg_has_role(current_user, owner_oid, 'MEMBER') THEN
		RAISE WARNING 'atsmail: % is not a member of atsmail_owner; objects keep their owner',
			current_user;
		RETURN;
	END IF;
	IF (SELECT nspowner FROM pg_namespace WHERE nspname = 'atsmail') <> owner_oid THEN
		ALTER SCHEMA atsmail OWNER TO atsmail_owner;
	END IF;
	FOR r IN
		SELECT c.oid::regclass AS rel,
		       CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
		            WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END AS what
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'atsmail' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
		  AND c.relowner <> owner_oid
		  AND pg_has_role(current_user, c.relowner, 'USAGE')
		  AND NOT EXISTS (SELECT 1 FROM pg_depend d
		                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
		                    AND d.deptype IN ('a', 'i'))
	LOOP
		EXECUTE format('ALTER %s %s OWNER TO atsmail_owner', r.what, r.rel);
	END LOOP;
	FOR r IN
		SELECT p.oid::regprocedure AS fn
		FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname = 'atsmail' AND p.proowner <> owner_oid
		  AND pg_has_role(current_user, p.proowner, 'USAGE')
	LOOP
		EXECUTE format('ALTER FUNCTION %s OWNER TO atsmail_owner', r.fn);
	END LOOP;
	-- objects that later migrations create as atsmail_owner
	ALTER DEFAULT PRIVILEGES FOR ROLE atsmail_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
	ALTER DEFAULT PRIVILEGES FOR ROLE atsmail_owner IN SCHEMA atsmail
		GRANT SELECT ON TABLES TO atsmail_auditor;
END $$;

-- ------------------------------------------------ who a session acts for
-- 1. a login role named in users.db_role acts as that user;
-- 2. a member of atsmail_app acts for the user whose login it SETs in
--    atsmail.acting_user;
-- 3. anybody else acts for nobody (sees shared items only).
-- SECURITY DEFINER so that the mapping is read whatever the caller may
-- read; session_user (the login), not current_user, so that SET ROLE
-- cannot borrow another login's mapping.
CREATE OR REPLACE FUNCTION atsmail.acting_user_id() RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	uid bigint;
	want text;
BEGIN
	SELECT id INTO uid FROM atsmail.users WHERE db_role = session_user::text AND active;
	IF FOUND THEN
		RETURN uid;
	END IF;
	IF pg_has_role(session_user, 'atsmail_app', 'MEMBER') THEN
		want := current_setting('atsmail.acting_user', true);
		IF want IS NOT NULL AND want <> '' THEN
			SELECT id INTO uid FROM atsmail.users WHERE login = want AND active;
			RETURN uid;
		END IF;
	END IF;
	RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION atsmail.acting_user_is_admin() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	SELECT coalesce((SELECT role = 'admin' FROM atsmail.users
	                 WHERE id = atsmail.acting_user_id()), false)
$$;

-- --------------------------------------------------------------- privileges
REVOKE ALL ON SCHEMA atsmail FROM PUBLIC;
GRANT USAGE ON SCHEMA atsmail TO atsmail_writer, atsmail_reader, atsmail_auditor;

REVOKE ALL ON ALL TABLES IN SCHEMA atsmail FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA atsmail FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA atsmail FROM PUBLIC;

-- auditor: read everything, nothing else
GRANT SELECT ON ALL TABLES IN SCHEMA atsmail TO atsmail_auditor;

-- reader: the records and (filtered) messages; not the audit log, the
-- outbox (its payloads describe private mail too) or the replay ledger
GRANT SELECT ON atsmail.users, atsmail.phases, atsmail.companies, atsmail.contacts,
	atsmail.resumes, atsmail.jobs, atsmail.processes, atsmail.phase_history,
	atsmail.addresses, atsmail.address_flags, atsmail.exclusion_domains,
	atsmail.intake_addresses, atsmail.phase_rules,
	atsmail.messages, atsmail.message_recipients, atsmail.message_links,
	atsmail.message_copies, atsmail.unresolved_items
	TO atsmail_reader;

-- writer: read, insert, update; delete only where a row is a correctable
-- fact rather than history
GRANT SELECT, INSERT, UPDATE ON atsmail.users, atsmail.phases, atsmail.companies,
	atsmail.contacts, atsmail.resumes, atsmail.jobs, atsmail.processes,
	atsmail.phase_history, atsmail.addresses, atsmail.address_flags,
	atsmail.exclusion_domains, atsmail.intake_addresses, atsmail.phase_rules,
	atsmail.messages, atsmail.message_recipients, atsmail.message_links,
	atsmail.message_copies, atsmail.unresolved_items, atsmail.journal_applied,
	atsmail.outbox
	TO atsmail_writer;
GRANT DELETE ON atsmail.addresses, atsmail.address_flags, atsmail.exclusion_domains,
	atsmail.intake_addresses, atsmail.phase_rules, atsmail.message_links,
	atsmail.message_copies, atsmail.outbox
	TO atsmail_writer;
GRANT SELECT, INSERT ON atsmail.audit_log TO atsmail_writer;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA atsmail TO atsmail_writer;

-- schema_migrations is created by the runner before 001; absent when these
-- files are run by hand
DO $$
BEGIN
	IF to_regclass('atsmail.schema_migrations') IS NOT NULL THEN
		REVOKE ALL ON atsmail.schema_migrations FROM PUBLIC;
		GRANT SELECT ON atsmail.schema_migrations TO atsmail_writer, atsmail_auditor;
	END IF;
END $$;

GRANT EXECUTE ON FUNCTION atsmail.acting_user_id(), atsmail.acting_user_is_admin(),
	atsmail.current_actor()
	TO atsmail_reader, atsmail_writer, atsmail_auditor;
GRANT EXECUTE ON FUNCTION atsmail.audit(text, text, text, text, jsonb) TO atsmail_writer;
GRANT EXECUTE ON FUNCTION atsmail.audit_verify(),
	atsmail.audit_canonical(bigint, timestamptz, text, text, text, text, jsonb),
	atsmail.audit_hash(bytea, text)
	TO atsmail_writer, atsmail_auditor;

-- ---------------------------------------------------------- row-level security
ALTER TABLE atsmail.messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE atsmail.messages FORCE ROW LEVEL SECURITY;
ALTER TABLE atsmail.message_recipients ENABLE ROW LEVEL SECURITY;
ALTER TABLE atsmail.message_recipients FORCE ROW LEVEL SECURITY;
ALTER TABLE atsmail.message_links ENABLE ROW LEVEL SECURITY;
ALTER TABLE atsmail.message_links FORCE ROW LEVEL SECURITY;
ALTER TABLE atsmail.message_copies ENABLE ROW LEVEL SECURITY;
ALTER TABLE atsmail.message_copies FORCE ROW LEVEL SECURITY;
ALTER TABLE atsmail.unresolved_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE atsmail.unresolved_items FORCE ROW LEVEL SECURITY;

-- Writers, the owner and auditors see every row (an explicit policy, not a
-- BYPASSRLS attribute, so that the rule is visible in pg_policies).
DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['messages', 'message_recipients', 'message_links',
	                         'message_copies', 'unresolved_items'] LOOP
		EXECUTE format('DROP POLICY IF EXISTS all_rows_writer ON atsmail.%I', t);
		EXECUTE format('CREATE POLICY all_rows_writer ON atsmail.%I FOR ALL'
		               ' TO atsmail_writer, atsmail_owner USING (true) WITH CHECK (true)', t);
		EXECUTE format('DROP POLICY IF EXISTS all_rows_auditor ON atsmail.%I', t);
		EXECUTE format('CREATE POLICY all_rows_auditor ON atsmail.%I FOR SELECT'
		               ' TO atsmail_auditor USING (true)', t);
	END LOOP;
END $$;

-- A reader sees: shared messages; its own; 'admins' messages when it acts
-- for an admin.  Private ones only when it acts for the owner.
DROP POLICY IF EXISTS reader_visible ON atsmail.messages;
CREATE POLICY reader_visible ON atsmail.messages FOR SELECT TO atsmail_reader
	USING (visibility = 'shared'
	       OR owner_id = (SELECT atsmail.acting_user_id())
	       OR (visibility = 'admins' AND (SELECT atsmail.acting_user_is_admin())));

-- The tables that reveal a message follow the message (the subquery on
-- messages is itself filtered by reader_visible).  A Bcc recipient is shown
-- to the message's owner only: the other recipients were not told either.
DROP POLICY IF EXISTS reader_visible ON atsmail.message_recipients;
CREATE POLICY reader_visible ON atsmail.message_recipients FOR SELECT TO atsmail_reader
	USING (EXISTS (SELECT 1 FROM atsmail.messages m
	               WHERE m.id = message_id
	                 AND (kind <> 'bcc' OR m.owner_id = (SELECT atsmail.acting_user_id()))));

DROP POLICY IF EXISTS reader_visible ON atsmail.message_links;
CREATE POLICY reader_visible ON atsmail.message_links FOR SELECT TO atsmail_reader
	USING (EXISTS (SELECT 1 FROM atsmail.messages m WHERE m.id = message_id));

DROP POLICY IF EXISTS reader_visible ON atsmail.message_copies;
CREATE POLICY reader_visible ON atsmail.message_copies FOR SELECT TO atsmail_reader
	USING (EXISTS (SELECT 1 FROM atsmail.messages m WHERE m.id = message_id));

DROP POLICY IF EXISTS reader_visible ON atsmail.unresolved_items;
CREATE POLICY reader_visible ON atsmail.unresolved_items FOR SELECT TO atsmail_reader
	USING (EXISTS (SELECT 1 FROM atsmail.messages m WHERE m.id = message_id));

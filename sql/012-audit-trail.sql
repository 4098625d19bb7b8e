-- 012-audit-trail.sql -- every change of owner, visibility, link or phase
-- is in the audit log, whoever makes it; readers see no phase history of
-- mail they may not read.
--
-- 003 audited what the record functions do (message.sent/received, the
-- phase_history rows, a visibility change of a message).  A writer's or
-- a superuser's ordinary statement went unaudited: moving a message to
-- another owner (after which another recruiter reads it), deleting a
-- message's links, setting a record's phase without a history row,
-- un-sharing a record.  Triggers close that, so the rule holds for any
-- path into the tables (docs/data-model.md, "Audit log"):
--
--   message.owner      messages.owner_id changed           one entry per row
--   record.owner       resumes/contacts/processes.owner_id one entry per row
--   record.shared      resumes/contacts.shared             one entry per row
--   message.linked     message_links inserted (on a message one entry per
--                      recorded earlier)
--   message.unlinked   message_links deleted                message and
--   message.relinked   message_links updated                statement
--   phase.changed      a phase UPDATE that no phase_history row of the same
--                      transaction explains (cause "direct_update"); the
--                      history row's own trigger (003) audits the others
--
-- The phase check runs at commit (a deferred constraint trigger): the
-- record functions update the phase first and insert the history row just
-- after, so only at commit is it known whether the history row came.  A
-- history row "of the same transaction" is one whose at is the
-- transaction's timestamp (phase_history.at defaults to now()).
-- Links are audited per statement (transition tables): one entry per
-- message and statement.  The links a message gets in the transaction
-- that inserts it are part of recording it, not a change: the record
-- functions' message.sent / message.received entry counts them and the
-- outbox event names them.  Auditing them again cost the recorder a
-- second chain entry per mail -- 35 to 60 % more time per batch of 200
-- (measured on the test machine), the chain's head row being updated
-- once per entry within the batch.  "This transaction" is the message
-- row's xmin (a message inserted in a subtransaction is audited: the
-- safe side).  Idempotent like every file of sql/.

-- ------------------------------------------------------------------ owners
CREATE OR REPLACE FUNCTION atsmail.audit_owner_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM atsmail.audit(NULL, TG_ARGV[1], TG_ARGV[0], NEW.id::text,
		jsonb_build_object('from', OLD.owner_id, 'to', NEW.owner_id));
	RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER messages_audit_owner
	AFTER UPDATE OF owner_id ON atsmail.messages
	FOR EACH ROW WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id)
	EXECUTE FUNCTION atsmail.audit_owner_change('message', 'message.owner');
CREATE OR REPLACE TRIGGER resumes_audit_owner
	AFTER UPDATE OF owner_id ON atsmail.resumes
	FOR EACH ROW WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id)
	EXECUTE FUNCTION atsmail.audit_owner_change('resume', 'record.owner');
CREATE OR REPLACE TRIGGER contacts_audit_owner
	AFTER UPDATE OF owner_id ON atsmail.contacts
	FOR EACH ROW WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id)
	EXECUTE FUNCTION atsmail.audit_owner_change('contact', 'record.owner');
CREATE OR REPLACE TRIGGER processes_audit_owner
	AFTER UPDATE OF owner_id ON atsmail.processes
	FOR EACH ROW WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id)
	EXECUTE FUNCTION atsmail.audit_owner_change('process', 'record.owner');

-- ------------------------------------------------- record visibility
CREATE OR REPLACE FUNCTION atsmail.audit_record_shared() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM atsmail.audit(NULL, 'record.shared', TG_ARGV[0], NEW.id::text,
		jsonb_build_object('from', OLD.shared, 'to', NEW.shared));
	RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER resumes_audit_shared
	AFTER UPDATE OF shared ON atsmail.resumes
	FOR EACH ROW WHEN (OLD.shared IS DISTINCT FROM NEW.shared)
	EXECUTE FUNCTION atsmail.audit_record_shared('resume');
CREATE OR REPLACE TRIGGER contacts_audit_shared
	AFTER UPDATE OF shared ON atsmail.contacts
	FOR EACH ROW WHEN (OLD.shared IS DISTINCT FROM NEW.shared)
	EXECUTE FUNCTION atsmail.audit_record_shared('contact');

-- ------------------------------------------------------------------ links
-- One entry per message the statement touched, naming its links.
CREATE OR REPLACE FUNCTION atsmail.audit_links() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	r record;
BEGIN
	IF TG_OP = 'INSERT' THEN
		-- not the links of a message this transaction inserted: they are
		-- part of recording it (below)
		FOR r IN SELECT n.message_id, jsonb_agg(jsonb_build_object('kind', n.target_kind,
				'id', n.target_id, 'rule', n.rule, 'ambiguous', n.ambiguous) ORDER BY n.id) AS links
			FROM new_rows n
			WHERE NOT EXISTS (SELECT 1 FROM atsmail.messages m WHERE m.id = n.message_id
				AND m.xmin::text = (pg_current_xact_id()::text::bigint % 4294967296)::text)
			GROUP BY n.message_id ORDER BY n.message_id LOOP
			PERFORM atsmail.audit(NULL, 'message.linked', 'message', r.message_id::text,
				jsonb_build_object('links', r.links));
		END LOOP;
	ELSIF TG_OP = 'DELETE' THEN
		FOR r IN SELECT message_id, jsonb_agg(jsonb_build_object('kind', target_kind,
				'id', target_id, 'rule', rule, 'ambiguous', ambiguous) ORDER BY id) AS links
			FROM old_rows GROUP BY message_id ORDER BY message_id LOOP
			PERFORM atsmail.audit(NULL, 'message.unlinked', 'message', r.message_id::text,
				jsonb_build_object('links', r.links));
		END LOOP;
	ELSE
		FOR r IN SELECT n.message_id, jsonb_agg(jsonb_build_object(
				'from', jsonb_build_object('message_id', o.message_id, 'kind', o.target_kind,
					'id', o.target_id, 'rule', o.rule, 'ambiguous', o.ambiguous),
				'to', jsonb_build_object('kind', n.target_kind, 'id', n.target_id,
					'rule', n.rule, 'ambiguous', n.ambiguous)) ORDER BY n.id) AS links
			FROM new_rows n JOIN old_rows o ON o.id = n.id
			WHERE (o.message_id, o.target_kind, o.target_id, o.rule, o.ambiguous)
				IS DISTINCT FROM (n.message_id, n.target_kind, n.target_id, n.rule, n.ambiguous)
			GROUP BY n.message_id ORDER BY n.message_id LOOP
			PERFORM atsmail.audit(NULL, 'message.relinked', 'message', r.message_id::text,
				jsonb_build_object('links', r.links));
		END LOOP;
	END IF;
	RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER message_links_audit_ins AFTER INSERT ON atsmail.message_links
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
	EXECUTE FUNCTION atsmail.audit_links();
CREATE OR REPLACE TRIGGER message_links_audit_del AFTER DELETE ON atsmail.message_links
	REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
	EXECUTE FUNCTION atsmail.audit_links();
CREATE OR REPLACE TRIGGER message_links_audit_upd AFTER UPDATE ON atsmail.message_links
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
	EXECUTE FUNCTION atsmail.audit_links();

-- ----------------------------------------------------------------- phases
-- At commit: a phase set without a phase_history row of this transaction
-- naming it is audited here (the history row's trigger audits the rest).
CREATE OR REPLACE FUNCTION atsmail.audit_phase_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM atsmail.phase_history h
	           WHERE h.kind = TG_ARGV[0] AND h.record_id = NEW.id
	             AND h.to_phase = NEW.phase AND h.at = now()) THEN
		RETURN NULL;
	END IF;
	PERFORM atsmail.audit(NULL, 'phase.changed', TG_ARGV[0], NEW.id::text,
		jsonb_build_object('from', OLD.phase, 'to', NEW.phase, 'cause', 'direct_update',
		                   'message_id', NULL, 'history_id', NULL));
	RETURN NULL;
END $$;
-- constraint triggers cannot be CREATE OR REPLACEd
DROP TRIGGER IF EXISTS resumes_audit_phase ON atsmail.resumes;
DROP TRIGGER IF EXISTS contacts_audit_phase ON atsmail.contacts;
DROP TRIGGER IF EXISTS processes_audit_phase ON atsmail.processes;
CREATE CONSTRAINT TRIGGER resumes_audit_phase AFTER UPDATE OF phase ON atsmail.resumes
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
	WHEN (OLD.phase IS DISTINCT FROM NEW.phase)
	EXECUTE FUNCTION atsmail.audit_phase_update('resume');
CREATE CONSTRAINT TRIGGER contacts_audit_phase AFTER UPDATE OF phase ON atsmail.contacts
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
	WHEN (OLD.phase IS DISTINCT FROM NEW.phase)
	EXECUTE FUNCTION atsmail.audit_phase_update('contact');
CREATE CONSTRAINT TRIGGER processes_audit_phase AFTER UPDATE OF phase ON atsmail.processes
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
	WHEN (OLD.phase IS DISTINCT FROM NEW.phase)
	EXECUTE FUNCTION atsmail.audit_phase_update('process');

-- ------------------------------------------ phase history follows the mail
-- A phase change caused by a mail a reader may not read is hidden from
-- that reader like the mail (the subquery on messages is itself filtered
-- by reader_visible); changes caused by no mail (manual, import) stay
-- visible.  Writers, the owner and auditors see every row, as on the
-- tables of 004.
ALTER TABLE atsmail.phase_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE atsmail.phase_history FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS all_rows_writer ON atsmail.phase_history;
CREATE POLICY all_rows_writer ON atsmail.phase_history FOR ALL
	TO atsmail_writer, atsmail_owner USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS all_rows_auditor ON atsmail.phase_history;
CREATE POLICY all_rows_auditor ON atsmail.phase_history FOR SELECT
	TO atsmail_auditor USING (true);
DROP POLICY IF EXISTS reader_visible ON atsmail.phase_history;
CREATE POLICY reader_visible ON atsmail.phase_history FOR SELECT TO atsmail_reader
	USING (message_id IS NULL
	       OR EXISTS (SELECT 1 FROM atsmail.messages m WHERE m.id = message_id));

-- Owned like the rest (004).  Nobody calls them: triggers run them.
DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'atsmail_owner')
	   AND pg_has_role(current_user, 'atsmail_owner', 'USAGE') THEN
		ALTER FUNCTION atsmail.audit_owner_change() OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.audit_record_shared() OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.audit_links() OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.audit_phase_update() OWNER TO atsmail_owner;
	END IF;
END $$;
REVOKE ALL ON FUNCTION atsmail.audit_owner_change(), atsmail.audit_record_shared(),
	atsmail.audit_links(), atsmail.audit_phase_update() FROM PUBLIC;

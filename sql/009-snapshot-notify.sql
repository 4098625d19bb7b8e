-- 009-snapshot-notify.sql -- tell atsmaild's snapshot what changed: every
-- INSERT, UPDATE, DELETE or TRUNCATE of a table the directory reads sends
-- one NOTIFY on channel atsmail_snapshot, naming the rows, and the
-- follower (lib/store/snapshot-follow.c) reads those rows again.
--
-- Payload "table:spec", one per statement (NOTIFY folds identical
-- payloads of one transaction into one):
--   resumes:1001,1002   the ids of the rows the statement touched (for
--                       message_links and message_recipients: the ids of
--                       their messages, which hold them in the snapshot)
--   resumes:+10040      a big INSERT: read the rows from this id on (the
--                       lowest id inserted; new rows have the highest ids)
--   resumes:*           read the table again: a TRUNCATE, an UPDATE or
--                       DELETE of more rows than a payload can name (past
--                       2000 ids or the 8000-byte payload limit), and
--                       always the small tables of policy data (phases,
--                       phase_rules, exclusion_domains, intake_addresses),
--                       which are read whole
-- Statement-level triggers with transition tables: a bulk statement of a
-- million rows costs one sort of its ids and one NOTIFY, not a million
-- NOTIFYs.
--
-- Privileges: the trigger function is SECURITY INVOKER and needs nothing
-- that atsmail_writer lacks -- a transition table needs no grant, and
-- pg_notify() is executable by everybody; PostgreSQL checks EXECUTE on a
-- trigger function when the trigger is created, not when it fires.
-- Who reads: the follower connects with db_conninfo, atsmaild's login, a
-- member of atsmail_writer, whose policy all_rows_writer (004) shows it
-- every row of the tables under row-level security (docs/snapshot.md).
-- Idempotent like every file of sql/.

CREATE OR REPLACE FUNCTION atsmail.snapshot_notify() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	-- the column that names a row in the snapshot; NULL: read the table whole
	col text := TG_ARGV[0];
	ids_max constant integer := 2000;       -- ids named at most
	payload_max constant integer := 7900;   -- under NOTIFY's 8000 bytes
	ids bigint[];
	payload text;
BEGIN
	IF col IS NULL OR TG_OP = 'TRUNCATE' THEN
		PERFORM pg_notify('atsmail_snapshot', TG_TABLE_NAME || ':*');
		RETURN NULL;
	END IF;
	-- Static statements, one per event and column, not EXECUTE: their
	-- plans are kept for the session (PL/pgSQL keeps a function's plans
	-- per table the trigger is on), where a dynamic statement was parsed
	-- and planned at every firing -- a third of a millisecond, three times
	-- per recorded mail (docs/benchmarks-plugin.md).  Sorting the ids of
	-- a bulk statement costs little beside the statement itself.
	IF col = 'id' THEN
		CASE TG_OP
		WHEN 'INSERT' THEN
			ids := ARRAY(SELECT DISTINCT id FROM new_rows ORDER BY 1);
		WHEN 'DELETE' THEN
			ids := ARRAY(SELECT DISTINCT id FROM old_rows ORDER BY 1);
		ELSE
			ids := ARRAY(SELECT id FROM old_rows UNION SELECT id FROM new_rows ORDER BY 1);
		END CASE;
	ELSIF col = 'message_id' THEN
		CASE TG_OP
		WHEN 'INSERT' THEN
			ids := ARRAY(SELECT DISTINCT message_id FROM new_rows ORDER BY 1);
		WHEN 'DELETE' THEN
			ids := ARRAY(SELECT DISTINCT message_id FROM old_rows ORDER BY 1);
		ELSE
			ids := ARRAY(SELECT message_id FROM old_rows UNION
				SELECT message_id FROM new_rows ORDER BY 1);
		END CASE;
	ELSE
		RAISE EXCEPTION 'snapshot_notify: no statement for column %', col;
	END IF;
	IF cardinality(ids) = 0 THEN
		RETURN NULL;           -- the statement touched no row
	END IF;
	IF cardinality(ids) <= ids_max THEN
		payload := TG_TABLE_NAME || ':' || array_to_string(ids, ',');
	END IF;
	IF payload IS NULL OR length(payload) > payload_max THEN
		payload := TG_TABLE_NAME || CASE WHEN TG_OP = 'INSERT' THEN ':+' || ids[1] ELSE ':*' END;
	END IF;
	PERFORM pg_notify('atsmail_snapshot', payload);
	RETURN NULL;
END $$;

-- Four triggers per table (transition tables allow one event per trigger).
DO $$
DECLARE
	t record;
BEGIN
	FOR t IN SELECT * FROM (VALUES
		('users', 'id'), ('addresses', 'id'), ('resumes', 'id'), ('contacts', 'id'),
		('jobs', 'id'), ('processes', 'id'), ('unresolved_items', 'id'),
		('messages', 'id'), ('message_links', 'message_id'),
		('message_recipients', 'message_id'),
		('phases', NULL), ('phase_rules', NULL), ('exclusion_domains', NULL),
		('intake_addresses', NULL)) AS v(tab, col)
	LOOP
		IF t.col IS NULL THEN
			EXECUTE format('CREATE OR REPLACE TRIGGER snapshot_notify AFTER INSERT OR UPDATE'
				' OR DELETE OR TRUNCATE ON atsmail.%I FOR EACH STATEMENT'
				' EXECUTE FUNCTION atsmail.snapshot_notify()', t.tab);
			CONTINUE;
		END IF;
		EXECUTE format('CREATE OR REPLACE TRIGGER snapshot_notify_ins AFTER INSERT ON atsmail.%I'
			' REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT'
			' EXECUTE FUNCTION atsmail.snapshot_notify(%L)', t.tab, t.col);
		EXECUTE format('CREATE OR REPLACE TRIGGER snapshot_notify_upd AFTER UPDATE ON atsmail.%I'
			' REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT'
			' EXECUTE FUNCTION atsmail.snapshot_notify(%L)', t.tab, t.col);
		EXECUTE format('CREATE OR REPLACE TRIGGER snapshot_notify_del AFTER DELETE ON atsmail.%I'
			' REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT'
			' EXECUTE FUNCTION atsmail.snapshot_notify(%L)', t.tab, t.col);
		EXECUTE format('CREATE OR REPLACE TRIGGER snapshot_notify_trunc AFTER TRUNCATE'
			' ON atsmail.%I FOR EACH STATEMENT EXECUTE FUNCTION atsmail.snapshot_notify(%L)',
			t.tab, t.col);
	END LOOP;
END $$;

-- Owned like the rest (004).  Nobody calls it: triggers run it.
DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'atsmail_owner')
	   AND pg_has_role(current_user, 'atsmail_owner', 'USAGE') THEN
		ALTER FUNCTION atsmail.snapshot_notify() OWNER TO atsmail_owner;
	END IF;
END $$;
REVOKE ALL ON FUNCTION atsmail.snapshot_notify() FROM PUBLIC;

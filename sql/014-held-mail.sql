-- 014-held-mail.sql -- mail held for approval is recorded as held, not as
-- sent: its phase changes and its message.sent event wait for a release.
--
-- A user with needs_approval sends ATS mail; atsmaild's milter puts it in
-- Postfix's hold queue (SMFIR_QUARANTINE) and journals its record with
-- "held": true, the Postfix queue id and the reason (docs/journal.md).
-- Until this file, atsmail.record_outbound() recorded it like any sent
-- mail: phases moved, processes were made and message.sent went to the
-- ATS before anyone approved it.  Now (docs/data-model.md, "Held mail"):
--
--   messages.status      'recorded' (every mail so far), 'held' (waits in
--                        Postfix's hold queue), 'released', 'rejected'
--   held_messages        one row per held mail: queue id, reason, when,
--                        the pending part of its record (the "procs" and
--                        "phases" of its payload), and the decision
--   record_outbound(p)   a held payload records the message, recipients
--                        and links to records that exist, one held_messages
--                        row and the audit entry message.held; no phase,
--                        no process, no outbox event
--   held_release(id, actor)   (atsmailctl held release, after postsuper -H)
--                        applies the pending procs and phases exactly as
--                        record_outbound would have, links the processes it
--                        made, sends message.sent and phase.changed to the
--                        outbox and writes message.sent to the audit log
--   held_reject(id, actor, reason)   (atsmailctl held reject, after
--                        postsuper -d) marks it rejected: nothing else
--                        happens, and message.rejected is audited
-- A status change by any other path is audited too (message.status).
-- The approval workflow around this -- who may approve, telling the
-- approver -- is issue 13 (docs/data-model.md).  Idempotent like every
-- file of sql/.

ALTER TABLE atsmail.messages ADD COLUMN IF NOT EXISTS status text NOT NULL DEFAULT 'recorded'
	CONSTRAINT messages_status_check
	CHECK (status IN ('recorded', 'held', 'released', 'rejected'));

CREATE TABLE IF NOT EXISTS atsmail.held_messages (
	message_id bigint PRIMARY KEY REFERENCES atsmail.messages (id) ON DELETE CASCADE,
	-- Postfix's queue id, what postsuper -H / -d take (NULL: the milter
	-- was not told it; the mail is then released or deleted by hand)
	queue_id   text CHECK (queue_id ~ '^[0-9A-Za-z]{1,64}$'),
	reason     text,
	held_at    timestamptz NOT NULL DEFAULT now(),
	pending    jsonb NOT NULL DEFAULT '{}',   -- {"procs": [...], "phases": [...]}
	decision   text CHECK (decision IN ('released', 'rejected')),
	decided_by text,
	decided_at timestamptz,
	CHECK ((decision IS NULL) = (decided_at IS NULL))
);
CREATE INDEX IF NOT EXISTS held_messages_open_idx
	ON atsmail.held_messages (held_at) WHERE decision IS NULL;

-- ------------------------------------------------------------------ audit
CREATE OR REPLACE FUNCTION atsmail.audit_message_status() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM atsmail.audit(NULL, 'message.status', 'message', NEW.id::text,
		jsonb_build_object('from', OLD.status, 'to', NEW.status));
	RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER messages_audit_status
	AFTER UPDATE OF status ON atsmail.messages
	FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
	EXECUTE FUNCTION atsmail.audit_message_status();

-- --------------------------------------------- the phases a sent mail sets
-- ats+job processes (made, or moved) and ats+phase phases of one recorded
-- message, as record_outbound applies them: returns {"events": the
-- phase.changed events, "new_procs": the processes made or found made,
-- "created": how many this call made}.
CREATE OR REPLACE FUNCTION atsmail.record_outbound_apply(mid bigint, uid bigint,
	p_procs jsonb, p_phases jsonb) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	pr jsonb;
	ph jsonb;
	pid bigint;
	new_procs bigint[] := '{}';
	created integer := 0;
	events jsonb := '[]';
BEGIN
	FOR pr IN SELECT * FROM jsonb_array_elements(coalesce(p_procs, '[]')) LOOP
		pid := NULL;
		IF (pr->>'process')::bigint = 0 THEN
			INSERT INTO atsmail.processes (resume_id, job_id, phase, owner_id)
				VALUES ((pr->>'resume')::bigint, (pr->>'job')::bigint, pr->>'to', uid)
				ON CONFLICT (resume_id, job_id) DO NOTHING RETURNING id INTO pid;
			IF pid IS NOT NULL THEN
				created := created + 1;
				new_procs := new_procs || pid;
				events := events || atsmail.record_outbound_history(
					'process', pid, NULL, pr->>'to', uid, mid);
				CONTINUE;
			END IF;
			-- made meanwhile (by an earlier entry): move it like an existing one
		END IF;
		SELECT id INTO pid FROM atsmail.processes
			WHERE resume_id = (pr->>'resume')::bigint AND job_id = (pr->>'job')::bigint;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'outbound record: the selection process of resume % and job % '
				'vanished', pr->>'resume', pr->>'job';
		END IF;
		IF (pr->>'process')::bigint = 0 THEN
			new_procs := new_procs || pid;   -- not in the plan's links
		END IF;
		IF pr->>'to' <> '' THEN
			events := events || atsmail.record_outbound_phase('process', pid, pr->>'to',
				uid, mid);
		END IF;
	END LOOP;
	FOR ph IN SELECT * FROM jsonb_array_elements(coalesce(p_phases, '[]')) LOOP
		events := events || atsmail.record_outbound_phase(ph->>'kind',
			CASE WHEN ph->>'kind' = 'process' AND (ph->>'id')::bigint = 0
				THEN atsmail.process_ref(ph) ELSE (ph->>'id')::bigint END,
			ph->>'to', uid, mid);
	END LOOP;
	RETURN jsonb_build_object('events', events, 'new_procs', to_jsonb(new_procs),
		'created', created);
END $$;

-- ---- outbound.record ------------------------------------------------------
-- As 010's, and a payload with "held": true is recorded as held (above).
CREATE OR REPLACE FUNCTION atsmail.record_outbound(p jsonb) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	mid bigint;
	uid bigint := (p->>'owner')::bigint;
	held boolean := coalesce((p->>'held')::boolean, false);
	applied jsonb;
	events jsonb := '[]';
	created integer := 0;
	links jsonb := coalesce(p->'links', '[]');
	n_links integer;
	refs text[] := ARRAY(SELECT jsonb_array_elements_text(coalesce(p->'refs', '[]')));
	thread bigint;
BEGIN
	PERFORM set_config('atsmail.actor', p->>'actor', true);
	-- the key, unless it was applied before or the Message-ID is already
	-- recorded as sent (the same mail submitted twice): then nothing at
	-- all is recorded, not even the key, in the same one statement
	INSERT INTO atsmail.journal_applied (idempotency_key)
		SELECT p->>'key' WHERE NOT EXISTS (SELECT 1 FROM atsmail.messages m
			WHERE m.rfc_message_id = p->>'message_id' AND m.direction = 'out')
		ON CONFLICT DO NOTHING;
	IF NOT FOUND THEN
		RETURN 0;
	END IF;
	IF jsonb_path_exists(p, '$.*[*].addr') THEN   -- resumes named by address
		p := atsmail.resume_refs(p);
		links := coalesce(p->'links', '[]');
	END IF;
	-- the thread (010 says why the query is written so)
	IF cardinality(refs) > 0 THEN
		SELECT coalesce(t.thread_id, t.id) INTO thread
		FROM (SELECT m.id, m.thread_id FROM atsmail.messages m
		      WHERE m.rfc_message_id = ANY(refs) OFFSET 0) t
		ORDER BY t.id LIMIT 1;
	END IF;
	INSERT INTO atsmail.messages (direction, rfc_message_id, thread_id, thread_root,
		owner_id, counterparts, subject, sent_at, size, body_sha256, token, visibility,
		visibility_reason, idempotency_key, status)
	VALUES ('out', p->>'message_id', thread,
		p->'refs'->>0, uid,
		ARRAY(SELECT jsonb_array_elements_text(p->'counterparts')), p->>'subject',
		CASE WHEN (p->>'sent')::bigint > 0 THEN to_timestamp((p->>'sent')::bigint) ELSE now() END,
		(p->>'size')::bigint, decode(nullif(p->>'sha256', ''), 'hex'),
		nullif(p->>'token', ''), p->>'visibility', p->>'reason', p->>'key',
		CASE WHEN held THEN 'held' ELSE 'recorded' END)
	ON CONFLICT DO NOTHING RETURNING id INTO mid;
	IF mid IS NULL THEN
		-- recorded meanwhile by another host's recorder: the batch goes on
		RETURN 0;
	END IF;

	INSERT INTO atsmail.message_recipients (message_id, address, kind)
		SELECT mid, r->>'a', r->>'k' FROM jsonb_array_elements(p->'rcpts') AS r
		ON CONFLICT DO NOTHING;

	IF links @> '[{"kind": "process", "id": 0}]' THEN
		links := atsmail.record_links(links);
	END IF;
	IF held THEN
		-- processes and phases wait for the release, and so do the links
		-- to the processes it makes (the links here name records that exist)
		INSERT INTO atsmail.held_messages (message_id, queue_id, reason, pending)
			VALUES (mid, nullif(p->>'queue_id', ''), nullif(p->>'hold_reason', ''),
				jsonb_build_object('procs', coalesce(p->'procs', '[]'),
					'phases', coalesce(p->'phases', '[]')));
	ELSE
		applied := atsmail.record_outbound_apply(mid, uid, p->'procs', p->'phases');
		events := applied->'events';
		created := (applied->>'created')::integer;
		links := links || coalesce((SELECT jsonb_agg(jsonb_build_object(
			'kind', 'process', 'id', x, 'rule', 'command', 'ambiguous', false) ORDER BY o)
			FROM jsonb_array_elements(applied->'new_procs') WITH ORDINALITY AS t(x, o)), '[]');
	END IF;
	n_links := jsonb_array_length(links);
	INSERT INTO atsmail.message_links (message_id, target_kind, target_id, rule, ambiguous)
		SELECT mid, l->>'kind', (l->>'id')::bigint, l->>'rule', (l->>'ambiguous')::boolean
		FROM jsonb_array_elements(links) AS l
		ON CONFLICT DO NOTHING;

	IF held THEN
		PERFORM atsmail.audit(p->>'actor', 'message.held', 'message', mid::text,
			jsonb_build_object('visibility', p->>'visibility', 'reason', p->>'reason',
				'queue_id', p->>'queue_id', 'hold_reason', p->>'hold_reason',
				'recipients', (p->>'recipients')::bigint, 'links', n_links,
				'pending_processes', jsonb_array_length(coalesce(p->'procs', '[]')),
				'pending_phases', jsonb_array_length(coalesce(p->'phases', '[]')),
				'idempotency_key', p->>'key'));
		RETURN mid;
	END IF;
	-- message.sent names ids, never subject, addresses or body; one
	-- statement for it and the phase.changed events
	INSERT INTO atsmail.outbox (event_type, payload)
		SELECT 'message.sent', jsonb_build_object('message_id', mid, 'direction', 'out',
			'owner_id', uid, 'visibility', p->>'visibility', 'links', links,
			'token', nullif(p->>'token', ''))
		UNION ALL
		SELECT 'phase.changed', ev FROM jsonb_array_elements(events) AS ev;
	-- last: the chain's lock is held from here to the commit
	PERFORM atsmail.audit(p->>'actor', 'message.sent', 'message', mid::text,
		jsonb_build_object('visibility', p->>'visibility', 'reason', p->>'reason',
			'recipients', (p->>'recipients')::bigint, 'links', n_links,
			'phase_changes', jsonb_array_length(events),
			'processes_created', created, 'idempotency_key', p->>'key'));
	RETURN mid;
END $$;

-- ------------------------------------------------------ release, reject
-- The held mail of message p_id, locked; raises when there is none or it
-- was decided already.
CREATE OR REPLACE FUNCTION atsmail.held_lock(p_id bigint) RETURNS atsmail.held_messages
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	h atsmail.held_messages;
BEGIN
	SELECT * INTO h FROM atsmail.held_messages WHERE message_id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'message % was never held for approval', p_id
			USING ERRCODE = 'AS002';
	END IF;
	IF h.decision IS NOT NULL THEN
		RAISE EXCEPTION 'held message % was % already (by %, at %)', p_id, h.decision,
			h.decided_by, h.decided_at USING ERRCODE = 'AS002';
	END IF;
	RETURN h;
END $$;

-- Postfix has released the mail (postsuper -H): record it as sent now.
-- Returns {"message_id", "queue_id", "phase_changes", "processes_created",
-- "links"}.
CREATE OR REPLACE FUNCTION atsmail.held_release(p_id bigint, p_actor text) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	h atsmail.held_messages;
	m atsmail.messages;
	applied jsonb;
	added jsonb;
	links jsonb;
BEGIN
	PERFORM set_config('atsmail.actor', p_actor, true);
	h := atsmail.held_lock(p_id);
	SELECT * INTO m FROM atsmail.messages WHERE id = p_id FOR UPDATE;
	applied := atsmail.record_outbound_apply(m.id, m.owner_id, h.pending->'procs',
		h.pending->'phases');
	added := coalesce((SELECT jsonb_agg(jsonb_build_object('kind', 'process', 'id', x,
		'rule', 'command', 'ambiguous', false) ORDER BY o)
		FROM jsonb_array_elements(applied->'new_procs') WITH ORDINALITY AS t(x, o)), '[]');
	INSERT INTO atsmail.message_links (message_id, target_kind, target_id, rule, ambiguous)
		SELECT m.id, l->>'kind', (l->>'id')::bigint, l->>'rule', (l->>'ambiguous')::boolean
		FROM jsonb_array_elements(added) AS l
		ON CONFLICT DO NOTHING;
	SELECT coalesce(jsonb_agg(jsonb_build_object('kind', target_kind, 'id', target_id,
		'rule', rule, 'ambiguous', ambiguous) ORDER BY id), '[]') INTO links
		FROM atsmail.message_links WHERE message_id = m.id;
	UPDATE atsmail.held_messages SET decision = 'released', decided_by = p_actor,
		decided_at = now() WHERE message_id = m.id;
	UPDATE atsmail.messages SET status = 'released', sent_at = now() WHERE id = m.id;
	INSERT INTO atsmail.outbox (event_type, payload)
		SELECT 'message.sent', jsonb_build_object('message_id', m.id, 'direction', 'out',
			'owner_id', m.owner_id, 'visibility', m.visibility, 'links', links,
			'token', m.token, 'released_by', p_actor)
		UNION ALL
		SELECT 'phase.changed', ev FROM jsonb_array_elements(applied->'events') AS ev;
	PERFORM atsmail.audit(p_actor, 'message.sent', 'message', m.id::text,
		jsonb_build_object('visibility', m.visibility, 'reason', m.visibility_reason,
			'released_by', p_actor, 'queue_id', h.queue_id, 'held_at', h.held_at,
			'links', jsonb_array_length(links),
			'phase_changes', jsonb_array_length(applied->'events'),
			'processes_created', (applied->>'created')::integer,
			'idempotency_key', m.idempotency_key));
	RETURN jsonb_build_object('message_id', m.id, 'queue_id', h.queue_id,
		'phase_changes', jsonb_array_length(applied->'events'),
		'processes_created', (applied->>'created')::integer,
		'links', jsonb_array_length(links));
END $$;

-- Postfix has deleted the mail (postsuper -d): record it as rejected.
CREATE OR REPLACE FUNCTION atsmail.held_reject(p_id bigint, p_actor text, p_reason text)
	RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	h atsmail.held_messages;
BEGIN
	PERFORM set_config('atsmail.actor', p_actor, true);
	h := atsmail.held_lock(p_id);
	UPDATE atsmail.held_messages SET decision = 'rejected', decided_by = p_actor,
		decided_at = now() WHERE message_id = p_id;
	UPDATE atsmail.messages SET status = 'rejected' WHERE id = p_id;
	PERFORM atsmail.audit(p_actor, 'message.rejected', 'message', p_id::text,
		jsonb_build_object('rejected_by', p_actor, 'queue_id', h.queue_id,
			'held_at', h.held_at, 'reason', p_reason,
			'pending_processes', jsonb_array_length(coalesce(h.pending->'procs', '[]')),
			'pending_phases', jsonb_array_length(coalesce(h.pending->'phases', '[]'))));
	RETURN jsonb_build_object('message_id', p_id, 'queue_id', h.queue_id);
END $$;

-- --------------------------------------------------- privileges, sharing
GRANT SELECT, INSERT, UPDATE ON atsmail.held_messages TO atsmail_writer;
GRANT SELECT ON atsmail.held_messages TO atsmail_auditor, atsmail_reader;
ALTER TABLE atsmail.held_messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE atsmail.held_messages FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS all_rows_writer ON atsmail.held_messages;
CREATE POLICY all_rows_writer ON atsmail.held_messages FOR ALL
	TO atsmail_writer, atsmail_owner USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS all_rows_auditor ON atsmail.held_messages;
CREATE POLICY all_rows_auditor ON atsmail.held_messages FOR SELECT
	TO atsmail_auditor USING (true);
DROP POLICY IF EXISTS reader_visible ON atsmail.held_messages;
CREATE POLICY reader_visible ON atsmail.held_messages FOR SELECT TO atsmail_reader
	USING (EXISTS (SELECT 1 FROM atsmail.messages m WHERE m.id = message_id));

DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'atsmail_owner')
	   AND pg_has_role(current_user, 'atsmail_owner', 'USAGE') THEN
		IF (SELECT relowner FROM pg_class WHERE oid = 'atsmail.held_messages'::regclass)
				<> 'atsmail_owner'::regrole THEN
			ALTER TABLE atsmail.held_messages OWNER TO atsmail_owner;
		END IF;
		ALTER FUNCTION atsmail.audit_message_status() OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.record_outbound_apply(bigint, bigint, jsonb, jsonb)
			OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.record_outbound(jsonb) OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.held_lock(bigint) OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.held_release(bigint, text) OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.held_reject(bigint, text, text) OWNER TO atsmail_owner;
	END IF;
END $$;
REVOKE ALL ON FUNCTION atsmail.audit_message_status(),
	atsmail.record_outbound_apply(bigint, bigint, jsonb, jsonb),
	atsmail.held_lock(bigint), atsmail.held_release(bigint, text),
	atsmail.held_reject(bigint, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION atsmail.record_outbound_apply(bigint, bigint, jsonb, jsonb),
	atsmail.held_lock(bigint), atsmail.held_release(bigint, text),
	atsmail.held_reject(bigint, text, text) TO atsmail_writer;

-- 005-record-outbound.sql -- atsmail.record_outbound(payload jsonb): the
-- whole record of one sent ATS mail (lib/outbound/record.c) as one call, so
-- that the milter pays one round trip per mail instead of about ten, and
-- the audit chain's lock (taken by the last statement) is held only for
-- the instant between that statement and the commit of the same call.
--
-- The payload (built by atsm_out_record(), never by hand):
--   actor, key, message_id, refs[] (References then In-Reply-To ids),
--   owner (users.id), counterparts[], subject, sent (unix time, 0 = now),
--   size, sha256 (hex or ""), token ("" = none), visibility, reason,
--   rcpts[{a, k}], procs[{resume, job, process, to}],
--   phases[{kind, id, to}] (resumes and contacts), links[{kind, id, rule,
--   ambiguous}], recipients (count of counterparts).
-- Returns the new messages.id, or 0 when the idempotency key was already
-- applied.  A Message-ID already recorded as sent raises SQLSTATE AS001
-- ("already recorded"), so that the journal key written just before is
-- rolled back with everything else.  SECURITY INVOKER: only the caller's
-- privileges (atsmail_writer's) are used, as with the single statements.
-- Idempotent like every file of sql/.

CREATE OR REPLACE FUNCTION atsmail.record_outbound(p jsonb) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	mid bigint;
	uid bigint := (p->>'owner')::bigint;
	pr jsonb;
	ph jsonb;
	pid bigint;
	new_procs bigint[] := '{}';
	created integer := 0;
	events jsonb := '[]';
	links jsonb;
	n_links integer;
	ev jsonb;
BEGIN
	PERFORM set_config('atsmail.actor', p->>'actor', true);
	INSERT INTO atsmail.journal_applied (idempotency_key) VALUES (p->>'key')
		ON CONFLICT DO NOTHING;
	IF NOT FOUND THEN
		RETURN 0;
	END IF;
	INSERT INTO atsmail.messages (direction, rfc_message_id, thread_id, thread_root,
		owner_id, counterparts, subject, sent_at, size, body_sha256, token, visibility,
		visibility_reason, idempotency_key)
	VALUES ('out', p->>'message_id',
		(SELECT coalesce(m.thread_id, m.id) FROM atsmail.messages m
		 WHERE m.rfc_message_id = ANY(ARRAY(SELECT jsonb_array_elements_text(p->'refs')))
		 ORDER BY m.id LIMIT 1),
		p->'refs'->>0, uid,
		ARRAY(SELECT jsonb_array_elements_text(p->'counterparts')), p->>'subject',
		CASE WHEN (p->>'sent')::bigint > 0 THEN to_timestamp((p->>'sent')::bigint) ELSE now() END,
		(p->>'size')::bigint, decode(nullif(p->>'sha256', ''), 'hex'),
		nullif(p->>'token', ''), p->>'visibility', p->>'reason', p->>'key')
	ON CONFLICT DO NOTHING RETURNING id INTO mid;
	IF mid IS NULL THEN
		RAISE EXCEPTION 'outbound record: Message-ID % is already recorded', p->>'message_id'
			USING ERRCODE = 'AS001';
	END IF;

	INSERT INTO atsmail.message_recipients (message_id, address, kind)
		SELECT mid, r->>'a', r->>'k' FROM jsonb_array_elements(p->'rcpts') AS r
		ON CONFLICT DO NOTHING;

	-- ats+job: create the process, or move the existing one
	FOR pr IN SELECT * FROM jsonb_array_elements(p->'procs') LOOP
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
			-- made meanwhile by another mail: move it like an existing one
		END IF;
		SELECT id INTO pid FROM atsmail.processes
			WHERE resume_id = (pr->>'resume')::bigint AND job_id = (pr->>'job')::bigint;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'outbound record: a selection process vanished';
		END IF;
		IF (pr->>'process')::bigint = 0 THEN
			new_procs := new_procs || pid;   -- not in the plan's links
		END IF;
		IF pr->>'to' <> '' THEN
			events := events || atsmail.record_outbound_phase('process', pid, pr->>'to',
				uid, mid);
		END IF;
	END LOOP;
	-- processes were moved above, from the same plan
	FOR ph IN SELECT * FROM jsonb_array_elements(p->'phases') LOOP
		events := events || atsmail.record_outbound_phase(ph->>'kind', (ph->>'id')::bigint,
			ph->>'to', uid, mid);
	END LOOP;

	links := coalesce(p->'links', '[]') || coalesce((SELECT jsonb_agg(jsonb_build_object(
		'kind', 'process', 'id', x, 'rule', 'command', 'ambiguous', false) ORDER BY o)
		FROM unnest(new_procs) WITH ORDINALITY AS t(x, o)), '[]');
	n_links := jsonb_array_length(links);
	INSERT INTO atsmail.message_links (message_id, target_kind, target_id, rule, ambiguous)
		SELECT mid, l->>'kind', (l->>'id')::bigint, l->>'rule', (l->>'ambiguous')::boolean
		FROM jsonb_array_elements(links) AS l
		ON CONFLICT DO NOTHING;

	-- message.sent names ids, never subject, addresses or body
	INSERT INTO atsmail.outbox (event_type, payload) VALUES ('message.sent',
		jsonb_build_object('message_id', mid, 'direction', 'out', 'owner_id', uid,
			'visibility', p->>'visibility', 'links', links,
			'token', nullif(p->>'token', '')));
	FOR ev IN SELECT * FROM jsonb_array_elements(events) LOOP
		INSERT INTO atsmail.outbox (event_type, payload) VALUES ('phase.changed', ev);
	END LOOP;
	-- last: the chain's lock is held from here to the commit
	PERFORM atsmail.audit(p->>'actor', 'message.sent', 'message', mid::text,
		jsonb_build_object('visibility', p->>'visibility', 'reason', p->>'reason',
			'recipients', (p->>'recipients')::bigint, 'links', n_links,
			'phase_changes', jsonb_array_length(events),
			'processes_created', created, 'idempotency_key', p->>'key'));
	RETURN mid;
END $$;

-- The history row (its trigger writes the audit entry); returns the
-- phase.changed event as a one-element array.
CREATE OR REPLACE FUNCTION atsmail.record_outbound_history(p_kind text, p_id bigint,
	p_from text, p_to text, p_actor bigint, p_message bigint) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	INSERT INTO atsmail.phase_history (kind, record_id, from_phase, to_phase, cause,
		actor_id, message_id)
		VALUES (p_kind, p_id, p_from, p_to, 'mail_sent', p_actor, p_message);
	RETURN jsonb_build_array(jsonb_build_object('kind', p_kind, 'record_id', p_id,
		'from', p_from, 'to', p_to, 'cause', 'mail_sent', 'message_id', p_message,
		'actor_id', p_actor));
END $$;

-- Set the phase of one record, re-read under a row lock (the plan's view
-- may be old: replay); no change, no row and no event ('[]').
CREATE OR REPLACE FUNCTION atsmail.record_outbound_phase(p_kind text, p_id bigint,
	p_to text, p_actor bigint, p_message bigint) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	cur text;
BEGIN
	IF p_kind = 'resume' THEN
		SELECT phase INTO cur FROM atsmail.resumes WHERE id = p_id FOR UPDATE;
	ELSIF p_kind = 'contact' THEN
		SELECT phase INTO cur FROM atsmail.contacts WHERE id = p_id FOR UPDATE;
	ELSE
		SELECT phase INTO cur FROM atsmail.processes WHERE id = p_id FOR UPDATE;
	END IF;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'outbound record: % % no longer exists', p_kind, p_id;
	END IF;
	IF cur = p_to THEN
		RETURN '[]';
	END IF;
	IF p_kind = 'resume' THEN
		UPDATE atsmail.resumes SET phase = p_to, phase_date = current_date,
			updated_at = now() WHERE id = p_id;
	ELSIF p_kind = 'contact' THEN
		UPDATE atsmail.contacts SET phase = p_to, phase_date = current_date,
			updated_at = now() WHERE id = p_id;
	ELSE
		UPDATE atsmail.processes SET phase = p_to, phase_date = current_date,
			updated_at = now() WHERE id = p_id;
	END IF;
	RETURN atsmail.record_outbound_history(p_kind, p_id, cur, p_to, p_actor, p_message);
END $$;

-- Owned like the rest (004), callable by writers only.
DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'atsmail_owner')
	   AND pg_has_role(current_user, 'atsmail_owner', 'USAGE') THEN
		ALTER FUNCTION atsmail.record_outbound(jsonb) OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.record_outbound_history(text, bigint, text, text, bigint, bigint)
			OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.record_outbound_phase(text, bigint, text, bigint, bigint)
			OWNER TO atsmail_owner;
	END IF;
END $$;
REVOKE ALL ON FUNCTION atsmail.record_outbound(jsonb),
	atsmail.record_outbound_history(text, bigint, text, text, bigint, bigint),
	atsmail.record_outbound_phase(text, bigint, text, bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION atsmail.record_outbound(jsonb),
	atsmail.record_outbound_history(text, bigint, text, text, bigint, bigint),
	atsmail.record_outbound_phase(text, bigint, text, bigint, bigint) TO atsmail_writer;

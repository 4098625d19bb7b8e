-- 010-record-v2.sql -- the record functions for payload format 2: what
-- atsmaild's recorder (lib/store/recorder.c) calls for every journal entry,
-- in batches of many entries per transaction (docs/journal.md, "Record
-- payloads").
--
-- A mail is decided, and journaled, before the mails it refers to may be
-- in PostgreSQL; the recorder keeps journal order, so by the time an entry
-- is recorded whatever it names was recorded before it.  Format 2 names
-- such things so that they can be found then:
--   * a message reference {"id": messages.id or 0, "key": idempotency key
--     or ""}: atsmail.message_ref() (sent copy, thread, bounced item);
--   * a process {"kind": "process", "id": processes.id or 0, "resume",
--     "job"}: id 0 is the process of that resume and job, made by an
--     earlier entry: atsmail.process_ref() (links, phase changes).
-- And since one refused entry rolls its whole batch back, an outbound mail
-- whose Message-ID is already recorded (the same mail submitted twice)
-- returns 0 instead of raising, like a repeated key.
--
-- atsmail.record_outbound and atsmail.record_inbound keep their names and
-- signatures (CREATE OR REPLACE) and everything else 005 and 008 made them
-- do: the journal key first, the audit entry last (the chain's lock is
-- held from there to the commit), outbox events, phase history with its
-- cause, the intake resume under its advisory lock, mailbox copies.  A
-- payload without "v" is format 1 (the builders of earlier releases): its
-- message ids are read as references, so both formats record the same.
-- These functions are most of PostgreSQL's work per mail: a reference or
-- a process by key costs a statement only where the payload has one.
-- Idempotent like every file of sql/.

-- The message a reference names: by id when that message exists, else by
-- the idempotency key of the entry that recorded it, else NULL.
-- PL/pgSQL, not SQL: a SQL function with a SET clause is never inlined,
-- so its body was parsed and planned again at every call (a third of a
-- millisecond, for two index lookups); PL/pgSQL keeps the plans of its
-- statements for the session, and an empty reference (no thread: most
-- mail) costs no statement at all.
CREATE OR REPLACE FUNCTION atsmail.message_ref(ref jsonb) RETURNS bigint
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	rid bigint := (ref->>'id')::bigint;
	rkey text := ref->>'key';
	mid bigint;
BEGIN
	IF rid <> 0 THEN
		SELECT m.id INTO mid FROM atsmail.messages m WHERE m.id = rid;
		IF FOUND THEN
			RETURN mid;
		END IF;
	END IF;
	IF rkey <> '' THEN
		SELECT m.id INTO mid FROM atsmail.messages m WHERE m.idempotency_key = rkey;
	END IF;
	RETURN mid;
END $$;

-- The process a payload names: its id, or (id 0) the process of its
-- resume and job; NULL when there is none.  PL/pgSQL for the same reason.
CREATE OR REPLACE FUNCTION atsmail.process_ref(ref jsonb) RETURNS bigint
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	pid bigint;
BEGIN
	IF (ref->>'id')::bigint <> 0 THEN
		RETURN (ref->>'id')::bigint;
	END IF;
	SELECT pr.id INTO pid FROM atsmail.processes pr
	WHERE pr.resume_id = (ref->>'resume')::bigint AND pr.job_id = (ref->>'job')::bigint;
	RETURN pid;
END $$;

-- The resume a payload names: a resume {"kind": "resume", "id", "addr"},
-- or the resume of a process or an ats+job entry {"resume", "addr"}: its
-- id, or (0) the resume that holds "addr" -- the one an earlier entry's
-- intake mail made (the recorder keeps journal order), the lowest id as
-- intake itself links one; NULL when none holds it.
CREATE OR REPLACE FUNCTION atsmail.resume_ref(ref jsonb) RETURNS bigint
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT CASE WHEN coalesce(ref->>'resume', ref->>'id')::bigint <> 0
		THEN coalesce(ref->>'resume', ref->>'id')::bigint
		ELSE (SELECT a.owner_id FROM atsmail.addresses a
		      WHERE a.addr_norm = ref->>'addr' AND a.owner_kind = 'resume'
		      ORDER BY a.owner_id LIMIT 1) END
$$;

-- The payload with every resume named by address (id 0, "addr": decided
-- while intake mail was making it, docs/journal.md) named by its id, in
-- links, phases and procs.  A link or an ats+job naming a resume no
-- address holds refuses the entry (was the intake entry that made it
-- refused?); such a phase change keeps id 0 and is skipped, like one whose
-- record is no longer in "from".  Called only when the payload has one.
CREATE OR REPLACE FUNCTION atsmail.resume_refs(p jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	f text;
	k text;
	x jsonb;
	res jsonb;
	rid bigint;
BEGIN
	FOREACH f IN ARRAY ARRAY['links', 'phases', 'procs'] LOOP
		CONTINUE WHEN jsonb_typeof(p->f) IS DISTINCT FROM 'array';
		res := '[]';
		FOR x IN SELECT e FROM jsonb_array_elements(p->f) WITH ORDINALITY AS t(e, n)
				ORDER BY n LOOP
			k := CASE WHEN x ? 'resume' THEN 'resume' ELSE 'id' END;
			IF x ? 'addr' AND (x->>k)::bigint = 0 THEN
				rid := atsmail.resume_ref(x);
				IF rid IS NULL AND f <> 'phases' THEN
					RAISE EXCEPTION 'record: % names the resume of address %, which no '
						'resume holds (was the intake entry that made it refused?)',
						CASE f WHEN 'links' THEN 'a link' ELSE 'an ats+job process' END,
						x->>'addr';
				END IF;
				IF rid IS NOT NULL THEN
					x := jsonb_set(x - 'addr', ARRAY[k], to_jsonb(rid));
				END IF;
			END IF;
			res := res || jsonb_build_array(x);
		END LOOP;
		p := jsonb_set(p, ARRAY[f], res);
	END LOOP;
	RETURN p;
END $$;

DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'atsmail_owner')
	   AND pg_has_role(current_user, 'atsmail_owner', 'USAGE') THEN
		ALTER FUNCTION atsmail.resume_ref(jsonb) OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.resume_refs(jsonb) OWNER TO atsmail_owner;
	END IF;
END $$;
REVOKE ALL ON FUNCTION atsmail.resume_ref(jsonb), atsmail.resume_refs(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION atsmail.resume_ref(jsonb), atsmail.resume_refs(jsonb)
	TO atsmail_writer;

-- Links with every process of id 0 replaced by its id ({kind, id, rule,
-- ambiguous}).  Called only when the payload has such a link.
CREATE OR REPLACE FUNCTION atsmail.record_links(p_links jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	res jsonb := '[]';
	l jsonb;
	pid bigint;
BEGIN
	FOR l IN SELECT x FROM jsonb_array_elements(p_links) WITH ORDINALITY AS t(x, n)
			ORDER BY n LOOP
		IF l->>'kind' = 'process' AND (l->>'id')::bigint = 0 THEN
			pid := atsmail.process_ref(l);
			IF pid IS NULL THEN
				RAISE EXCEPTION 'record: a link names the process of resume % and job %, '
					'which does not exist (was the entry that made it refused?)',
					l->>'resume', l->>'job';
			END IF;
			l := jsonb_build_object('kind', 'process', 'id', pid, 'rule', l->'rule',
				'ambiguous', l->'ambiguous');
		END IF;
		res := res || jsonb_build_array(l);
	END LOOP;
	RETURN res;
END $$;

-- ---- outbound.record ------------------------------------------------------
-- Returns the new messages.id, or 0 when the key was applied before or the
-- Message-ID is already recorded as sent.
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
	-- The thread: that of the first recorded message among those this one
	-- refers to.  Looked up only when it refers to any (a new mail does
	-- not), and by Message-ID before the order by id: OFFSET 0 keeps the
	-- planner from walking the primary key in id order and filtering every
	-- row, which it chose for "ORDER BY id LIMIT 1" whenever it expected
	-- many matches (a table without statistics yet): a scan of all
	-- messages per mail.
	IF cardinality(refs) > 0 THEN
		SELECT coalesce(t.thread_id, t.id) INTO thread
		FROM (SELECT m.id, m.thread_id FROM atsmail.messages m
		      WHERE m.rfc_message_id = ANY(refs) OFFSET 0) t
		ORDER BY t.id LIMIT 1;
	END IF;
	INSERT INTO atsmail.messages (direction, rfc_message_id, thread_id, thread_root,
		owner_id, counterparts, subject, sent_at, size, body_sha256, token, visibility,
		visibility_reason, idempotency_key)
	VALUES ('out', p->>'message_id', thread,
		p->'refs'->>0, uid,
		ARRAY(SELECT jsonb_array_elements_text(p->'counterparts')), p->>'subject',
		CASE WHEN (p->>'sent')::bigint > 0 THEN to_timestamp((p->>'sent')::bigint) ELSE now() END,
		(p->>'size')::bigint, decode(nullif(p->>'sha256', ''), 'hex'),
		nullif(p->>'token', ''), p->>'visibility', p->>'reason', p->>'key')
	ON CONFLICT DO NOTHING RETURNING id INTO mid;
	IF mid IS NULL THEN
		-- recorded meanwhile by another host's recorder: the batch goes on
		RETURN 0;
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
	-- processes were moved above, from the same decision
	FOR ph IN SELECT * FROM jsonb_array_elements(p->'phases') LOOP
		events := events || atsmail.record_outbound_phase(ph->>'kind',
			CASE WHEN ph->>'kind' = 'process' AND (ph->>'id')::bigint = 0
				THEN atsmail.process_ref(ph) ELSE (ph->>'id')::bigint END,
			ph->>'to', uid, mid);
	END LOOP;

	IF links @> '[{"kind": "process", "id": 0}]' THEN
		links := atsmail.record_links(links);
	END IF;
	links := links || coalesce((SELECT jsonb_agg(jsonb_build_object(
		'kind', 'process', 'id', x, 'rule', 'command', 'ambiguous', false) ORDER BY o)
		FROM unnest(new_procs) WITH ORDINALITY AS t(x, o)), '[]');
	n_links := jsonb_array_length(links);
	INSERT INTO atsmail.message_links (message_id, target_kind, target_id, rule, ambiguous)
		SELECT mid, l->>'kind', (l->>'id')::bigint, l->>'rule', (l->>'ambiguous')::boolean
		FROM jsonb_array_elements(links) AS l
		ON CONFLICT DO NOTHING;

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

-- ---- inbound.record -------------------------------------------------------
-- Returns the messages.id recorded (or copied), or 0 when the key was
-- applied before.
CREATE OR REPLACE FUNCTION atsmail.record_inbound(p jsonb) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	mid bigint;
	bid bigint;
	uid bigint := (p->>'owner')::bigint;
	verdict text := p->>'verdict';
	existing boolean := false;
	links jsonb := coalesce(p->'links', '[]');
	events jsonb := '[]';
	rules jsonb := '[]';
	created bigint := 0;
	unresolved bigint;
	n_bounced bigint := 0;
	rid bigint;
	target bigint;
	ph jsonb;
BEGIN
	PERFORM set_config('atsmail.actor', p->>'actor', true);
	INSERT INTO atsmail.journal_applied (idempotency_key) VALUES (p->>'key')
		ON CONFLICT DO NOTHING;
	IF NOT FOUND THEN
		RETURN 0;
	END IF;
	-- format 1: ids where format 2 has references, "bounced" for the
	-- failed recipients
	IF p->'v' IS NULL THEN
		p := (p - 'message_id' - 'thread' - 'bounced_message_id' - 'bounced') ||
			jsonb_build_object(
			'sent', jsonb_build_object('id', coalesce(p->'message_id', '0'), 'key', ''),
			'thread', jsonb_build_object('id', coalesce(p->'thread', '0'), 'key', ''),
			'bounced', jsonb_build_object('id', coalesce(p->'bounced_message_id', '0'),
				'key', ''),
			'bounced_rcpts', coalesce(p->'bounced', '[]'));
	END IF;
	IF jsonb_path_exists(p, '$.*[*].addr') THEN   -- resumes named by address
		p := atsmail.resume_refs(p);
		links := coalesce(p->'links', '[]');
	END IF;

	-- SENT_COPY: a copy row of the sent message, nothing else
	IF verdict = 'sent_copy' THEN
		mid := atsmail.message_ref(p->'sent');
		IF mid IS NULL THEN
			RAISE EXCEPTION 'inbound record: the sent item of this copy (id %, key %) is '
				'not recorded', p->'sent'->>'id', p->'sent'->>'key';
		END IF;
		PERFORM atsmail.record_inbound_copy(mid, uid, p->>'mailbox',
			(p->>'imap_uid')::bigint);
		RETURN mid;
	END IF;

	-- no Message-ID: the same bytes from the same sender are the same mail
	IF p->>'rfc_message_id' IS NULL AND p->>'sha256' <> '' THEN
		PERFORM pg_advisory_xact_lock(hashtextextended(p->>'sha256', 0));
		SELECT id INTO mid FROM atsmail.messages WHERE direction = 'in'
			AND rfc_message_id IS NULL AND body_sha256 = decode(p->>'sha256', 'hex')
			AND counterparts[1] IS NOT DISTINCT FROM p->>'sender'
			ORDER BY id LIMIT 1;
		existing := mid IS NOT NULL;
	END IF;
	IF NOT existing THEN
		INSERT INTO atsmail.messages (direction, rfc_message_id, thread_id, thread_root,
			owner_id, counterparts, subject, received_at, size, body_sha256, visibility,
			visibility_reason, idempotency_key, is_auto_reply, is_bounce)
		VALUES ('in', p->>'rfc_message_id',
			(SELECT coalesce(m.thread_id, m.id) FROM atsmail.messages m
			 WHERE m.id = atsmail.message_ref(p->'thread')),
			p->>'thread_root', uid,
			ARRAY(SELECT jsonb_array_elements_text(p->'counterparts')), p->>'subject',
			CASE WHEN (p->>'received')::bigint > 0
				THEN to_timestamp((p->>'received')::bigint) ELSE now() END,
			(p->>'size')::bigint, decode(nullif(p->>'sha256', ''), 'hex'),
			p->>'visibility', p->>'reason', p->>'key', (p->>'auto_reply')::boolean,
			(p->>'bounce')::boolean)
		ON CONFLICT DO NOTHING RETURNING id INTO mid;
		IF mid IS NULL THEN
			-- another mailbox got it first: copy row and links only
			existing := true;
			IF p->>'rfc_message_id' IS NULL THEN
				RAISE EXCEPTION 'inbound record: a message without Message-ID collided '
					'with a recorded one';
			END IF;
			SELECT id INTO mid FROM atsmail.messages
				WHERE rfc_message_id = p->>'rfc_message_id' AND direction = 'in';
			IF mid IS NULL THEN
				RAISE EXCEPTION 'inbound record: the received message vanished while '
					'its copy was recorded';
			END IF;
		END IF;
	END IF;
	PERFORM atsmail.record_inbound_copy(mid, uid, p->>'mailbox', (p->>'imap_uid')::bigint);

	-- INTAKE: a resume (unless one has the address by now: then it is
	-- linked), or an unresolved item.  Serialised per sender address, so
	-- that two mails of one new sender make one resume.
	IF NOT existing AND verdict = 'intake' THEN
		IF (p->>'intake_unresolved')::boolean THEN
			INSERT INTO atsmail.unresolved_items (message_id, sender)
				VALUES (mid, p->>'sender')
				ON CONFLICT (message_id) DO NOTHING RETURNING id INTO unresolved;
		ELSE
			PERFORM pg_advisory_xact_lock(hashtextextended('atsmail intake ' ||
				(p->>'sender'), 0));
			SELECT owner_id INTO rid FROM atsmail.addresses
				WHERE addr_norm = p->>'sender' AND owner_kind = 'resume'
				ORDER BY owner_id LIMIT 1;
			IF rid IS NOT NULL THEN
				links := links || jsonb_build_array(jsonb_build_object('kind', 'resume',
					'id', rid, 'rule', 'sender_address', 'ambiguous', false));
			ELSE
				INSERT INTO atsmail.resumes (name, owner_id, created_from)
					VALUES (coalesce(p->>'sender_name', p->>'sender'), uid, 'mail')
					RETURNING id INTO created;
				INSERT INTO atsmail.addresses (owner_kind, owner_id, addr_norm, is_primary)
					VALUES ('resume', created, p->>'sender', true);
				links := links || jsonb_build_array(jsonb_build_object('kind', 'resume',
					'id', created, 'rule', 'intake', 'ambiguous', false));
			END IF;
		END IF;
	END IF;

	IF links @> '[{"kind": "process", "id": 0}]' THEN
		links := atsmail.record_links(links);
	END IF;
	INSERT INTO atsmail.message_links (message_id, target_kind, target_id, rule, ambiguous)
		SELECT mid, l->>'kind', (l->>'id')::bigint, l->>'rule', (l->>'ambiguous')::boolean
		FROM jsonb_array_elements(links) WITH ORDINALITY AS t(l, n) ORDER BY n
		ON CONFLICT DO NOTHING;
	IF existing THEN
		RETURN mid;   -- the first copy did the rest
	END IF;

	-- BOUNCE: the sent item's recipients with a failed address (4.x.x:
	-- deferred, anything else: bounced), and a hard bounce flags the
	-- address -- only addresses the sent item was really sent to.
	IF verdict = 'bounce' THEN
		bid := atsmail.message_ref(p->'bounced');
	END IF;
	IF bid IS NOT NULL AND jsonb_array_length(coalesce(p->'bounced_rcpts', '[]')) > 0 THEN
		WITH t AS (SELECT b->>'a' AS a, b->>'st' AS st, (b->>'hard')::boolean AS hard,
				b->>'diag' AS diag
				FROM jsonb_array_elements(p->'bounced_rcpts') AS b),
			u AS (UPDATE atsmail.message_recipients r
				SET status = CASE WHEN t.st LIKE '4%' THEN 'deferred' ELSE 'bounced' END,
				status_code = nullif(t.st, ''), diagnostic = t.diag,
				bounced_at = CASE WHEN t.st LIKE '4%' THEN r.bounced_at ELSE now() END
				FROM t WHERE r.message_id = bid AND r.address = t.a
				RETURNING r.address, r.status, t.hard, t.st, t.diag),
			f AS (INSERT INTO atsmail.address_flags (addr_norm, bounce_code, diagnostic)
				SELECT DISTINCT ON (address) address, nullif(st, ''), diag FROM u
				WHERE status = 'bounced' AND hard ORDER BY address
				ON CONFLICT (addr_norm) DO UPDATE SET bounced_at = now(),
				bounce_code = EXCLUDED.bounce_code, diagnostic = EXCLUDED.diagnostic,
				bounce_count = atsmail.address_flags.bounce_count + 1 RETURNING 1)
		SELECT count(*) INTO n_bounced FROM u;   -- f runs all the same
	END IF;

	-- Phase changes by rule: the UPDATE takes the row lock and, under READ
	-- COMMITTED, re-checks the phase once it holds it; when the phase is no
	-- longer the one the rule was chosen for (or the record is gone),
	-- nothing is changed and no history row is written.  A process of id
	-- 0 is the one of its resume and job, made by an earlier entry.
	FOR ph IN SELECT x FROM jsonb_array_elements(coalesce(p->'phases', '[]'))
			WITH ORDINALITY AS t(x, n) ORDER BY n LOOP
		rid := NULL;
		IF ph->>'kind' = 'resume' THEN
			UPDATE atsmail.resumes SET phase = ph->>'to', phase_date = current_date,
				updated_at = now() WHERE id = (ph->>'id')::bigint AND phase = ph->>'from'
				RETURNING id INTO rid;
		ELSIF ph->>'kind' = 'contact' THEN
			UPDATE atsmail.contacts SET phase = ph->>'to', phase_date = current_date,
				updated_at = now() WHERE id = (ph->>'id')::bigint AND phase = ph->>'from'
				RETURNING id INTO rid;
		ELSE
			target := (ph->>'id')::bigint;
			IF target = 0 THEN
				target := atsmail.process_ref(ph);
			END IF;
			UPDATE atsmail.processes SET phase = ph->>'to', phase_date = current_date,
				updated_at = now() WHERE id = target AND phase = ph->>'from'
				RETURNING id INTO rid;
		END IF;
		CONTINUE WHEN rid IS NULL;
		INSERT INTO atsmail.phase_history (kind, record_id, from_phase, to_phase, cause,
			actor_id, message_id)
			VALUES (ph->>'kind', rid, ph->>'from', ph->>'to', ph->>'cause', uid, mid);
		events := events || jsonb_build_array(jsonb_build_object('kind', ph->>'kind',
			'record_id', rid, 'from', ph->>'from', 'to', ph->>'to',
			'cause', ph->>'cause', 'rule_id', (ph->>'rule')::bigint, 'message_id', mid,
			'actor_id', uid));
		rules := rules || jsonb_build_array((ph->>'rule')::bigint);
	END LOOP;

	-- events name ids, never subject, addresses or body; one statement
	INSERT INTO atsmail.outbox (event_type, payload)
		SELECT 'message.bounced', jsonb_build_object('message_id', mid,
				'sent_message_id', bid, 'recipients_marked', n_bounced, 'links', links)
			WHERE verdict = 'bounce'
		UNION ALL
		SELECT 'message.received', jsonb_build_object('message_id', mid, 'direction', 'in',
				'owner_id', uid, 'visibility', p->>'visibility', 'verdict', verdict,
				'links', links, 'auto_reply', (p->>'auto_reply')::boolean,
				'unresolved_item_id', nullif(unresolved, 0))
			WHERE verdict <> 'bounce'
		UNION ALL
		SELECT 'record.created', jsonb_build_object('kind', 'resume', 'id', created,
				'message_id', mid)
			WHERE created <> 0
		UNION ALL
		SELECT 'phase.changed', x FROM jsonb_array_elements(events) WITH ORDINALITY AS t(x, n);
	-- last: the chain's lock is held from here to the commit
	PERFORM atsmail.audit(p->>'actor', 'message.received', 'message', mid::text,
		jsonb_build_object('verdict', verdict, 'visibility', p->>'visibility',
			'reason', p->>'reason', 'links', jsonb_array_length(links),
			'phase_rules', rules, 'resume_created', created,
			'recipients_bounced', n_bounced, 'idempotency_key', p->>'key'));
	RETURN mid;
END $$;

-- Owned like the rest (004), callable by writers only.
DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'atsmail_owner')
	   AND pg_has_role(current_user, 'atsmail_owner', 'USAGE') THEN
		ALTER FUNCTION atsmail.message_ref(jsonb) OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.process_ref(jsonb) OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.record_links(jsonb) OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.record_outbound(jsonb) OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.record_inbound(jsonb) OWNER TO atsmail_owner;
	END IF;
END $$;
REVOKE ALL ON FUNCTION atsmail.message_ref(jsonb), atsmail.process_ref(jsonb),
	atsmail.record_links(jsonb), atsmail.record_outbound(jsonb),
	atsmail.record_inbound(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION atsmail.message_ref(jsonb), atsmail.process_ref(jsonb),
	atsmail.record_links(jsonb), atsmail.record_outbound(jsonb),
	atsmail.record_inbound(jsonb) TO atsmail_writer;

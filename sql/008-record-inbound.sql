-- 008-record-inbound.sql -- atsmail.record_inbound(payload jsonb): the
-- whole record of one mail that reached a mailbox (lib/inbound/record.c)
-- as one call, so that the Dovecot plugin pays one round trip per mail
-- instead of about eight, and the audit chain's lock (taken by the last
-- statement) is held only for the instant between that statement and the
-- commit of the same call.
--
-- The payload (built by atsm_in_record(), never by hand):
--   actor, key, verdict (atsm_in_verdict_name), message_id (SENT_COPY: the
--   sent row), owner (users.id of the mailbox owner, null = none),
--   mailbox, imap_uid (0 = unknown), rfc_message_id (null = none), thread
--   (0 = none), thread_root, counterparts[], subject, received (unix time,
--   0 = now), size, sha256 (hex or ""), visibility, reason, auto_reply,
--   bounce (is_bounce), sender, sender_name, intake_unresolved,
--   links[{kind, id, rule, ambiguous}], bounced_message_id,
--   bounced[{a, st, hard, diag}], phases[{kind, id, from, to, rule, cause}].
-- Returns the messages.id recorded (or copied), or 0 when the idempotency
-- key was already applied.  SECURITY INVOKER: only the caller's privileges
-- (atsmail_writer's) are used, as with the single statements.
-- Idempotent like every file of sql/.

CREATE OR REPLACE FUNCTION atsmail.record_inbound(p jsonb) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	mid bigint;
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
	ph jsonb;
	ev jsonb;
BEGIN
	PERFORM set_config('atsmail.actor', p->>'actor', true);
	INSERT INTO atsmail.journal_applied (idempotency_key) VALUES (p->>'key')
		ON CONFLICT DO NOTHING;
	IF NOT FOUND THEN
		RETURN 0;
	END IF;

	-- SENT_COPY: a copy row of the sent message, nothing else
	IF verdict = 'sent_copy' THEN
		mid := (p->>'message_id')::bigint;
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
			(SELECT m.id FROM atsmail.messages m WHERE m.id = (p->>'thread')::bigint),
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
	IF verdict = 'bounce' AND jsonb_array_length(coalesce(p->'bounced', '[]')) > 0 THEN
		WITH t AS (SELECT b->>'a' AS a, b->>'st' AS st, (b->>'hard')::boolean AS hard,
				b->>'diag' AS diag
				FROM jsonb_array_elements(p->'bounced') AS b),
			u AS (UPDATE atsmail.message_recipients r
				SET status = CASE WHEN t.st LIKE '4%' THEN 'deferred' ELSE 'bounced' END,
				status_code = nullif(t.st, ''), diagnostic = t.diag,
				bounced_at = CASE WHEN t.st LIKE '4%' THEN r.bounced_at ELSE now() END
				FROM t WHERE r.message_id = (p->>'bounced_message_id')::bigint
				AND r.address = t.a
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
	-- nothing is changed and no history row is written.
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
			UPDATE atsmail.processes SET phase = ph->>'to', phase_date = current_date,
				updated_at = now() WHERE id = (ph->>'id')::bigint AND phase = ph->>'from'
				RETURNING id INTO rid;
		END IF;
		CONTINUE WHEN rid IS NULL;
		INSERT INTO atsmail.phase_history (kind, record_id, from_phase, to_phase, cause,
			actor_id, message_id)
			VALUES (ph->>'kind', rid, ph->>'from', ph->>'to', ph->>'cause', uid, mid);
		events := events || jsonb_build_array(jsonb_build_object('kind', ph->>'kind',
			'record_id', (ph->>'id')::bigint, 'from', ph->>'from', 'to', ph->>'to',
			'cause', ph->>'cause', 'rule_id', (ph->>'rule')::bigint, 'message_id', mid,
			'actor_id', uid));
		rules := rules || jsonb_build_array((ph->>'rule')::bigint);
	END LOOP;

	-- events name ids, never subject, addresses or body
	IF verdict = 'bounce' THEN
		INSERT INTO atsmail.outbox (event_type, payload) VALUES ('message.bounced',
			jsonb_build_object('message_id', mid,
				'sent_message_id', (p->>'bounced_message_id')::bigint,
				'recipients_marked', n_bounced, 'links', links));
	ELSE
		INSERT INTO atsmail.outbox (event_type, payload) VALUES ('message.received',
			jsonb_build_object('message_id', mid, 'direction', 'in', 'owner_id', uid,
				'visibility', p->>'visibility', 'verdict', verdict, 'links', links,
				'auto_reply', (p->>'auto_reply')::boolean,
				'unresolved_item_id', nullif(unresolved, 0)));
	END IF;
	IF created <> 0 THEN
		INSERT INTO atsmail.outbox (event_type, payload) VALUES ('record.created',
			jsonb_build_object('kind', 'resume', 'id', created, 'message_id', mid));
	END IF;
	FOR ev IN SELECT x FROM jsonb_array_elements(events) WITH ORDINALITY AS t(x, n)
			ORDER BY n LOOP
		INSERT INTO atsmail.outbox (event_type, payload) VALUES ('phase.changed', ev);
	END LOOP;
	-- last: the chain's lock is held from here to the commit
	PERFORM atsmail.audit(p->>'actor', 'message.received', 'message', mid::text,
		jsonb_build_object('verdict', verdict, 'visibility', p->>'visibility',
			'reason', p->>'reason', 'links', jsonb_array_length(links),
			'phase_rules', rules, 'resume_created', created,
			'recipients_bounced', n_bounced, 'idempotency_key', p->>'key'));
	RETURN mid;
END $$;

-- The copy row of one mailbox; none for an intake mailbox of no user.
CREATE OR REPLACE FUNCTION atsmail.record_inbound_copy(p_message bigint, p_user bigint,
	p_mailbox text, p_uid bigint) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF p_user IS NULL THEN
		RETURN;
	END IF;
	INSERT INTO atsmail.message_copies (message_id, user_id, mailbox, imap_uid)
		VALUES (p_message, p_user, p_mailbox, nullif(p_uid, 0))
		ON CONFLICT (message_id, user_id, mailbox) DO UPDATE
		SET imap_uid = coalesce(EXCLUDED.imap_uid, atsmail.message_copies.imap_uid);
END $$;

-- Owned like the rest (004), callable by writers only.
DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'atsmail_owner')
	   AND pg_has_role(current_user, 'atsmail_owner', 'USAGE') THEN
		ALTER FUNCTION atsmail.record_inbound(jsonb) OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.record_inbound_copy(bigint, bigint, text, bigint)
			OWNER TO atsmail_owner;
	END IF;
END $$;
REVOKE ALL ON FUNCTION atsmail.record_inbound(jsonb),
	atsmail.record_inbound_copy(bigint, bigint, text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION atsmail.record_inbound(jsonb),
	atsmail.record_inbound_copy(bigint, bigint, text, bigint) TO atsmail_writer;

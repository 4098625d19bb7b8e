-- 003-audit-outbox.sql -- the append-only, hash-chained audit log, the
-- triggers that feed it, and the outbox through which every event leaves.
--
-- Hash chain: each row stores prev_hash (the hash of the row before it, or
-- 32 zero bytes for the first) and hash = sha256(prev_hash || canonical
-- text of the row), see audit_canonical().  Writers are serialised by an
-- advisory lock and by the single row of audit_head, which also remembers
-- the hash of the last row so that a deleted tail is detected too.
-- audit_verify() recomputes the whole chain.  Rows cannot be updated or
-- deleted (trigger, and no privilege in 004); a superuser who disables the
-- trigger and edits, deletes or swaps rows is caught by audit_verify().
-- Idempotent like every file of sql/.

CREATE TABLE IF NOT EXISTS atsmail.audit_log (
	id          bigserial PRIMARY KEY,
	at          timestamptz NOT NULL DEFAULT clock_timestamp(),
	actor       text NOT NULL,      -- user login or component ("atsmail-milter")
	action      text NOT NULL,      -- "message.visibility", "phase.changed", ...
	object_kind text,
	object_id   text,
	detail      jsonb NOT NULL DEFAULT '{}',
	prev_hash   bytea NOT NULL,
	hash        bytea NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_log_object_idx ON atsmail.audit_log (object_kind, object_id);

CREATE TABLE IF NOT EXISTS atsmail.audit_head (
	one       boolean PRIMARY KEY DEFAULT true CHECK (one),
	last_id   bigint,
	last_hash bytea NOT NULL
);
INSERT INTO atsmail.audit_head (one, last_id, last_hash)
	VALUES (true, NULL, '\x0000000000000000000000000000000000000000000000000000000000000000')
	ON CONFLICT (one) DO NOTHING;

-- The text that is hashed: a JSON array, so that no choice of field values
-- can make two different rows serialise alike.  Timestamps in UTC with
-- microseconds; detail in jsonb's own normal form.  An external verifier
-- (atsmailctl audit verify) rebuilds exactly this text.
CREATE OR REPLACE FUNCTION atsmail.audit_canonical(
	p_id bigint, p_at timestamptz, p_actor text, p_action text,
	p_kind text, p_object text, p_detail jsonb) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT json_build_array(p_id::text,
		to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
		p_actor, p_action, p_kind, p_object, p_detail::text)::text
$$;

CREATE OR REPLACE FUNCTION atsmail.audit_hash(p_prev bytea, p_canonical text) RETURNS bytea
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT sha256(p_prev || convert_to(p_canonical, 'UTF8'))
$$;

CREATE OR REPLACE FUNCTION atsmail.audit_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	prev bytea;
BEGIN
	-- fixed key: 'atsm' 'audt' in ASCII
	PERFORM pg_advisory_xact_lock(1635021677, 1635083380);
	-- FOR UPDATE: under REPEATABLE READ a concurrent append is a
	-- serialisation error (retry), never a silently forked chain.
	SELECT last_hash INTO prev FROM atsmail.audit_head WHERE one FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'atsmail.audit_head is empty: the audit chain has no head';
	END IF;
	-- ids and times are assigned under the lock so that id order is chain order
	NEW.id := nextval(pg_get_serial_sequence('atsmail.audit_log', 'id'));
	NEW.at := clock_timestamp();
	NEW.detail := coalesce(NEW.detail, '{}'::jsonb);
	NEW.prev_hash := prev;
	NEW.hash := atsmail.audit_hash(prev, atsmail.audit_canonical(NEW.id, NEW.at,
		NEW.actor, NEW.action, NEW.object_kind, NEW.object_id, NEW.detail));
	UPDATE atsmail.audit_head SET last_id = NEW.id, last_hash = NEW.hash WHERE one;
	RETURN NEW;
END $$;
CREATE OR REPLACE TRIGGER audit_log_chain BEFORE INSERT ON atsmail.audit_log
	FOR EACH ROW EXECUTE FUNCTION atsmail.audit_chain();

CREATE OR REPLACE FUNCTION atsmail.audit_refuse() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	RAISE EXCEPTION 'atsmail.audit_log is append-only: % refused', TG_OP
		USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE OR REPLACE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON atsmail.audit_log
	FOR EACH ROW EXECUTE FUNCTION atsmail.audit_refuse();
CREATE OR REPLACE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON atsmail.audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION atsmail.audit_refuse();

-- Who is acting: a component sets atsmail.actor (SET LOCAL) to the user
-- login or its own name; otherwise the database login.
CREATE OR REPLACE FUNCTION atsmail.current_actor() RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT coalesce(nullif(current_setting('atsmail.actor', true), ''), session_user::text)
$$;

-- Write one audit entry; returns its id.
CREATE OR REPLACE FUNCTION atsmail.audit(p_actor text, p_action text, p_kind text,
	p_object text, p_detail jsonb DEFAULT '{}') RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	new_id bigint;
BEGIN
	-- prev_hash and hash are filled in by the audit_log_chain trigger
	INSERT INTO atsmail.audit_log (actor, action, object_kind, object_id, detail)
		VALUES (coalesce(p_actor, atsmail.current_actor()), p_action, p_kind, p_object,
		        coalesce(p_detail, '{}'::jsonb))
		RETURNING id INTO new_id;
	RETURN new_id;
END $$;

-- Walk the chain in id order.  Stops at the first bad row: ok = false,
-- checked = rows found good before it, first_bad_id, problem (a sentence).
CREATE OR REPLACE FUNCTION atsmail.audit_verify()
	RETURNS TABLE (ok boolean, checked bigint, first_bad_id bigint, problem text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	r record;
	expect bytea := '\x0000000000000000000000000000000000000000000000000000000000000000';
	n bigint := 0;
	last bigint;
	head record;
BEGIN
	FOR r IN SELECT * FROM atsmail.audit_log ORDER BY id LOOP
		IF r.prev_hash IS DISTINCT FROM expect THEN
			RETURN QUERY SELECT false, n, r.id, format(
				'audit row %s: prev_hash does not match the hash of the row before it '
				'(a row was deleted, inserted or reordered before id %s)', r.id, r.id);
			RETURN;
		END IF;
		IF r.hash IS DISTINCT FROM atsmail.audit_hash(r.prev_hash, atsmail.audit_canonical(
				r.id, r.at, r.actor, r.action, r.object_kind, r.object_id, r.detail)) THEN
			RETURN QUERY SELECT false, n, r.id, format(
				'audit row %s: its hash does not match its contents (the row was edited)', r.id);
			RETURN;
		END IF;
		expect := r.hash;
		last := r.id;
		n := n + 1;
	END LOOP;
	SELECT * INTO head FROM atsmail.audit_head WHERE one;
	IF NOT FOUND OR head.last_hash IS DISTINCT FROM expect
			OR head.last_id IS DISTINCT FROM last THEN
		RETURN QUERY SELECT false, n, coalesce(head.last_id, last), format(
			'audit chain ends at id %s but its head records id %s: rows at the end were deleted',
			coalesce(last::text, 'none'), coalesce(head.last_id::text, 'none'));
		RETURN;
	END IF;
	RETURN QUERY SELECT true, n, NULL::bigint, NULL::text;
END $$;

-- -------------------------------------------------- automatic audit entries
CREATE OR REPLACE FUNCTION atsmail.audit_message_visibility() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM atsmail.audit(NULL, 'message.visibility', 'message', NEW.id::text,
		jsonb_build_object('from', OLD.visibility, 'to', NEW.visibility,
		                   'reason', NEW.visibility_reason));
	RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER messages_audit_visibility
	AFTER UPDATE OF visibility ON atsmail.messages
	FOR EACH ROW WHEN (OLD.visibility IS DISTINCT FROM NEW.visibility)
	EXECUTE FUNCTION atsmail.audit_message_visibility();

CREATE OR REPLACE FUNCTION atsmail.audit_phase_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	who text;
BEGIN
	SELECT login INTO who FROM atsmail.users WHERE id = NEW.actor_id;
	PERFORM atsmail.audit(who, 'phase.changed', NEW.kind, NEW.record_id::text,
		jsonb_build_object('from', NEW.from_phase, 'to', NEW.to_phase, 'cause', NEW.cause,
		                   'message_id', NEW.message_id, 'history_id', NEW.id));
	RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER phase_history_audit AFTER INSERT ON atsmail.phase_history
	FOR EACH ROW EXECUTE FUNCTION atsmail.audit_phase_change();

CREATE OR REPLACE FUNCTION atsmail.audit_record_from_mail() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM atsmail.audit(NULL, 'record.created', TG_ARGV[0], NEW.id::text,
		jsonb_build_object('created_from', NEW.created_from, 'name', NEW.name,
		                   'owner_id', NEW.owner_id));
	RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER resumes_audit_from_mail AFTER INSERT ON atsmail.resumes
	FOR EACH ROW WHEN (NEW.created_from = 'mail')
	EXECUTE FUNCTION atsmail.audit_record_from_mail('resume');
CREATE OR REPLACE TRIGGER contacts_audit_from_mail AFTER INSERT ON atsmail.contacts
	FOR EACH ROW WHEN (NEW.created_from = 'mail')
	EXECUTE FUNCTION atsmail.audit_record_from_mail('contact');

-- ------------------------------------------------------------------ outbox
-- The single way events leave.  atsmail-notifyd claims due rows with
-- FOR UPDATE SKIP LOCKED (several instances are safe), is woken by
-- NOTIFY atsmail_outbox (payload: the id; delivered at commit), and backs
-- off through next_attempt_at until a row is delivered or dead.
CREATE TABLE IF NOT EXISTS atsmail.outbox (
	id              bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	event_type      text NOT NULL
	                CHECK (event_type IN ('message.sent', 'message.received', 'message.bounced',
	                                      'phase.changed', 'record.created')),
	payload         jsonb NOT NULL,
	created_at      timestamptz NOT NULL DEFAULT now(),
	state           text NOT NULL DEFAULT 'pending'
	                CHECK (state IN ('pending', 'delivering', 'delivered', 'dead')),
	attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	next_attempt_at timestamptz NOT NULL DEFAULT now(),
	locked_by       text,
	locked_until    timestamptz,
	last_error      text,
	delivered_at    timestamptz
);
CREATE INDEX IF NOT EXISTS outbox_claim_idx ON atsmail.outbox (state, next_attempt_at);

CREATE OR REPLACE FUNCTION atsmail.outbox_notify() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM pg_notify('atsmail_outbox', NEW.id::text);
	RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER outbox_notify AFTER INSERT ON atsmail.outbox
	FOR EACH ROW EXECUTE FUNCTION atsmail.outbox_notify();

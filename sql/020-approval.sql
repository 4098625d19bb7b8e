-- 020-approval.sql -- the approval workflow around held mail (014): who
-- approves whose mail, telling them, decisions made by mail, reminders,
-- and telling the sender the outcome (docs/approval.md).
--
--   user_groups          group_name x user: the groups approval is set for
--   approval_groups      group_name -> needs_approval; a group that needs
--                        it sets users.needs_approval of every member (now
--                        and when one joins); users.needs_approval stays
--                        the one flag the milter reads (the snapshot)
--   approvers            who approves whose mail: per user (user_id) or per
--                        group (group_name), approver_id a user
--   approvers_of(uid)    the active approvers of a sender: their own and
--                        their groups', never the sender; none set: the
--                        active admins (held mail is never nobody's)
--   held_messages        + preview (the first ~4 KB of the decoded text
--                        body, from the milter's payload), command_at (the
--                        command address "ats@<ats_domain>" of the site,
--                        to write ats+approve.<id>), reminded_at,
--                        decision_reason
--   record_outbound(p)   014's function (renamed record_outbound_held),
--                        then for a held mail: preview, command_at and
--                        atsmail.notify('approval.request') to each approver
--   approval_requests    a decision asked for by mail (ats+approve.<id>,
--                        ats+reject.<id>): approver, decision, reason, when;
--                        applied later by `atsmailctl approval run` (root:
--                        postsuper) -- applied_at, outcome
--   approval_by_mail(...)   the milter's call: checks and records a request
--   approval_decided(id, reason)   after held_release / held_reject: tells
--                        the sender (approval.approved / approval.rejected)
--   approval_remind(after)   approval.reminder to each approver of held
--                        mail older than after, once (reminded_at)
-- atsmail.notify() is 017's.  Idempotent like every file of sql/.

CREATE TABLE IF NOT EXISTS atsmail.approval_groups (
	group_name     text PRIMARY KEY CHECK (group_name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
	needs_approval boolean NOT NULL DEFAULT false
);
CREATE TABLE IF NOT EXISTS atsmail.user_groups (
	group_name text NOT NULL REFERENCES atsmail.approval_groups ON DELETE CASCADE,
	user_id    bigint NOT NULL REFERENCES atsmail.users (id) ON DELETE CASCADE,
	PRIMARY KEY (group_name, user_id)
);
CREATE INDEX IF NOT EXISTS user_groups_user_idx ON atsmail.user_groups (user_id);

CREATE TABLE IF NOT EXISTS atsmail.approvers (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id     bigint REFERENCES atsmail.users (id) ON DELETE CASCADE,
	group_name  text REFERENCES atsmail.approval_groups ON DELETE CASCADE,
	approver_id bigint NOT NULL REFERENCES atsmail.users (id) ON DELETE CASCADE,
	created_at  timestamptz NOT NULL DEFAULT now(),
	CHECK (num_nonnulls(user_id, group_name) = 1)
);
CREATE UNIQUE INDEX IF NOT EXISTS approvers_user_uq ON atsmail.approvers (user_id, approver_id)
	WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS approvers_group_uq
	ON atsmail.approvers (group_name, approver_id) WHERE group_name IS NOT NULL;

ALTER TABLE atsmail.held_messages ADD COLUMN IF NOT EXISTS preview text;
ALTER TABLE atsmail.held_messages ADD COLUMN IF NOT EXISTS command_at text;
ALTER TABLE atsmail.held_messages ADD COLUMN IF NOT EXISTS reminded_at timestamptz;
ALTER TABLE atsmail.held_messages ADD COLUMN IF NOT EXISTS decision_reason text;

CREATE TABLE IF NOT EXISTS atsmail.approval_requests (
	id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	message_id     bigint NOT NULL REFERENCES atsmail.held_messages ON DELETE CASCADE,
	approver_id    bigint NOT NULL REFERENCES atsmail.users (id),
	decision       text NOT NULL CHECK (decision IN ('approve', 'reject')),
	reason         text,
	rfc_message_id text,             -- of the mail that asked
	requested_at   timestamptz NOT NULL DEFAULT now(),
	applied_at     timestamptz,
	-- applied; superseded (decided otherwise first); failed (error)
	outcome        text CHECK (outcome IN ('applied', 'superseded', 'failed')),
	error          text,
	CHECK ((applied_at IS NULL) = (outcome IS NULL))
);
CREATE INDEX IF NOT EXISTS approval_requests_open_idx
	ON atsmail.approval_requests (requested_at) WHERE applied_at IS NULL;

-- ---------------------------------------------- needs_approval of groups
-- A group that needs approval makes each member need it; a group that no
-- longer does clears it for members whom no other such group holds.
CREATE OR REPLACE FUNCTION atsmail.approval_group_sync(p_group text) RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	need boolean;
	n integer;
BEGIN
	SELECT needs_approval INTO need FROM atsmail.approval_groups WHERE group_name = p_group;
	IF need THEN
		UPDATE atsmail.users u SET needs_approval = true, updated_at = now()
			FROM atsmail.user_groups g
			WHERE g.group_name = p_group AND g.user_id = u.id AND NOT u.needs_approval;
	ELSE
		UPDATE atsmail.users u SET needs_approval = false, updated_at = now()
			FROM atsmail.user_groups g
			WHERE g.group_name = p_group AND g.user_id = u.id AND u.needs_approval
			  AND NOT EXISTS (SELECT 1 FROM atsmail.user_groups o
			      JOIN atsmail.approval_groups a ON a.group_name = o.group_name
			      WHERE o.user_id = u.id AND a.needs_approval);
	END IF;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END $$;

CREATE OR REPLACE FUNCTION atsmail.approval_member_joined() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	UPDATE atsmail.users u SET needs_approval = true, updated_at = now()
		FROM atsmail.approval_groups a
		WHERE a.group_name = NEW.group_name AND a.needs_approval AND u.id = NEW.user_id
		  AND NOT u.needs_approval;
	RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER user_groups_joined AFTER INSERT ON atsmail.user_groups
	FOR EACH ROW EXECUTE FUNCTION atsmail.approval_member_joined();

-- ---------------------------------------------------------- who approves
CREATE OR REPLACE FUNCTION atsmail.approvers_of(p_uid bigint)
	RETURNS TABLE (approver_id bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	WITH named AS (
		SELECT a.approver_id FROM atsmail.approvers a WHERE a.user_id = p_uid
		UNION
		SELECT a.approver_id FROM atsmail.approvers a
			JOIN atsmail.user_groups g ON g.group_name = a.group_name
			WHERE g.user_id = p_uid),
	active AS (
		SELECT n.approver_id FROM named n JOIN atsmail.users u ON u.id = n.approver_id
		WHERE u.active AND u.id <> p_uid)
	SELECT approver_id FROM active
	UNION ALL
	SELECT u.id FROM atsmail.users u
		WHERE NOT EXISTS (SELECT 1 FROM active) AND u.role = 'admin' AND u.active
		  AND u.id <> p_uid
	ORDER BY 1
$$;

-- The params of approval.request / approval.reminder (plan: NOTIFY composes).
CREATE OR REPLACE FUNCTION atsmail.approval_params(p_mid bigint) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT jsonb_build_object(
		'held_id', h.message_id::text,
		'sender', coalesce(u.login, ''),
		'sender_name', coalesce(nullif(u.display_name, ''), u.login, ''),
		'recipients', coalesce((SELECT string_agg(r.address, ', ' ORDER BY r.address)
			FROM atsmail.message_recipients r WHERE r.message_id = h.message_id), ''),
		'subject', coalesce(m.subject, ''),
		'preview', coalesce(h.preview, ''),
		'held_at', to_char(h.held_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"'),
		'approve_addr', coalesce(split_part(h.command_at, '@', 1) || '+approve.' ||
			h.message_id || '@' || split_part(h.command_at, '@', 2), ''),
		'reject_addr', coalesce(split_part(h.command_at, '@', 1) || '+reject.' ||
			h.message_id || '@' || split_part(h.command_at, '@', 2), ''))
	FROM atsmail.held_messages h JOIN atsmail.messages m ON m.id = h.message_id
	LEFT JOIN atsmail.users u ON u.id = m.owner_id
	WHERE h.message_id = p_mid
$$;

-- approval.request (or .reminder, with extra params) to every approver of
-- the held mail's sender; returns how many were queued.
CREATE OR REPLACE FUNCTION atsmail.approval_tell_approvers(p_mid bigint, p_kind text,
	p_extra jsonb) RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	params jsonb := atsmail.approval_params(p_mid) || coalesce(p_extra, '{}');
	a bigint;
	n integer := 0;
BEGIN
	FOR a IN SELECT o.approver_id FROM atsmail.messages m,
	         LATERAL atsmail.approvers_of(m.owner_id) o WHERE m.id = p_mid LOOP
		-- a notification that cannot be queued (an approver without an
		-- address) must not stop the record or the decision around it
		BEGIN
			PERFORM atsmail.notify(p_kind, a, NULL, params, 'message', p_mid::text);
			n := n + 1;
		EXCEPTION WHEN OTHERS THEN
			RAISE WARNING 'approval: % of message % to user % not queued: %', p_kind, p_mid,
				a, SQLERRM;
		END;
	END LOOP;
	RETURN n;
END $$;

-- ---------------------------------------------------- the record of a held mail
DO $$
BEGIN
	IF to_regprocedure('atsmail.record_outbound_held(jsonb)') IS NULL THEN
		ALTER FUNCTION atsmail.record_outbound(jsonb) RENAME TO record_outbound_held;
	END IF;
END $$;

-- 014's record, then, for a held mail, its preview and the site's command
-- address, and the approvers are told.  A later file that replaces
-- record_outbound must keep calling record_outbound_held (or do this).
CREATE OR REPLACE FUNCTION atsmail.record_outbound(p jsonb) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	mid bigint := atsmail.record_outbound_held(p);
BEGIN
	IF mid > 0 AND coalesce((p->>'held')::boolean, false) THEN
		UPDATE atsmail.held_messages
			SET preview = left(nullif(p->>'preview', ''), 4096),
			    command_at = nullif(p->>'command_at', '')
			WHERE message_id = mid;
		PERFORM atsmail.approval_tell_approvers(mid, 'approval.request', NULL);
	END IF;
	RETURN mid;
END $$;

-- ------------------------------------------------------ decisions by mail
-- The milter's call for ats+approve.<id> / ats+reject.<id> from login.
-- Returns {"state": ...} and what the sentence needs:
--   recorded      {"request": id}          the request is recorded
--   not_user      the login is no user
--   not_held      no held mail <id>
--   decided       {"decision", "decided_by"}   decided already
--   not_approver  {"sender"}               login approves no mail of its sender
CREATE OR REPLACE FUNCTION atsmail.approval_by_mail(p_mid bigint, p_login text,
	p_decision text, p_reason text, p_rfc_message_id text) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	uid bigint;
	h atsmail.held_messages;
	sender bigint;
	sender_login text;
	rid bigint;
BEGIN
	IF p_decision NOT IN ('approve', 'reject') THEN
		RAISE EXCEPTION 'approval_by_mail: decision "%" is not approve or reject', p_decision;
	END IF;
	SELECT id INTO uid FROM atsmail.users WHERE login = p_login AND active;
	IF NOT FOUND THEN
		RETURN jsonb_build_object('state', 'not_user');
	END IF;
	SELECT * INTO h FROM atsmail.held_messages WHERE message_id = p_mid;
	IF NOT FOUND THEN
		RETURN jsonb_build_object('state', 'not_held');
	END IF;
	IF h.decision IS NOT NULL THEN
		RETURN jsonb_build_object('state', 'decided', 'decision', h.decision,
			'decided_by', coalesce(h.decided_by, ''));
	END IF;
	SELECT m.owner_id, u.login INTO sender, sender_login FROM atsmail.messages m
		LEFT JOIN atsmail.users u ON u.id = m.owner_id WHERE m.id = p_mid;
	IF NOT EXISTS (SELECT 1 FROM atsmail.approvers_of(sender) o WHERE o.approver_id = uid) THEN
		RETURN jsonb_build_object('state', 'not_approver', 'sender', coalesce(sender_login, ''));
	END IF;
	PERFORM set_config('atsmail.actor', p_login, true);
	INSERT INTO atsmail.approval_requests (message_id, approver_id, decision, reason,
		rfc_message_id)
		VALUES (p_mid, uid, p_decision, nullif(left(p_reason, 2000), ''), p_rfc_message_id)
		RETURNING id INTO rid;
	PERFORM atsmail.audit(p_login, 'approval.requested', 'message', p_mid::text,
		jsonb_build_object('request', rid, 'decision', p_decision,
			'reason', nullif(p_reason, '')));
	RETURN jsonb_build_object('state', 'recorded', 'request', rid);
END $$;

-- The requests `approval run` applies: the first open one per mail still
-- held; the others of a decided mail are closed as superseded.
CREATE OR REPLACE FUNCTION atsmail.approval_requests_due()
	RETURNS TABLE (request_id bigint, message_id bigint, decision text, approver text,
	               reason text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	UPDATE atsmail.approval_requests r SET applied_at = now(), outcome = 'superseded',
		error = 'the mail was ' || h.decision || ' already by ' || coalesce(h.decided_by, '?')
		FROM atsmail.held_messages h
		WHERE r.applied_at IS NULL AND h.message_id = r.message_id AND h.decision IS NOT NULL;
	RETURN QUERY SELECT DISTINCT ON (r.message_id) r.id, r.message_id, r.decision, u.login,
		r.reason
		FROM atsmail.approval_requests r JOIN atsmail.users u ON u.id = r.approver_id
		WHERE r.applied_at IS NULL
		ORDER BY r.message_id, r.requested_at, r.id;
END $$;

-- Closes an open request; false when it was closed already (another run).
CREATE OR REPLACE FUNCTION atsmail.approval_request_done(p_id bigint, p_outcome text,
	p_error text) RETURNS boolean
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
	WITH done AS (UPDATE atsmail.approval_requests SET applied_at = now(),
		outcome = p_outcome, error = p_error WHERE id = p_id AND applied_at IS NULL
		RETURNING 1)
	SELECT EXISTS (SELECT 1 FROM done)
$$;

-- ----------------------------------------------------- the sender is told
-- After held_release or held_reject of message p_id (same transaction):
-- keeps the reason and queues approval.approved / approval.rejected to the
-- sender.  Returns the notification's id (NULL: the sender is no user).
CREATE OR REPLACE FUNCTION atsmail.approval_decided(p_id bigint, p_reason text)
	RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	h atsmail.held_messages;
	m atsmail.messages;
	params jsonb;
BEGIN
	UPDATE atsmail.held_messages SET decision_reason = nullif(p_reason, '')
		WHERE message_id = p_id RETURNING * INTO h;
	IF NOT FOUND OR h.decision IS NULL THEN
		RAISE EXCEPTION 'approval_decided: message % is not decided', p_id;
	END IF;
	SELECT * INTO m FROM atsmail.messages WHERE id = p_id;
	IF m.owner_id IS NULL THEN
		RETURN NULL;
	END IF;
	params := jsonb_build_object('held_id', p_id::text, 'subject', coalesce(m.subject, ''),
		'recipients', coalesce((SELECT string_agg(r.address, ', ' ORDER BY r.address)
			FROM atsmail.message_recipients r WHERE r.message_id = p_id), ''),
		'approver', coalesce(h.decided_by, ''));
	IF h.decision = 'rejected' THEN
		params := params || jsonb_build_object('reason',
			coalesce(nullif(p_reason, ''), '(no reason given)'));
	END IF;
	-- Postfix has acted already: telling the sender must not undo the record
	BEGIN
		RETURN atsmail.notify(CASE h.decision WHEN 'released' THEN 'approval.approved'
			ELSE 'approval.rejected' END, m.owner_id, NULL, params, 'message', p_id::text);
	EXCEPTION WHEN OTHERS THEN
		RAISE WARNING 'approval: the sender of message % not told: %', p_id, SQLERRM;
		RETURN NULL;
	END;
END $$;

-- ------------------------------------------------------------- reminders
-- Held mail waiting longer than p_after and not reminded yet: each
-- approver gets approval.reminder once.  Returns how many mails.
CREATE OR REPLACE FUNCTION atsmail.approval_remind(p_after interval) RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	h record;
	n integer := 0;
	waited interval;
BEGIN
	FOR h IN SELECT message_id, held_at FROM atsmail.held_messages
	         WHERE decision IS NULL AND reminded_at IS NULL AND held_at <= now() - p_after
	         ORDER BY held_at FOR UPDATE SKIP LOCKED LOOP
		waited := date_trunc('minute', now() - h.held_at);
		PERFORM atsmail.approval_tell_approvers(h.message_id, 'approval.reminder',
			jsonb_build_object('waiting', CASE
				WHEN waited >= interval '1 day' THEN extract(day FROM waited)::int || 'd'
				WHEN waited >= interval '1 hour' THEN
					(extract(epoch FROM waited)::int / 3600) || 'h'
				ELSE greatest(extract(epoch FROM waited)::int / 60, 1) || 'min' END));
		UPDATE atsmail.held_messages SET reminded_at = now() WHERE message_id = h.message_id;
		n := n + 1;
	END LOOP;
	RETURN n;
END $$;

-- ------------------------------------------------------------ privileges
GRANT SELECT, INSERT, UPDATE, DELETE ON atsmail.approval_groups, atsmail.user_groups,
	atsmail.approvers TO atsmail_writer;
GRANT SELECT, INSERT, UPDATE ON atsmail.approval_requests TO atsmail_writer;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA atsmail TO atsmail_writer;
GRANT SELECT ON atsmail.approval_groups, atsmail.user_groups, atsmail.approvers,
	atsmail.approval_requests TO atsmail_auditor;

DO $$
DECLARE
	t text;
BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'atsmail_owner')
	   AND pg_has_role(current_user, 'atsmail_owner', 'USAGE') THEN
		FOREACH t IN ARRAY ARRAY['approval_groups', 'user_groups', 'approvers',
		                         'approval_requests'] LOOP
			IF (SELECT relowner FROM pg_class WHERE oid = ('atsmail.' || t)::regclass)
					<> 'atsmail_owner'::regrole THEN
				EXECUTE format('ALTER TABLE atsmail.%I OWNER TO atsmail_owner', t);
			END IF;
		END LOOP;
		ALTER FUNCTION atsmail.approval_group_sync(text) OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.approval_member_joined() OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.approvers_of(bigint) OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.approval_params(bigint) OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.approval_tell_approvers(bigint, text, jsonb) OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.record_outbound_held(jsonb) OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.record_outbound(jsonb) OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.approval_by_mail(bigint, text, text, text, text)
			OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.approval_requests_due() OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.approval_request_done(bigint, text, text) OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.approval_decided(bigint, text) OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.approval_remind(interval) OWNER TO atsmail_owner;
	END IF;
END $$;
REVOKE ALL ON FUNCTION atsmail.approval_group_sync(text), atsmail.approval_member_joined(),
	atsmail.approvers_of(bigint), atsmail.approval_params(bigint),
	atsmail.approval_tell_approvers(bigint, text, jsonb), atsmail.record_outbound_held(jsonb),
	atsmail.approval_by_mail(bigint, text, text, text, text), atsmail.approval_requests_due(),
	atsmail.approval_request_done(bigint, text, text), atsmail.approval_decided(bigint, text),
	atsmail.approval_remind(interval), atsmail.record_outbound(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION atsmail.record_outbound(jsonb), atsmail.approval_group_sync(text), atsmail.approvers_of(bigint),
	atsmail.approval_params(bigint), atsmail.approval_tell_approvers(bigint, text, jsonb),
	atsmail.record_outbound_held(jsonb),
	atsmail.approval_by_mail(bigint, text, text, text, text), atsmail.approval_requests_due(),
	atsmail.approval_request_done(bigint, text, text), atsmail.approval_decided(bigint, text),
	atsmail.approval_remind(interval) TO atsmail_writer;

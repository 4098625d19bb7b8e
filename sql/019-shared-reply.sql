-- 019-shared-reply.sql -- a member's reply in a shared mailbox's thread,
-- at SMTP time (docs/shared-reply.md).
--
-- shared_reply_state()  what atsmaild's milter reads for a reply: the
--                       threads its References / In-Reply-To name, one row
--                       per shared mailbox, with the assignee, who answered
--                       and since when, and whether the sender is a member;
--                       lib/outbound/shared-reply.c decides from it.
-- shared_forced()       a reply sent over the guard with ats+force: event
--                       'forced' naming whom it overrode.
-- shared_answered()     an accepted reply: every item of the thread is
--                       answered by the sender (event 'answered'), its
--                       status done or progress (shared_answered_status),
--                       the sender its assignee when it had none; returns
--                       the Message-IDs atsmaild moves to the status folder
--                       in the shared account (doveadm move).
-- shared_member_logins() the logins of every member of a shared mailbox:
--                       atsmaild asks PostgreSQL only about their replies.
-- Idempotent like every file of sql/: the same reply again (the client's
-- retry after a 451) records nothing twice.

-- The time a member is shown ("2026-12-04 18:01 UTC").
CREATE OR REPLACE FUNCTION atsmail.shared_time_text(p timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT to_char(p AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"')
$$;

CREATE OR REPLACE FUNCTION atsmail.shared_member_logins() RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	SELECT DISTINCT lower(u.login) FROM atsmail.shared_members m
	JOIN atsmail.users u ON u.id = m.user_id WHERE u.active
$$;

-- p_refs: the bare ids of References then In-Reply-To.  Per shared
-- mailbox, the latest item whose own Message-ID or thread those ids name;
-- answered_*: the latest answer in its thread; assignee_since: when the
-- assignee got it (the last 'assignee' event to them, else delivery).
CREATE OR REPLACE FUNCTION atsmail.shared_reply_state(p_login text, p_refs text[])
	RETURNS TABLE (item_id bigint, mailbox text, thread_key text, status text,
	               member boolean, assignee_login text, assignee_name text,
	               assignee_since text, answered_login text, answered_name text,
	               answered_at text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	RETURN QUERY
	WITH hit AS (
		SELECT DISTINCT ON (s.mailbox) s.*
		FROM atsmail.shared_items s
		WHERE s.rfc_message_id = ANY (p_refs) OR s.thread_key = ANY (p_refs)
		ORDER BY s.mailbox, s.received_at DESC, s.id DESC
	)
	SELECT h.id, h.mailbox, h.thread_key, h.status,
		EXISTS (SELECT 1 FROM atsmail.shared_members m JOIN atsmail.users u ON u.id = m.user_id
		        WHERE m.mailbox = h.mailbox AND lower(u.login) = lower(p_login) AND u.active),
		ua.login, ua.display_name,
		atsmail.shared_time_text(coalesce(
			(SELECT max(e.at) FROM atsmail.shared_events e
			 WHERE e.item_id = h.id AND e.what = 'assignee' AND e.to_value = ua.login),
			h.received_at)),
		ub.login, ub.display_name, atsmail.shared_time_text(ans.answered_at)
	FROM hit h
	LEFT JOIN atsmail.users ua ON ua.id = h.assignee_user_id
	LEFT JOIN LATERAL (
		SELECT s2.answered_by_user_id, s2.answered_at FROM atsmail.shared_items s2
		WHERE s2.mailbox = h.mailbox AND s2.thread_key = h.thread_key
		  AND s2.answered_by_user_id IS NOT NULL
		ORDER BY s2.answered_at DESC LIMIT 1) ans ON true
	LEFT JOIN atsmail.users ub ON ub.id = ans.answered_by_user_id
	ORDER BY h.mailbox;
END $$;

-- The user of a login, active and a member of p_mailbox, or an error
-- naming it.
CREATE OR REPLACE FUNCTION atsmail.shared_member_id(p_mailbox text, p_login text)
	RETURNS bigint
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	uid bigint;
BEGIN
	SELECT u.id INTO uid FROM atsmail.shared_members m JOIN atsmail.users u ON u.id = m.user_id
	WHERE m.mailbox = p_mailbox AND lower(u.login) = lower(p_login) AND u.active;
	IF uid IS NULL THEN
		RAISE EXCEPTION 'shared mailbox %: "%" is no active member', p_mailbox, p_login
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN uid;
END $$;

-- p_over: 'assigned' or 'answered', p_other the member overridden.
CREATE OR REPLACE FUNCTION atsmail.shared_forced(p_mailbox text, p_thread_key text,
	p_login text, p_over text, p_other text, p_reply text)
	RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	uid bigint := atsmail.shared_member_id(p_mailbox, p_login);
	it bigint;
BEGIN
	SELECT s.id INTO it FROM atsmail.shared_items s
	WHERE s.mailbox = p_mailbox AND s.thread_key = p_thread_key
	ORDER BY s.received_at DESC, s.id DESC LIMIT 1;
	IF it IS NULL THEN
		RETURN NULL;
	END IF;
	IF p_reply IS NOT NULL AND EXISTS (SELECT 1 FROM atsmail.shared_events e
			WHERE e.item_id = it AND e.what = 'forced' AND e.detail->>'reply' = p_reply) THEN
		RETURN it;                      -- the same reply again
	END IF;
	INSERT INTO atsmail.shared_events (item_id, actor, what, from_value, to_value, detail)
	VALUES (it, (SELECT login FROM atsmail.users WHERE id = uid), 'forced', p_other,
		(SELECT login FROM atsmail.users WHERE id = uid),
		jsonb_build_object('over', p_over, 'reply', p_reply));
	RETURN it;
END $$;

CREATE OR REPLACE FUNCTION atsmail.shared_answered(p_mailbox text, p_thread_key text,
	p_login text, p_status text, p_reply text)
	RETURNS TABLE (rfc_message_id text, assignee_login text, changed boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	uid bigint := atsmail.shared_member_id(p_mailbox, p_login);
	login text;
	s atsmail.shared_items;
	did boolean;
BEGIN
	IF p_status IS NULL OR p_status NOT IN ('progress', 'done') THEN
		RAISE EXCEPTION 'shared_answered: status "%" is not progress or done', p_status
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	login := (SELECT u.login FROM atsmail.users u WHERE u.id = uid);
	FOR s IN SELECT * FROM atsmail.shared_items i
	         WHERE i.mailbox = p_mailbox AND i.thread_key = p_thread_key
	         ORDER BY i.received_at, i.id FOR UPDATE LOOP
		did := NOT (p_reply IS NOT NULL AND EXISTS (SELECT 1 FROM atsmail.shared_events e
			WHERE e.item_id = s.id AND e.what = 'answered' AND e.detail->>'reply' = p_reply));
		IF did THEN
			INSERT INTO atsmail.shared_events (item_id, actor, what, from_value, to_value,
				detail)
			VALUES (s.id, login, 'answered', s.status, p_status,
				jsonb_build_object('reply', p_reply));
			IF s.assignee_user_id IS NULL THEN
				INSERT INTO atsmail.shared_events (item_id, actor, what, from_value, to_value)
				VALUES (s.id, login, 'assignee', NULL, login);
			END IF;
			UPDATE atsmail.shared_items i SET status = p_status,
				assignee_user_id = coalesce(i.assignee_user_id, uid),
				answered_by_user_id = uid, answered_at = now(),
				status_at = now(), status_by = login
			WHERE i.id = s.id;
		END IF;
		RETURN QUERY SELECT s.rfc_message_id,
			(SELECT u.login FROM atsmail.users u
			 WHERE u.id = coalesce(s.assignee_user_id, uid)), did;
	END LOOP;
END $$;

GRANT EXECUTE ON FUNCTION atsmail.shared_time_text(timestamptz)
	TO atsmail_reader, atsmail_writer, atsmail_auditor;
GRANT EXECUTE ON FUNCTION atsmail.shared_member_logins(),
	atsmail.shared_reply_state(text, text[]),
	atsmail.shared_member_id(text, text),
	atsmail.shared_forced(text, text, text, text, text, text),
	atsmail.shared_answered(text, text, text, text, text)
	TO atsmail_writer;

DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'atsmail_owner')
	   AND pg_has_role(current_user, 'atsmail_owner', 'USAGE') THEN
		ALTER FUNCTION atsmail.shared_time_text(timestamptz) OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.shared_member_logins() OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.shared_reply_state(text, text[]) OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.shared_member_id(text, text) OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.shared_forced(text, text, text, text, text, text)
			OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.shared_answered(text, text, text, text, text)
			OWNER TO atsmail_owner;
	END IF;
END $$;
REVOKE ALL ON FUNCTION atsmail.shared_time_text(timestamptz), atsmail.shared_member_logins(),
	atsmail.shared_reply_state(text, text[]),
	atsmail.shared_member_id(text, text),
	atsmail.shared_forced(text, text, text, text, text, text),
	atsmail.shared_answered(text, text, text, text, text) FROM PUBLIC;

-- 021-held-shared.sql -- a member's reply in a shared mailbox's thread
-- that is held for approval answers the thread when it is released
-- (docs/shared-reply.md, "Held for approval"; docs/approval.md).
--
-- shared_held_answers   the pending answers of held mail: one row per
--                       thread the guard found for the reply, keyed by the
--                       held mail's RFC Message-ID (atsmaild journals
--                       first: the messages row may not exist yet when the
--                       milter records this), with the status the thread
--                       goes to (shared_answered_status when held) and,
--                       when the guard passed with ats+force, whom it
--                       overrode then.
-- shared_held_answer()  what atsmaild's milter calls at hold time.
-- shared_held_settle()  what atsmailctl calls when it releases the mail
--                       (approval approve, approval run), in the
--                       transaction of held_release: 'forced' where the
--                       thread is another member's now, then
--                       shared_answered (sql/019); returns the mails to
--                       move in the shared account; the pending rows go.
-- shared_held_drop()    on rejection: the pending rows go, the thread is
--                       unchanged.
-- Idempotent like every file of sql/: the same held mail again (the
-- client's retry after a 451) records one pending answer per thread.

CREATE TABLE IF NOT EXISTS atsmail.shared_held_answers (
	id           bigserial PRIMARY KEY,
	reply        text NOT NULL CHECK (reply <> ''),   -- the held mail's Message-ID, bare
	mailbox      text NOT NULL,
	thread_key   text NOT NULL,
	login        text NOT NULL,                        -- the member who replied
	status       text NOT NULL CHECK (status IN ('progress', 'done')),
	forced_over  text CHECK (forced_over IN ('assigned', 'answered')),
	forced_other text,                                 -- the member overridden then
	held_at      timestamptz NOT NULL DEFAULT now(),
	UNIQUE (reply, mailbox, thread_key)
);

-- p_over / p_other: NULL, or what the guard let ats+force override.
CREATE OR REPLACE FUNCTION atsmail.shared_held_answer(p_reply text, p_mailbox text,
	p_thread_key text, p_login text, p_status text, p_over text, p_other text)
	RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	uid bigint := atsmail.shared_member_id(p_mailbox, p_login);
	hid bigint;
BEGIN
	INSERT INTO atsmail.shared_held_answers AS h (reply, mailbox, thread_key, login, status,
		forced_over, forced_other)
	VALUES (p_reply, p_mailbox, p_thread_key,
		(SELECT u.login FROM atsmail.users u WHERE u.id = uid), p_status, p_over, p_other)
	ON CONFLICT (reply, mailbox, thread_key) DO UPDATE
		SET login = EXCLUDED.login, status = EXCLUDED.status,
		    forced_over = EXCLUDED.forced_over, forced_other = EXCLUDED.forced_other
	RETURNING h.id INTO hid;
	RETURN hid;
END $$;

-- The release of held mail p_message_id by p_actor.  Per pending answer,
-- the thread as it is now (its latest item, as shared_reply_state sees
-- it): assigned to another member, or answered by another (and not
-- assigned to the sender) -- the same rule as atsm_shared_thread_whose of
-- lib/outbound/shared-reply.c -- is recorded as 'forced' over them, with
-- the approver and whether the guard saw it at SMTP time (ats+force) or
-- the thread was taken while the mail was held; then answered.  A member
-- who is no active member any more answers nothing (note says so).
-- Rows: the mails to move (rfc_message_id not NULL) and the notes.
CREATE OR REPLACE FUNCTION atsmail.shared_held_settle(p_message_id bigint, p_actor text)
	RETURNS TABLE (mailbox text, thread_key text, rfc_message_id text, assignee_login text,
	               status text, note text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_reply text;
	h atsmail.shared_held_answers;
	it bigint;
	assignee text;
	answerer text;
	v_over text;
	v_other text;
BEGIN
	SELECT m.rfc_message_id INTO v_reply FROM atsmail.messages m WHERE m.id = p_message_id;
	IF v_reply IS NULL THEN
		RETURN;
	END IF;
	FOR h IN SELECT * FROM atsmail.shared_held_answers a WHERE a.reply = v_reply
	         ORDER BY a.id FOR UPDATE LOOP
		DELETE FROM atsmail.shared_held_answers a WHERE a.id = h.id;
		IF NOT EXISTS (SELECT 1 FROM atsmail.shared_members sm
		               JOIN atsmail.users u ON u.id = sm.user_id
		               WHERE sm.mailbox = h.mailbox AND lower(u.login) = lower(h.login)
		                 AND u.active) THEN
			RETURN QUERY SELECT h.mailbox, h.thread_key, NULL::text, NULL::text, h.status,
				format('%s is no active member of %s any more: the thread is not answered',
				       h.login, h.mailbox);
			CONTINUE;
		END IF;
		SELECT s.id, ua.login INTO it, assignee FROM atsmail.shared_items s
		LEFT JOIN atsmail.users ua ON ua.id = s.assignee_user_id
		WHERE s.mailbox = h.mailbox AND s.thread_key = h.thread_key
		ORDER BY s.received_at DESC, s.id DESC LIMIT 1;
		IF it IS NULL THEN
			CONTINUE;                       -- the thread's items are gone
		END IF;
		SELECT ub.login INTO answerer FROM atsmail.shared_items s2
		JOIN atsmail.users ub ON ub.id = s2.answered_by_user_id
		WHERE s2.mailbox = h.mailbox AND s2.thread_key = h.thread_key
		ORDER BY s2.answered_at DESC LIMIT 1;
		v_over := NULL;
		v_other := NULL;
		IF assignee IS NOT NULL AND lower(assignee) = lower(h.login) THEN
			NULL;                           -- the sender's thread
		ELSIF answerer IS NOT NULL AND lower(answerer) <> lower(h.login) THEN
			v_over := 'answered';
			v_other := answerer;
		ELSIF assignee IS NOT NULL THEN
			v_over := 'assigned';
			v_other := assignee;
		END IF;
		IF v_over IS NOT NULL AND NOT EXISTS (SELECT 1 FROM atsmail.shared_events e
				WHERE e.item_id = it AND e.what = 'forced' AND e.detail->>'reply' = v_reply) THEN
			INSERT INTO atsmail.shared_events (item_id, actor, what, from_value, to_value,
				detail)
			VALUES (it, h.login, 'forced', v_other, h.login,
				jsonb_build_object('over', v_over, 'reply', v_reply, 'held', true,
					'approved_by', p_actor,
					'guard', CASE WHEN h.forced_over IS NOT NULL THEN 'ats+force'
					              ELSE 'taken while held' END));
		END IF;
		RETURN QUERY SELECT h.mailbox, h.thread_key, a.rfc_message_id, a.assignee_login,
			h.status,
			CASE WHEN v_over IS NULL THEN NULL
			     ELSE format('over %s of %s (approved by %s)', v_over, v_other, p_actor) END
			FROM atsmail.shared_answered(h.mailbox, h.thread_key, h.login, h.status, v_reply) a;
	END LOOP;
END $$;

-- The rejection of held mail p_message_id: its pending answers go.  The
-- number of threads left unanswered.
CREATE OR REPLACE FUNCTION atsmail.shared_held_drop(p_message_id bigint) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	n integer;
BEGIN
	DELETE FROM atsmail.shared_held_answers a
	WHERE a.reply = (SELECT m.rfc_message_id FROM atsmail.messages m WHERE m.id = p_message_id);
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END $$;

-- ------------------------------------------------------------ privileges
GRANT SELECT ON atsmail.shared_held_answers TO atsmail_writer, atsmail_auditor;
ALTER TABLE atsmail.shared_held_answers ENABLE ROW LEVEL SECURITY;
ALTER TABLE atsmail.shared_held_answers FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS all_rows_writer ON atsmail.shared_held_answers;
CREATE POLICY all_rows_writer ON atsmail.shared_held_answers FOR ALL
	TO atsmail_writer, atsmail_owner USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS all_rows_auditor ON atsmail.shared_held_answers;
CREATE POLICY all_rows_auditor ON atsmail.shared_held_answers FOR SELECT
	TO atsmail_auditor USING (true);

GRANT EXECUTE ON FUNCTION atsmail.shared_held_answer(text, text, text, text, text, text, text),
	atsmail.shared_held_settle(bigint, text),
	atsmail.shared_held_drop(bigint)
	TO atsmail_writer;

DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'atsmail_owner')
	   AND pg_has_role(current_user, 'atsmail_owner', 'USAGE') THEN
		IF (SELECT relowner FROM pg_class
		    WHERE oid = 'atsmail.shared_held_answers'::regclass) <> 'atsmail_owner'::regrole THEN
			ALTER TABLE atsmail.shared_held_answers OWNER TO atsmail_owner;
		END IF;
		ALTER FUNCTION atsmail.shared_held_answer(text, text, text, text, text, text, text)
			OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.shared_held_settle(bigint, text) OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.shared_held_drop(bigint) OWNER TO atsmail_owner;
	END IF;
END $$;
REVOKE ALL ON FUNCTION atsmail.shared_held_answer(text, text, text, text, text, text, text),
	atsmail.shared_held_settle(bigint, text),
	atsmail.shared_held_drop(bigint) FROM PUBLIC;

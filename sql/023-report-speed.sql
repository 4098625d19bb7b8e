-- 023-report-speed.sql -- atsmail.report_mail() of 022 set-based: the
-- same rows, a fraction of the reading (docs/benchmarks.md, "Reports").
--
-- 022 asked, for every mail of the period, three correlated subqueries
-- over its thread (the first answer to a sent mail, the first answer to a
-- received one, whether the received one answers us), each an index
-- lookup with "thread_id = thread OR id = thread", plus a subquery for
-- the thread's shared mailboxes, its jobs and its bounces: about 34 index
-- pages per mail.  Here the period's mail is read once, then the messages
-- of its threads once (two index lookups per thread, not seven per mail),
-- and the answers, mailboxes, jobs and bounces are computed from those
-- sets with joins and aggregates.  The result is the same row for row
-- (tests/e2e/report.sh knows every figure).
--
-- A new file, not an edit of 022: sql/ files are applied once and
-- recorded by checksum (lib/store/migrate.c), so an installed 022 must
-- stay as it is; this file replaces its function.  Still SECURITY
-- INVOKER, still plain queries over the RLS tables (022's header): what
-- a recruiter may not read is not counted, nor are its answers, links
-- and bounces.  Idempotent like every file of sql/.

-- -------------------------------------------------------------- indexes
-- the bounced recipients of a sent mail: few, so a small index to probe
-- for every sent mail of the period instead of all its recipients
CREATE INDEX IF NOT EXISTS message_recipients_bounced_idx
	ON atsmail.message_recipients (message_id) WHERE status = 'bounced';

-- ---------------------------------------------------------- the period

-- One row per mail of [p_from, p_to), as documented in 022:
--   out  sent (status recorded or released); reply_at: the first received
--        mail of its thread after it, not a bounce nor an auto-reply,
--        whenever it came; bounces: its recipients that bounced, hard
--        when the status code is 5.x.x, soft otherwise
--   in   received, not a bounce nor an auto-reply; answers: the thread
--        had a mail of ours sent before it; reply_at: the first mail of
--        ours in its thread sent after it
-- A thread is coalesce(thread_id, id) of the mail; its messages are
-- those with that id or that thread_id, as in 022 (a thread's first
-- message may itself carry a thread_id: it still belongs to the thread).
CREATE OR REPLACE FUNCTION atsmail.report_mail(p_from timestamptz, p_to timestamptz)
RETURNS TABLE (id bigint, direction text, at bigint, at_off integer, day text,
               owner_login text, owner_name text, thread bigint,
               jobs bigint[], mailboxes text[], answers boolean,
               reply_at bigint, reply_off integer, bounces_hard integer, bounces_soft integer)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	WITH m AS MATERIALIZED (
		-- the period's mail: a range scan of each partial index of 022
		SELECT m.id, m.direction, m.sent_at AS t, coalesce(m.thread_id, m.id) AS thread,
		       m.owner_id
		FROM atsmail.messages m
		WHERE m.direction = 'out' AND m.sent_at >= p_from AND m.sent_at < p_to
		  AND m.status IN ('recorded', 'released')
		UNION ALL
		SELECT m.id, m.direction, m.received_at, coalesce(m.thread_id, m.id), m.owner_id
		FROM atsmail.messages m
		WHERE m.direction = 'in' AND m.received_at >= p_from AND m.received_at < p_to
		  AND NOT m.is_bounce AND NOT m.is_auto_reply
	), th AS MATERIALIZED (
		SELECT DISTINCT m.thread FROM m
	), tx AS MATERIALIZED (
		-- every message of those threads, read once, with what an answer
		-- needs: its time (received_at of received mail, sent_at of sent
		-- mail) and whether it may answer at all (received: not a bounce
		-- nor an auto-reply; sent: recorded or released).  The thread's
		-- first message by its id -- most often a mail of the period,
		-- already read, which passed those very tests -- and the others
		-- by their thread_id.  One message may come twice, which neither
		-- min() nor DISTINCT minds.
		SELECT th.thread, f.id, f.direction, f.t, true AS answer
		FROM th JOIN m f ON f.id = th.thread
		UNION ALL
		SELECT th.thread, x.id, x.direction,
		       CASE WHEN x.direction = 'in' THEN x.received_at ELSE x.sent_at END,
		       CASE WHEN x.direction = 'in' THEN NOT x.is_bounce AND NOT x.is_auto_reply
		            ELSE x.status IN ('recorded', 'released') END
		FROM th JOIN atsmail.messages x ON x.id = th.thread
		WHERE NOT EXISTS (SELECT 1 FROM m f WHERE f.id = th.thread)
		UNION ALL
		SELECT th.thread, x.id, x.direction,
		       CASE WHEN x.direction = 'in' THEN x.received_at ELSE x.sent_at END,
		       CASE WHEN x.direction = 'in' THEN NOT x.is_bounce AND NOT x.is_auto_reply
		            ELSE x.status IN ('recorded', 'released') END
		FROM th JOIN atsmail.messages x ON x.thread_id = th.thread
	), r AS (
		-- per mail, from its thread's messages: the first answer after it
		-- (received for a sent mail, sent for a received one), and for a
		-- received mail whether one of ours was sent before it
		SELECT m.id,
		       min(x.t) FILTER (WHERE x.direction <> m.direction AND x.answer
		                          AND x.t > m.t) AS reply_t,
		       m.direction = 'in' AND count(*) FILTER (WHERE x.direction = 'out' AND x.answer
		                                                 AND x.t < m.t) > 0 AS answers
		FROM m JOIN tx x ON x.thread = m.thread
		GROUP BY m.id, m.direction
	), s AS (
		-- the shared mailboxes of each thread
		SELECT x.thread, array_agg(DISTINCT i.mailbox) AS mailboxes
		FROM tx x JOIN atsmail.shared_items i ON i.message_id = x.id
		GROUP BY x.thread
	), j AS (
		-- the jobs of each mail: linked to the job, or to a selection
		-- process of it
		SELECT l.message_id, array_agg(DISTINCT coalesce(p.job_id, l.target_id)) AS jobs
		FROM m
		JOIN atsmail.message_links l ON l.message_id = m.id
		LEFT JOIN atsmail.processes p ON l.target_kind = 'process' AND p.id = l.target_id
		WHERE l.target_kind IN ('job', 'process')
		  AND (l.target_kind = 'job' OR p.id IS NOT NULL)
		GROUP BY l.message_id
	), b AS (
		-- the bounced recipients of each sent mail
		SELECT rc.message_id,
		       count(*) FILTER (WHERE rc.status_code LIKE '5.%')::integer AS hard,
		       count(*) FILTER (WHERE rc.status_code IS NULL
		                          OR rc.status_code NOT LIKE '5.%')::integer AS soft
		FROM m JOIN atsmail.message_recipients rc ON rc.message_id = m.id
		WHERE m.direction = 'out' AND rc.status = 'bounced'
		GROUP BY rc.message_id
	)
	SELECT m.id, m.direction, extract(epoch FROM m.t)::bigint,
	       extract(timezone FROM m.t)::integer, to_char(m.t, 'YYYY-MM-DD'),
	       u.login, u.display_name, m.thread,
	       coalesce(j.jobs, '{}'), coalesce(s.mailboxes, '{}'),
	       coalesce(r.answers, false), extract(epoch FROM r.reply_t)::bigint,
	       extract(timezone FROM r.reply_t)::integer,
	       coalesce(b.hard, 0), coalesce(b.soft, 0)
	FROM m
	LEFT JOIN r ON r.id = m.id
	LEFT JOIN atsmail.users u ON u.id = m.owner_id
	LEFT JOIN j ON j.message_id = m.id
	LEFT JOIN s ON s.thread = m.thread
	LEFT JOIN b ON b.message_id = m.id
	ORDER BY m.t, m.id
$$;

REVOKE ALL ON FUNCTION atsmail.report_mail(timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION atsmail.report_mail(timestamptz, timestamptz)
	TO atsmail_reader, atsmail_writer, atsmail_auditor;

-- Every object belongs to atsmail_owner (004).
DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'atsmail_owner')
	   AND pg_has_role(current_user, 'atsmail_owner', 'USAGE') THEN
		ALTER FUNCTION atsmail.report_mail(timestamptz, timestamptz) OWNER TO atsmail_owner;
	END IF;
END $$;

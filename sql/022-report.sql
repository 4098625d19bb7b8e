-- 022-report.sql -- what atsmailctl report reads (docs/reports.md): the
-- mail of a period with its thread's first answer, the funnel of phase
-- changes caused by mail, held mail and open shared-mailbox items now;
-- and the indexes that keep a period's report fast on millions of
-- messages.
--
-- Row-level security decides what is counted: every function here is
-- SECURITY INVOKER (the default), a plain query over the RLS tables, so a
-- recruiter's report (a reader acting for the recruiter, atsmailctl report
-- --as LOGIN, or the recruiter's own db_role) counts only the mail that
-- recruiter may read -- and only answers, bounces, links and phase changes
-- of mail it may read, since those tables follow their message.  No
-- summary table: one would have to repeat every policy to stay inside
-- RLS, and the indexes below keep the queries proportional to the
-- period's mail, not to the table (docs/benchmarks.md, "report").
--
-- The functions return one row per mail or item, not figures: medians,
-- office hours and the grouping by recruiter, shared mailbox and job are
-- pure C (lib/report/), unit-tested.  Times come with their UTC offset and
-- day in the session's TimeZone, which atsmailctl sets to the report's
-- zone.  Idempotent like every file of sql/.

-- -------------------------------------------------------------- indexes
-- the period's sent and received mail: a range scan each
CREATE INDEX IF NOT EXISTS messages_out_sent_idx
	ON atsmail.messages (sent_at) WHERE direction = 'out';
CREATE INDEX IF NOT EXISTS messages_in_received_idx
	ON atsmail.messages (received_at) WHERE direction = 'in';
-- the first answer in a thread, by direction
CREATE INDEX IF NOT EXISTS messages_thread_dir_idx
	ON atsmail.messages (thread_id, direction);
-- the funnel: phase changes of the period
CREATE INDEX IF NOT EXISTS phase_history_at_idx ON atsmail.phase_history (at);
-- the shared mailbox of a thread: items by their message
CREATE INDEX IF NOT EXISTS shared_items_message_idx ON atsmail.shared_items (message_id);

-- ------------------------------------------------------------- helpers
-- The jobs a message is filed on: linked to the job, or to a selection
-- process of it.
CREATE OR REPLACE FUNCTION atsmail.report_message_jobs(p_message bigint) RETURNS bigint[]
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT coalesce(array_agg(DISTINCT coalesce(p.job_id, l.target_id)), '{}')
	FROM atsmail.message_links l
	LEFT JOIN atsmail.processes p ON l.target_kind = 'process' AND p.id = l.target_id
	WHERE l.message_id = p_message AND l.target_kind IN ('job', 'process')
	  AND (l.target_kind = 'job' OR p.id IS NOT NULL)
$$;

-- The shared mailboxes of a thread (coalesce(thread_id, id) of its
-- messages): those with an item delivered of a message of the thread.
CREATE OR REPLACE FUNCTION atsmail.report_thread_mailboxes(p_thread bigint) RETURNS text[]
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT coalesce(array_agg(DISTINCT i.mailbox ORDER BY i.mailbox), '{}')
	FROM atsmail.shared_items i
	WHERE i.message_id IN (SELECT m.id FROM atsmail.messages m
	                       WHERE m.id = p_thread OR m.thread_id = p_thread)
$$;

-- ---------------------------------------------------------- the period
-- One row per mail of [p_from, p_to):
--   out  sent (status recorded or released: held and rejected mail was
--        not sent; released mail counts at its release, its sent_at);
--        reply_at: the first received mail of its thread after it, not a
--        bounce nor an auto-reply, whenever it came (not only within the
--        period); bounces: its recipients that bounced, hard when the
--        status code is 5.x.x, soft otherwise (4.x.x or none)
--   in   received, not a bounce nor an auto-reply; answers: the thread
--        had a mail of ours sent before it (a reply to us); reply_at: the
--        first mail of ours in its thread sent after it
-- day is the local date and *_off the UTC offset (seconds east) in the
-- session's TimeZone.
CREATE OR REPLACE FUNCTION atsmail.report_mail(p_from timestamptz, p_to timestamptz)
RETURNS TABLE (id bigint, direction text, at bigint, at_off integer, day text,
               owner_login text, owner_name text, thread bigint,
               jobs bigint[], mailboxes text[], answers boolean,
               reply_at bigint, reply_off integer, bounces_hard integer, bounces_soft integer)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	WITH m AS (
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
	), r AS (
		SELECT m.*,
		       CASE WHEN m.direction = 'out' THEN
		         (SELECT min(x.received_at) FROM atsmail.messages x
		          WHERE (x.thread_id = m.thread OR x.id = m.thread) AND x.direction = 'in'
		            AND x.received_at > m.t AND NOT x.is_bounce AND NOT x.is_auto_reply)
		       ELSE
		         (SELECT min(x.sent_at) FROM atsmail.messages x
		          WHERE (x.thread_id = m.thread OR x.id = m.thread) AND x.direction = 'out'
		            AND x.sent_at > m.t AND x.status IN ('recorded', 'released'))
		       END AS reply_t,
		       m.direction = 'in' AND EXISTS (SELECT 1 FROM atsmail.messages x
		          WHERE (x.thread_id = m.thread OR x.id = m.thread) AND x.direction = 'out'
		            AND x.sent_at < m.t AND x.status IN ('recorded', 'released')) AS answers
		FROM m
	)
	SELECT r.id, r.direction, extract(epoch FROM r.t)::bigint,
	       extract(timezone FROM r.t)::integer, to_char(r.t, 'YYYY-MM-DD'),
	       u.login, u.display_name, r.thread,
	       coalesce(j.jobs, '{}'), coalesce(s.mailboxes, '{}'),
	       r.answers, extract(epoch FROM r.reply_t)::bigint,
	       extract(timezone FROM r.reply_t)::integer,
	       coalesce(b.hard, 0), coalesce(b.soft, 0)
	FROM r
	LEFT JOIN atsmail.users u ON u.id = r.owner_id
	-- report_message_jobs() and report_thread_mailboxes() written out:
	-- a subquery is planned into this query, a function call per mail
	-- is not (docs/benchmarks.md, "Reports")
	LEFT JOIN LATERAL (
		SELECT array_agg(DISTINCT coalesce(p.job_id, l.target_id)) AS jobs
		FROM atsmail.message_links l
		LEFT JOIN atsmail.processes p ON l.target_kind = 'process' AND p.id = l.target_id
		WHERE l.message_id = r.id AND l.target_kind IN ('job', 'process')
		  AND (l.target_kind = 'job' OR p.id IS NOT NULL)
	) j ON true
	LEFT JOIN LATERAL (
		SELECT array_agg(DISTINCT i.mailbox) AS mailboxes
		FROM atsmail.messages tm
		JOIN atsmail.shared_items i ON i.message_id = tm.id
		WHERE tm.id = r.thread OR tm.thread_id = r.thread
	) s ON true
	LEFT JOIN LATERAL (
		SELECT count(*) FILTER (WHERE rc.status_code LIKE '5.%')::integer AS hard,
		       count(*) FILTER (WHERE rc.status_code IS NULL
		                          OR rc.status_code NOT LIKE '5.%')::integer AS soft
		FROM atsmail.message_recipients rc
		WHERE r.direction = 'out' AND rc.message_id = r.id AND rc.status = 'bounced'
	) b ON true
	ORDER BY r.t, r.id
$$;

-- The local days of [p_from, p_to) in the session's TimeZone, in order.
CREATE OR REPLACE FUNCTION atsmail.report_days(p_from timestamptz, p_to timestamptz)
RETURNS SETOF text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT to_char(d, 'YYYY-MM-DD')
	FROM generate_series(date_trunc('day', p_from), p_to - interval '1 microsecond',
	                     interval '1 day') AS d
	WHERE p_to > p_from
$$;

-- The funnel: per job and phase, the selection processes moved into the
-- phase by mail (phase_history cause mail_sent, reply or bounce) in
-- [p_from, p_to), in the order of the phases.  A process moved twice
-- into the same phase counts once.
CREATE OR REPLACE FUNCTION atsmail.report_funnel(p_from timestamptz, p_to timestamptz)
RETURNS TABLE (job_id bigint, job_title text, phase text, phase_label text,
               sort_order integer, processes bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT j.id, j.title, h.to_phase, ph.label, ph.sort_order, count(DISTINCT h.record_id)
	FROM atsmail.phase_history h
	JOIN atsmail.processes p ON p.id = h.record_id
	JOIN atsmail.jobs j ON j.id = p.job_id
	JOIN atsmail.phases ph ON ph.kind = 'process' AND ph.code = h.to_phase
	WHERE h.at >= p_from AND h.at < p_to AND h.kind = 'process'
	  AND h.cause IN ('mail_sent', 'reply', 'bounce')
	GROUP BY j.id, j.title, h.to_phase, ph.label, ph.sort_order
	ORDER BY j.id, ph.sort_order, h.to_phase
$$;

-- Now, whatever the period: mail held for approval (undecided), and the
-- shared-mailbox items not done with their age at p_now.
CREATE OR REPLACE FUNCTION atsmail.report_held()
RETURNS TABLE (id bigint, owner_login text, owner_name text, jobs bigint[], mailboxes text[])
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT m.id, u.login, u.display_name, atsmail.report_message_jobs(m.id),
	       atsmail.report_thread_mailboxes(coalesce(m.thread_id, m.id))
	FROM atsmail.held_messages h
	JOIN atsmail.messages m ON m.id = h.message_id
	LEFT JOIN atsmail.users u ON u.id = m.owner_id
	WHERE h.decision IS NULL AND m.status = 'held'
	ORDER BY m.id
$$;

CREATE OR REPLACE FUNCTION atsmail.report_open_items(p_now timestamptz)
RETURNS TABLE (id bigint, mailbox text, assignee_login text, assignee_name text,
               jobs bigint[], age bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT i.id, i.mailbox, u.login, u.display_name,
	       CASE WHEN i.message_id IS NULL THEN '{}'::bigint[]
	            ELSE atsmail.report_message_jobs(i.message_id) END,
	       greatest(0, extract(epoch FROM p_now - i.received_at))::bigint
	FROM atsmail.shared_items i
	LEFT JOIN atsmail.users u ON u.id = i.assignee_user_id
	WHERE i.status <> 'done'
	ORDER BY i.mailbox, i.id
$$;

-- The labels of the jobs the report names (a reader may read jobs).
CREATE OR REPLACE FUNCTION atsmail.report_job_titles(p_ids bigint[])
RETURNS TABLE (id bigint, title text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT j.id, j.title FROM atsmail.jobs j WHERE j.id = ANY (p_ids) ORDER BY j.id
$$;

-- --------------------------------------------------------- privileges
-- Reading only, and only what the caller's policies show: every role
-- that may read mail may run them (readers and applications, auditors,
-- writers such as atsmailctl's own login).
REVOKE ALL ON FUNCTION atsmail.report_message_jobs(bigint),
	atsmail.report_thread_mailboxes(bigint),
	atsmail.report_mail(timestamptz, timestamptz), atsmail.report_days(timestamptz, timestamptz),
	atsmail.report_funnel(timestamptz, timestamptz), atsmail.report_held(),
	atsmail.report_open_items(timestamptz), atsmail.report_job_titles(bigint[])
	FROM PUBLIC;
GRANT EXECUTE ON FUNCTION atsmail.report_message_jobs(bigint),
	atsmail.report_thread_mailboxes(bigint),
	atsmail.report_mail(timestamptz, timestamptz), atsmail.report_days(timestamptz, timestamptz),
	atsmail.report_funnel(timestamptz, timestamptz), atsmail.report_held(),
	atsmail.report_open_items(timestamptz), atsmail.report_job_titles(bigint[])
	TO atsmail_reader, atsmail_writer, atsmail_auditor;

-- Every object belongs to atsmail_owner (004).
DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'atsmail_owner')
	   AND pg_has_role(current_user, 'atsmail_owner', 'USAGE') THEN
		ALTER FUNCTION atsmail.report_message_jobs(bigint) OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.report_thread_mailboxes(bigint) OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.report_mail(timestamptz, timestamptz) OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.report_days(timestamptz, timestamptz) OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.report_funnel(timestamptz, timestamptz) OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.report_held() OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.report_open_items(timestamptz) OWNER TO atsmail_owner;
		ALTER FUNCTION atsmail.report_job_titles(bigint[]) OWNER TO atsmail_owner;
	END IF;
END $$;

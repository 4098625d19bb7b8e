-- 007-inbound-indexes.sql -- indexes for the lookups of the inbound path
-- (lib/inbound/plan.c, lib/inbound/record.c) that 001-003 leave to a
-- sequential scan.  Each serves one statement run for a delivery:
--
--   unresolved_items_sender_idx   the intake rate limit: unresolved items
--                                 of one sender in the last hour
--                                 (unresolved_open_idx covers only the
--                                 open items, by date)
--   messages_in_nomsgid_idx       a mail without Message-ID is the same
--                                 mail as an 'in' row with its body hash
--                                 and sender (one per copy of it)
--
-- The lookups by Message-ID, token, address and id (the resumes of the
-- rate limit too, through the sender's address) already use the indexes
-- of 001-002 (checked with EXPLAIN against 100,000 resumes).
-- Idempotent like every file of sql/.

CREATE INDEX IF NOT EXISTS unresolved_items_sender_idx
	ON atsmail.unresolved_items (sender, created_at);

CREATE INDEX IF NOT EXISTS messages_in_nomsgid_idx
	ON atsmail.messages (body_sha256)
	WHERE rfc_message_id IS NULL AND direction = 'in';

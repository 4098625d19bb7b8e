-- seed-inbound.sql -- the fixture of the inbound pipeline (tests/unit/
-- test-inbound-*.c through tests/unit/fake-dir-seed.c, tests/e2e/recorder.sh, tests/e2e/replay-inbound.sh
-- and the Dovecot plugin's tests).  Load it after tests/data/seed.sql;
-- loading it twice is harmless.  Keep the ids stable: tests name them.
--
-- phase rules (data, not code)
--   9001 resume  on reply  while new        -> active
--   9002 process on reply  while screening  -> interview1
--   9003 contact on reply  while any        -> active
--   9004 contact on bounce while any        -> inactive
--   9005 resume  on reply  while placed     -> inactive   (NOT active)
-- intake addresses
--   recruit@atsmail.test -> a new resume; jobs@atsmail.test -> an unresolved item
-- recorded outbound mail (direction out; tokens are set by the tests, which
-- compute them with their own test secret)
--   5001 alice -> taro@candidate.test     <out-5001@atsmail.test>  resume 1001
--   5002 alice -> hanako@candidate.test   <out-5002@atsmail.test>  resume 1002, process 4001
--   5003 bob   -> suzuki@client.test      <out-5003@atsmail.test>  contact 2001
--   5004 alice -> family@candidate.test   <out-5004@atsmail.test>  resumes 1004, 1005 (ambiguous)
-- The messages sequence is moved to 10000 like the others.

BEGIN;

INSERT INTO atsmail.phase_rules (id, kind, event, from_phase, to_phase, active, priority)
OVERRIDING SYSTEM VALUE VALUES
	(9001, 'resume',  'reply',  'new',       'active',     true,  0),
	(9002, 'process', 'reply',  'screening', 'interview1', true,  0),
	(9003, 'contact', 'reply',  NULL,        'active',     true,  0),
	(9004, 'contact', 'bounce', NULL,        'inactive',   true,  0),
	(9005, 'resume',  'reply',  'placed',    'inactive',   false, 0)
ON CONFLICT DO NOTHING;

INSERT INTO atsmail.intake_addresses (address, action, note) VALUES
	('recruit@atsmail.test', 'resume', 'applications: a resume per new sender'),
	('jobs@atsmail.test', 'unresolved', 'enquiries: waiting for a person')
ON CONFLICT DO NOTHING;

INSERT INTO atsmail.messages (id, direction, rfc_message_id, owner_id, counterparts, subject,
	sent_at, visibility, visibility_reason, idempotency_key)
OVERRIDING SYSTEM VALUE VALUES
	(5001, 'out', 'out-5001@atsmail.test', 1, '{taro@candidate.test}', 'Interview',
	 now() - interval '1 day', 'shared', 'sender mode public', 'seed-out-5001'),
	(5002, 'out', 'out-5002@atsmail.test', 1, '{hanako@candidate.test}', 'Screening',
	 now() - interval '1 day', 'shared', 'sender mode public', 'seed-out-5002'),
	(5003, 'out', 'out-5003@atsmail.test', 2, '{suzuki@client.test}', 'Candidates',
	 now() - interval '1 day', 'shared', 'sender mode public', 'seed-out-5003'),
	(5004, 'out', 'out-5004@atsmail.test', 1, '{family@candidate.test}', 'Hello',
	 now() - interval '1 day', 'shared', 'sender mode public', 'seed-out-5004')
ON CONFLICT DO NOTHING;

INSERT INTO atsmail.message_recipients (message_id, address, kind) VALUES
	(5001, 'taro@candidate.test', 'to'),
	(5002, 'hanako@candidate.test', 'to'),
	(5003, 'suzuki@client.test', 'to'),
	(5004, 'family@candidate.test', 'to')
ON CONFLICT DO NOTHING;

INSERT INTO atsmail.message_links (message_id, target_kind, target_id, rule, ambiguous) VALUES
	(5001, 'resume', 1001, 'recipient_address', false),
	(5002, 'resume', 1002, 'recipient_address', false),
	(5002, 'process', 4001, 'command', false),
	(5003, 'contact', 2001, 'recipient_address', false),
	(5004, 'resume', 1004, 'recipient_address', true),
	(5004, 'resume', 1005, 'recipient_address', true)
ON CONFLICT DO NOTHING;

DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['messages', 'phase_rules'] LOOP
		PERFORM setval(pg_get_serial_sequence('atsmail.' || t, 'id'),
			greatest(10000, (SELECT last_value FROM pg_sequences
			                 WHERE schemaname = 'atsmail' AND sequencename = t || '_id_seq')));
	END LOOP;
END $$;

COMMIT;

-- seed.sql -- the shared test fixture of the outbound pipeline and the
-- milter (tests/unit/test-outbound.c, tests/e2e/*.sh, tests/milter/).
-- Load it after `atsmailctl db migrate`; loading it twice is harmless
-- (ON CONFLICT DO NOTHING).  Keep the ids stable: tests name them.
--
-- Suggested atsmail.conf for tests: ats_domain = ats.atsmail.test,
-- company_domains = atsmail.test (command addresses: ats+...@ats.atsmail.test).
--
-- users (login = primary address; all active)
--   1 alice@atsmail.test   recruiter, public;  additional: alice.sales@atsmail.test
--   2 bob@atsmail.test     recruiter, public
--   3 carol@atsmail.test   recruiter, private
--   4 dave@atsmail.test    recruiter, custom, default_share false
--   5 admin@atsmail.test   admin, admin mode
--   6 erin@atsmail.test    recruiter, public, needs_approval
-- companies  501 Acme (client), 502 Globex (client)
-- resumes (phase new, shared unless said)
--   1001 taro@candidate.test
--   1002 hanako@candidate.test          (process 4001 for job 3001, phase screening)
--   1003 jiro@candidate.test + jiro.home@example.net   (two addresses)
--   1004 and 1005 share family@candidate.test          (ambiguous)
--   1006 saburo@candidate.test          shared = false
--   1007 ken@rival.example              (in the excluded domain)
--   1008 shiro@candidate.test           (spare)
-- contacts   2001 suzuki@client.test (Acme, shared), 2002 sato@client.test (Globex, not shared)
-- jobs       3001..3025 (Acme, open)
-- processes  4001 = resume 1002 x job 3001, phase screening
-- exclusion domains: rival.example
-- phases: as seeded by sql/001-core.sql (resume new/active/placed/inactive;
--   contact new/active/inactive; process entry/screening/interview1/
--   interview2/final/offer/accepted/declined/rejected)
-- Identity sequences are moved to 10000 so that rows made by tests never
-- take a fixed id.

BEGIN;

INSERT INTO atsmail.users (id, login, display_name, role, sharing_mode, default_share, needs_approval)
OVERRIDING SYSTEM VALUE VALUES
	(1, 'alice@atsmail.test', 'Alice Recruiter', 'recruiter', 'public',  true,  false),
	(2, 'bob@atsmail.test',   'Bob Recruiter',   'recruiter', 'public',  true,  false),
	(3, 'carol@atsmail.test', 'Carol Recruiter', 'recruiter', 'private', true,  false),
	(4, 'dave@atsmail.test',  'Dave Recruiter',  'recruiter', 'custom',  false, false),
	(5, 'admin@atsmail.test', 'Admin',           'admin',     'admin',   true,  false),
	(6, 'erin@atsmail.test',  'Erin Trainee',    'recruiter', 'public',  true,  true)
ON CONFLICT DO NOTHING;

INSERT INTO atsmail.companies (id, name) OVERRIDING SYSTEM VALUE VALUES
	(501, 'Acme'), (502, 'Globex')
ON CONFLICT DO NOTHING;

INSERT INTO atsmail.resumes (id, name, kana, phase, shared) OVERRIDING SYSTEM VALUE VALUES
	(1001, '山田 太郎', 'ヤマダ タロウ', 'new', true),
	(1002, '佐藤 花子', 'サトウ ハナコ', 'new', true),
	(1003, '鈴木 次郎', 'スズキ ジロウ', 'new', true),
	(1004, '家族 一郎', 'カゾク イチロウ', 'new', true),
	(1005, '家族 純',   'カゾク ジュン', 'new', true),
	(1006, '田中 三郎', 'タナカ サブロウ', 'new', false),
	(1007, '競合 健',   'キョウゴウ ケン', 'new', true),
	(1008, '伊藤 四郎', 'イトウ シロウ', 'new', true)
ON CONFLICT DO NOTHING;

INSERT INTO atsmail.contacts (id, company_id, name, phase, shared) OVERRIDING SYSTEM VALUE VALUES
	(2001, 501, '鈴木 一郎', 'new', true),
	(2002, 502, '佐藤 次郎', 'new', false)
ON CONFLICT DO NOTHING;

INSERT INTO atsmail.jobs (id, company_id, title) OVERRIDING SYSTEM VALUE
SELECT g, 501, 'Job ' || g FROM generate_series(3001, 3025) AS g
ON CONFLICT DO NOTHING;

INSERT INTO atsmail.processes (id, resume_id, job_id, phase) OVERRIDING SYSTEM VALUE VALUES
	(4001, 1002, 3001, 'screening')
ON CONFLICT DO NOTHING;

INSERT INTO atsmail.addresses (owner_kind, owner_id, addr_norm, is_primary) VALUES
	('user', 1, 'alice@atsmail.test', true),
	('user', 1, 'alice.sales@atsmail.test', false),
	('user', 2, 'bob@atsmail.test', true),
	('user', 3, 'carol@atsmail.test', true),
	('user', 4, 'dave@atsmail.test', true),
	('user', 5, 'admin@atsmail.test', true),
	('user', 6, 'erin@atsmail.test', true),
	('resume', 1001, 'taro@candidate.test', true),
	('resume', 1002, 'hanako@candidate.test', true),
	('resume', 1003, 'jiro@candidate.test', true),
	('resume', 1003, 'jiro.home@example.net', false),
	('resume', 1004, 'family@candidate.test', true),
	('resume', 1005, 'family@candidate.test', true),
	('resume', 1006, 'saburo@candidate.test', true),
	('resume', 1007, 'ken@rival.example', true),
	('resume', 1008, 'shiro@candidate.test', true),
	('contact', 2001, 'suzuki@client.test', true),
	('contact', 2002, 'sato@client.test', true)
ON CONFLICT DO NOTHING;

INSERT INTO atsmail.exclusion_domains (domain, note) VALUES
	('rival.example', 'a competitor: mail with them stays private')
ON CONFLICT DO NOTHING;

DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['users', 'companies', 'resumes', 'contacts', 'jobs',
	                         'processes', 'addresses'] LOOP
		PERFORM setval(pg_get_serial_sequence('atsmail.' || t, 'id'),
			greatest(10000, (SELECT last_value FROM pg_sequences
			                 WHERE schemaname = 'atsmail' AND sequencename = t || '_id_seq')));
	END LOOP;
END $$;

COMMIT;

-- 013-privacy-defaults.sql -- private by default: a new user's mail, and a
-- new resume or contact, are not shown to every recruiter unless someone
-- says so.
--
-- 001 made new users 'public' (every sent mail shared with everybody) and
-- new records shared.  Zoho Recruit refuses a full-sharing default for
-- privacy, and so do we (docs/data-model.md, "Privacy defaults"):
--   users.sharing_mode   'custom': a mail is shared when every record it is
--                        linked to is shared, private otherwise ...
--   users.default_share  false: ... and private when it is linked to none
--   resumes.shared,      false: a record is shared when an administrator
--   contacts.shared      (import column, atsmailctl policy) says so
-- So a new recruiter's ATS mail is private until records are shared or
-- the mail says ats+share; an administrator who wants the old behaviour
-- sets a user 'public' (atsmailctl policy user LOGIN --mode public).
-- Only the defaults change: rows that exist keep their values (an upgrade
-- does not hide mail that was shared).  The snapshot's resume in the
-- making follows resumes.shared (ATSM_DIR_NEW_RESUME_SHARED, false).
-- Idempotent: setting a default twice is a no-op.
ALTER TABLE atsmail.users ALTER COLUMN sharing_mode SET DEFAULT 'custom';
ALTER TABLE atsmail.users ALTER COLUMN default_share SET DEFAULT false;
ALTER TABLE atsmail.resumes ALTER COLUMN shared SET DEFAULT false;
ALTER TABLE atsmail.contacts ALTER COLUMN shared SET DEFAULT false;

-- 006-import.sql -- external ids for `atsmailctl import`.
--
-- The ATS product a customer leaves gives each record its own id
-- ("ID", "レジュメID", "企業ID", ...).  Keeping it in external_id lets a
-- second import of the same export update the records it made instead of
-- adding them again; records without one are matched by their primary
-- address (resumes, contacts) or their name (companies), see
-- docs/atsmailctl.md.  The id is unique per table where present.
-- Idempotent like every file of sql/.

ALTER TABLE atsmail.companies ADD COLUMN IF NOT EXISTS external_id text
	CHECK (external_id <> '');
ALTER TABLE atsmail.contacts ADD COLUMN IF NOT EXISTS external_id text
	CHECK (external_id <> '');
ALTER TABLE atsmail.resumes ADD COLUMN IF NOT EXISTS external_id text
	CHECK (external_id <> '');
ALTER TABLE atsmail.jobs ADD COLUMN IF NOT EXISTS external_id text
	CHECK (external_id <> '');

CREATE UNIQUE INDEX IF NOT EXISTS companies_external_id_uniq
	ON atsmail.companies (external_id) WHERE external_id IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS contacts_external_id_uniq
	ON atsmail.contacts (external_id) WHERE external_id IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS resumes_external_id_uniq
	ON atsmail.resumes (external_id) WHERE external_id IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS jobs_external_id_uniq
	ON atsmail.jobs (external_id) WHERE external_id IS NOT NULL;

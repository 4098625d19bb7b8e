-- 015-user-language.sql -- the language atsmail writes to a user in.
--
-- users.lang is 'en' or 'ja', or NULL for the site's default_language
-- (atsmail.conf).  atsmaild's explanation mail (docs/refusal-mail.md) is
-- written in it.  Set with atsmailctl policy user LOGIN --lang en|ja|default;
-- a change is audited like every change of users (012).  Idempotent like
-- every file of sql/.

ALTER TABLE atsmail.users ADD COLUMN IF NOT EXISTS lang text
	CONSTRAINT users_lang_check CHECK (lang IS NULL OR lang IN ('en', 'ja'));

/* base/lang.h -- the languages atsmail writes to people in: a user's
 * language (users.lang) and the site's default (default_language).
 */
#ifndef ATSM_BASE_LANG_H
#define ATSM_BASE_LANG_H

enum atsm_lang {
	ATSM_LANG_EN,        /* English */
	ATSM_LANG_JA         /* Japanese */
};

/* "en" / "ja" (case-blind, a region suffix such as "ja-JP" allowed):
 * 0 with *out, -1 when s names no language atsmail writes. */
int atsm_lang_parse(const char *s, enum atsm_lang *out);
/* "en", "ja". */
const char *atsm_lang_name(enum atsm_lang l);

#endif

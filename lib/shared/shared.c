/* shared/shared.c -- the folder model of shared mailboxes and the thread
 * of a mail: which folder, which status, which assignee (shared/shared.h).
 */
#include "shared/shared.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail/msgid.h"

static const char *const status_names[] = { "unhandled", "progress", "done" };

const char *
atsm_shared_status_name(enum atsm_shared_status s)
{
	return (unsigned)s < 3 ? status_names[s] : "?";
}

int
atsm_shared_status_parse(const char *word, enum atsm_shared_status *out)
{
	int i;

	for (i = 0; word != NULL && i < 3; i++)
		if (strcmp(word, status_names[i]) == 0) {
			*out = (enum atsm_shared_status)i;
			return 0;
		}
	return -1;
}

bool
atsm_shared_is_mailbox(const struct atsm_conf *conf, const char *user)
{
	size_t i;

	if (user == NULL || *user == '\0')
		return false;
	for (i = 0; i < conf->shared_mailboxes.n; i++)
		if (strcasecmp(conf->shared_mailboxes.v[i], user) == 0)
			return true;
	return false;
}

int
atsm_shared_member_leaf(const char *login, char *out, size_t n, struct atsm_err *err)
{
	const char *at;
	size_t len, i;

	if (login == NULL || *login == '\0')
		return atsm_err_setc(err, ATSM_ERR_INPUT, "a member without a login");
	at = strrchr(login, '@');
	len = at != NULL ? (size_t)(at - login) : strlen(login);
	if (len == 0)
		return atsm_err_setc(err, ATSM_ERR_INPUT, "member %s: the login has no local "
		    "part to name its folder", login);
	for (i = 0; i < len; i++)
		if (login[i] == ATSM_SHARED_SEP || (unsigned char)login[i] < 0x20 ||
		    login[i] == 0x7f)
			return atsm_err_setc(err, ATSM_ERR_INPUT, "member %s: its local part "
			    "cannot name a folder (it holds '/' or a control character)", login);
	if (len >= n)
		return atsm_err_setc(err, ATSM_ERR_INPUT, "member %s: the local part is too "
		    "long for a folder name", login);
	memcpy(out, login, len);
	out[len] = '\0';
	return 0;
}

static const char *
folder_name(const struct atsm_conf *conf, enum atsm_shared_status s)
{
	switch (s) {
	case ATSM_SHARED_UNHANDLED:
		return conf->shared_folder_unhandled;
	case ATSM_SHARED_PROGRESS:
		return conf->shared_folder_progress;
	case ATSM_SHARED_DONE:
		return conf->shared_folder_done;
	}
	return NULL;
}

int
atsm_shared_folder_of(const struct atsm_conf *conf, enum atsm_shared_status s,
    const char *assignee, char *out, size_t n, struct atsm_err *err)
{
	const char *top = folder_name(conf, s);
	char leaf[ATSM_SHARED_LEAF_MAX];
	int len;

	if (top == NULL || *top == '\0')
		return atsm_err_setc(err, ATSM_ERR_INPUT, "the folder of status %s is not set",
		    atsm_shared_status_name(s));
	if (assignee == NULL || *assignee == '\0' || s == ATSM_SHARED_DONE)
		len = snprintf(out, n, "%s", top);
	else {
		if (atsm_shared_member_leaf(assignee, leaf, sizeof(leaf), err) < 0)
			return -1;
		len = snprintf(out, n, "%s%c%s", top, ATSM_SHARED_SEP, leaf);
	}
	if (len < 0 || (size_t)len >= n)
		return atsm_err_setc(err, ATSM_ERR_INPUT, "the folder of status %s is too long",
		    atsm_shared_status_name(s));
	return 0;
}

int
atsm_shared_move_sources(const struct atsm_conf *conf, enum atsm_shared_status s,
    char out[ATSM_SHARED_MOVE_SOURCES][ATSM_SHARED_FOLDER_MAX], struct atsm_err *err)
{
	const char *top;
	size_t k = 1;
	int i, len;

	if ((unsigned)s > ATSM_SHARED_DONE)
		return atsm_err_setc(err, ATSM_ERR_INPUT, "no status %d", (int)s);
	snprintf(out[0], ATSM_SHARED_FOLDER_MAX, "INBOX");
	for (i = 0; i < 3; i++) {
		if ((enum atsm_shared_status)i == s)
			continue;
		top = folder_name(conf, (enum atsm_shared_status)i);
		if (top == NULL || *top == '\0')
			return atsm_err_setc(err, ATSM_ERR_INPUT, "the folder of status %s is not set",
			    atsm_shared_status_name((enum atsm_shared_status)i));
		len = snprintf(out[k], ATSM_SHARED_FOLDER_MAX, "%s*", top);
		if (len < 0 || (size_t)len >= ATSM_SHARED_FOLDER_MAX)
			return atsm_err_setc(err, ATSM_ERR_INPUT, "the folder of status %s is too long",
			    atsm_shared_status_name((enum atsm_shared_status)i));
		k++;
	}
	return 0;
}

int
atsm_shared_move_decide(const struct atsm_conf *conf, const char *folder,
    const char *mover, struct atsm_shared_move *out, struct atsm_err *err)
{
	const char *top, *rest;
	size_t tl;
	int i;

	memset(out, 0, sizeof(*out));
	if (folder == NULL || *folder == '\0')
		return atsm_err_setc(err, ATSM_ERR_INPUT, "a move into a folder without a name");
	if (mover == NULL || *mover == '\0')
		return atsm_err_setc(err, ATSM_ERR_INPUT, "a move into %s by nobody (no login)",
		    folder);
	for (i = 0; i < 3; i++) {
		top = folder_name(conf, (enum atsm_shared_status)i);
		if (top == NULL || *top == '\0')
			continue;
		tl = strlen(top);
		if (strncmp(folder, top, tl) != 0)
			continue;
		rest = folder + tl;
		out->status = (enum atsm_shared_status)i;
		if (*rest == '\0') {
			out->assign = i == ATSM_SHARED_UNHANDLED ? ATSM_SHARED_ASSIGN_NONE :
			    i == ATSM_SHARED_PROGRESS ? ATSM_SHARED_ASSIGN_MEMBER :
			    ATSM_SHARED_ASSIGN_KEEP;
			if (out->assign == ATSM_SHARED_ASSIGN_MEMBER &&
			    snprintf(out->member, sizeof(out->member), "%s", mover) >=
			    (int)sizeof(out->member))
				return atsm_err_setc(err, ATSM_ERR_INPUT, "the login %s is too long",
				    mover);
			return 1;
		}
		if (*rest != ATSM_SHARED_SEP)
			continue;              /* 対応中2: another folder */
		rest++;
		/* one level only: 対応中/alice/old is the member's own filing */
		if (*rest == '\0' || strchr(rest, ATSM_SHARED_SEP) != NULL)
			return 0;
		if (strlen(rest) >= sizeof(out->member))
			return atsm_err_setc(err, ATSM_ERR_INPUT, "folder %s: the member's name "
			    "is too long", folder);
		out->assign = ATSM_SHARED_ASSIGN_MEMBER;
		memcpy(out->member, rest, strlen(rest) + 1);
		return 1;
	}
	return 0;
}

int
atsm_shared_thread_key(const char *references, const char *in_reply_to,
    const char *message_id, char **out)
{
	char *ids[1];

	*out = NULL;
	if (references != NULL && atsm_msgid_list(references, ids, 1) == 1) {
		*out = ids[0];
		return 0;
	}
	if (in_reply_to != NULL && atsm_msgid_list(in_reply_to, ids, 1) == 1) {
		*out = ids[0];
		return 0;
	}
	if (message_id != NULL)
		return atsm_msgid_bare(message_id, out);
	return 0;
}

/* notify/webhook.c -- body, signature, endpoint rules, verdict and backoff of the
 * webhooks that atsmail-notifyd sends (interface: notify/webhook.h).
 *
 * Pure functions: notifyd/ does the HTTP and the SQL.  The body is built
 * with jansson so that any payload jsonb can hold is embedded as JSON,
 * never spliced as text.
 */
#include "notify/webhook.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SIG_HEX_LEN 64

static json_t *
string_field(const char *s)
{
	return s != NULL && s[0] != '\0' ? json_string(s) : NULL;
}

char *
atsm_webhook_body(const struct atsm_webhook_event *ev, struct atsm_err *err)
{
	json_t *o, *id, *type, *at, *data;
	json_error_t jerr;
	char *body;
	const char *label = ev->id != NULL ? ev->id : "(no id)";

	if (ev->payload == NULL)
		return atsm_err_set(err, "outbox event %s: no payload", label), NULL;
	if (strlen(ev->payload) > ATSM_WEBHOOK_BODY_MAX)
		return atsm_err_set(err, "outbox event %s: payload larger than %u bytes",
		    label, ATSM_WEBHOOK_BODY_MAX), NULL;
	id = string_field(ev->id);
	type = string_field(ev->type);
	at = string_field(ev->created_at);
	data = json_loads(ev->payload, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (id == NULL || type == NULL || at == NULL || data == NULL) {
		if (data == NULL && id != NULL && type != NULL && at != NULL)
			atsm_err_set(err, "outbox event %s: payload is not JSON: %s (column %d)",
			    label, jerr.text, jerr.column);
		else
			atsm_err_set(err, "outbox event %s: %s is missing", label,
			    id == NULL ? "the id" : type == NULL ? "the event type" :
			    at == NULL ? "created_at" : "the payload");
		json_decref(id);
		json_decref(type);
		json_decref(at);
		json_decref(data);
		return NULL;
	}
	o = json_object();
	/* _new steals the references, also when it fails */
	if (o == NULL || json_object_set_new(o, "id", id) < 0 ||
	    json_object_set_new(o, "type", type) < 0 ||
	    json_object_set_new(o, "created_at", at) < 0 ||
	    json_object_set_new(o, "data", data) < 0) {
		json_decref(o);
		return atsm_err_set(err, "outbox event %s: out of memory", label), NULL;
	}
	body = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (body == NULL)
		return atsm_err_set(err, "outbox event %s: cannot encode the body", label), NULL;
	if (strlen(body) > ATSM_WEBHOOK_BODY_MAX) {
		free(body);
		return atsm_err_set(err, "outbox event %s: body larger than %u bytes",
		    label, ATSM_WEBHOOK_BODY_MAX), NULL;
	}
	return body;
}

int
atsm_webhook_sign(const struct atsm_token_keys *keys, const char *body,
    size_t len, char out[ATSM_WEBHOOK_SIG_MAX])
{
	size_t plen = strlen(ATSM_WEBHOOK_SIG_PREFIX);

	out[0] = '\0';
	if (keys == NULL || keys->n == 0)
		return -1;
	memcpy(out, ATSM_WEBHOOK_SIG_PREFIX, plen);
	if (atsm_hmac_sha256_hex(keys->key[0].k, keys->key[0].len, body, len,
	    out + plen) < 0) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

bool
atsm_webhook_verify(const struct atsm_token_keys *keys, const char *body,
    size_t len, const char *header)
{
	size_t plen = strlen(ATSM_WEBHOOK_SIG_PREFIX), i, k;
	char want[SIG_HEX_LEN + 1], got[SIG_HEX_LEN + 1];
	bool ok = false;

	if (keys == NULL || header == NULL || strncmp(header, ATSM_WEBHOOK_SIG_PREFIX, plen) != 0 ||
	    strlen(header + plen) != SIG_HEX_LEN)
		return false;
	/* hex digits compare case-insensitively: lower them first */
	for (i = 0; i < SIG_HEX_LEN; i++) {
		char c = header[plen + i];

		got[i] = c >= 'A' && c <= 'F' ? (char)(c - 'A' + 'a') : c;
	}
	got[SIG_HEX_LEN] = '\0';
	/* every key is tried, so the time does not tell which one matched */
	for (k = 0; k < keys->n; k++) {
		if (atsm_hmac_sha256_hex(keys->key[k].k, keys->key[k].len, body, len, want) < 0)
			continue;
		if (atsm_ct_equal(want, got, SIG_HEX_LEN))
			ok = true;
	}
	return ok;
}

/* Bounds of the authority (user@host:port) of url after "scheme://". */
static void
authority(const char *rest, const char **start, size_t *len)
{
	*start = rest;
	*len = strcspn(rest, "/?#");
}

static bool
is_loopback(const char *host, size_t len)
{
	size_t i, dots = 0;

	if (len == 9 && strncasecmp(host, "localhost", 9) == 0)
		return true;
	if (len == 5 && memcmp(host, "[::1]", 5) == 0)
		return true;
	if (len < 7 || memcmp(host, "127.", 4) != 0)
		return false;
	for (i = 0; i < len; i++) {
		if (host[i] == '.')
			dots++;
		else if (host[i] < '0' || host[i] > '9')
			return false;
	}
	return dots == 3;
}

/* The host part of an authority: after the last '@' (user information). */
static const char *
after_userinfo(const char *auth, size_t alen)
{
	const char *host = auth;
	size_t i;

	for (i = 0; i < alen; i++)
		if (auth[i] == '@')
			host = auth + i + 1;
	return host;
}

void
atsm_webhook_url_redact(const char *url, char *out, size_t size)
{
	const char *rest = strstr(url, "://"), *auth, *host;
	size_t alen, plen, i;

	if (size == 0)
		return;
	if (rest == NULL) {
		/* not a URL we understand: show nothing that could be a secret */
		snprintf(out, size, "(unparsable URL)");
		return;
	}
	rest += 3;
	authority(rest, &auth, &alen);
	host = after_userinfo(auth, alen);
	plen = strcspn(auth + alen, "?#");
	snprintf(out, size, "%.*s%.*s%.*s", (int)(rest - url), url,
	    (int)(auth + alen - host), host, (int)plen, auth + alen);
	for (i = 0; out[i] != '\0'; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = '?';
}

int
atsm_webhook_url_check(const char *url, struct atsm_err *err)
{
	char shown[256];
	const char *rest, *auth, *host, *end;
	size_t alen, hlen, i;
	bool https;

	atsm_webhook_url_redact(url, shown, sizeof(shown));
	if (strlen(url) > ATSM_WEBHOOK_URL_MAX)
		return atsm_err_set(err, "webhook URL %s: longer than %u bytes", shown,
		    ATSM_WEBHOOK_URL_MAX);
	for (i = 0; url[i] != '\0'; i++)
		if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f)
			return atsm_err_set(err, "webhook URL %s: contains a space or a control "
			    "character", shown);
	if (strncasecmp(url, "https://", 8) == 0)
		https = true;
	else if (strncasecmp(url, "http://", 7) == 0)
		https = false;
	else
		return atsm_err_set(err, "webhook URL %s: must start with https:// "
		    "(or http:// for a receiver on this host)", shown);
	rest = strstr(url, "://") + 3;
	authority(rest, &auth, &alen);
	host = after_userinfo(auth, alen);
	hlen = alen - (size_t)(host - auth);
	if (hlen > 0 && host[0] == '[') {
		end = memchr(host, ']', hlen);
		hlen = end != NULL ? (size_t)(end + 1 - host) : 0;
	} else {
		end = memchr(host, ':', hlen);
		if (end != NULL)
			hlen = (size_t)(end - host);
	}
	if (hlen == 0)
		return atsm_err_set(err, "webhook URL %s: no host", shown);
	if (!https && !is_loopback(host, hlen))
		return atsm_err_set(err, "webhook URL %s: http:// is accepted only for a "
		    "receiver on this host (localhost, 127.0.0.1, [::1]); use https://", shown);
	return 0;
}

enum atsm_webhook_verdict
atsm_webhook_classify(bool answered, long status)
{
	return answered && status >= 200 && status <= 299 ?
	    ATSM_WEBHOOK_DELIVERED : ATSM_WEBHOOK_RETRY;
}

unsigned long
atsm_webhook_backoff_ms(unsigned attempts, unsigned base_ms, unsigned max_ms,
    uint32_t jitter)
{
	unsigned long d = base_ms, cap = max_ms > base_ms ? max_ms : base_ms;
	unsigned i;

	/* doubling stops at the cap, so no shift can overflow */
	for (i = 1; i < attempts && d < cap; i++)
		d *= 2;
	if (d > cap)
		d = cap;
	return d - (unsigned long)jitter % (d / 4 + 1);
}

bool
atsm_webhook_exhausted(unsigned attempts, unsigned max_attempts)
{
	return attempts >= max_attempts;
}

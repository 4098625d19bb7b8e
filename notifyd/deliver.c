/* deliver.c -- the HTTP side of atsmail-notifyd: one batch of signed POST
 * requests, all in parallel, through one libcurl multi handle (notifyd.h).
 *
 * The multi handle lives as long as the daemon, so its connection cache
 * keeps connections to the ATS open from one batch to the next.  Every
 * request is bounded by webhook_connect_timeout and webhook_timeout; no
 * redirect is followed (a 3xx is not a delivery); only http and https are
 * spoken.  An event counts as delivered when every URL answered 2xx; it is
 * otherwise retried as a whole, and receivers dedupe by event id.
 */
#include "atsm-build-config.h"
#include "notifyd.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/* Bytes of an answer kept for last_error: enough for an error sentence. */
#define ANSWER_KEEP 160
/* Lines of headers of one request, each at most this long. */
#define HEADER_MAX 160

struct notifyd_deliver {
	CURLM *multi;
	const struct atsm_conf *conf;
	char (*shown)[256];   /* redacted URLs, for logs and last_error */
};

struct transfer {
	CURL *h;
	struct notifyd_event *ev;
	size_t url;
	struct curl_slist *headers;
	char answer[ANSWER_KEEP + 1];
	size_t answer_len;
	char curl_err[CURL_ERROR_SIZE];
};

struct notifyd_deliver *
notifyd_deliver_new(const struct atsm_conf *conf, struct atsm_err *err)
{
	struct notifyd_deliver *d;
	size_t i;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		atsm_err_set(err, "libcurl cannot be initialised");
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL || (d->multi = curl_multi_init()) == NULL ||
	    (d->shown = calloc(conf->webhook_urls.n + 1, sizeof(*d->shown))) == NULL) {
		notifyd_deliver_free(d);
		atsm_err_set(err, "libcurl: out of memory");
		return NULL;
	}
	d->conf = conf;
	/* keep a connection per request of a full batch open between batches */
	curl_multi_setopt(d->multi, CURLMOPT_MAXCONNECTS,
	    (long)(NOTIFYD_BATCH * (conf->webhook_urls.n > 0 ? conf->webhook_urls.n : 1)));
	for (i = 0; i < conf->webhook_urls.n; i++)
		atsm_webhook_url_redact(conf->webhook_urls.v[i], d->shown[i], sizeof(d->shown[i]));
	return d;
}

void
notifyd_deliver_free(struct notifyd_deliver *d)
{
	if (d == NULL)
		return;
	if (d->multi != NULL)
		curl_multi_cleanup(d->multi);
	free(d->shown);
	free(d);
	curl_global_cleanup();
}

/* Keep the start of the answer for last_error, discard the rest. */
static size_t
on_answer(char *data, size_t size, size_t nmemb, void *arg)
{
	struct transfer *t = arg;
	size_t n = size * nmemb, room = ANSWER_KEEP - t->answer_len;

	if (room > 0) {
		if (n < room)
			room = n;
		memcpy(t->answer + t->answer_len, data, room);
		t->answer_len += room;
		t->answer[t->answer_len] = '\0';
	}
	return n;
}

static int
add_header(struct curl_slist **list, const char *name, const char *value)
{
	char line[HEADER_MAX];
	struct curl_slist *l;

	if ((size_t)snprintf(line, sizeof(line), "%s: %s", name, value) >= sizeof(line))
		return -1;
	l = curl_slist_append(*list, line);
	if (l == NULL)
		return -1;
	*list = l;
	return 0;
}

static int
transfer_setup(struct notifyd_deliver *d, struct transfer *t, const char *url)
{
	const struct atsm_conf *c = d->conf;
	struct notifyd_event *e = t->ev;

	t->h = curl_easy_init();
	if (t->h == NULL)
		return -1;
	if (add_header(&t->headers, "Content-Type", "application/json") < 0 ||
	    add_header(&t->headers, ATSM_WEBHOOK_HDR_EVENT_ID, e->id) < 0 ||
	    add_header(&t->headers, ATSM_WEBHOOK_HDR_EVENT_TYPE, e->type) < 0 ||
	    add_header(&t->headers, ATSM_WEBHOOK_HDR_SIGNATURE, e->sig) < 0 ||
	    add_header(&t->headers, "User-Agent", NOTIFYD_NAME "/" PACKAGE_VERSION) < 0 ||
	    /* no "100 Continue" round trip: bodies are small */
	    (t->headers = curl_slist_append(t->headers, "Expect:")) == NULL)
		return -1;
	curl_easy_setopt(t->h, CURLOPT_URL, url);
	curl_easy_setopt(t->h, CURLOPT_POST, 1L);
	curl_easy_setopt(t->h, CURLOPT_POSTFIELDS, e->body);
	curl_easy_setopt(t->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(e->body));
	curl_easy_setopt(t->h, CURLOPT_HTTPHEADER, t->headers);
	curl_easy_setopt(t->h, CURLOPT_CONNECTTIMEOUT_MS, (long)c->webhook_connect_timeout);
	curl_easy_setopt(t->h, CURLOPT_TIMEOUT_MS, (long)c->webhook_timeout);
	curl_easy_setopt(t->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(t->h, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(t->h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(t->h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(t->h, CURLOPT_WRITEFUNCTION, on_answer);
	curl_easy_setopt(t->h, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(t->h, CURLOPT_ERRORBUFFER, t->curl_err);
	curl_easy_setopt(t->h, CURLOPT_PRIVATE, t);
	return 0;
}

/* Printable, one line: answers and curl's messages go into last_error. */
static void
one_line(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

static void
transfer_done(struct notifyd_deliver *d, struct transfer *t, CURLcode rc)
{
	struct notifyd_event *e = t->ev;
	long status = 0;
	enum atsm_webhook_verdict v;

	if (rc == CURLE_OK)
		curl_easy_getinfo(t->h, CURLINFO_RESPONSE_CODE, &status);
	v = atsm_webhook_classify(rc == CURLE_OK, status);
	if (v != ATSM_WEBHOOK_DELIVERED && e->error[0] == '\0') {
		if (rc != CURLE_OK)
			snprintf(e->error, sizeof(e->error), "%s: %s (curl error %d)",
			    d->shown[t->url], t->curl_err[0] != '\0' ? t->curl_err :
			    curl_easy_strerror(rc), (int)rc);
		else
			snprintf(e->error, sizeof(e->error), "%s: HTTP %ld%s%s",
			    d->shown[t->url], status, t->answer_len > 0 ? ": " : "", t->answer);
		one_line(e->error);
	}
	if (v != ATSM_WEBHOOK_DELIVERED)
		e->outcome = NOTIFYD_FAILED;
	if (--e->pending_urls == 0 && e->outcome == NOTIFYD_UNSENT)
		e->outcome = NOTIFYD_DELIVERED;
	if (v == ATSM_WEBHOOK_DELIVERED)
		atsm_log(LOG_DEBUG, "event %s to %s: delivered", e->id, d->shown[t->url]);
	else
		atsm_log(LOG_DEBUG, "event %s: %s", e->id, e->error);
}

static void
transfer_free(struct notifyd_deliver *d, struct transfer *t)
{
	if (t->h != NULL) {
		curl_multi_remove_handle(d->multi, t->h);
		curl_easy_cleanup(t->h);
	}
	curl_slist_free_all(t->headers);
	t->h = NULL;
	t->headers = NULL;
}

static void
drain(int fd)
{
	char buf[64];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

void
notifyd_deliver_batch(struct notifyd_deliver *d, struct notifyd_event *evs, size_t n,
    int wake_fd, volatile sig_atomic_t *abort_now)
{
	size_t nurls = d->conf->webhook_urls.n, i, u, nt = 0, running_total;
	struct transfer *ts;
	int running = 0, left;
	struct curl_waitfd wfd;
	CURLMsg *m;

	ts = calloc(n * nurls + 1, sizeof(*ts));
	if (ts == NULL) {
		atsm_log(LOG_ERR, "cannot send a batch of %zu events: out of memory", n);
		return;   /* all stay UNSENT: released */
	}
	for (i = 0; i < n; i++) {
		if (evs[i].body == NULL)
			continue;
		for (u = 0; u < nurls; u++) {
			struct transfer *t = &ts[nt];

			t->ev = &evs[i];
			t->url = u;
			if (transfer_setup(d, t, d->conf->webhook_urls.v[u]) < 0 ||
			    curl_multi_add_handle(d->multi, t->h) != CURLM_OK) {
				atsm_log(LOG_ERR, "event %s: cannot set up a request: out of memory",
				    evs[i].id);
				transfer_free(d, t);
				evs[i].outcome = NOTIFYD_FAILED;
				snprintf(evs[i].error, sizeof(evs[i].error),
				    "cannot set up the request (out of memory)");
				continue;
			}
			evs[i].pending_urls++;
			nt++;
		}
	}
	running_total = nt;
	wfd.fd = wake_fd;
	wfd.events = CURL_WAIT_POLLIN;
	wfd.revents = 0;
	while (running_total > 0) {
		if (curl_multi_perform(d->multi, &running) != CURLM_OK)
			break;
		while ((m = curl_multi_info_read(d->multi, &left)) != NULL) {
			struct transfer *t;
			char *priv = NULL;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
			if (priv == NULL)
				continue;
			t = (struct transfer *)(void *)priv;
			transfer_done(d, t, m->data.result);
			transfer_free(d, t);
			running_total--;
		}
		if (running_total == 0 || *abort_now)
			break;
		wfd.revents = 0;
		if (curl_multi_poll(d->multi, wake_fd >= 0 ? &wfd : NULL, wake_fd >= 0 ? 1 : 0,
		    1000, NULL) != CURLM_OK)
			break;
		if (wfd.revents != 0)
			drain(wake_fd);   /* the flags say what the signal wanted */
	}
	/* Requests left over only after an abort or a libcurl failure: their
	 * events go back to pending untouched (the attempt did not finish). */
	for (i = 0; i < nt; i++)
		if (ts[i].h != NULL)
			transfer_free(d, &ts[i]);
	for (i = 0; i < n; i++)
		if (evs[i].pending_urls > 0)
			evs[i].outcome = NOTIFYD_UNSENT;
	free(ts);
}

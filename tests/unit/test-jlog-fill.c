/* test-jlog-fill.c -- `test-jlog fill DIR FILLER`: the probe of
 * tests/e2e/jlog-disk-full.sh.
 *
 * It appends to a journal in DIR (a small tmpfs) until the file system is
 * full, checks that what was acknowledged is exactly what can be read back
 * -- nothing half-written, nothing acknowledged and lost -- then removes
 * FILLER and appends again.  TAP on stdout, without Check: it runs outside
 * the unit tests' fork mode, against a real full disk.
 */
#include "test-jlog.h"
#include "store/jlog.h"
#include "store/journal-line.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static int tap_n;

static void
tap(bool ok, const char *what, const char *why)
{
	printf("%s %d - %s\n", ok ? "ok" : "not ok", ++tap_n, what);
	if (!ok && why != NULL)
		printf("# %s\n", why);
}

/* Every line of every segment whole and an entry; their count. */
static long
check_segments(const char *d, char *why, size_t whysize)
{
	char path[512], *buf, *p, *nl, reason[256];
	struct dirent *de;
	long lines = 0;
	size_t len;
	json_t *doc;
	DIR *dd = opendir(d);
	FILE *f;

	while (dd != NULL && (de = readdir(dd)) != NULL) {
		len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 6, ".jsonl") != 0 ||
		    strstr(de->d_name, "rejected") != NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", d, de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		buf = NULL;
		len = 0;
		if (getdelim(&buf, &len, '\0', f) > 0) {
			for (p = buf; *p != '\0'; p = nl + 1, lines++) {
				if ((nl = strchr(p, '\n')) == NULL) {
					snprintf(why, whysize, "%.200s ends in a half line", path);
					lines = -1;
					break;
				}
				if ((doc = atsm_journal_line_parse(p, (size_t)(nl - p),
				    reason, sizeof(reason))) == NULL) {
					snprintf(why, whysize, "%.200s: %.200s", path, reason);
					lines = -1;
					break;
				}
				json_decref(doc);
			}
		}
		free(buf);
		fclose(f);
		if (lines < 0)
			break;
	}
	if (dd != NULL)
		closedir(dd);
	return lines;
}

/* Read everything durable after the cursor and compare it, in order, with
 * the keys in want from *at on; false (why) at the first difference. */
static bool
read_back(struct atsm_jlog *j, json_t *want, size_t *at, struct atsm_jlog_pos *last,
    char *why, size_t whysize)
{
	struct atsm_jlog_entry e[256];
	struct atsm_err err;
	const char *w;
	bool ok = true;
	size_t n, i;

	do {
		if (atsm_jlog_read(j, 256, 0, e, &n, &err) == -1) {
			snprintf(why, whysize, "read: %s", err.msg);
			return false;
		}
		for (i = 0; i < n; i++, (*at)++) {
			w = json_string_value(json_array_get(want, *at));
			if (ok && (w == NULL || strcmp(w, e[i].key) != 0)) {
				snprintf(why, whysize, "entry %zu read back is %s, expected %s",
				    *at, e[i].key, w != NULL ? w : "nothing");
				ok = false;
			}
			*last = e[i].end;
		}
		atsm_jlog_entries_free(e, n);
	} while (n > 0);
	if (ok && *at != json_array_size(want)) {
		snprintf(why, whysize, "%zu entries read back, %zu acknowledged", *at,
		    json_array_size(want));
		ok = false;
	}
	return ok;
}

int
fill(const char *d, const char *filler)
{
	struct atsm_jlog *j = NULL;
	struct atsm_jlog_stats st;
	struct atsm_jlog_pos last = { 0, 0 };
	struct atsm_err err, first;
	json_t *acked = json_array();
	unsigned long failures = 0, consecutive = 0, i, again = 0;
	bool msgs_ok = true;
	char key[32], why[600] = "";
	size_t at = 0;
	long lines;

	signal(SIGXFSZ, SIG_IGN);
	printf("1..9\n");
	memset(&first, 0, sizeof(first));
	if (atsm_jlog_open(d, COMPONENT, 64 * 1024, &j, &err) == -1) {
		printf("Bail out! %s\n", err.msg);
		return 1;
	}
	for (i = 0; consecutive < 5 && i < 1000000; i++) {
		snprintf(key, sizeof(key), "f%06lu", i);
		if (put(j, key, (int)i, 300, NULL, &err) == 0) {
			json_array_append_new(acked, json_string(key));
			consecutive = 0;
			continue;
		}
		if (failures++ == 0)
			first = err;
		consecutive++;
		if (err.cls != ATSM_ERR_IO || strstr(err.msg, "No space left on device") == NULL ||
		    strstr(err.msg, d) == NULL || strstr(err.msg, ".jsonl") == NULL) {
			if (msgs_ok)
				snprintf(why, sizeof(why), "class %s: %s",
				    atsm_err_class_name(err.cls), err.msg);
			msgs_ok = false;
		}
	}
	printf("# %zu appends acknowledged, then %lu failed; first failure: %s\n",
	    json_array_size(acked), failures, first.msg);
	tap(json_array_size(acked) > 0 && failures > 0,
	    "appends fill the file system, then fail", "no append failed");
	tap(msgs_ok, "every failed append: class io, names the segment and "
	    "\"No space left on device\"", why);
	atsm_jlog_stats(j, &st);
	tap(st.failed == failures && st.appended == json_array_size(acked),
	    "the stats count the appends and the failures", NULL);
	lines = check_segments(d, why, sizeof(why));
	if (lines >= 0 && (size_t)lines != json_array_size(acked))
		snprintf(why, sizeof(why), "%ld lines in the segments, %zu acknowledged",
		    lines, json_array_size(acked));
	tap(lines >= 0 && (size_t)lines == json_array_size(acked),
	    "nothing half-written: the segments hold exactly the acknowledged entries",
	    why);
	tap(read_back(j, acked, &at, &last, why, sizeof(why)),
	    "every acknowledged entry is read back, in order, once", why);

	tap(unlink(filler) == 0, "space freed", strerror(errno));
	for (i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "g%02lu", i);
		if (put(j, key, (int)i, 300, NULL, &err) == 0) {
			json_array_append_new(acked, json_string(key));
			again++;
		} else {
			snprintf(why, sizeof(why), "%s", err.msg);
		}
	}
	tap(again == 20, "after freeing space appends work again", why);
	tap(read_back(j, acked, &at, &last, why, sizeof(why)),
	    "and are read back after the earlier ones", why);
	if (atsm_jlog_commit(j, &last, &err) == -1)
		snprintf(why, sizeof(why), "%s", err.msg);
	atsm_jlog_stats(j, &st);
	tap(st.backlog_bytes == 0, "once committed nothing is left", why);
	atsm_jlog_close(j);
	json_decref(acked);
	return 0;
}

/* report-html.c -- the report's HTML page with its charts: the scripts of
 * lib/report/plot.c run by gnuplot, the SVGs put into the page of
 * lib/report/html.c (docs/reports.md, "HTML page").
 *
 * Interface: ctl_report_html (report.h); ctl_report_gnuplot,
 * ctl_report_page, ctl_report_period, ctl_report_env_lang (report-page.h).
 *
 * gnuplot is started with posix_spawnp and three pipes: the script goes
 * to its standard input, the chart comes from its standard output (at
 * most CTL_GNUPLOT_OUT_MAX), its standard error is kept for the error
 * message.  One poll() loop serves the three, so that neither side waits
 * on a full pipe; after CTL_GNUPLOT_TIMEOUT_S the process is killed.
 * SIGPIPE is ignored meanwhile: a gnuplot that exits early must not take
 * atsmailctl with it.
 */
#include "atsm-build-config.h"
#include "report.h"
#include "report-page.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "report/html.h"
#include "report/plot.h"

extern char **environ;

#define STDERR_MAX 2048u

static void
close_pipe(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	p[0] = p[1] = -1;
}

/* A pipe whose ends are not inherited (the child gets its copies by dup2). */
static int
pipe_cloexec(int p[2])
{
	if (pipe(p) < 0)
		return -1;
	(void)fcntl(p[0], F_SETFD, FD_CLOEXEC);
	(void)fcntl(p[1], F_SETFD, FD_CLOEXEC);
	return 0;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Feed script to fd_in, read fd_out into out and fd_err into errb until
 * both are at their end: 0, 1 when the time is up, -1 when out is full. */
static int
pump(int fd_in, int fd_out, int fd_err, const char *script, struct atsm_buf *out,
    struct atsm_buf *errb)
{
	size_t len = strlen(script), off = 0;
	long long deadline = now_ms() + CTL_GNUPLOT_TIMEOUT_S * 1000LL;
	char buf[16384];
	int rc = 0;

	if (len == 0) {
		close(fd_in);
		fd_in = -1;
	}
	while (fd_out >= 0 || fd_err >= 0) {
		struct pollfd pfd[3];
		long long left = deadline - now_ms();
		int n = 0, i;

		if (left <= 0) {
			rc = 1;
			break;
		}
		if (fd_in >= 0)
			pfd[n++] = (struct pollfd){ .fd = fd_in, .events = POLLOUT };
		if (fd_out >= 0)
			pfd[n++] = (struct pollfd){ .fd = fd_out, .events = POLLIN };
		if (fd_err >= 0)
			pfd[n++] = (struct pollfd){ .fd = fd_err, .events = POLLIN };
		if (poll(pfd, (nfds_t)n, (int)(left > 1000 ? 1000 : left)) < 0) {
			if (errno == EINTR)
				continue;
			rc = -1;
			break;
		}
		for (i = 0; i < n; i++) {
			ssize_t got;

			if (pfd[i].revents == 0)
				continue;
			if (pfd[i].fd == fd_in) {
				got = write(fd_in, script + off, len - off);
				if (got > 0)
					off += (size_t)got;
				if ((got < 0 && errno != EAGAIN && errno != EINTR) || off == len) {
					close(fd_in);
					fd_in = -1;
				}
				continue;
			}
			got = read(pfd[i].fd, buf, sizeof(buf));
			if (got < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (got <= 0) {
				close(pfd[i].fd);
				if (pfd[i].fd == fd_out)
					fd_out = -1;
				else
					fd_err = -1;
				continue;
			}
			if (pfd[i].fd == fd_out) {
				if (atsm_buf_append(out, buf, (size_t)got) < 0) {
					rc = -1;
					goto done;
				}
			} else if (errb->len < STDERR_MAX) {
				(void)atsm_buf_append(errb, buf, (size_t)got);
			}
		}
	}
done:
	if (fd_in >= 0)
		close(fd_in);
	if (fd_out >= 0)
		close(fd_out);
	if (fd_err >= 0)
		close(fd_err);
	return rc;
}

/* gnuplot's standard error as one line for a message. */
static const char *
one_line(struct atsm_buf *b)
{
	char *p;

	if (b->data == NULL)
		return "";
	for (p = b->data; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	while (b->len > 0 && b->data[b->len - 1] == ' ')
		b->data[--b->len] = '\0';
	return b->data;
}

int
ctl_report_gnuplot(const char *gnuplot, const char *script, struct atsm_buf *out,
    struct atsm_err *err)
{
	const char *prog = gnuplot != NULL && gnuplot[0] != '\0' ? gnuplot : "gnuplot";
	char *argv[3] = { (char *)prog, (char *)"-d", NULL };
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	struct sigaction ign, old;
	struct atsm_buf errb;
	pid_t pid;
	int rc, status = 0, e;

	atsm_buf_reset(out);
	if (pipe_cloexec(pin) < 0 || pipe_cloexec(pout) < 0 || pipe_cloexec(perr) < 0) {
		close_pipe(pin);
		close_pipe(pout);
		close_pipe(perr);
		return atsm_err_setc(err, ATSM_ERR_IO, "report: pipe: %s", strerror(errno));
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pin[0], 0);
	posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
	posix_spawn_file_actions_adddup2(&fa, perr[1], 2);
	e = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	if (e != 0) {
		close(pin[1]);
		close(pout[0]);
		close(perr[0]);
		return atsm_err_setc(err, ATSM_ERR_UNAVAILABLE, "report: cannot run %s (report_gnuplot;"
		    " Debian package gnuplot-nox): %s", prog, strerror(e));
	}
	(void)fcntl(pin[1], F_SETFL, O_NONBLOCK);
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &ign, &old);
	atsm_buf_init(&errb, STDERR_MAX + 16384);
	rc = pump(pin[1], pout[0], perr[0], script, out, &errb);
	if (rc != 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	sigaction(SIGPIPE, &old, NULL);
	if (rc == 1)
		atsm_err_setc(err, ATSM_ERR_UNAVAILABLE, "report: %s ran longer than %d s and was "
		    "killed", prog, CTL_GNUPLOT_TIMEOUT_S);
	else if (rc < 0)
		atsm_err_setc(err, ATSM_ERR_INPUT, "report: %s wrote more than %u bytes", prog,
		    CTL_GNUPLOT_OUT_MAX);
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		rc = atsm_err_setc(err, ATSM_ERR_INPUT, "report: %s failed (%s %d): %s", prog,
		    WIFEXITED(status) ? "exit status" : "signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), one_line(&errb));
	else if (out->len == 0)
		rc = atsm_err_setc(err, ATSM_ERR_INPUT, "report: %s drew nothing: %s", prog,
		    one_line(&errb));
	atsm_buf_free(&errb);
	if (rc != 0) {
		atsm_buf_reset(out);
		return -1;
	}
	return 0;
}

/* Format t in zone (the local zone when empty) with fmt. */
static void
fmt_time(long long t, const char *zone, const char *fmt, char *out, size_t size)
{
	char *saved = NULL, *tz = getenv("TZ");
	time_t tt = (time_t)t;
	struct tm tm;

	if (zone[0] != '\0') {
		if (tz != NULL)
			saved = strdup(tz);
		setenv("TZ", zone, 1);
		tzset();
	}
	if (localtime_r(&tt, &tm) == NULL || strftime(out, size, fmt, &tm) == 0)
		snprintf(out, size, "?");
	if (zone[0] != '\0') {
		if (saved != NULL)
			setenv("TZ", saved, 1);
		else
			unsetenv("TZ");
		tzset();
		free(saved);
	}
}

void
ctl_report_period(const struct atsm_report *r, char *out, size_t size)
{
	char a[32], b[32];

	fmt_time(r->from, r->zone, "%Y-%m-%d", a, sizeof(a));
	fmt_time(r->to > r->from ? r->to - 1 : r->to, r->zone, "%Y-%m-%d", b, sizeof(b));
	if (r->zone[0] != '\0')
		snprintf(out, size, "%s - %s (%s)", a, b, r->zone);
	else
		snprintf(out, size, "%s - %s", a, b);
}

enum atsm_lang
ctl_report_env_lang(void)
{
	static const char *const vars[] = { "LC_ALL", "LC_MESSAGES", "LANG", NULL };
	int i;

	for (i = 0; vars[i] != NULL; i++) {
		const char *v = getenv(vars[i]);

		if (v != NULL && v[0] != '\0')
			return strncasecmp(v, "ja", 2) == 0 ? ATSM_LANG_JA : ATSM_LANG_EN;
	}
	return ATSM_LANG_EN;
}

int
ctl_report_page(const struct atsm_report *r, enum atsm_lang lang, const char *gnuplot,
    struct atsm_buf *html, struct atsm_buf *png, struct atsm_err *err)
{
	struct atsm_buf script, svg[ATSM_CHART_N];
	struct atsm_report_page p;
	char period[160], made[64];
	int i, rc = -1;

	atsm_buf_init(&script, 1024u * 1024u);
	for (i = 0; i < ATSM_CHART_N; i++)
		atsm_buf_init(&svg[i], CTL_GNUPLOT_OUT_MAX);
	memset(&p, 0, sizeof(p));
	p.r = r;
	p.lang = lang;
	for (i = 0; i < ATSM_CHART_N; i++) {
		if (atsm_report_plot(r, (enum atsm_report_chart)i, lang, ATSM_PLOT_SVG, &script,
		    err) < 0 || ctl_report_gnuplot(gnuplot, atsm_buf_str(&script), &svg[i], err) < 0)
			goto done;
		p.svg[i] = atsm_buf_str(&svg[i]);
	}
	if (png != NULL) {
		if (atsm_report_plot(r, ATSM_CHART_RECRUITERS, lang, ATSM_PLOT_PNG, &script,
		    err) < 0 || ctl_report_gnuplot(gnuplot, atsm_buf_str(&script), png, err) < 0)
			goto done;
		if (png->len < 8 || memcmp(png->data, "\x89PNG\r\n\x1a\n", 8) != 0) {
			atsm_err_setc(err, ATSM_ERR_INPUT, "report: gnuplot's pngcairo terminal "
			    "wrote no PNG");
			goto done;
		}
	}
	ctl_report_period(r, period, sizeof(period));
	fmt_time((long long)time(NULL), r->zone, "%Y-%m-%d %H:%M", made, sizeof(made));
	p.period = period;
	p.generated = made;
	rc = atsm_report_html(&p, html, err);
done:
	atsm_buf_free(&script);
	for (i = 0; i < ATSM_CHART_N; i++)
		atsm_buf_free(&svg[i]);
	return rc;
}

int
ctl_report_html(const struct atsm_report *r, const char *gnuplot, FILE *out,
    struct atsm_err *err)
{
	struct atsm_buf html;
	int rc = -1;

	atsm_buf_init(&html, ATSM_REPORT_HTML_MAX);
	if (ctl_report_page(r, ctl_report_env_lang(), gnuplot, &html, NULL, err) < 0)
		goto done;
	if (fwrite(html.data, 1, html.len, out) != html.len || fflush(out) != 0) {
		atsm_err_setc(err, ATSM_ERR_IO, "report: cannot write the page: %s", strerror(errno));
		goto done;
	}
	rc = 0;
done:
	atsm_buf_free(&html);
	return rc;
}

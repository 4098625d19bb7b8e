/* shared-mover.c -- a thread answered by a member's reply is moved, in the
 * shared mailbox's own account, to its status folder for every member
 * (docs/shared-reply.md):
 *
 *	doveadm move -u MAILBOX TARGET mailbox SOURCE header Message-ID <ID>
 *
 * once per source: INBOX (a mail delivery did not file) and the other
 * status folder trees (未対応*, 対応中* for done; 未対応*, 完了* for
 * progress: atsm_shared_move_sources, which atsmailctl uses too when it
 * releases a held reply), doveadm being the words of shared_doveadm.  doveadm moves
 * every copy that matches, and nothing (exit 0) when none does.
 *
 * Interface: atsmaild_shared_mover_queue, atsmaild_shared_mover_stop
 * (milter.h).
 *
 * Off the SMTP path: the session queues a job and answers; one thread runs
 * doveadm (posix_spawn: a threaded process may only exec in a child).  A
 * failure is logged and tried again after 5 s, 10 s, 20 s ... up to
 * MOVE_TRIES times; a target folder that does not exist yet (未対応/alice)
 * is made once.  The queue is bounded (QUEUE_MAX): what does not fit is
 * dropped with a warning -- PostgreSQL holds the status, and a member can
 * move the mail by hand.  A stop loses what is queued (logged).
 */
#include "atsm-build-config.h"
#include "milter.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"

#define QUEUE_MAX 1024
#define MOVE_TRIES 6
#define FIRST_RETRY_S 5
#define WORDS_MAX 32
#define COMPLAINT_MAX 300

extern char **environ;

struct job {
	char *doveadm;                  /* shared_doveadm, split when run */
	char *mailbox, *target, *msgid;
	char *sources[ATSM_SHARED_MOVE_SOURCES];   /* atsm_shared_move_sources */
	int tries;
	time_t due;
	struct job *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t more = PTHREAD_COND_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_t thread;
static struct job *head;
static size_t queued;
static bool started, stopping;

static void
job_free(struct job *j)
{
	if (j == NULL)
		return;
	free(j->doveadm);
	free(j->mailbox);
	free(j->target);
	free(j->msgid);
	free(j->sources[0]);
	free(j->sources[1]);
	free(j->sources[2]);
	free(j);
}

/* Run doveadm with the words of cmd and then args: its exit status (0 ok),
 * -1 when it could not be started; complaint: the start of its stderr. */
static int
run(const char *cmd, const char *const *args, char *complaint, size_t n)
{
	char *words, *argv[WORDS_MAX + 16], *save = NULL, *w;
	posix_spawn_file_actions_t fa;
	int pfd[2], status = 0, argc = 0, rc = -1;
	size_t got = 0;
	ssize_t k;
	pid_t pid;

	complaint[0] = '\0';
	if ((words = strdup(cmd)) == NULL)
		return -1;
	for (w = strtok_r(words, " \t", &save); w != NULL && argc < WORDS_MAX;
	    w = strtok_r(NULL, " \t", &save))
		argv[argc++] = w;
	for (; *args != NULL; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	if (argc == 0 || pipe(pfd) < 0) {
		free(words);
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
	posix_spawn_file_actions_addclose(&fa, pfd[0]);
	posix_spawn_file_actions_addclose(&fa, pfd[1]);
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	for (;;) {
		char buf[256];
		size_t c;

		if ((k = read(pfd[0], buf, sizeof(buf))) < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		c = (size_t)k < n - 1 - got ? (size_t)k : n - 1 - got;
		memcpy(complaint + got, buf, c);
		got += c;
	}
	complaint[got] = '\0';
	close(pfd[0]);
	if (pid > 0) {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
	}
	free(words);
	for (w = complaint; *w != '\0'; w++)
		if (*w == '\n' || *w == '\r')
			*w = ' ';
	return rc;
}

/* 0 moved (or nothing to move), -1 failed (logged). */
static int
move(struct job *j)
{
	char complaint[COMPLAINT_MAX], id[1024];
	const char *create[] = { "mailbox", "create", "-s", "-u", j->mailbox, j->target, NULL };
	bool made = false;
	size_t i;
	int rc;

	snprintf(id, sizeof(id), "<%s>", j->msgid);
	for (i = 0; i < 3; i++) {
		const char *args[] = { "move", "-u", j->mailbox, j->target, "mailbox",
		    j->sources[i], "header", "Message-ID", id, NULL };

		rc = run(j->doveadm, args, complaint, sizeof(complaint));
		if (rc != 0 && !made) {
			/* the target may not exist yet (未対応/alice): make it, once */
			made = true;
			if (run(j->doveadm, create, complaint, sizeof(complaint)) == 0)
				rc = run(j->doveadm, args, complaint, sizeof(complaint));
		}
		if (rc != 0) {
			atsm_log(LOG_WARNING, "shared mailbox %s: cannot move <%s> from %s to %s "
			    "(try %d of %d): %s %s", j->mailbox, j->msgid, j->sources[i], j->target,
			    j->tries + 1, MOVE_TRIES, rc < 0 ? "cannot run" : "doveadm failed:",
			    rc < 0 ? j->doveadm : complaint);
			return -1;
		}
	}
	atsm_log(LOG_INFO, "shared mailbox %s: <%s> moved to %s (from wherever it was of %s, %s, "
	    "%s)", j->mailbox, j->msgid, j->target, j->sources[0], j->sources[1], j->sources[2]);
	return 0;
}

static void *
mover_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	while (!stopping) {
		struct job **pp, *j = NULL, *soonest = NULL;
		time_t now = time(NULL);

		for (pp = &head; *pp != NULL; pp = &(*pp)->next)
			if ((*pp)->due <= now) {
				j = *pp;
				*pp = j->next;
				queued--;
				break;
			} else if (soonest == NULL || (*pp)->due < soonest->due)
				soonest = *pp;
		if (j == NULL) {
			struct timespec ts;

			if (soonest == NULL) {
				pthread_cond_wait(&more, &lock);
				continue;
			}
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += soonest->due - now;
			pthread_cond_timedwait(&more, &lock, &ts);
			continue;
		}
		pthread_mutex_unlock(&lock);
		if (move(j) == 0 || ++j->tries >= MOVE_TRIES) {
			if (j->tries >= MOVE_TRIES)
				atsm_log(LOG_ERR, "shared mailbox %s: <%s> not moved to %s after %d "
				    "tries: move it by hand", j->mailbox, j->msgid, j->target,
				    MOVE_TRIES);
			job_free(j);
			pthread_mutex_lock(&lock);
			continue;
		}
		j->due = time(NULL) + ((time_t)FIRST_RETRY_S << (j->tries - 1));
		pthread_mutex_lock(&lock);
		j->next = head;
		head = j;
		queued++;
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void
start(void)
{
	sigset_t all, old;

	/* the thread blocks every signal: the main thread sigwait()s */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	started = pthread_create(&thread, NULL, mover_main, NULL) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void
atsmaild_shared_mover_queue(const struct atsm_conf *conf, const char *mailbox,
    const char *target, enum atsm_shared_status st, const char *msgid)
{
	char src[ATSM_SHARED_MOVE_SOURCES][ATSM_SHARED_FOLDER_MAX];
	struct job *j = calloc(1, sizeof(*j));
	struct atsm_err err;
	bool ok;

	if (j == NULL)
		goto nomem;
	atsm_err_clear(&err);
	if (atsm_shared_move_sources(conf, st, src, &err) < 0) {
		atsm_log(LOG_WARNING, "shared mailbox %s: <%s> not moved to %s: %s", mailbox, msgid,
		    target, err.msg);
		job_free(j);
		return;
	}
	j->doveadm = strdup(conf->shared_doveadm != NULL && conf->shared_doveadm[0] != '\0' ?
	    conf->shared_doveadm : "doveadm");
	j->mailbox = strdup(mailbox);
	j->target = strdup(target);
	j->msgid = strdup(msgid);
	j->sources[0] = strdup(src[0]);
	j->sources[1] = strdup(src[1]);
	j->sources[2] = strdup(src[2]);
	if (j->doveadm == NULL || j->mailbox == NULL || j->target == NULL || j->msgid == NULL ||
	    j->sources[0] == NULL || j->sources[1] == NULL || j->sources[2] == NULL)
		goto nomem;
	j->due = time(NULL);
	pthread_once(&once, start);
	pthread_mutex_lock(&lock);
	ok = started && !stopping && queued < QUEUE_MAX;
	if (ok) {
		j->next = head;
		head = j;
		queued++;
		pthread_cond_signal(&more);
	}
	pthread_mutex_unlock(&lock);
	if (!ok) {
		atsm_log(LOG_WARNING, "shared mailbox %s: <%s> not moved to %s: %s", mailbox, msgid,
		    target, started ? "the queue of moves is full" : "no mover thread");
		job_free(j);
	}
	return;
nomem:
	atsm_log(LOG_WARNING, "shared mailbox %s: <%s> not moved to %s: out of memory", mailbox,
	    msgid, target);
	job_free(j);
}

void
atsmaild_shared_mover_stop(void)
{
	struct job *j;
	size_t lost = 0;

	pthread_mutex_lock(&lock);
	stopping = true;
	pthread_cond_broadcast(&more);
	pthread_mutex_unlock(&lock);
	if (started)
		pthread_join(thread, NULL);
	started = false;
	while ((j = head) != NULL) {
		head = j->next;
		lost++;
		job_free(j);
	}
	queued = 0;
	if (lost > 0)
		atsm_log(LOG_WARNING, "shared mailboxes: %zu move(s) not made at the stop", lost);
}

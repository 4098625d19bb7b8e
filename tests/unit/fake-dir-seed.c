/* fake-dir-seed.c -- fake_dir_seed(): the fixture of tests/data/seed.sql
 * and seed-inbound.sql in the fake directory, with the same ids, so that a
 * unit test and an end-to-end test tell the same story (users alice to
 * erin, resumes 1001-1008, contacts 2001-2002, jobs 3001-3025, process
 * 4001, the phase rules, intake addresses and four sent messages).
 */
#include "fake-dir.h"

#include <stdio.h>
#include <string.h>

static void
seed_message(struct fake_dir *fd, long long id, const char *to, long long resume,
    long long contact, long long process, bool ambiguous_pair)
{
	char msgid[64], key[32];
	struct atsm_dir_link links[3];
	const char *parts[1] = { to };
	struct atsm_dir_message m;
	size_t n = 0;

	snprintf(msgid, sizeof(msgid), "out-%lld@atsmail.test", id);
	snprintf(key, sizeof(key), "seed-out-%lld", id);
	memset(&m, 0, sizeof(m));
	memset(links, 0, sizeof(links));
	m.ref.id = id;
	snprintf(m.ref.key, sizeof(m.ref.key), "%s", key);
	m.thread = m.ref;
	m.direction = ATSM_DIR_OUT;
	m.visibility = ATSM_VIS_SHARED;
	m.owner_id = id == 5003 ? 2 : 1;     /* bob sent 5003, alice the others */
	if (ambiguous_pair) {
		links[n].kind = ATSM_RECORD_RESUME;
		links[n].id = 1004;
		links[n++].ambiguous = true;
		links[n].kind = ATSM_RECORD_RESUME;
		links[n].id = 1005;
		links[n++].ambiguous = true;
	}
	if (resume != 0) {
		links[n].kind = ATSM_RECORD_RESUME;
		links[n++].id = resume;
	}
	if (contact != 0) {
		links[n].kind = ATSM_RECORD_CONTACT;
		links[n++].id = contact;
	}
	if (process != 0) {
		const struct atsm_dir_process *p;
		size_t i;

		for (i = 0, p = NULL; i < fd->n_procs; i++)
			if (fd->procs[i].id == process)
				p = &fd->procs[i];
		links[n].kind = ATSM_RECORD_PROCESS;
		links[n].id = process;
		links[n].resume_id = p != NULL ? p->resume_id : 0;
		links[n++].job_id = p != NULL ? p->job_id : 0;
	}
	m.links = links;
	m.n_links = n;
	m.participants = parts;
	m.n_participants = 1;
	fake_dir_add_message(fd, msgid, &m);
}

void
fake_dir_seed(struct fake_dir *fd)
{
	static const struct { const char *kind, *code; int sort; } phases[] = {
		{ "resume", "new", 10 }, { "resume", "active", 20 }, { "resume", "placed", 30 },
		{ "resume", "inactive", 40 }, { "contact", "new", 10 }, { "contact", "active", 20 },
		{ "contact", "inactive", 30 }, { "process", "entry", 10 },
		{ "process", "screening", 20 }, { "process", "interview1", 30 },
		{ "process", "interview2", 40 }, { "process", "final", 50 },
		{ "process", "offer", 60 }, { "process", "accepted", 70 },
		{ "process", "declined", 80 }, { "process", "rejected", 90 },
	};
	static const struct { long long id; const char *addr; } raddr[] = {
		{ 1001, "taro@candidate.test" }, { 1002, "hanako@candidate.test" },
		{ 1003, "jiro@candidate.test" }, { 1003, "jiro.home@example.net" },
		{ 1004, "family@candidate.test" }, { 1005, "family@candidate.test" },
		{ 1006, "saburo@candidate.test" }, { 1007, "ken@rival.example" },
		{ 1008, "shiro@candidate.test" },
	};
	size_t i;
	long long j;

	for (i = 0; i < sizeof(phases) / sizeof(phases[0]); i++)
		fake_dir_add_phase(fd, strcmp(phases[i].kind, "resume") == 0 ? ATSM_RECORD_RESUME :
		    strcmp(phases[i].kind, "contact") == 0 ? ATSM_RECORD_CONTACT :
		    ATSM_RECORD_PROCESS, phases[i].code, phases[i].sort, true);
	fake_dir_add_user(fd, 1, "alice@atsmail.test", ATSM_SHARING_PUBLIC, true, false);
	fake_dir_add_user(fd, 2, "bob@atsmail.test", ATSM_SHARING_PUBLIC, true, false);
	fake_dir_add_user(fd, 3, "carol@atsmail.test", ATSM_SHARING_PRIVATE, true, false);
	fake_dir_add_user(fd, 4, "dave@atsmail.test", ATSM_SHARING_CUSTOM, false, false);
	fake_dir_add_user(fd, 5, "admin@atsmail.test", ATSM_SHARING_ADMIN, true, false);
	fake_dir_add_user(fd, 6, "erin@atsmail.test", ATSM_SHARING_PUBLIC, true, true);
	for (i = 0; i < fd->n_users; i++)
		fake_dir_add_addr(fd, ATSM_RECORD_NONE, fd->users[i].id, fd->users[i].login);
	fake_dir_add_addr(fd, ATSM_RECORD_NONE, 1, "alice.sales@atsmail.test");
	for (j = 1001; j <= 1008; j++)
		fake_dir_add_record(fd, ATSM_RECORD_RESUME, j, j != 1006, "new");
	for (i = 0; i < sizeof(raddr) / sizeof(raddr[0]); i++)
		fake_dir_add_addr(fd, ATSM_RECORD_RESUME, raddr[i].id, raddr[i].addr);
	fake_dir_add_record(fd, ATSM_RECORD_CONTACT, 2001, true, "new");
	fake_dir_add_record(fd, ATSM_RECORD_CONTACT, 2002, false, "new");
	fake_dir_add_addr(fd, ATSM_RECORD_CONTACT, 2001, "suzuki@client.test");
	fake_dir_add_addr(fd, ATSM_RECORD_CONTACT, 2002, "sato@client.test");
	for (j = 3001; j <= 3025; j++)
		fake_dir_add_job(fd, j, true);
	fake_dir_add_process(fd, 4001, 1002, 3001, "screening");
	fake_dir_add_excluded(fd, "rival.example");
	/* seed-inbound.sql */
	fake_dir_add_rule(fd, 9001, ATSM_RECORD_RESUME, "reply", "new", "active", 0, true);
	fake_dir_add_rule(fd, 9002, ATSM_RECORD_PROCESS, "reply", "screening", "interview1", 0, true);
	fake_dir_add_rule(fd, 9003, ATSM_RECORD_CONTACT, "reply", NULL, "active", 0, true);
	fake_dir_add_rule(fd, 9004, ATSM_RECORD_CONTACT, "bounce", NULL, "inactive", 0, true);
	fake_dir_add_rule(fd, 9005, ATSM_RECORD_RESUME, "reply", "placed", "inactive", 0, false);
	fake_dir_add_intake(fd, "recruit@atsmail.test", false);
	fake_dir_add_intake(fd, "jobs@atsmail.test", true);
	seed_message(fd, 5001, "taro@candidate.test", 1001, 0, 0, false);
	seed_message(fd, 5002, "hanako@candidate.test", 1002, 0, 4001, false);
	seed_message(fd, 5003, "suzuki@client.test", 0, 2001, 0, false);
	seed_message(fd, 5004, "family@candidate.test", 0, 0, 0, true);
}

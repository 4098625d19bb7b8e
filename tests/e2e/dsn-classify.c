/* dsn-classify.c -- what atsm_dsn_parse (lib/mail/dsn/) says of each bounce
 * file named on the command line, in the format of dsn-sisimai.pl (the
 * reference classifier's side), so that tests/e2e/dsn-sisimai.sh can
 * compare the two on bounces the test bed generated.
 *
 * usage: dsn-classify FILE...
 * One line per recipient, tab-separated:
 *   file  recipient  reason  softbounce  status  action
 * softbounce is 0 (hard) or 1 (soft); a delayed recipient is reported
 * with action "delayed" (never hard).  A file that is no bounce gets one
 * line with recipient "-".  Exit 0, or 1 when a file cannot be read.
 */
#include "mail/dsn/dsn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest file read: bigger bounces are cut, as in the corpus test. */
#define MAX_FILE (4u * 1024u * 1024u)

static int
one(const char *path)
{
	FILE *f = fopen(path, "rb");
	const char *name = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
	struct atsm_dsn d;
	struct atsm_err err;
	char *buf;
	size_t len, i;

	if (f == NULL) {
		fprintf(stderr, "dsn-classify: cannot open %s\n", path);
		return 1;
	}
	if ((buf = malloc(MAX_FILE)) == NULL) {
		fclose(f);
		return 1;
	}
	len = fread(buf, 1, MAX_FILE, f);
	fclose(f);
	if (atsm_dsn_parse(buf, len, &d, &err) < 0) {
		fprintf(stderr, "dsn-classify: %s: %s\n", path, err.msg);
		free(buf);
		return 1;
	}
	for (i = 0; i < d.n; i++)
		printf("%s\t%s\t%s\t%d\t%s\t%s\n", name, d.v[i].addr,
		    d.v[i].reason[0] != '\0' ? d.v[i].reason : "undefined",
		    d.v[i].hard ? 0 : 1, d.v[i].status[0] != '\0' ?
		    d.v[i].status : "-", d.v[i].action);
	if (d.n == 0)
		printf("%s\t-\t-\t-\t-\t-\n", name);
	atsm_dsn_free(&d);
	free(buf);
	return 0;
}

int
main(int argc, char **argv)
{
	int i, rc = 0;

	for (i = 1; i < argc; i++)
		rc |= one(argv[i]);
	return rc;
}

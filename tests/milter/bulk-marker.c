/* bulk-marker.c -- the X-ATS-Bulk value atsmaild's bulk runner would put
 * on a mail, for the miltertest scenarios of a genuine runner's mail:
 *	bulk-marker SECRET_FILE JOB ITEM LOGIN MESSAGE-ID
 * (the Message-ID without brackets) prints the value on stdout. */
#include <stdio.h>
#include <stdlib.h>

#include "bulk/marker.h"
#include "rules/token.h"

int
main(int argc, char **argv)
{
	struct atsm_token_keys keys;
	struct atsm_bulk_mark m;
	struct atsm_err err;
	char out[ATSM_BULK_MARKER_MAX];

	if (argc != 6) {
		fprintf(stderr, "usage: bulk-marker SECRET_FILE JOB ITEM LOGIN MESSAGE-ID\n");
		return 2;
	}
	if (atsm_token_keys_load(argv[1], &keys, &err) < 0) {
		fprintf(stderr, "bulk-marker: %s\n", err.msg);
		return 1;
	}
	m.job = atoll(argv[2]);
	m.item = atoi(argv[3]);
	snprintf(m.login, sizeof(m.login), "%s", argv[4]);
	if (atsm_bulk_marker_make(&keys, &m, argv[5], out, sizeof(out), &err) < 0) {
		fprintf(stderr, "bulk-marker: %s\n", err.msg);
		return 1;
	}
	atsm_token_keys_wipe(&keys);
	printf("%s\n", out);
	return 0;
}

/* atsm-check.h -- common main() for the Check unit tests.
 *
 * Each tests/unit/test-<module>.c defines "static Suite *suite(void)" and ends
 * with ATSM_CHECK_MAIN().  Results are written as TAP on stdout, one line
 * per START_TEST, which automake's tap-driver counts: the totals that
 * .ci/run prints are the real number of assertion-bearing tests.
 * ATSM_TEST_DATA names tests/data in the source tree (set by Makefile.am).
 */
#ifndef ATSM_CHECK_H
#define ATSM_CHECK_H

#include <check.h>
#include <stdlib.h>

#define ATSM_CHECK_MAIN()                                              \
	int main(void)                                                   \
	{                                                                \
		SRunner *sr = srunner_create(suite());                   \
		int nfailed;                                             \
		srunner_set_tap(sr, "-");                                \
		srunner_run_all(sr, CK_SILENT);                          \
		nfailed = srunner_ntests_failed(sr);                     \
		srunner_free(sr);                                        \
		return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;       \
	}

#endif

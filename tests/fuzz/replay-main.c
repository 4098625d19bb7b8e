/* replay-main.c -- runs a fuzz target over files without libFuzzer.
 *
 * Linked with each tests/fuzz/fuzz-*.c in ordinary builds, so that the
 * corpus kept in tests/fuzz/corpus/<target>/ is replayed by make check (and
 * under the sanitizers in CI) as a regression test.  Usage: target FILE...
 * A crash or sanitizer report fails the test; a readable file always passes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t len = 0, cap = 0, n;

	if (f == NULL) {
		perror(path);
		return -1;
	}
	do {
		if (len == cap) {
			uint8_t *p;
			cap = cap ? cap * 2 : 4096;
			p = realloc(data, cap);
			if (p == NULL) {
				free(data);
				fclose(f);
				fprintf(stderr, "%s: out of memory\n", path);
				return -1;
			}
			data = p;
		}
		n = fread(data + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	/* copy into an exact-size allocation so that ASan sees over-reads */
	{
		uint8_t *exact = malloc(len ? len : 1);
		if (exact == NULL) {
			free(data);
			return -1;
		}
		for (n = 0; n < len; n++)
			exact[n] = data[n];
		free(data);
		LLVMFuzzerTestOneInput(exact, len);
		free(exact);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	int i, bad = 0;

	for (i = 1; i < argc; i++)
		if (replay_file(argv[i]) < 0)
			bad++;
	printf("replayed %d input(s), %d unreadable\n", argc - 1 - bad, bad);
	return bad ? 1 : 0;
}

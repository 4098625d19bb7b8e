/* bench-proc.c -- CPU time of a process from /proc (see bench-proc.h). */
#include "bench-proc.h"

#include <stdio.h>
#include <string.h>

unsigned long long
bench_ticks_of(int pid)
{
	unsigned long long ut = 0, st = 0;
	char path[64], line[1024], *p;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(line, sizeof(line), fp) != NULL && (p = strrchr(line, ')')) != NULL)
		/* after ") ": state ppid pgrp session tty tpgid flags minflt
		 * cminflt majflt cmajflt utime stime */
		(void)sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
		    &ut, &st);
	fclose(fp);
	return ut + st;
}

/* bench-proc.h -- CPU time of a process, for the benchmarks' helper
 * programs (bench/record-watch.c, bench/recorder-bench.c). */
#ifndef ATSM_BENCH_PROC_H
#define ATSM_BENCH_PROC_H

/* utime + stime of process pid, in clock ticks; 0 when unreadable */
unsigned long long bench_ticks_of(int pid);

#endif

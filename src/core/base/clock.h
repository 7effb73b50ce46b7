/* Seconds on a clock, as one double: what every timing in the core and the benchmarks reads. */
#pragma once

#include <time.h>

/* Seconds on clock c (CLOCK_MONOTONIC for wall intervals, CLOCK_THREAD_CPUTIME_ID for the
 * calling thread's CPU time). */
double cs_clock_seconds (clockid_t c);

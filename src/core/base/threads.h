/* Compute threads: one pool (OpenMP) for our loops and our GEMM splits, a thread count that
 * belongs to each exec, and the OpenBLAS kernel choice. */
#pragma once

#include <stdint.h>

/* The default thread count of execs created afterwards, and of the calling thread's own
 * OpenMP loops (n <= 0: all cores). It changes no running exec: each exec keeps its own count
 * (cs_exec_set_threads). Safe from any thread. */
void cs_threads_set (int32_t n);
int32_t cs_threads_get (void);
int32_t cs_threads_cores (void);

/* Makes n (>= 1) the OpenMP team size of the calling thread's parallel loops and GEMM splits
 * until cs_threads_leave; returns what to pass to it. OpenMP keeps this count per thread, so
 * two execs on two threads each run with their own. Also keeps OpenBLAS single-threaded: its
 * own pool would run beside ours and spin (sched_yield) on the same cores. */
int cs_threads_enter (int32_t n);
void cs_threads_leave (int previous);

/* Call first thing in main(), before any BLAS call. Two settings that OpenBLAS and libgomp read
 * only when they are loaded, so that this re-executes the program once when it changes them:
 * - Debian's OpenBLAS 0.3.21 does not know some recent x86 CPUs and falls back to a slow
 *   generic kernel. When OPENBLAS_CORETYPE is unset and OpenBLAS picked a pre-AVX2 core although
 *   the CPU has AVX2/FMA (or AVX-512), it sets OPENBLAS_CORETYPE to the matching kernel (an
 *   AVX-512 one, SkylakeX or Cooperlake, on any AVX-512 CPU) (and
 *   CONVSCOPE_BLAS_MISDETECTED to what OpenBLAS had picked). A user's own OPENBLAS_CORETYPE is
 *   never overridden.
 * - GOMP_SPINCOUNT to a short spin unless the user set it or OMP_WAIT_POLICY, so that idle
 *   OpenMP workers wake at once for the next loop of a forward yet hand the core back within
 *   tens of microseconds instead of spinning against the threads doing the work.
 * Returns only when no re-exec is needed or it failed. */
void cs_blas_select_kernel (int argc, char **argv);
/* The kernel OpenBLAS runs ("Haswell", "Prescott", ...). */
const char *cs_blas_kernel_name (void);

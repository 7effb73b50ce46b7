/* Compute threads: one knob for OpenBLAS and our own loops, and the OpenBLAS kernel choice. */
#pragma once

#include <stdint.h>

/* Sets the thread count of OpenBLAS and of our OpenMP loops (n <= 0: all cores). */
void cs_threads_set (int32_t n);
int32_t cs_threads_get (void);
int32_t cs_threads_cores (void);

/* Call first thing in main(), before any BLAS call. Debian's OpenBLAS 0.3.21 does not know
 * some recent x86 CPUs and falls back to a slow generic kernel. When OPENBLAS_CORETYPE is
 * unset and OpenBLAS picked a generic core although the CPU has AVX2/FMA (or AVX-512), this sets
 * OPENBLAS_CORETYPE to the matching kernel and re-executes the program (OpenBLAS reads it only at
 * load time). A user's own OPENBLAS_CORETYPE is never overridden. Returns only when no
 * re-exec is needed or it failed. */
void cs_blas_select_kernel (int argc, char **argv);
/* The kernel OpenBLAS runs ("Haswell", "Prescott", ...). */
const char *cs_blas_kernel_name (void);

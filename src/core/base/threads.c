/* Compute threads (one OpenMP pool, a count per exec) and the OpenBLAS kernel choice. */
#include "base/threads.h"

#include <cblas.h>
#include <omp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void blas_single_thread (void);

/* The default for new execs, written by the app's preferences while workers read it. */
static int32_t default_threads;

int32_t
cs_threads_cores (void)
{
  long n = sysconf (_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int32_t) n : 1;
}

void
cs_threads_set (int32_t n)
{
  if (n <= 0)
    n = cs_threads_cores ();
  __atomic_store_n (&default_threads, n, __ATOMIC_RELAXED);
  blas_single_thread ();
  omp_set_num_threads (n); /* this thread's own loops (OpenMP keeps the count per thread) */
}

int32_t
cs_threads_get (void)
{
  int32_t n = __atomic_load_n (&default_threads, __ATOMIC_RELAXED);
  return n > 0 ? n : cs_threads_cores ();
}

/* OpenBLAS's thread count is one process-wide setting, and its pthread server busy-waits with
 * sched_yield after every call: measured as ~20 % of a ResNet-18 forward on 2 cores beside
 * the OpenMP team. So OpenBLAS always runs in the calling thread and ops split their GEMMs
 * over the OpenMP team (ops/blas.h). */
static void
blas_single_thread_once (void)
{
  openblas_set_num_threads (1);
}

static void
blas_single_thread (void)
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once (&once, blas_single_thread_once);
}

int
cs_threads_enter (int32_t n)
{
  blas_single_thread ();
  int previous = omp_get_max_threads ();
  omp_set_num_threads (n >= 1 ? n : 1);
  return previous;
}

void
cs_threads_leave (int previous)
{
  omp_set_num_threads (previous);
}

const char *
cs_blas_kernel_name (void)
{
  return openblas_get_corename ();
}

/* Kernels that use neither AVX2 nor FMA: what OpenBLAS falls back to on CPUs it does not know. */
static bool
is_pre_avx2_kernel (const char *name)
{
  static const char *const old[] = {
    "prescott", "core2", "penryn", "dunnington", "nehalem", "sandybridge", "atom", "katmai",
    "coppermine", "northwood", "banias", "opteron", "barcelona", "bobcat", "bulldozer",
    "piledriver", "steamroller", "unknown", NULL,
  };
  for (int i = 0; old[i] != NULL; i++)
    if (strcasecmp (name, old[i]) == 0)
      return true;
  return false;
}

/* The best kernel Debian's OpenBLAS 0.3.21 has for this CPU's instruction set. AVX-512 CPUs
 * get an AVX-512 kernel whatever their vendor: OpenBLAS's SkylakeX/Cooperlake kernels need only
 * the instructions (AMD's Zen 4 has them; its Zen kernel is Haswell's AVX2 one, ~20 % slower on
 * a ResNet-18 forward here). */
static const char *
kernel_for_this_cpu (void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init ();
  bool amd = __builtin_cpu_is ("amd");
  if (__builtin_cpu_supports ("avx512f") && __builtin_cpu_supports ("avx512bw")
      && __builtin_cpu_supports ("avx512dq") && __builtin_cpu_supports ("avx512vl"))
    return __builtin_cpu_supports ("avx512bf16") ? "Cooperlake" : "SkylakeX";
  if (__builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma"))
    return amd ? "Zen" : "Haswell";
#endif
  return NULL;
}

/* How long an idle OpenMP worker spins (pause instructions, ~27 ns each on this AMD EPYC) before
 * it sleeps; see cs_blas_select_kernel. */
#define WAIT_SPINS "1000"

void
cs_blas_select_kernel (int argc, char **argv)
{
  (void) argc;
  if (getenv ("CONVSCOPE_RUNTIME_REEXEC") != NULL)
    return; /* already started again with our settings */
  bool restart = false;

  /* A user's own OPENBLAS_CORETYPE is never overridden. */
  const char *picked = openblas_get_corename ();
  const char *better = kernel_for_this_cpu ();
  /* CONVSCOPE_BLAS_ASSUME_MISDETECTED lets the tests exercise this path on CPUs that OpenBLAS
   * does recognise. */
  bool misdetected = picked != NULL && (is_pre_avx2_kernel (picked)
                                        || getenv ("CONVSCOPE_BLAS_ASSUME_MISDETECTED") != NULL);
  if (getenv ("OPENBLAS_CORETYPE") == NULL && better != NULL && misdetected)
    {
      setenv ("OPENBLAS_CORETYPE", better, 1);
      setenv ("CONVSCOPE_BLAS_MISDETECTED", picked, 1);
      restart = true;
    }

  /* After each parallel loop libgomp's idle workers spin before they sleep: by default ~300,000
   * pause instructions (~8 ms here), long enough to compete with the single-threaded GEMM
   * blocks, other execs' teams and the app's own threads for the same cores. Not spinning at
   * all (OMP_WAIT_POLICY=PASSIVE) costs a futex wake-up at every one of a forward's ~100
   * loops: ResNet-18's batch-1 forward took 28 ms against 24 ms with a short spin. A short spin
   * (WAIT_SPINS, ~30 us) keeps most of that gain and hands the core back almost at once: two
   * forwards sharing 2 cores lose 4 % to it where the default spin loses 22 %
   * (bench/README.md). */
  if (getenv ("OMP_WAIT_POLICY") == NULL && getenv ("GOMP_SPINCOUNT") == NULL)
    {
      setenv ("GOMP_SPINCOUNT", WAIT_SPINS, 1);
      restart = true;
    }

  if (!restart)
    return;
  /* Both libraries read these only when they are loaded, so the process starts again. */
  setenv ("CONVSCOPE_RUNTIME_REEXEC", "1", 1);
  execv ("/proc/self/exe", argv);
  /* exec failed: carry on with the library defaults rather than fail */
}

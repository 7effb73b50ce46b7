/* How long one cache line takes to go from one core to another and back: two threads pinned
 * to two CPUs hand a counter to each other. Small-op parallelism pays only where this is short.
 * Usage: core-to-core [CPU_A [CPU_B [ROUNDS]]]   (defaults 0, 1, 1000000) */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int counter __attribute__ ((aligned (64)));
static long rounds = 1000000;

static int
pin (int cpu)
{
  cpu_set_t set;
  CPU_ZERO (&set);
  CPU_SET (cpu, &set);
  return pthread_setaffinity_np (pthread_self (), sizeof set, &set);
}

/* Answers each odd value with the next even one. */
static void *
answer (void *cpu)
{
  if (pin (*(int *) cpu) != 0)
    return NULL;
  for (long i = 0; i < rounds; i++)
    {
      while (__atomic_load_n (&counter, __ATOMIC_ACQUIRE) != (int) (2 * i + 1))
        ;
      __atomic_store_n (&counter, (int) (2 * i + 2), __ATOMIC_RELEASE);
    }
  return NULL;
}

int
main (int argc, char **argv)
{
  int a = argc > 1 ? atoi (argv[1]) : 0, b = argc > 2 ? atoi (argv[2]) : 1;
  if (argc > 3)
    rounds = atol (argv[3]);
  if (rounds < 1 || rounds > 100000000 || pin (a) != 0)
    {
      fprintf (stderr, "core-to-core: cannot run on CPU %d for %ld rounds\n", a, rounds);
      return 1;
    }
  pthread_t t;
  if (pthread_create (&t, NULL, answer, &b) != 0)
    return 1;
  struct timespec t0, t1;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  for (long i = 0; i < rounds; i++)
    {
      __atomic_store_n (&counter, (int) (2 * i + 1), __ATOMIC_RELEASE);
      while (__atomic_load_n (&counter, __ATOMIC_ACQUIRE) != (int) (2 * i + 2))
        ;
    }
  clock_gettime (CLOCK_MONOTONIC, &t1);
  pthread_join (t, NULL);
  double ns = ((double) (t1.tv_sec - t0.tv_sec) * 1e9 + (double) (t1.tv_nsec - t0.tv_nsec)) / (double) rounds;
  printf ("cpus=%d,%d rounds=%ld round_trip_ns=%.1f\n", a, b, rounds, ns);
  return 0;
}

/* cs_batch_group: a barrier with double-buffered parts, spinning briefly before it sleeps. */
#include "base/batch_group.h"

#include <pthread.h>
#include <stdlib.h>

/* Waits spin this many times (~25 ns each, the OpenMP workers' spin of base/threads.c) before
 * sleeping: the members run the same ops on equal slices, so they usually arrive close together,
 * and a sleeping thread's wake-up costs tens of microseconds on a virtual machine. Alone, 1000
 * and 4000 spins train the demo model equally fast (5.5-6.4 against 5.5-5.9 ms a step); two
 * trainings sharing the 2 cores run 3-4 % faster with 1000 (11.6-11.9 against 12.1-12.2 ms). */
#define SPINS 1000

struct cs_batch_group {
  int32_t members, active;
  int64_t max_values;
  double *parts;             /* [2][members][max_values]: one buffer per parity of the sum */
  double *totals;            /* [2][members][max_values] */
  int32_t *round;            /* per member: how many sums it has entered since begin */
  int32_t arrived;           /* members at the current barrier (atomic) */
  int32_t generation;        /* barriers passed since begin (atomic) */
  int32_t aborted;           /* atomic */
  pthread_mutex_t lock;
  pthread_cond_t wake;
};

cs_batch_group *
cs_batch_group_new (int32_t members, int64_t max_values)
{
  if (members < 1 || max_values < 1)
    return NULL;
  cs_batch_group *g = calloc (1, sizeof *g);
  if (g == NULL)
    return NULL;
  pthread_mutex_init (&g->lock, NULL);
  pthread_cond_init (&g->wake, NULL);
  g->members = members;
  g->active = members;
  g->max_values = max_values;
  size_t n = (size_t) (2 * members) * (size_t) max_values;
  g->parts = calloc (n, sizeof *g->parts);
  g->totals = calloc (n, sizeof *g->totals);
  g->round = calloc ((size_t) members, sizeof *g->round);
  if (g->parts == NULL || g->totals == NULL || g->round == NULL)
    {
      cs_batch_group_free (g);
      return NULL;
    }
  return g;
}

void
cs_batch_group_free (cs_batch_group *g)
{
  if (g == NULL)
    return;
  pthread_mutex_destroy (&g->lock);
  pthread_cond_destroy (&g->wake);
  free (g->parts);
  free (g->totals);
  free (g->round);
  free (g);
}

void
cs_batch_group_begin (cs_batch_group *g, int32_t active)
{
  g->active = active < 1 ? 1 : active > g->members ? g->members : active;
  for (int32_t k = 0; k < g->members; k++)
    g->round[k] = 0;
  __atomic_store_n (&g->arrived, 0, __ATOMIC_RELAXED);
  __atomic_store_n (&g->generation, 0, __ATOMIC_RELAXED);
  __atomic_store_n (&g->aborted, 0, __ATOMIC_RELEASE);
}

static double *
slot (double *base, const cs_batch_group *g, int32_t parity, int32_t member)
{
  return base + ((int64_t) parity * g->members + member) * g->max_values;
}

double *
cs_batch_group_part (cs_batch_group *g, int32_t member)
{
  return slot (g->parts, g, g->round[member] & 1, member);
}

void
cs_batch_group_abort (cs_batch_group *g)
{
  pthread_mutex_lock (&g->lock);
  __atomic_store_n (&g->aborted, 1, __ATOMIC_RELEASE);
  pthread_cond_broadcast (&g->wake);
  pthread_mutex_unlock (&g->lock);
}

/* Every active member arrives; the last one opens the next generation. False when the group
 * was aborted before every member had arrived (a barrier that did open reports its sum whole,
 * even if a member aborts just after). */
static bool
barrier (cs_batch_group *g)
{
  int32_t gen = __atomic_load_n (&g->generation, __ATOMIC_ACQUIRE);
  if (__atomic_add_fetch (&g->arrived, 1, __ATOMIC_ACQ_REL) == g->active)
    {
      __atomic_store_n (&g->arrived, 0, __ATOMIC_RELAXED);
      pthread_mutex_lock (&g->lock);
      __atomic_store_n (&g->generation, gen + 1, __ATOMIC_RELEASE);
      pthread_cond_broadcast (&g->wake);
      pthread_mutex_unlock (&g->lock);
      return true;
    }
  for (int i = 0; i < SPINS; i++)
    {
      if (__atomic_load_n (&g->generation, __ATOMIC_ACQUIRE) != gen)
        return true;
      if (__atomic_load_n (&g->aborted, __ATOMIC_ACQUIRE))
        break;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause ();
#endif
    }
  pthread_mutex_lock (&g->lock);
  while (__atomic_load_n (&g->generation, __ATOMIC_ACQUIRE) == gen
         && !__atomic_load_n (&g->aborted, __ATOMIC_ACQUIRE))
    pthread_cond_wait (&g->wake, &g->lock);
  bool opened = __atomic_load_n (&g->generation, __ATOMIC_ACQUIRE) != gen;
  pthread_mutex_unlock (&g->lock);
  return opened;
}

const double *
cs_batch_group_sum (cs_batch_group *g, int32_t member, int64_t n)
{
  if (n > g->max_values || member < 0 || member >= g->active)
    return NULL;
  int32_t parity = g->round[member]++ & 1;
  /* Parts alternate between two buffers: a member can write the one after next only once
   * every member has passed the next barrier, so after all have read this one. */
  if (!barrier (g))
    return NULL;
  double *total = slot (g->totals, g, parity, member);
  for (int64_t i = 0; i < n; i++)
    total[i] = 0.0;
  for (int32_t k = 0; k < g->active; k++)
    {
      const double *p = slot (g->parts, g, parity, k);
      for (int64_t i = 0; i < n; i++)
        total[i] += p[i];
    }
  return total;
}

/* cs_batch_group: members' sums arrive whole and in member order, round after round; an abort
 * releases the members that wait, and the next batch runs again. */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "base/batch_group.h"
#include "testlib.h"

#define MEMBERS 3
#define ROUNDS 2000
#define VALUES 37

typedef struct {
  cs_batch_group *g;
  int32_t member, abort_at; /* abort_at < 0: never */
  int bad, released, done;
} worker;

/* Member k's part of round r, value i: a value whose sums are exact in double. */
static double
part_value (int32_t k, int r, int i)
{
  return (double) (k + 1) * 1e6 + (double) r * 100.0 + (double) i + 0.25 * k;
}

static void *
run (void *arg)
{
  worker *w = arg;
  for (int r = 0; r < ROUNDS; r++)
    {
      if (r == w->abort_at)
        {
          cs_batch_group_abort (w->g);
          return NULL;
        }
      if ((r + w->member) % 97 == 0)
        {
          /* now and then one member arrives late, so that the others sleep rather than spin */
          struct timespec ts = { 0, 300000 };
          nanosleep (&ts, NULL);
        }
      int n = 1 + (r * 7 + 3) % VALUES;
      double *part = cs_batch_group_part (w->g, w->member);
      for (int i = 0; i < n; i++)
        part[i] = part_value (w->member, r, i);
      const double *total = cs_batch_group_sum (w->g, w->member, n);
      if (total == NULL)
        {
          w->released++;
          return NULL;
        }
      for (int i = 0; i < n; i++)
        {
          double want = 0.0;
          for (int32_t k = 0; k < MEMBERS; k++)
            want += part_value (k, r, i);
          if (memcmp (&total[i], &want, sizeof want) != 0)
            w->bad++;
        }
      w->done++;
    }
  return NULL;
}

static void
run_members (cs_batch_group *g, worker *w, int abort_member, int abort_at)
{
  pthread_t t[MEMBERS];
  cs_batch_group_begin (g, MEMBERS);
  for (int32_t k = 0; k < MEMBERS; k++)
    {
      w[k] = (worker) { .g = g, .member = k, .abort_at = k == abort_member ? abort_at : -1 };
      pthread_create (&t[k], NULL, run, &w[k]);
    }
  for (int32_t k = 0; k < MEMBERS; k++)
    pthread_join (t[k], NULL);
}

int
main (void)
{
  cs_batch_group *g = cs_batch_group_new (MEMBERS, VALUES);
  CHECK (g != NULL, "a group of %d members, %d values", MEMBERS, VALUES);
  CHECK (cs_batch_group_new (0, VALUES) == NULL && cs_batch_group_new (MEMBERS, 0) == NULL,
         "no group without members or values");
  worker w[MEMBERS];
  run_members (g, w, -1, -1);
  int bad = 0, done = 0;
  for (int k = 0; k < MEMBERS; k++)
    {
      bad += w[k].bad;
      done += w[k].done;
    }
  CHECK (bad == 0 && done == MEMBERS * ROUNDS, "%d rounds of sums: every total exact (%d wrong, %d of %d done)",
         ROUNDS, bad, done, MEMBERS * ROUNDS);

  /* member 2 fails at round 700: the others are released at that round's sum */
  run_members (g, w, 2, 700);
  CHECK (w[0].released == 1 && w[1].released == 1 && w[0].done == 700 && w[1].done == 700
         && w[0].bad == 0 && w[1].bad == 0,
         "an abort releases the waiting members (done %d, %d; released %d, %d)", w[0].done, w[1].done,
         w[0].released, w[1].released);

  /* the next batch runs whole again */
  run_members (g, w, -1, -1);
  CHECK (w[0].done == ROUNDS && w[1].done == ROUNDS && w[2].done == ROUNDS && w[0].bad + w[1].bad + w[2].bad == 0,
         "after an abort, begin runs the group again");

  /* more values than the group holds: no sum */
  cs_batch_group_begin (g, 1);
  double *part = cs_batch_group_part (g, 0);
  part[0] = 1.5;
  CHECK (cs_batch_group_sum (g, 0, VALUES + 1) == NULL, "a sum larger than the group holds is refused");
  const double *one = cs_batch_group_sum (g, 0, 1);
  CHECK (one != NULL && one[0] == 1.5, "a group of one active member sums its own part");
  cs_batch_group_free (g);
  return test_done ();
}

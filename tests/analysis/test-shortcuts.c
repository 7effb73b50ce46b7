/* Shortcut analysis on constructed maps whose answer is known: SpRAy finds planted groups and
 * their count by the eigengap; the densest small box is the planted one. */
#include <string.h>

#include "analysis/shortcuts.h"
#include "base/rng.h"
#include "testlib.h"

#define SIDE 12
#define DIM (SIDE * SIDE)

/* A map with a blob of mass at (cx, cy) plus a little noise, scaled to sum 1. */
static void
blob (float *map, int cx, int cy, cs_rng *rng)
{
  double sum = 0;
  for (int y = 0; y < SIDE; y++)
    for (int x = 0; x < SIDE; x++)
      {
        double d2 = (x - cx) * (x - cx) + (y - cy) * (y - cy);
        map[y * SIDE + x] = (float) (exp (-d2 / 3.0) + 0.02 * cs_rng_uniform (rng));
        sum += map[y * SIDE + x];
      }
  for (int i = 0; i < DIM; i++)
    map[i] = (float) (map[i] / sum);
}

static void
test_spray (int groups)
{
  static const int centres[4][2] = { { 2, 2 }, { 9, 9 }, { 2, 9 }, { 9, 2 } };
  const int per = 12, n = groups * per;
  float maps[48 * DIM];
  int32_t assign[48];
  cs_rng rng;
  cs_rng_seed (&rng, 7);
  for (int i = 0; i < n; i++)
    blob (maps + i * DIM, centres[i % groups][0], centres[i % groups][1], &rng);
  double gap = 0;
  cs_error err = { 0 };
  int32_t k = cs_spray_cluster (maps, n, DIM, 8, assign, &gap, &err);
  bool pure = true;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
      pure = pure && ((i % groups == j % groups) == (assign[i] == assign[j]));
  CHECK (k == groups && pure, "%d planted groups of %d maps: %d clusters by the eigengap (%.3f), members %s",
         groups, per, k, gap, pure ? "exactly the groups" : "mixed");
}

static void
test_box (void)
{
  float maps[20 * DIM];
  cs_rng rng;
  cs_rng_seed (&rng, 3);
  /* 16 maps with most of their mass in a 2x2 corner patch, 4 spread out */
  for (int i = 0; i < 20; i++)
    {
      float *m = maps + i * DIM;
      double sum = 0;
      for (int t = 0; t < DIM; t++)
        sum += m[t] = (float) cs_rng_uniform (&rng);
      if (i < 16)
        for (int y = 9; y < 11; y++)
          for (int x = 1; x < 3; x++)
            {
              m[y * SIDE + x] += 40.0f;
              sum += 40.0;
            }
      for (int t = 0; t < DIM; t++)
        m[t] = (float) (m[t] / sum);
    }
  int32_t box[4];
  double mass, images;
  cs_shortcut_find_box (maps, 20, SIDE, SIDE, box, &mass, &images);
  CHECK (box[0] <= 1 && box[2] >= 2 && box[1] <= 9 && box[3] >= 10 && box[2] - box[0] <= 3,
         "the densest small box (%d,%d)-(%d,%d) covers the planted patch (1,9)-(2,10)", box[0], box[1], box[2],
         box[3]);
  CHECK (images >= 0.79 && images <= 0.81 && mass > 0.5, "16 of 20 maps concentrate there (%.2f), mean mass %.2f",
         images, mass);
}

int
main (void)
{
  test_spray (2);
  test_spray (3);
  test_spray (4);
  test_box ();
  return test_done ();
}

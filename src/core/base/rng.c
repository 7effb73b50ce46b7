/* xoshiro256** with splitmix64 seeding (Blackman & Vigna), plus uniform and normal draws. */
#include "base/rng.h"

#include <math.h>

static uint64_t
splitmix64 (uint64_t *x)
{
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static inline uint64_t
rotl (uint64_t x, int k)
{
  return (x << k) | (x >> (64 - k));
}

void
cs_rng_seed (cs_rng *r, uint64_t seed)
{
  uint64_t x = seed;
  for (int i = 0; i < 4; i++)
    r->s[i] = splitmix64 (&x);
}

uint64_t
cs_rng_next (cs_rng *r)
{
  uint64_t *s = r->s;
  uint64_t result = rotl (s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl (s[3], 45);
  return result;
}

double
cs_rng_uniform (cs_rng *r)
{
  return (double) (cs_rng_next (r) >> 11) * 0x1.0p-53;
}

double
cs_rng_normal_from (double u1, double u2)
{
  if (u1 < 1e-300)
    u1 = 1e-300;
  return sqrt (-2.0 * log (u1)) * cos (2.0 * M_PI * u2);
}

double
cs_rng_normal (cs_rng *r)
{
  double u1 = cs_rng_uniform (r);
  double u2 = cs_rng_uniform (r);
  return cs_rng_normal_from (u1, u2);
}

uint64_t
cs_rng_below (cs_rng *r, uint64_t n)
{
  if (n == 0)
    return 0;
  /* Lemire's nearly-divisionless method would be faster; a rejection loop is exact and enough. */
  uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do
    x = cs_rng_next (r);
  while (x >= limit);
  return x % n;
}

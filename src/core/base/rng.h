/* A small, fast, seedable random generator (xoshiro256**, seeded by splitmix64), so that every
 * stochastic result is reproducible from a seed on every platform. */
#pragma once

#include <stdint.h>

typedef struct {
  uint64_t s[4];
} cs_rng;

void cs_rng_seed (cs_rng *r, uint64_t seed);
uint64_t cs_rng_next (cs_rng *r);
/* Uniform in [0, 1). */
double cs_rng_uniform (cs_rng *r);
/* Standard normal (Box-Muller): two uniform draws, then cs_rng_normal_from. */
double cs_rng_normal (cs_rng *r);
/* The Box-Muller normal of two uniform draws u1, u2 in [0, 1), taken in that order: callers that
 * draw in bulk and transform in parallel get exactly cs_rng_normal's values. */
double cs_rng_normal_from (double u1, double u2);
/* Uniform integer in [0, n). */
uint64_t cs_rng_below (cs_rng *r, uint64_t n);

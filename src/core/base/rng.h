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
/* Standard normal (Box-Muller). */
double cs_rng_normal (cs_rng *r);
/* Uniform integer in [0, n). */
uint64_t cs_rng_below (cs_rng *r, uint64_t n);

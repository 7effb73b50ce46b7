/* A minimal TAP test harness for C tests: each CHECK is one TAP line; main returns the verdict. */
#pragma once

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

extern int tl_count, tl_failed; /* defined in testlib.c */

#define CHECK(cond, ...)                                                                     \
  do {                                                                                      \
    tl_count++;                                                                             \
    if (cond)                                                                               \
      printf ("ok %d - ", tl_count);                                                        \
    else                                                                                    \
      {                                                                                     \
        tl_failed++;                                                                        \
        printf ("not ok %d - %s:%d: ", tl_count, __FILE__, __LINE__);                       \
      }                                                                                     \
    printf (__VA_ARGS__);                                                                   \
    printf ("\n");                                                                          \
    fflush (stdout);                                                                        \
  } while (0)

/* Closeness as numpy.isclose: |a - b| <= atol + rtol * |b|. */
#define CLOSE(a, b, atol, rtol) (fabs ((double) (a) - (double) (b)) <= (atol) + (rtol) * fabs ((double) (b)))

#define TEST_NOTE(...) do { printf ("# "); printf (__VA_ARGS__); printf ("\n"); } while (0)

/* Skips the whole program (TAP "1..0 # SKIP") when a prerequisite is missing. */
#define TEST_SKIP_ALL(...) do { printf ("1..0 # SKIP "); printf (__VA_ARGS__); printf ("\n"); exit (0); } while (0)

static inline int
test_done (void)
{
  printf ("1..%d\n", tl_count);
  return tl_failed == 0 && tl_count > 0 ? 0 : 1;
}

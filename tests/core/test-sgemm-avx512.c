/* Our AVX-512 sgemm kernels (cs_sgemm_avx512, cs_sgemm_nt_avx512, and cs_sgemm choosing them):
 * against a double-precision product within blocked summation's error bound, A plain and
 * transposed and B transposed, written and accumulated, padded leading dimensions left alone,
 * NaN kept to its own row or column, and the same bits for a crop of the columns and for any
 * number of threads. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "ops/blas.h"
#include "ops/sgemm_avx512.h"
#include "testlib.h"

#define SENTINEL 12345.0f

typedef struct {
  int m, n, k;
  bool trans, accumulate;
  int pad;                   /* extra floats per row of A, B and C, which must stay untouched */
} shape;

typedef struct {
  float *a, *b, *c;
  int lda, ldb, ldc;
} operands;

static float
uniform (uint32_t *state)
{
  *state = *state * 1664525u + 1013904223u;
  return (float) (*state >> 8) / (float) (1u << 24) * 2.0f - 1.0f;
}

static operands
operands_new (const shape *s, uint32_t seed)
{
  operands o;
  o.lda = (s->trans ? s->m : s->k) + s->pad;
  o.ldb = s->n + s->pad;
  o.ldc = s->n + s->pad;
  const int64_t na = (int64_t) o.lda * (s->trans ? s->k : s->m), nb = (int64_t) o.ldb * s->k;
  const int64_t nc = (int64_t) o.ldc * s->m;
  o.a = malloc ((size_t) (na > 0 ? na : 1) * sizeof (float));
  o.b = malloc ((size_t) (nb > 0 ? nb : 1) * sizeof (float));
  o.c = malloc ((size_t) (nc > 0 ? nc : 1) * sizeof (float));
  for (int64_t i = 0; i < na; i++)
    o.a[i] = uniform (&seed);
  for (int64_t i = 0; i < nb; i++)
    o.b[i] = uniform (&seed);
  for (int64_t i = 0; i < nc; i++)
    o.c[i] = (i % o.ldc) < s->n ? uniform (&seed) : SENTINEL;
  return o;
}

static void
operands_free (operands *o)
{
  free (o->a);
  free (o->b);
  free (o->c);
}

static float
a_at (const shape *s, const operands *o, int i, int q)
{
  return s->trans ? o->a[(int64_t) q * o->lda + i] : o->a[(int64_t) i * o->lda + q];
}

/* Every element within the bound of summing KC-blocks one after another ((128 + blocks + 1)
 * roundings of the terms' magnitudes; a far looser error means a wrong term), and the padding
 * unchanged. */
static void
check_against_double (const shape *s)
{
  operands o = operands_new (s, 7u + (uint32_t) (s->m * 131 + s->n * 17 + s->k));
  float *c0 = malloc ((size_t) o.ldc * (size_t) s->m * sizeof (float) + 1);
  memcpy (c0, o.c, (size_t) o.ldc * (size_t) s->m * sizeof (float));
  cs_sgemm_avx512 (s->m, s->n, s->k, s->trans, o.a, o.lda, o.b, o.ldb, s->accumulate, o.c, o.ldc);
  const double u = ldexp (1.0, -24), rounds = 128 + (s->k + 127) / 128 + 1;
  double worst = 0.0;
  bool padding_kept = true;
  for (int i = 0; i < s->m; i++)
    {
      for (int j = 0; j < s->n; j++)
        {
          double want = s->accumulate ? c0[(int64_t) i * o.ldc + j] : 0.0, mag = fabs (want);
          for (int q = 0; q < s->k; q++)
            {
              double t = (double) a_at (s, &o, i, q) * o.b[(int64_t) q * o.ldb + j];
              want += t;
              mag += fabs (t);
            }
          double err = fabs (o.c[(int64_t) i * o.ldc + j] - want) / (rounds * u * mag + 1e-30);
          if (!(err <= worst))
            worst = err;
        }
      for (int j = s->n; j < o.ldc; j++)
        padding_kept &= o.c[(int64_t) i * o.ldc + j] == SENTINEL;
    }
  CHECK (worst <= 1.0, "%dx%d by %d%s%s, padding %d: within the error bound (worst %.3f of it)",
         s->m, s->n, s->k, s->trans ? ", A transposed" : "", s->accumulate ? ", accumulated" : "",
         s->pad, worst);
  CHECK (padding_kept, "%dx%d by %d: the padding past n in each row of C is untouched", s->m,
         s->n, s->k);
  free (c0);
  operands_free (&o);
}

/* Columns [j0, j0 + w) of B alone give the same bits as those columns of the whole product,
 * and 1 or 2 threads give the same bits: incremental occlusion recomputes crops of a layer and
 * must sum them as the whole map was. */
static void
check_crops_and_threads (const shape *s, int j0, int w)
{
  operands o = operands_new (s, 99u);
  const size_t bytes = (size_t) o.ldc * (size_t) s->m * sizeof (float);
  float *whole = malloc (bytes), *crop = malloc (bytes), *two = malloc (bytes);
  omp_set_num_threads (1);
  cs_sgemm_avx512 (s->m, s->n, s->k, s->trans, o.a, o.lda, o.b, o.ldb, false, whole, o.ldc);
  cs_sgemm_avx512 (s->m, w, s->k, s->trans, o.a, o.lda, o.b + j0, o.ldb, false, crop, o.ldc);
  omp_set_num_threads (2);
  cs_sgemm_avx512 (s->m, s->n, s->k, s->trans, o.a, o.lda, o.b, o.ldb, false, two, o.ldc);
  bool same_crop = true;
  for (int i = 0; i < s->m; i++)
    same_crop &= memcmp (crop + (int64_t) i * o.ldc, whole + (int64_t) i * o.ldc + j0,
                         (size_t) w * sizeof (float))
                 == 0;
  CHECK (same_crop, "%dx%d by %d: columns %d..%d alone give the whole product's bits", s->m, s->n,
         s->k, j0, j0 + w - 1);
  bool same_threads = true;
  for (int i = 0; i < s->m; i++)
    same_threads &= memcmp (two + (int64_t) i * o.ldc, whole + (int64_t) i * o.ldc,
                            (size_t) s->n * sizeof (float))
                    == 0;
  CHECK (same_threads, "%dx%d by %d: 1 and 2 threads give the same bits", s->m, s->n, s->k);
  free (whole);
  free (crop);
  free (two);
  operands_free (&o);
}

/* A NaN in row i of A reaches row i of C only, one in column j of B column j only, also in the
 * last row tile (rows past m repeat the last row) and the masked last vector. */
static void
check_nan (void)
{
  const shape s = { 13, 37, 40, false, false, 3 };
  operands o = operands_new (&s, 5u);
  o.a[(int64_t) 12 * o.lda + 5] = NAN;
  o.b[(int64_t) 9 * o.ldb + 36] = NAN;
  cs_sgemm_avx512 (s.m, s.n, s.k, false, o.a, o.lda, o.b, o.ldb, false, o.c, o.ldc);
  bool only_there = true;
  for (int i = 0; i < s.m; i++)
    for (int j = 0; j < o.ldc; j++)
      {
        float v = o.c[(int64_t) i * o.ldc + j];
        bool want_nan = j < s.n && (i == 12 || j == 36);
        only_there &= want_nan ? isnan (v) : !isnan (v);
      }
  CHECK (only_there, "NaN in A's last row and B's last column reaches that row and column only");
  operands_free (&o);
}

/* A·Bᵀ: B is [n, k]. Within the bound of blocks of at most 1024 terms, each summed in 16 lanes
 * (k / 16 roundings per lane, 4 to add the lanes, one per block); padding untouched; 1 and 2
 * threads give the same bits; a NaN in one row of A reaches that row of C only. */
static void
check_nt (int m, int n, int k, bool accumulate, int pad)
{
  const int lda = k + pad, ldb = k + pad, ldc = n + pad;
  uint32_t seed = 17u + (uint32_t) (m * 7 + n * 3 + k);
  float *a = malloc ((size_t) lda * (size_t) m * sizeof (float));
  float *b = malloc ((size_t) ldb * (size_t) n * sizeof (float));
  float *c = malloc ((size_t) ldc * (size_t) m * sizeof (float));
  float *c0 = malloc ((size_t) ldc * (size_t) m * sizeof (float));
  float *two = malloc ((size_t) ldc * (size_t) m * sizeof (float));
  for (int64_t i = 0; i < (int64_t) lda * m; i++)
    a[i] = uniform (&seed);
  for (int64_t i = 0; i < (int64_t) ldb * n; i++)
    b[i] = uniform (&seed);
  for (int64_t i = 0; i < (int64_t) ldc * m; i++)
    c0[i] = (i % ldc) < n ? uniform (&seed) : SENTINEL;
  memcpy (c, c0, (size_t) ldc * (size_t) m * sizeof (float));
  memcpy (two, c0, (size_t) ldc * (size_t) m * sizeof (float));
  omp_set_num_threads (1);
  cs_sgemm_nt_avx512 (m, n, k, a, lda, b, ldb, accumulate, c, ldc);
  omp_set_num_threads (2);
  cs_sgemm_nt_avx512 (m, n, k, a, lda, b, ldb, accumulate, two, ldc);
  const double u = ldexp (1.0, -24), rounds = 1024 / 16 + 4 + (k + 1023) / 1024 + 1;
  double worst = 0.0;
  bool padding_kept = true;
  for (int i = 0; i < m; i++)
    {
      for (int j = 0; j < n; j++)
        {
          double want = accumulate ? c0[(int64_t) i * ldc + j] : 0.0, mag = fabs (want);
          for (int q = 0; q < k; q++)
            {
              double t = (double) a[(int64_t) i * lda + q] * b[(int64_t) j * ldb + q];
              want += t;
              mag += fabs (t);
            }
          double err = fabs (c[(int64_t) i * ldc + j] - want) / (rounds * u * mag + 1e-30);
          if (!(err <= worst))
            worst = err;
        }
      for (int j = n; j < ldc; j++)
        padding_kept &= c[(int64_t) i * ldc + j] == SENTINEL;
    }
  CHECK (worst <= 1.0, "A Bt %dx%d by %d%s, padding %d: within the error bound (worst %.3f of it)",
         m, n, k, accumulate ? ", accumulated" : "", pad, worst);
  CHECK (padding_kept, "A Bt %dx%d by %d: the padding past n in each row of C is untouched", m, n,
         k);
  CHECK (memcmp (c, two, (size_t) ldc * (size_t) m * sizeof (float)) == 0,
         "A Bt %dx%d by %d: 1 and 2 threads give the same bits", m, n, k);
  a[(int64_t) (m - 1) * lda + k / 2] = NAN;
  cs_sgemm_nt_avx512 (m, n, k, a, lda, b, ldb, false, c, ldc);
  bool only_there = true;
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++)
      only_there &= (i == m - 1) == (bool) isnan (c[(int64_t) i * ldc + j]);
  CHECK (only_there, "A Bt %dx%d by %d: NaN in A's last row reaches that row only", m, n, k);
  free (a);
  free (b);
  free (c);
  free (c0);
  free (two);
}

int
main (void)
{
  if (!cs_sgemm_avx512_available ())
    {
      /* cs_sgemm keeps to OpenBLAS there; the reference suites check it. */
      CHECK (true, "this CPU has no AVX-512F: cs_sgemm uses OpenBLAS only");
      return test_done ();
    }
  static const shape shapes[] = {
    { 512, 49, 4608, false, false, 0 },  /* ResNet-18 layer4's 3x3 at batch 1 */
    { 4608, 49, 512, true, false, 0 },   /* its input gradient */
    { 64, 784, 64, false, false, 0 },    /* a Winograd plane of layer1 */
    { 13, 200, 300, false, true, 5 },    /* partial row tile, 13 vectors, accumulated */
    { 7, 3, 5, true, true, 1 },
    { 1, 1000, 512, false, false, 0 },   /* a fully connected layer's input gradient */
    { 30, 1100, 129, false, false, 2 },  /* more than one NC block, a 1-step KC block */
    { 25, 17, 1, true, false, 3 },
    { 6, 16, 256, false, true, 0 },
  };
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
    check_against_double (&shapes[i]);

  check_crops_and_threads (&(shape){ 40, 49, 700, false, false, 0 }, 17, 20);
  check_crops_and_threads (&(shape){ 300, 196, 250, true, false, 4 }, 3, 130);
  check_crops_and_threads (&(shape){ 20, 1500, 70, false, false, 0 }, 510, 600);
  check_nan ();

  check_nt (32, 144, 980, false, 0);   /* the demo CNN's second conv's weight gradient */
  check_nt (64, 576, 3136, true, 3);   /* ResNet-18 layer1's, several blocks, accumulated */
  check_nt (13, 7, 300, false, 1);     /* partial row and column tiles, a masked tail */
  check_nt (6, 4, 1, true, 0);

  /* k = 0: C is zeroed, or left as it is when accumulating. */
  float c[4] = { 1, 2, 3, 4 }, a[1] = { 0 }, b[1] = { 0 };
  cs_sgemm_avx512 (2, 2, 0, false, a, 1, b, 2, true, c, 2);
  bool kept = c[0] == 1 && c[3] == 4;
  cs_sgemm_avx512 (2, 2, 0, false, a, 1, b, 2, false, c, 2);
  CHECK (kept && c[0] == 0 && c[1] == 0 && c[2] == 0 && c[3] == 0,
         "an empty inner dimension zeroes C, or leaves it when accumulating");

  /* cs_sgemm runs this kernel for alpha 1, beta 0 or 1 and B not transposed: same bits. */
  shape s = { 70, 90, 333, true, false, 0 };
  operands o = operands_new (&s, 11u);
  float *mine = malloc ((size_t) (s.m * s.n) * sizeof (float));
  cs_sgemm_avx512 (s.m, s.n, s.k, true, o.a, o.lda, o.b, o.ldb, false, mine, o.ldc);
  cs_sgemm (CblasTrans, CblasNoTrans, s.m, s.n, s.k, 1.0f, o.a, o.lda, o.b, o.ldb, 0.0f, o.c,
            o.ldc);
  CHECK (memcmp (mine, o.c, (size_t) (s.m * s.n) * sizeof (float)) == 0,
         "cs_sgemm takes this kernel on this CPU");
  /* ... and the A Bt kernel for B transposed (B read as [90, 333] here), from 6 rows and 256
   * terms */
  float *bt = malloc ((size_t) (s.n * s.k) * sizeof (float)), *at = o.a;
  for (int i = 0; i < s.n * s.k; i++)
    bt[i] = (float) (i % 17) * 0.125f - 1.0f;
  cs_sgemm_nt_avx512 (s.m, s.n, s.k, at, s.k, bt, s.k, false, mine, s.n);
  cs_sgemm (CblasNoTrans, CblasTrans, s.m, s.n, s.k, 1.0f, at, s.k, bt, s.k, 0.0f, o.c, s.n);
  CHECK (memcmp (mine, o.c, (size_t) (s.m * s.n) * sizeof (float)) == 0,
         "cs_sgemm takes the A Bt kernel on this CPU");
  free (bt);
  free (mine);
  operands_free (&o);
  return test_done ();
}

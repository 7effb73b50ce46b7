/* Weight statistics of one layer at one epoch (see weight_stats.h for the definitions). */
#include "analysis/weight_stats.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Eigenvalues below this fraction of the largest are rounding noise of a float SVD
 * (singular values carry an error of ~1e-7 of the largest, their squares ~1e-14). */
#define SPECTRUM_ZERO 1e-10

static bool
layer_of_node (const cs_graph *g, int32_t id, cs_weight_layer *l)
{
  const cs_node *n = &g->nodes[id];
  if ((n->op != CS_OP_CONV2D && n->op != CS_OP_GEMM && n->op != CS_OP_MATMUL) || n->n_inputs < 2)
    return false;
  const cs_node *w = &g->nodes[n->inputs[1]];
  if (w->op != CS_OP_PARAM || w->param_index < 0)
    return false;
  const cs_shape *s = &w->shape;
  memset (l, 0, sizeof *l);
  l->node = id;
  l->param = w->param_index;
  l->numel = cs_shape_numel (s);
  if (l->numel <= 0)
    return false;
  if (n->op == CS_OP_CONV2D)
    {
      if (s->ndim != 4)
        return false;
      l->n_filters = s->dim[0];
      l->filter_size = l->numel / s->dim[0];
      l->n_slices = (int32_t) (s->dim[2] * s->dim[3]);
      l->slice_rows = s->dim[0];
      l->slice_cols = s->dim[1];
      return true;
    }
  if (s->ndim != 2)
    return false;
  l->n_slices = 1;
  l->slice_rows = s->dim[0];
  l->slice_cols = s->dim[1];
  l->filters_are_columns = !(n->op == CS_OP_GEMM && n->attrs.gemm.trans_b);
  l->n_filters = l->filters_are_columns ? s->dim[1] : s->dim[0];
  l->filter_size = l->filters_are_columns ? s->dim[0] : s->dim[1];
  return true;
}

cs_status
cs_weight_layers_find (const cs_graph *g, cs_weight_layer **layers, int32_t *n_layers,
                       cs_error *err)
{
  *layers = NULL;
  *n_layers = 0;
  int32_t count = 0;
  cs_weight_layer l;
  for (int32_t i = 0; i < g->n_nodes; i++)
    count += layer_of_node (g, i, &l);
  if (count == 0)
    return CS_OK;
  cs_weight_layer *out = calloc ((size_t) count, sizeof *out);
  if (out == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "out of memory listing %d layers", count);
  int32_t k = 0;
  for (int32_t i = 0; i < g->n_nodes; i++)
    if (layer_of_node (g, i, &out[k]))
      k++;
  *layers = out;
  *n_layers = k;
  return CS_OK;
}

static int
compare_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

bool
cs_powerlaw_fit_tail (const double *eigs, int64_t n, int64_t min_tail, cs_powerlaw_fit *fit)
{
  fit->alpha = NAN;
  fit->lambda_min = NAN;
  fit->ks = NAN;
  fit->n_tail = 0;
  if (min_tail < 2)
    min_tail = 2;
  if (n < min_tail || eigs[0] <= 0.0)
    return false;
  double *logs = malloc ((size_t) n * sizeof *logs);
  if (logs == NULL)
    return false;
  for (int64_t i = 0; i < n; i++)
    logs[i] = log (eigs[i]);
  double best_d = INFINITY;
  for (int64_t k = 0; k + min_tail <= n; k++)
    {
      if (k > 0 && eigs[k] == eigs[k - 1])
        continue;             /* the same candidate as the previous one */
      int64_t m = n - k;
      /* Summed term by term (not as a difference of suffix sums) so that a flat tail gives
       * exactly 0 rather than rounding noise and a huge alpha. */
      double s = 0.0;
      for (int64_t i = k; i < n; i++)
        s += logs[i] - logs[k];
      if (!(s > 0.0))
        continue;             /* the whole tail equals lambda_min: no slope to fit */
      double alpha = 1.0 + (double) m / s;
      double d = 0.0;
      for (int64_t i = k; i < n; i++)
        {
          double p = 1.0 - exp ((1.0 - alpha) * (logs[i] - logs[k]));
          double lo = (double) (i - k) / (double) m, hi = (double) (i - k + 1) / (double) m;
          double e = fmax (fabs (p - lo), fabs (hi - p));
          d = e > d ? e : d;
        }
      if (d < best_d)
        {
          best_d = d;
          fit->alpha = alpha;
          fit->lambda_min = eigs[k];
          fit->ks = d;
          fit->n_tail = m;
        }
    }
  free (logs);
  return isfinite (fit->alpha);
}

cs_status
cs_weight_spectrum (const cs_weight_layer *l, const float *w, double **eigs, int64_t *n_eigs,
                    cs_error *err)
{
  *eigs = NULL;
  *n_eigs = 0;
  int64_t rows = l->slice_rows, cols = l->slice_cols;
  int64_t k = rows < cols ? rows : cols, big = rows < cols ? cols : rows;
  if (k <= 0 || l->n_slices <= 0)
    return CS_OK;
  if (rows > INT32_MAX / cols)
    return cs_error_set (err, CS_ERR_LIMIT, "a %lld x %lld weight is too large for the SVD",
                         (long long) rows, (long long) cols);
  float *a = cs_alloc_floats (rows * cols);
  float *sv = cs_alloc_floats (k);
  double *out = malloc ((size_t) (k * l->n_slices) * sizeof *out);
  if (a == NULL || sv == NULL || out == NULL)
    {
      cs_free_floats (a);
      cs_free_floats (sv);
      free (out);
      return cs_error_set (err, CS_ERR_MEMORY, "out of memory for the spectrum of a %lld x %lld "
                           "weight", (long long) rows, (long long) cols);
    }
  int64_t count = 0;
  for (int32_t s = 0; s < l->n_slices; s++)
    {
      /* Conv slice (i, j): element [m, c] is w[m, c, i, j]; linear: the matrix itself. */
      if (l->n_slices == 1)
        memcpy (a, w, (size_t) (rows * cols) * sizeof *a);
      else
        for (int64_t r = 0; r < rows; r++)
          for (int64_t c = 0; c < cols; c++)
            a[r * cols + c] = w[(r * cols + c) * l->n_slices + s];
      lapack_int info = LAPACKE_sgesdd (LAPACK_ROW_MAJOR, 'N', (lapack_int) rows,
                                        (lapack_int) cols, a, (lapack_int) cols, sv, NULL, 1,
                                        NULL, (lapack_int) cols);
      if (info != 0)
        {
          cs_free_floats (a);
          cs_free_floats (sv);
          free (out);
          return cs_error_set (err, CS_ERR_UNSUPPORTED, "the SVD of a %lld x %lld weight did not "
                               "converge (LAPACK info %d; non-finite weights?)", (long long) rows,
                               (long long) cols, (int) info);
        }
      for (int64_t i = 0; i < k; i++)
        out[count++] = (double) sv[i] * (double) sv[i] / (double) big;
    }
  cs_free_floats (a);
  cs_free_floats (sv);
  qsort (out, (size_t) count, sizeof *out, compare_double);
  double top = count > 0 ? out[count - 1] : 0.0;
  int64_t first = 0;
  while (first < count && !(out[first] > SPECTRUM_ZERO * top))
    first++;
  memmove (out, out + first, (size_t) (count - first) * sizeof *out);
  *eigs = out;
  *n_eigs = count - first;
  return CS_OK;
}

double
cs_spectrum_stable_rank (const double *eigs, int64_t n)
{
  if (n <= 0)
    return NAN;
  double sum = 0.0, top = 0.0;
  for (int64_t i = 0; i < n; i++)
    {
      sum += eigs[i];
      top = eigs[i] > top ? eigs[i] : top;
    }
  return top > 0.0 ? sum / top : NAN;
}

static double
ratio (double num, double den)
{
  return den > 0.0 ? num / den : NAN;
}

static double
clamp_cosine (double c)
{
  return c > 1.0 ? 1.0 : c < -1.0 ? -1.0 : c;
}

cs_status
cs_weight_epoch_compute (const cs_weight_layer *l, const float *w, const float *prev,
                         const float *init, bool spectral, float *filter_change,
                         cs_weight_epoch_stats *s, cs_error *err)
{
  /* Double accumulation: a float sum over millions of terms would lose the small differences
   * between consecutive epochs that the relative change measures. */
  double ww = 0.0, pp = 0.0, wp = 0.0, dp = 0.0, ii = 0.0, wi = 0.0, di = 0.0;
  for (int64_t i = 0; i < l->numel; i++)
    {
      double x = w[i], z = init != NULL ? init[i] : 0.0;
      ww += x * x;
      ii += z * z;
      wi += x * z;
      di += (x - z) * (x - z);
      if (prev != NULL)
        {
          double y = prev[i];
          pp += y * y;
          wp += x * y;
          dp += (x - y) * (x - y);
        }
    }
  s->norm = sqrt (ww);
  s->distance_from_init = init != NULL ? sqrt (di) : NAN;
  /* Cosines clamped to [-1, 1] against rounding; the initialisation itself has rotated by
   * exactly 0 (not 2e-16). */
  s->rotation = init == NULL ? NAN
                : w == init ? 0.0 : 1.0 - clamp_cosine (ratio (wi, sqrt (ww) * sqrt (ii)));
  s->relative_change = prev != NULL ? ratio (sqrt (dp), sqrt (pp)) : NAN;
  s->cosine_to_previous = prev != NULL ? clamp_cosine (ratio (wp, sqrt (ww) * sqrt (pp))) : NAN;

  if (filter_change != NULL)
    for (int64_t k = 0; k < l->n_filters; k++)
      {
        if (prev == NULL)
          {
            filter_change[k] = NAN;
            continue;
          }
        int64_t step = l->filters_are_columns ? l->n_filters : 1;
        int64_t base = l->filters_are_columns ? k : k * l->filter_size;
        double d = 0.0, p = 0.0;
        for (int64_t j = 0; j < l->filter_size; j++)
          {
            double x = w[base + j * step], y = prev[base + j * step];
            d += (x - y) * (x - y);
            p += y * y;
          }
        filter_change[k] = (float) ratio (sqrt (d), sqrt (p));
      }

  s->alpha = s->lambda_min = s->ks = s->stable_rank = NAN;
  s->n_eigs = 0;
  /* A diverged run (inf/NaN weights) has no spectrum; its norms already say so. */
  if (!spectral || !isfinite (ww))
    return CS_OK;
  double *eigs;
  int64_t n;
  cs_status st = cs_weight_spectrum (l, w, &eigs, &n, err);
  if (st != CS_OK)
    return st;
  cs_powerlaw_fit fit;
  cs_powerlaw_fit_tail (eigs, n, CS_POWERLAW_MIN_TAIL, &fit);
  s->alpha = fit.alpha;
  s->lambda_min = fit.lambda_min;
  s->ks = fit.ks;
  s->stable_rank = cs_spectrum_stable_rank (eigs, n);
  s->n_eigs = n;
  free (eigs);
  return CS_OK;
}

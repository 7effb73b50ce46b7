/* gemm (y = alpha * a * op(b) + beta * c; the `linear` layer) and matmul (a[N,...,K] * b[K,M]):
 * shape inference, forward and backward on OpenBLAS. */
#include "ops/blas.h"
#include <string.h>

#include "graph/ops.h"

#define PARALLEL_MIN_WORK 32768

/* c broadcast to [rows, cols]: its own dims (1 or the full size) on each axis. */
typedef struct {
  int64_t rows, cols;
} bcast;

/* Reads c's shape as a 2-D broadcast: scalar, [M], [1, M], [N, 1], [N, M] (N only as given). */
static bool
bcast_of (const cs_shape *c, int64_t n, int64_t m, bcast *out)
{
  int64_t cr = 1, cc = 1;
  if (c->ndim == 1)
    cc = c->dim[0];
  else if (c->ndim == 2)
    {
      cr = c->dim[0];
      cc = c->dim[1];
    }
  else if (c->ndim != 0 && cs_shape_numel (c) != 1)
    return false;
  if ((cc != 1 && cc != m) || (cr != 1 && cr != n))
    return false;
  out->rows = cr;
  out->cols = cc;
  return true;
}

static cs_status
gemm_infer (const cs_node *node, const cs_shape *const *in, cs_shape *out, cs_error *err)
{
  const cs_gemm_attrs *at = &node->attrs.gemm;
  const cs_shape *a = in[0], *b = in[1];
  char b1[96], b2[96];
  if (a->ndim != 2)
    return cs_error_set (err, CS_ERR_SHAPE, "input must be 2-D [N, K] (flatten first), got %s",
                         cs_shape_format (a, b1, sizeof b1));
  if (b->ndim != 2)
    return cs_error_set (err, CS_ERR_SHAPE, "weight must be 2-D, got %s", cs_shape_format (b, b1, sizeof b1));
  if (a->dim[0] < 1 || a->dim[1] < 1 || b->dim[0] < 1 || b->dim[1] < 1)
    return cs_error_set (err, CS_ERR_SHAPE, "empty input %s or weight %s",
                         cs_shape_format (a, b1, sizeof b1), cs_shape_format (b, b2, sizeof b2));
  int64_t k = a->dim[1];
  int64_t bk = at->trans_b ? b->dim[1] : b->dim[0];
  int64_t m = at->trans_b ? b->dim[0] : b->dim[1];
  if (bk != k)
    return cs_error_set (err, CS_ERR_SHAPE, "weight %s%s has %lld input features, input %s has %lld",
                         cs_shape_format (b, b1, sizeof b1), at->trans_b ? " (transposed)" : "",
                         (long long) bk, cs_shape_format (a, b2, sizeof b2), (long long) k);
  if (node->n_inputs > 2)
    {
      bcast bc;
      if (!bcast_of (in[2], a->dim[0], m, &bc))
        return cs_error_set (err, CS_ERR_SHAPE, "bias %s does not broadcast to [%lld, %lld]",
                             cs_shape_format (in[2], b1, sizeof b1), (long long) a->dim[0], (long long) m);
      /* A bias with one row per sample only exists at batch 1 in the graph: it cannot follow a
       * run-time batch. */
      if (bc.rows > 1)
        return cs_error_set (err, CS_ERR_UNSUPPORTED, "bias %s has one row per sample; only [M] "
                             "or [1, M] biases are supported", cs_shape_format (in[2], b1, sizeof b1));
    }
  *out = cs_shape_make (2, (int64_t[]) { a->dim[0], m });
  return CS_OK;
}

static cs_status
gemm_forward (const cs_op_call *call)
{
  const cs_gemm_attrs *at = &call->node->attrs.gemm;
  const cs_tensor *a = call->in[0], *b = call->in[1];
  const cs_tensor *c = call->n_inputs > 2 ? call->in[2] : NULL;
  const int64_t n = a->shape.dim[0], k = a->shape.dim[1];
  const int64_t m = at->trans_b ? b->shape.dim[0] : b->shape.dim[1];
  float *y = call->out->data;
  float beta = 0.0f;
  if (c != NULL && at->beta != 0.0f)
    {
      bcast bc;
      if (!bcast_of (&c->shape, n, m, &bc))
        return CS_ERR_SHAPE;
#pragma omp parallel for schedule(static) if (n * m > PARALLEL_MIN_WORK)
      for (int64_t i = 0; i < n; i++)
        {
          const float *cr = c->data + (bc.rows > 1 ? i * bc.cols : 0);
          for (int64_t j = 0; j < m; j++)
            y[i * m + j] = at->beta * cr[bc.cols > 1 ? j : 0];
        }
      beta = 1.0f;
    }
  cs_sgemm (CblasNoTrans, at->trans_b ? CblasTrans : CblasNoTrans,
               (int) n, (int) m, (int) k, at->alpha, a->data, (int) k, b->data,
               (int) (at->trans_b ? k : m), beta, y, (int) m);
  return CS_OK;
}

/* dc += beta * dy reduced over the broadcast axes. */
static void
bias_backward (const float *dy, float *dc, const bcast *bc, int64_t n, int64_t m, float beta)
{
  if (bc->rows > 1 && bc->cols > 1)
    {
      for (int64_t i = 0; i < n * m; i++)
        dc[i] += beta * dy[i];
      return;
    }
  if (bc->cols > 1)
    {
#pragma omp parallel for schedule(static) if (n * m > PARALLEL_MIN_WORK)
      for (int64_t j = 0; j < m; j++)
        {
          double acc = 0.0;
          for (int64_t i = 0; i < n; i++)
            acc += dy[i * m + j];
          dc[j] += beta * (float) acc;
        }
      return;
    }
  for (int64_t i = 0; i < (bc->rows > 1 ? n : 1); i++)
    {
      double acc = 0.0;
      for (int64_t r = (bc->rows > 1 ? i : 0); r < (bc->rows > 1 ? i + 1 : n); r++)
        for (int64_t j = 0; j < m; j++)
          acc += dy[r * m + j];
      dc[i] += beta * (float) acc;
    }
}

static cs_status
gemm_backward (const cs_op_call *call)
{
  const cs_gemm_attrs *at = &call->node->attrs.gemm;
  const cs_tensor *a = call->in[0], *b = call->in[1];
  const int64_t n = a->shape.dim[0], k = a->shape.dim[1];
  const int64_t m = at->trans_b ? b->shape.dim[0] : b->shape.dim[1];
  const float *dy = call->dout->data;
  cs_tensor *da = call->din[0], *db = call->din[1];
  cs_tensor *dc = call->n_inputs > 2 ? call->din[2] : NULL;

  if (da != NULL)
    /* da[N,K] += alpha * dy[N,M] * op(b)^T */
    cs_sgemm (CblasNoTrans, at->trans_b ? CblasNoTrans : CblasTrans,
                 (int) n, (int) k, (int) m, at->alpha, dy, (int) m, b->data,
                 (int) (at->trans_b ? k : m), 1.0f, da->data, (int) k);
  if (db != NULL)
    {
      if (at->trans_b)
        /* db[M,K] += alpha * dy^T a */
        cs_sgemm (CblasTrans, CblasNoTrans, (int) m, (int) k, (int) n,
                     at->alpha, dy, (int) m, a->data, (int) k, 1.0f, db->data, (int) k);
      else
        /* db[K,M] += alpha * a^T dy */
        cs_sgemm (CblasTrans, CblasNoTrans, (int) k, (int) m, (int) n,
                     at->alpha, a->data, (int) k, dy, (int) m, 1.0f, db->data, (int) m);
    }
  if (dc != NULL && at->beta != 0.0f)
    {
      bcast bc;
      if (!bcast_of (&call->in[2]->shape, n, m, &bc))
        return CS_ERR_SHAPE;
      bias_backward (dy, dc->data, &bc, n, m, at->beta);
    }
  return CS_OK;
}

static int64_t
gemm_flops (const cs_node *node, const cs_shape *const *in, const cs_shape *out)
{
  return 2 * in[0]->dim[0] * in[0]->dim[1] * out->dim[1];
}

const cs_op_info cs_op_gemm_info = {
  .name = "gemm",
  .min_inputs = 2,
  .max_inputs = 3,
  .infer = gemm_infer,
  .forward = gemm_forward,
  .backward = gemm_backward,
  .flops = gemm_flops,
};

/* ---- matmul: a[N, ..., K] (batched) * b[K, M]: one GEMM over all leading rows ---------- */

static cs_status
matmul_infer (const cs_node *node, const cs_shape *const *in, cs_shape *out, cs_error *err)
{
  const cs_shape *a = in[0], *b = in[1];
  char b1[96], b2[96];
  if (a->ndim < 2)
    return cs_error_set (err, CS_ERR_SHAPE, "input must have a batch and a feature axis, got %s",
                         cs_shape_format (a, b1, sizeof b1));
  if (b->ndim != 2)
    return cs_error_set (err, CS_ERR_UNSUPPORTED, "only a 2-D right-hand side [K, M] is supported, "
                         "got %s", cs_shape_format (b, b1, sizeof b1));
  if (cs_shape_numel (a) < 1 || b->dim[0] < 1 || b->dim[1] < 1)
    return cs_error_set (err, CS_ERR_SHAPE, "empty input %s or weight %s",
                         cs_shape_format (a, b1, sizeof b1), cs_shape_format (b, b2, sizeof b2));
  if (a->dim[a->ndim - 1] != b->dim[0])
    return cs_error_set (err, CS_ERR_SHAPE, "input %s has %lld features, weight %s expects %lld",
                         cs_shape_format (a, b1, sizeof b1), (long long) a->dim[a->ndim - 1],
                         cs_shape_format (b, b2, sizeof b2), (long long) b->dim[0]);
  *out = *a;
  out->dim[a->ndim - 1] = b->dim[1];
  if (cs_shape_numel (out) < 0)
    return cs_error_set (err, CS_ERR_LIMIT, "output is too large");
  return CS_OK;
}

static cs_status
matmul_forward (const cs_op_call *call)
{
  const cs_tensor *a = call->in[0], *b = call->in[1];
  const int64_t k = b->shape.dim[0], m = b->shape.dim[1];
  const int64_t rows = cs_tensor_numel (a) / (k > 0 ? k : 1);
  cs_sgemm (CblasNoTrans, CblasNoTrans, (int) rows, (int) m, (int) k, 1.0f,
               a->data, (int) k, b->data, (int) m, 0.0f, call->out->data, (int) m);
  return CS_OK;
}

static cs_status
matmul_backward (const cs_op_call *call)
{
  const cs_tensor *a = call->in[0], *b = call->in[1];
  const int64_t k = b->shape.dim[0], m = b->shape.dim[1];
  const int64_t rows = cs_tensor_numel (a) / (k > 0 ? k : 1);
  const float *dy = call->dout->data;
  if (call->din[0] != NULL)
    cs_sgemm (CblasNoTrans, CblasTrans, (int) rows, (int) k, (int) m, 1.0f,
                 dy, (int) m, b->data, (int) m, 1.0f, call->din[0]->data, (int) k);
  if (call->din[1] != NULL)
    cs_sgemm (CblasTrans, CblasNoTrans, (int) k, (int) m, (int) rows, 1.0f,
                 a->data, (int) k, dy, (int) m, 1.0f, call->din[1]->data, (int) m);
  return CS_OK;
}

static int64_t
matmul_flops (const cs_node *node, const cs_shape *const *in, const cs_shape *out)
{
  return 2 * cs_shape_numel (out) * in[1]->dim[0];
}

const cs_op_info cs_op_matmul_info = {
  .name = "matmul",
  .min_inputs = 2,
  .max_inputs = 2,
  .infer = matmul_infer,
  .forward = matmul_forward,
  .backward = matmul_backward,
  .flops = matmul_flops,
};

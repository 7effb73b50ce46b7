/* The executor: forward/backward over a small residual graph against finite differences of the
 * whole network, batching, weight swapping, forward_until, error paths, per-exec thread counts
 * and split GEMMs. */
#include <math.h>
#include <string.h>

#include "base/rng.h"
#include "base/threads.h"
#include "exec/exec.h"
#include "gradcheck.h"
#include "ops/blas.h"
#include "testlib.h"

static cs_graph *
build_residual_net (cs_error *err)
{
  cs_graph *g = cs_graph_new ();
  cs_shape in = cs_shape_4d (1, 2, 6, 6);
  int32_t x = cs_graph_add_input (g, "input", &in, err);
  cs_attrs conv = cs_attrs_default (CS_OP_CONV2D);
  conv.window.kernel[0] = conv.window.kernel[1] = 3;
  conv.window.pad[0] = conv.window.pad[1] = conv.window.pad[2] = conv.window.pad[3] = 1;
  cs_shape w1s = cs_shape_4d (3, 2, 3, 3), w2s = cs_shape_4d (3, 3, 3, 3);
  cs_shape b3 = cs_shape_make (1, (int64_t[]) { 3 });
  int32_t w1 = cs_graph_add_param (g, "conv1.weight", &w1s, err);
  int32_t b1 = cs_graph_add_param (g, "conv1.bias", &b3, err);
  int32_t c1 = cs_graph_add_op (g, CS_OP_CONV2D, "conv1", NULL, (int32_t[]) { x, w1, b1 }, 3, &conv, err);
  int32_t r1 = cs_graph_add_op (g, CS_OP_RELU, "relu1", NULL, (int32_t[]) { c1 }, 1, NULL, err);
  int32_t w2 = cs_graph_add_param (g, "conv2.weight", &w2s, err);
  int32_t c2 = cs_graph_add_op (g, CS_OP_CONV2D, "conv2", NULL, (int32_t[]) { r1, w2 }, 2, &conv, err);
  int32_t add = cs_graph_add_op (g, CS_OP_ADD, "add", NULL, (int32_t[]) { r1, c2 }, 2, NULL, err);
  int32_t gap = cs_graph_add_op (g, CS_OP_GLOBAL_AVGPOOL, "gap", NULL, (int32_t[]) { add }, 1, NULL, err);
  int32_t fl = cs_graph_add_op (g, CS_OP_FLATTEN, "flatten", NULL, (int32_t[]) { gap }, 1, NULL, err);
  cs_attrs lin = cs_attrs_default (CS_OP_GEMM);
  lin.gemm.trans_b = true;
  cs_shape fws = cs_shape_make (2, (int64_t[]) { 4, 3 }), fbs = cs_shape_make (1, (int64_t[]) { 4 });
  int32_t fw = cs_graph_add_param (g, "fc.weight", &fws, err);
  int32_t fb = cs_graph_add_param (g, "fc.bias", &fbs, err);
  int32_t fc = cs_graph_add_op (g, CS_OP_GEMM, "fc", NULL, (int32_t[]) { fl, fw, fb }, 3, &lin, err);
  if (fc < 0)
    {
      cs_graph_unref (g);
      return NULL;
    }
  return g;
}

/* loss = sum(logits * r) for the given input */
static double
loss_of (cs_exec *e, const cs_tensor *input, const cs_tensor *r)
{
  cs_error err;
  if (cs_exec_forward (e, input, &err) != CS_OK)
    return NAN;
  const cs_tensor *out = cs_exec_value (e, e ? cs_exec_model (e)->graph->output_node : 0);
  double s = 0;
  for (int64_t i = 0; i < cs_tensor_numel (out); i++)
    s += (double) out->data[i] * r->data[i];
  return s;
}

/* cs_sgemm split over n threads against one OpenBLAS call, for all four transpositions; the
 * shapes split by columns (wide C) and by rows (narrow C). */
static void
check_split_gemm (void)
{
  const int shapes[2][3] = { { 40, 333, 120 }, { 200, 20, 300 } };
  cs_rng rng;
  cs_rng_seed (&rng, 11);
  for (int s = 0; s < 2; s++)
    for (int t = 0; t < 4; t++)
      {
        const int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        CBLAS_TRANSPOSE ta = t & 1 ? CblasTrans : CblasNoTrans, tb = t & 2 ? CblasTrans : CblasNoTrans;
        int lda = ta == CblasNoTrans ? K : M, ldb = tb == CblasNoTrans ? N : K;
        cs_tensor a, b, c1, c2;
        cs_shape as = cs_shape_make (1, (int64_t[]) { (int64_t) M * K });
        cs_shape bs = cs_shape_make (1, (int64_t[]) { (int64_t) K * N });
        cs_shape cs = cs_shape_make (1, (int64_t[]) { (int64_t) M * N });
        cs_tensor_alloc (&a, &as, NULL);
        cs_tensor_alloc (&b, &bs, NULL);
        cs_tensor_alloc (&c1, &cs, NULL);
        cs_tensor_alloc (&c2, &cs, NULL);
        cs_fill_uniform (&a, &rng, -1, 1);
        cs_fill_uniform (&b, &rng, -1, 1);
        cs_fill_uniform (&c1, &rng, -1, 1);
        memcpy (c2.data, c1.data, (size_t) M * N * sizeof (float));
        int prev = cs_threads_enter (1);
        cs_sgemm (ta, tb, M, N, K, 0.5f, a.data, lda, b.data, ldb, 0.25f, c1.data, N);
        cs_threads_leave (prev);
        prev = cs_threads_enter (3);
        cs_sgemm (ta, tb, M, N, K, 0.5f, a.data, lda, b.data, ldb, 0.25f, c2.data, N);
        cs_threads_leave (prev);
        int bad = 0;
        for (int64_t i = 0; i < (int64_t) M * N; i++)
          bad += !CLOSE (c2.data[i], c1.data[i], 1e-5, 1e-5);
        CHECK (bad == 0, "split sgemm %dx%dx%d trans %d%d = one call (%d off)", M, N, K, t & 1,
               t >> 1, bad);
        cs_tensor_free (&a);
        cs_tensor_free (&b);
        cs_tensor_free (&c1);
        cs_tensor_free (&c2);
      }
}

/* The thread count belongs to each exec: the default changes no existing exec, a forward
 * leaves the calling thread's own count as it was, and 1 or 2 threads give the same logits. */
static void
check_exec_threads (cs_model *m, const cs_tensor *input)
{
  cs_error err = { 0 };
  cs_threads_set (2);
  cs_exec *two = cs_exec_new (m, 2, &err);
  cs_threads_set (1);
  cs_exec *one = cs_exec_new (m, 2, &err);
  CHECK (two && one && cs_exec_threads (two) == 2 && cs_exec_threads (one) == 1,
         "a new exec takes the default thread count, a later default leaves it alone");
  if (two == NULL || one == NULL)
    goto out;
  cs_threads_set (3);
  CHECK (cs_exec_forward (two, input, &err) == CS_OK && cs_exec_forward (one, input, &err) == CS_OK,
         "forward with 2 and 1 threads: %s", err.message);
  int now = cs_threads_enter (1);
  cs_threads_leave (now);
  CHECK (now == 3, "the caller's own thread count is restored after a forward (%d)", now);
  const cs_tensor *a = cs_exec_value (two, m->graph->output_node);
  const cs_tensor *b = cs_exec_value (one, m->graph->output_node);
  CHECK (a && b && memcmp (a->data, b->data, (size_t) cs_tensor_numel (a) * sizeof (float)) == 0,
         "same logits with 1 and 2 threads");
  cs_exec_set_threads (one, 0);
  CHECK (cs_exec_threads (one) == 3, "threads <= 0: the current default");
out:
  cs_exec_free (two);
  cs_exec_free (one);
  cs_threads_set (0);
}

int
main (void)
{
  cs_error err = { 0 };
  cs_graph *g = build_residual_net (&err);
  CHECK (g != NULL, "build a residual graph: %s", g ? "ok" : err.message);
  if (g == NULL)
    return test_done ();
  CHECK (g->n_params == 5 && g->output_node == cs_graph_find (g, "fc"), "5 parameters, output is fc");
  CHECK (cs_graph_node_parameters (g, cs_graph_find (g, "conv1")) == 3 * 2 * 9 + 3, "conv1 has 57 parameters");
  CHECK (cs_graph_last_spatial_node (g) == cs_graph_find (g, "add"), "last spatial node is 'add'");

  cs_model *m = cs_model_new (g, &err);
  cs_graph_unref (g);
  cs_model_init_weights (m, 7);
  CHECK (m->channels == 2 && m->height == 6 && m->width == 6 && m->n_classes == 4, "model geometry");

  cs_exec *e = cs_exec_new (m, 2, &err);
  CHECK (e != NULL, "exec for batch 2: %s", e ? "ok" : err.message);

  cs_rng rng;
  cs_rng_seed (&rng, 3);
  cs_tensor input, r;
  cs_shape is = cs_shape_4d (2, 2, 6, 6), os = cs_shape_make (2, (int64_t[]) { 2, 4 });
  cs_tensor_alloc (&input, &is, NULL);
  cs_tensor_alloc (&r, &os, NULL);
  cs_fill_uniform (&input, &rng, -1, 1);
  cs_fill_uniform (&r, &rng, -1, 1);

  CHECK (cs_exec_forward (e, &input, &err) == CS_OK, "forward: %s", err.message);
  const cs_tensor *logits = cs_exec_value (e, g->output_node);
  CHECK (logits && logits->shape.dim[0] == 2 && logits->shape.dim[1] == 4, "logits are [2, 4]");
  check_exec_threads (m, &input);
  check_split_gemm ();

  CHECK (cs_exec_backward (e, g->output_node, &r, CS_GRAD_INPUT | CS_GRAD_PARAMS, &err) == CS_OK,
         "backward: %s", err.message);
  cs_tensor dx;
  cs_tensor_copy (&dx, cs_exec_grad (e, g->input_node), NULL);
  cs_tensor dw[5];
  for (int p = 0; p < 5; p++)
    cs_tensor_copy (&dw[p], cs_exec_param_grad (e, p), NULL);

  /* finite differences through the whole network, in double-checked float32 */
  const double h = 1e-2;
  int bad = 0;
  for (int64_t k = 0; k < cs_tensor_numel (&input); k += 5)
    {
      float s = input.data[k];
      input.data[k] = (float) (s + h);
      double lp = loss_of (e, &input, &r);
      input.data[k] = (float) (s - h);
      double lm = loss_of (e, &input, &r);
      input.data[k] = s;
      if (!CLOSE (dx.data[k], (lp - lm) / (2 * h), 2e-3, 2e-2))
        bad++;
    }
  CHECK (bad == 0, "input gradient matches finite differences (%d off)", bad);
  for (int p = 0; p < 5; p++)
    {
      bad = 0;
      cs_tensor *w = &m->weights[p];
      for (int64_t k = 0; k < cs_tensor_numel (w); k += 3)
        {
          float s = w->data[k];
          w->data[k] = (float) (s + h);
          double lp = loss_of (e, &input, &r);
          w->data[k] = (float) (s - h);
          double lm = loss_of (e, &input, &r);
          w->data[k] = s;
          if (!CLOSE (dw[p].data[k], (lp - lm) / (2 * h), 2e-3, 2e-2))
            bad++;
        }
      CHECK (bad == 0, "gradient of %s matches finite differences (%d off)",
             g->nodes[g->param_nodes[p]].name, bad);
    }

  /* backward_to stops at a layer with the same gradient there */
  int32_t relu1_id = cs_graph_find (g, "relu1");
  cs_exec_forward (e, &input, &err);
  cs_exec_backward (e, g->output_node, &r, CS_GRAD_INPUT, &err);
  cs_tensor full;
  cs_tensor_copy (&full, cs_exec_grad (e, relu1_id), NULL);
  cs_exec_forward (e, &input, &err);
  CHECK (cs_exec_backward_to (e, g->output_node, &r, relu1_id, &err) == CS_OK, "backward_to relu1: %s", err.message);
  const cs_tensor *part = cs_exec_grad (e, relu1_id);
  bool equal = part != NULL && cs_tensor_numel (part) == cs_tensor_numel (&full);
  for (int64_t i = 0; equal && i < cs_tensor_numel (&full); i++)
    equal = part->data[i] == full.data[i];
  CHECK (equal, "backward_to gives the same gradient at relu1 as a full backward");
  cs_tensor_free (&full);

  /* Gradient buffers are not zeroed in advance (ops write fresh ones outright): a backward
   * over buffers left full by the ones before gives the first backward's gradients bit for
   * bit. */
  cs_exec_forward (e, &input, &err);
  CHECK (cs_exec_backward (e, g->output_node, &r, CS_GRAD_INPUT | CS_GRAD_PARAMS, &err) == CS_OK,
         "backward again: %s", err.message);
  const cs_tensor *dx2 = cs_exec_grad (e, g->input_node);
  equal = dx2 != NULL && memcmp (dx2->data, dx.data, (size_t) cs_tensor_numel (&dx) * sizeof (float)) == 0;
  for (int p = 0; p < 5; p++)
    {
      const cs_tensor *d = cs_exec_param_grad (e, p);
      equal = equal && d != NULL
              && memcmp (d->data, dw[p].data, (size_t) cs_tensor_numel (&dw[p]) * sizeof (float)) == 0;
    }
  CHECK (equal, "a repeated backward over used buffers gives the same gradients bit for bit");

  /* batch of 1 gives the first row of batch 2 */
  cs_shape one = cs_shape_4d (1, 2, 6, 6);
  cs_tensor first = cs_tensor_view (&one, input.data);
  float row[4];
  cs_exec_forward (e, &input, &err);
  memcpy (row, cs_exec_value (e, g->output_node)->data, sizeof row);
  cs_exec_forward (e, &first, &err);
  const cs_tensor *single = cs_exec_value (e, g->output_node);
  bool same = single->shape.dim[0] == 1;
  for (int i = 0; i < 4; i++)
    same = same && CLOSE (single->data[i], row[i], 1e-6, 1e-5);
  CHECK (same, "a sample's logits do not depend on its batch");

  /* only what is needed: forward_until stops at relu1 */
  int32_t relu1 = cs_graph_find (g, "relu1");
  CHECK (cs_exec_forward_until (e, &first, relu1, &err) == CS_OK && cs_exec_value (e, relu1) != NULL
         && cs_exec_value (e, g->output_node) == NULL, "forward_until computes up to the node only");

  /* swapping weights: a clone with zeroed fc gives logits equal to the fc bias */
  cs_model *m2 = cs_model_clone (m, &err);
  cs_tensor_zero (&m2->weights[3]);
  CHECK (cs_exec_set_model (e, m2, &err) == CS_OK, "swap in another epoch's weights");
  cs_exec_forward (e, &first, &err);
  single = cs_exec_value (e, g->output_node);
  same = true;
  for (int i = 0; i < 4; i++)
    same = same && single->data[i] == m2->weights[4].data[i];
  CHECK (same, "the swapped weights are used");

  /* errors */
  cs_shape wrong = cs_shape_4d (1, 3, 6, 6);
  cs_tensor bad_in;
  cs_tensor_alloc (&bad_in, &wrong, NULL);
  CHECK (cs_exec_forward (e, &bad_in, &err) == CS_ERR_SHAPE, "wrong input shape: %s", err.message);
  cs_shape big = cs_shape_4d (3, 2, 6, 6);
  cs_tensor big_in;
  cs_tensor_alloc (&big_in, &big, NULL);
  CHECK (cs_exec_forward (e, &big_in, &err) == CS_ERR_ARGUMENT, "batch too large: %s", err.message);
  CHECK (cs_exec_new (m, 0, &err) == NULL, "batch 0 is refused: %s", err.message);

  cs_tensor_free (&bad_in);
  cs_tensor_free (&big_in);
  cs_tensor_free (&dx);
  for (int p = 0; p < 5; p++)
    cs_tensor_free (&dw[p]);
  cs_tensor_free (&input);
  cs_tensor_free (&r);
  cs_exec_free (e);
  cs_model_free (m2);
  cs_model_free (m);
  return test_done ();
}

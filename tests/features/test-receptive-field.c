/* Receptive fields: hand-computed values for a stride/pad/dilation stack, the union over a
 * two-branch add, global nodes, and agreement with the empirical field (the input pixels with a
 * non-zero gradient for one output position) on a network with positive weights. */
#include "features/receptive_field.h"
#include "nets.h"

/* input 1x29x29 -> a: conv k3 s1 p1 -> b: conv k3 s2 p0 d2 -> c: avgpool k2 s2 p1
 *   -> d: conv k3 s1 p2 d2, e: conv k1 s1 on c -> f = d + e -> gap -> flatten -> fc */
static cs_model *
stack_model (cs_error *err, int32_t ids[8])
{
  cs_graph *g = cs_graph_new ();
  cs_shape in = cs_shape_4d (1, 1, 29, 29);
  int32_t x = cs_graph_add_input (g, "input", &in, err);
  ids[0] = fnet_conv (g, "a", x, 1, 2, 3, 1, 1, 1, err);
  ids[1] = fnet_conv (g, "b", ids[0], 2, 2, 3, 2, 0, 2, err);
  ids[2] = fnet_pool (g, CS_OP_AVGPOOL, "c", ids[1], 2, 2, 1, err);
  ids[3] = fnet_conv (g, "d", ids[2], 2, 2, 3, 1, 2, 2, err);
  ids[4] = fnet_conv (g, "e", ids[2], 2, 2, 1, 1, 0, 1, err);
  ids[5] = cs_graph_add_op (g, CS_OP_ADD, "f", NULL, (int32_t[]) { ids[3], ids[4] }, 2, NULL, err);
  ids[6] = fnet_unary (g, CS_OP_GLOBAL_AVGPOOL, "gap", ids[5], err);
  int32_t fl = fnet_unary (g, CS_OP_FLATTEN, "flatten", ids[6], err);
  ids[7] = fnet_linear (g, "fc", fl, 2, 3, err);
  if (ids[7] < 0)
    {
      cs_graph_unref (g);
      return NULL;
    }
  cs_model *m = fnet_model (g, 1, err);
  /* positive weights and inputs: no cancellation, so every pixel the field covers gets a
   * gradient (except the holes of dilated kernels) */
  cs_rng rng;
  cs_rng_seed (&rng, 5);
  for (int32_t p = 0; p < g->n_params; p++)
    cs_fill_uniform (&m->weights[p], &rng, 0.1f, 1.0f);
  return m;
}

/* The bounding box of input pixels with a non-zero gradient of node's (0, y, x). */
static void
empirical_box (cs_exec *e, const cs_model *m, int32_t node, int64_t y, int64_t x, int32_t box[4])
{
  cs_error err;
  const cs_tensor *v = cs_exec_value (e, node);
  cs_tensor seed;
  cs_tensor_alloc (&seed, &v->shape, NULL);
  seed.data[y * v->shape.dim[3] + x] = 1;
  cs_exec_backward (e, node, &seed, CS_GRAD_INPUT, &err);
  const cs_tensor *gx = cs_exec_grad (e, m->graph->input_node);
  box[0] = box[1] = 1 << 30;
  box[2] = box[3] = -1;
  for (int32_t yy = 0; yy < m->height; yy++)
    for (int32_t xx = 0; xx < m->width; xx++)
      if (gx->data[yy * m->width + xx] != 0)
        {
          box[0] = xx < box[0] ? xx : box[0];
          box[1] = yy < box[1] ? yy : box[1];
          box[2] = xx + 1 > box[2] ? xx + 1 : box[2];
          box[3] = yy + 1 > box[3] ? yy + 1 : box[3];
        }
  cs_tensor_free (&seed);
}

int
main (void)
{
  cs_error err = { 0 };
  int32_t ids[8];
  cs_model *m = stack_model (&err, ids);
  CHECK (m != NULL, "stack model builds: %s", m ? "ok" : err.message);
  if (m == NULL)
    return test_done ();
  const cs_graph *g = m->graph;
  cs_receptive_field *rf = calloc ((size_t) g->n_nodes, sizeof *rf);
  CHECK (cs_receptive_field_compute (g, rf, &err) == CS_OK, "compute");

  /* by hand, per axis: (size, jump, start)
   * a: k3 p1          -> size 3, jump 1, start -1
   * b: k3 d2 s2 p0    -> eff. kernel 5: size 3 + 4·1 = 7, jump 2, start -1
   * c: k2 s2 p1       -> size 7 + 1·2 = 9, jump 4, start -1 - 1·2 = -3
   * d: k3 d2 p2       -> eff. 5: size 9 + 4·4 = 25, jump 4, start -3 - 2·4 = -11
   * e: k1             -> size 9, jump 4, start -3
   * f = d ∪ e         -> start -11, end max(-11 + 25, -3 + 9) = 14: size 25, jump 4 */
  const int64_t want[6][3] = { { 3, 1, -1 }, { 7, 2, -1 }, { 9, 4, -3 }, { 25, 4, -11 }, { 9, 4, -3 }, { 25, 4, -11 } };
  const char *names[6] = { "a", "b", "c", "d", "e", "f" };
  for (int i = 0; i < 6; i++)
    {
      const cs_receptive_field *r = &rf[ids[i]];
      bool ok = r->local && !r->global && r->exact;
      for (int a = 0; a < 2; a++)
        ok = ok && r->size[a] == want[i][0] && r->jump[a] == want[i][1] && r->start[a] == want[i][2];
      CHECK (ok, "node %s: size %lld jump %lld start %lld (want %lld %lld %lld)", names[i],
             (long long) r->size[0], (long long) r->jump[0], (long long) r->start[0],
             (long long) want[i][0], (long long) want[i][1], (long long) want[i][2]);
    }
  CHECK (rf[ids[6]].global && !rf[ids[6]].local && rf[ids[7]].global, "global pool and fc are global");
  int32_t box[4];
  cs_receptive_field_box (&rf[ids[7]], 0, 0, 29, 29, box);
  CHECK (box[0] == 0 && box[1] == 0 && box[2] == 29 && box[3] == 29, "a global node's box is the image");
  cs_receptive_field_box (&rf[ids[3]], 1, 2, 29, 29, box);
  CHECK (box[0] == 0 && box[1] == 0 && box[2] == 22 && box[3] == 18,
         "box of d at (1, 2) = [%d %d %d %d]: x from -3, y from -7, clipped to 0", box[0], box[1], box[2], box[3]);

  /* empirical: every position of every local node */
  cs_exec *e = cs_exec_new (m, 1, &err);
  cs_tensor x;
  cs_shape xs = cs_shape_4d (1, 1, 29, 29);
  cs_tensor_alloc (&x, &xs, NULL);
  cs_rng rng;
  cs_rng_seed (&rng, 2);
  cs_fill_uniform (&x, &rng, 0.5f, 1.0f);
  cs_exec_forward (e, &x, &err);
  for (int i = 0; i < 6; i++)
    {
      const cs_tensor *v = cs_exec_value (e, ids[i]);
      int64_t h = v->shape.dim[2], w = v->shape.dim[3];
      int inside = 0, equal = 0, interior = 0, interior_equal = 0, total = 0;
      for (int64_t y = 0; y < h; y++)
        for (int64_t xx = 0; xx < w; xx++)
          {
            int32_t eb[4], ab[4];
            empirical_box (e, m, ids[i], y, xx, eb);
            cs_receptive_field_box (&rf[ids[i]], y, xx, 29, 29, ab);
            total++;
            inside += eb[0] >= ab[0] && eb[1] >= ab[1] && eb[2] <= ab[2] && eb[3] <= ab[3];
            bool eq = memcmp (eb, ab, sizeof eb) == 0;
            equal += eq;
            /* not clipped: the field lies inside the image, so its extreme taps are real pixels */
            int64_t y0 = rf[ids[i]].start[0] + y * rf[ids[i]].jump[0], x0 = rf[ids[i]].start[1] + xx * rf[ids[i]].jump[1];
            if (y0 >= 0 && x0 >= 0 && y0 + rf[ids[i]].size[0] <= 29 && x0 + rf[ids[i]].size[1] <= 29)
              {
                interior++;
                interior_equal += eq;
              }
          }
      CHECK (inside == total && interior_equal == interior,
             "node %s: empirical field inside the analytic box at %d/%d positions, equal at %d/%d "
             "unclipped positions (%d equal overall)", names[i], inside, total, interior_equal, interior, equal);
    }
  cs_tensor_free (&x);
  cs_exec_free (e);
  free (rf);
  cs_model_free (m);

  /* a 2-D model output through flatten and a broadcast (squeeze-excitation style) mul */
  {
    cs_graph *gg = cs_graph_new ();
    cs_shape in = cs_shape_4d (1, 2, 8, 8);
    int32_t xi = cs_graph_add_input (gg, "input", &in, &err);
    int32_t c1 = fnet_conv (gg, "c1", xi, 2, 2, 3, 1, 1, 1, &err);
    int32_t gp = fnet_unary (gg, CS_OP_GLOBAL_AVGPOOL, "gap", c1, &err);
    int32_t sg = fnet_unary (gg, CS_OP_SIGMOID, "sig", gp, &err);
    int32_t mu = cs_graph_add_op (gg, CS_OP_MUL, "mul", NULL, (int32_t[]) { c1, sg }, 2, NULL, &err);
    int32_t c2 = fnet_conv (gg, "c2", c1, 2, 2, 3, 1, 1, 1, &err);
    cs_receptive_field *r2 = calloc ((size_t) gg->n_nodes, sizeof *r2);
    cs_receptive_field_compute (gg, r2, &err);
    CHECK (r2[mu].global && !r2[mu].local && r2[c2].local && r2[c2].size[0] == 5,
           "a broadcast of a pooled summary is global; the plain branch stays local");
    CHECK (!r2[gg->nodes[c1].inputs[1]].local && !r2[gg->nodes[c1].inputs[1]].global, "parameters have no field");
    free (r2);
    cs_graph_unref (gg);
  }
  return test_done ();
}

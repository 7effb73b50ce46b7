/* Top dataset examples against brute force (one image at a time, sorted by hand) on a small
 * synthetic data set: every channel at once or one, max and mean reductions, 4-D and 2-D
 * nodes, batch sizes that do not divide the data set, fewer images than k, cancellation. */
#include <math.h>

#include "features/receptive_field.h"
#include "features/topk.h"
#include "nets.h"

typedef struct {
  const float *images;       /* n × chw */
  int64_t chw;
  int calls, cancel_after;
  volatile int cancel;
} source;

static cs_status
fill (void *user_data, int64_t first, int32_t n, float *x, int32_t *labels, cs_error *err)
{
  source *s = user_data;
  memcpy (x, s->images + first * s->chw, (size_t) (n * s->chw) * sizeof (float));
  for (int32_t i = 0; i < n; i++)
    labels[i] = (int32_t) ((first + i) % 10);
  if (++s->calls == s->cancel_after)
    s->cancel = 1;
  return CS_OK;
}

typedef struct {
  int64_t index;
  float act;
  int32_t y, x;
} scored;

static int
by_rank (const void *a, const void *b)
{
  const scored *p = a, *q = b;
  if (p->act != q->act)
    return p->act > q->act ? -1 : 1;
  return p->index < q->index ? -1 : 1;
}

/* Brute force: every image alone through a batch-1 exec, every channel reduced and sorted. */
static bool
matches (const cs_model *m, const float *images, int64_t n, int32_t node, cs_topk_reduce reduce,
         const cs_topk_result *r, int32_t k)
{
  cs_error err;
  cs_exec *e = cs_exec_new (m, 1, &err);
  int64_t chw = (int64_t) m->channels * m->height * m->width;
  const cs_node *nd = &m->graph->nodes[node];
  int32_t channels = (int32_t) nd->shape.dim[1];
  int64_t h = nd->shape.ndim == 4 ? nd->shape.dim[2] : 1, w = nd->shape.ndim == 4 ? nd->shape.dim[3] : 1;
  scored *all = calloc ((size_t) (n * channels), sizeof (scored));
  cs_shape xs = cs_shape_4d (1, m->channels, m->height, m->width);
  for (int64_t i = 0; i < n; i++)
    {
      cs_tensor x = cs_tensor_view (&xs, (float *) images + i * chw);
      cs_exec_forward (e, &x, &err);
      const float *v = cs_exec_value (e, node)->data;
      for (int32_t c = 0; c < channels; c++)
        {
          const float *a = v + c * h * w;
          int64_t best = 0;
          double sum = 0;
          for (int64_t q = 0; q < h * w; q++)
            {
              sum += a[q];
              best = a[q] > a[best] ? q : best;
            }
          all[c * n + i] = (scored) { i, reduce == CS_TOPK_MAX ? a[best] : (float) (sum / (double) (h * w)),
                                      (int32_t) (best / w), (int32_t) (best % w) };
        }
    }
  cs_receptive_field *rf = calloc ((size_t) m->graph->n_nodes, sizeof *rf);
  cs_receptive_field_compute (m->graph, rf, &err);
  bool ok = true;
  for (int32_t c = r->first_channel; c < r->first_channel + r->n_channels; c++)
    {
      qsort (all + c * n, (size_t) n, sizeof (scored), by_rank);
      int32_t count;
      const cs_top_example *ex = cs_topk_channel (r, c, &count);
      ok = ok && count == (k < n ? k : n);
      for (int32_t j = 0; j < count && ok; j++)
        {
          const scored *s = &all[c * n + j];
          int32_t box[4];
          cs_receptive_field_box (&rf[node], s->y, s->x, m->height, m->width, box);
          /* a batched forward may differ from batch 1 in the last bits: compare activations
           * closely and indices exactly except where a near-tie could swap them */
          bool near_tie = j + 1 < n && fabsf (all[c * n + j + 1].act - s->act) < 1e-5f;
          ok = ok && CLOSE (ex[j].activation, s->act, 1e-5, 1e-5) && ex[j].label == (int32_t) (ex[j].index % 10)
               && (near_tie || (ex[j].index == s->index && ex[j].y == s->y && ex[j].x == s->x
                                && memcmp (ex[j].box, box, sizeof box) == 0));
          if (!ok)
            TEST_NOTE ("channel %d rank %d: got image %lld (%.6f) at (%d,%d), want %lld (%.6f) at (%d,%d)", c, j,
                       (long long) ex[j].index, ex[j].activation, ex[j].y, ex[j].x, (long long) s->index, s->act, s->y, s->x);
        }
    }
  free (rf);
  free (all);
  cs_exec_free (e);
  return ok;
}

int
main (void)
{
  cs_error err = { 0 };
  cs_model *m = fnet_cnn (1, 12, 12, 3, &err);
  CHECK (m != NULL, "model builds");
  if (m == NULL)
    return test_done ();
  const int64_t n = 300, chw = 144;
  float *images = calloc ((size_t) (n * chw), sizeof (float));
  cs_rng rng;
  cs_rng_seed (&rng, 9);
  for (int64_t i = 0; i < n * chw; i++)
    images[i] = (float) cs_rng_normal (&rng);
  int32_t relu1 = cs_graph_find (m->graph, "relu1"), conv2 = cs_graph_find (m->graph, "conv2");
  cs_exec *e = cs_exec_new (m, 7, &err);
  source src = { images, chw, 0, 0, 0 };
  cs_topk_result r;

  struct { int32_t node, channel, k; cs_topk_reduce reduce; const char *what; } cases[] = {
    { relu1, -1, 10, CS_TOPK_MAX, "relu1, every channel, max" },
    { conv2, 5, 25, CS_TOPK_MAX, "conv2 channel 5, max" },
    { conv2, -1, 4, CS_TOPK_MEAN, "conv2, every channel, mean" },
    { m->graph->output_node, -1, 8, CS_TOPK_MAX, "the logits (2-D)" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      cs_topk_params p = { cases[i].node, cases[i].channel, cases[i].k, cases[i].reduce };
      cs_status st = cs_topk_run (e, n, fill, &src, &p, NULL, &r, &err);
      CHECK (st == CS_OK && r.n_channels == (p.channel < 0 ? (int32_t) m->graph->nodes[p.node].shape.dim[1] : 1)
             && matches (m, images, n, p.node, p.reduce, &r, p.k),
             "%s: ranks as brute force, batches of 7 over 300 images", cases[i].what);
      cs_topk_result_free (&r);
    }
  /* the 2-D node's box is the whole image */
  cs_topk_params p = { m->graph->output_node, 3, 1, CS_TOPK_MAX };
  cs_topk_run (e, n, fill, &src, &p, NULL, &r, &err);
  const cs_top_example *ex = r.examples;
  CHECK (ex[0].box[0] == 0 && ex[0].box[1] == 0 && ex[0].box[2] == 12 && ex[0].box[3] == 12, "a 2-D node's box is the image");
  cs_topk_result_free (&r);

  /* fewer images than k */
  p = (cs_topk_params) { relu1, 2, 50, CS_TOPK_MAX };
  CHECK (cs_topk_run (e, 5, fill, &src, &p, NULL, &r, &err) == CS_OK && r.count[0] == 5
         && matches (m, images, 5, relu1, CS_TOPK_MAX, &r, 50), "5 images, k = 50: all 5, ranked");
  cs_topk_result_free (&r);

  /* ties: identical images rank by index (batch 1: a batched kernel may round the same image
   * differently at different positions in the batch) */
  cs_exec *e1 = cs_exec_new (m, 1, &err);
  float *same = calloc ((size_t) (20 * chw), sizeof (float));
  for (int i = 0; i < 20; i++)
    memcpy (same + i * chw, images, (size_t) chw * sizeof (float));
  source s2 = { same, chw, 0, 0, 0 };
  p = (cs_topk_params) { conv2, 0, 6, CS_TOPK_MAX };
  cs_topk_run (e1, 20, fill, &s2, &p, NULL, &r, &err);
  cs_exec_free (e1);
  bool ordered = r.count[0] == 6;
  for (int j = 0; j < 6 && ordered; j++)
    ordered = r.examples[j].index == j;
  CHECK (ordered, "equal activations keep the earlier images, in index order");
  cs_topk_result_free (&r);
  free (same);

  /* cancellation after 3 batches */
  src.calls = 0;
  src.cancel_after = 3;
  cs_progress prog = { NULL, NULL, &src.cancel };
  p = (cs_topk_params) { relu1, -1, 10, CS_TOPK_MAX };
  cs_status st = cs_topk_run (e, n, fill, &src, &p, &prog, &r, &err);
  CHECK (st == CS_ERR_CANCELLED && src.calls == 3 && r.examples == NULL && r.count == NULL,
         "cancelled after 3 batches: CS_ERR_CANCELLED, nothing allocated");

  /* errors */
  p = (cs_topk_params) { relu1, 8, 10, CS_TOPK_MAX };
  CHECK (cs_topk_run (e, n, fill, &src, &p, NULL, &r, &err) == CS_ERR_ARGUMENT, "unit 8 of 8 refused: %s", err.message);
  p = (cs_topk_params) { relu1, 0, 0, CS_TOPK_MAX };
  CHECK (cs_topk_run (e, n, fill, &src, &p, NULL, &r, &err) == CS_ERR_ARGUMENT, "k = 0 refused: %s", err.message);

  free (images);
  cs_exec_free (e);
  cs_model_free (m);
  return test_done ();
}

/* Activation maximisation: the parameterisation's gradient against finite differences, the
 * transform's adjoint, ascent that raises the unit's activation, reproducibility from the seed,
 * batch invariance, the step callback, cancellation, and a vertical-edge detector whose
 * maximising image is made of vertical edges. */
#include <math.h>

#include "features/actmax.h"
#include "features/transform.h"
#include "nets.h"

static void
check_param_gradient (cs_image_param_kind kind, int32_t c, int32_t h, int32_t w)
{
  cs_error err;
  cs_image_param ip;
  cs_image_param_init (&ip, kind, c, h, w, &err);
  cs_rng rng;
  cs_rng_seed (&rng, 3);
  int64_t n = ip.per_image, chw = (int64_t) c * h * w;
  float *prm = calloc ((size_t) n, sizeof (float)), *gp = calloc ((size_t) n, sizeof (float));
  float *rgb = calloc ((size_t) chw, sizeof (float)), *r = calloc ((size_t) chw, sizeof (float));
  cs_image_param_randomize (&ip, &rng, 0.5f, prm);
  for (int64_t i = 0; i < chw; i++)
    r[i] = (float) cs_rng_normal (&rng);
  cs_image_param_render (&ip, prm, rgb);
  cs_image_param_backward (&ip, rgb, r, gp);
  double worst = 0, scale = 0;
  for (int64_t i = 0; i < n; i += (n / 60) + 1)
    {
      double l[2];
      float keep = prm[i];
      for (int s = 0; s < 2; s++)
        {
          prm[i] = keep + (s ? 1e-2f : -1e-2f);
          cs_image_param_render (&ip, prm, rgb);
          l[s] = 0;
          for (int64_t k = 0; k < chw; k++)
            l[s] += (double) r[k] * rgb[k];
        }
      prm[i] = keep;
      double fd = (l[1] - l[0]) / 2e-2;
      worst = fmax (worst, fabs (fd - gp[i]));
      scale = fmax (scale, fabs (fd));
    }
  CHECK (worst <= 1e-3 + 2e-2 * scale, "%s parameters %dx%dx%d: gradient matches finite differences (max err %.2e, max %.2e)",
         kind == CS_IMAGE_PARAM_FOURIER ? "Fourier" : "pixel", c, h, w, worst, scale);
  free (prm);
  free (gp);
  free (rgb);
  free (r);
  cs_image_param_free (&ip);
}

static void
check_transform (void)
{
  cs_rng rng;
  cs_rng_seed (&rng, 11);
  int32_t c = 2, h = 9, w = 12;
  int64_t n = (int64_t) c * h * w;
  float *a = calloc ((size_t) n, sizeof (float)), *b = calloc ((size_t) n, sizeof (float));
  float *ta = calloc ((size_t) n, sizeof (float)), *tb = calloc ((size_t) n, sizeof (float));
  for (int64_t i = 0; i < n; i++)
    {
      a[i] = (float) cs_rng_normal (&rng);
      b[i] = (float) cs_rng_normal (&rng);
    }
  cs_transform id = { 0, 0, 1, 0 };
  cs_transform_apply (&id, a, c, h, w, 0.5f, ta);
  CHECK (memcmp (a, ta, (size_t) n * sizeof (float)) == 0, "the identity transform copies exactly");
  cs_transform sh = { 2, -1, 1, 0 };
  cs_transform_apply (&sh, a, c, h, w, 0.5f, ta);
  CHECK (ta[3 * w + 5] == a[4 * w + 3] && ta[0] == 0.5f, "a shift by (2, -1) moves pixels and fills the border");
  bool ok = true;
  for (int trial = 0; trial < 5; trial++)
    {
      cs_transform t = cs_transform_random (&rng, 2, 0.2f, 15.0f);
      cs_transform_apply (&t, a, c, h, w, 0.0f, ta);
      memset (tb, 0, (size_t) n * sizeof (float));
      cs_transform_adjoint (&t, b, c, h, w, tb);
      double l = 0, r = 0;
      for (int64_t i = 0; i < n; i++)
        {
          l += (double) ta[i] * b[i];
          r += (double) a[i] * tb[i];
        }
      ok = ok && fabs (l - r) < 1e-4 * (1 + fabs (l));
    }
  CHECK (ok, "<T a, b> = <a, T* b> for random shifts, scales and rotations");
  free (a);
  free (b);
  free (ta);
  free (tb);
}

typedef struct {
  int calls, cancel_at;
  volatile int cancel;
  double last_progress;
} step_counter;

static void
on_step (void *user_data, const cs_actmax_step *s)
{
  step_counter *c = user_data;
  c->calls++;
  if (c->cancel_at > 0 && c->calls >= c->cancel_at)
    c->cancel = 1;
}

static void
on_progress (void *user_data, double f)
{
  ((step_counter *) user_data)->last_progress = f;
}

static double
max_abs_diff (const cs_tensor *a, const cs_tensor *b)
{
  double d = 0;
  for (int64_t i = 0; i < cs_tensor_numel (a); i++)
    d = fmax (d, fabs ((double) a->data[i] - b->data[i]));
  return d;
}

static void
check_ascent (void)
{
  cs_error err = { 0 };
  cs_model *m = fnet_cnn (1, 16, 16, 7, &err);
  CHECK (m != NULL, "small CNN builds");
  if (m == NULL)
    return;
  int32_t node = cs_graph_find (m->graph, "relu2");
  int32_t units[5] = { 0, 3, 5, 9, 15 };
  cs_actmax_params p = CS_ACTMAX_PARAMS_DEFAULT;
  p.steps = 96;
  p.seed = 42;
  cs_exec *e4 = cs_exec_new (m, 4, &err);
  step_counter sc = { 0 };
  cs_progress prog = { on_progress, &sc, NULL };
  cs_actmax_result r, r2, r1;
  cs_status st = cs_actmax_run (e4, node, units, 5, &p, on_step, &sc, &prog, &r, &err);
  CHECK (st == CS_OK, "runs on 5 units in batches of 4: %s", st == CS_OK ? "ok" : err.message);
  if (st != CS_OK)
    return;
  CHECK (sc.calls == 2 * 96 && sc.last_progress == 1.0, "the callback runs after every step of both groups (%d), progress ends at 1",
         sc.calls);
  bool rise = true, final = true;
  for (int u = 0; u < 5; u++)
    {
      double early = 0, late = 0;
      for (int s = 0; s < 16; s++)
        {
          early += r.trace[u * 96 + s];
          late += r.trace[u * 96 + 80 + s];
        }
      rise = rise && late > early && late > 0;
      final = final && r.final[u] > r.initial[u] && r.final[u] > 0;
      TEST_NOTE ("unit %d: initial %.4f, mean of first 16 steps %.4f, of last 16 %.4f, final %.4f", units[u],
                 r.initial[u], early / 16, late / 16, r.final[u]);
    }
  CHECK (rise, "the activation rises on average over the steps for every unit");
  CHECK (final, "the final image activates every unit more than the starting one");
  bool range = true;
  for (int64_t i = 0; i < cs_tensor_numel (&r.images); i++)
    range = range && r.images.data[i] >= 0 && r.images.data[i] <= 1;
  CHECK (range && r.images.shape.dim[0] == 5 && r.images.shape.dim[1] == 1, "images are [5,1,16,16] in [0,1]");

  cs_actmax_run (e4, node, units, 5, &p, NULL, NULL, NULL, &r2, &err);
  CHECK (memcmp (r.images.data, r2.images.data, (size_t) cs_tensor_numel (&r.images) * 4) == 0
         && memcmp (r.trace, r2.trace, 5 * 96 * sizeof (float)) == 0, "the same seed gives the same images and traces");
  cs_actmax_result_free (&r2);
  p.seed = 43;
  cs_actmax_run (e4, node, units, 5, &p, NULL, NULL, NULL, &r2, &err);
  CHECK (max_abs_diff (&r.images, &r2.images) > 1e-2, "another seed gives other images");
  cs_actmax_result_free (&r2);
  p.seed = 42;

  cs_exec *e1 = cs_exec_new (m, 1, &err);
  cs_actmax_run (e1, node, units + 1, 1, &p, NULL, NULL, NULL, &r1, &err);
  cs_tensor one = r.images;
  one.shape.dim[0] = 1;
  one.data += 16 * 16;
  double d = max_abs_diff (&one, &r1.images);
  CHECK (d < 1e-3, "a unit's image does not depend on its batch companions (max diff %.2e)", d);
  cs_actmax_result_free (&r1);

  /* cancellation midway, and up front */
  sc = (step_counter) { .cancel_at = 30 };
  prog = (cs_progress) { NULL, NULL, &sc.cancel };
  st = cs_actmax_run (e4, node, units, 5, &p, on_step, &sc, &prog, &r2, &err);
  CHECK (st == CS_ERR_CANCELLED && sc.calls == 30 && r2.images.data == NULL && r2.trace == NULL,
         "cancelled after 30 steps: CS_ERR_CANCELLED, nothing allocated");

  /* errors */
  int32_t bad = 16;
  CHECK (cs_actmax_run (e4, node, &bad, 1, &p, NULL, NULL, NULL, &r2, &err) == CS_ERR_ARGUMENT,
         "unit 16 of 16 is refused: %s", err.message);
  CHECK (cs_actmax_run (e4, m->graph->nodes[cs_graph_find (m->graph, "conv1")].inputs[1], units, 1, &p, NULL, NULL, NULL,
                        &r2, &err) == CS_ERR_ARGUMENT, "a parameter node is refused: %s", err.message);

  /* a 2-D node (the logits), pixel parameterisation with blur */
  p.param = CS_IMAGE_PARAM_PIXEL;
  int32_t cls = 4;
  st = cs_actmax_run (e4, m->graph->output_node, &cls, 1, &p, NULL, NULL, NULL, &r2, &err);
  CHECK (st == CS_OK && r2.final[0] > r2.initial[0], "pixel parameterisation raises logit 4 (%.3f -> %.3f)",
         r2.initial[0], r2.final[0]);
  cs_actmax_result_free (&r2);

  cs_actmax_result_free (&r);
  cs_exec_free (e1);
  cs_exec_free (e4);
  cs_model_free (m);
}

/* One 3x3 Sobel-x filter (responds to vertical edges) and a ReLU on a gray 24x24 input. */
static void
check_edge_detector (cs_image_param_kind kind)
{
  cs_error err = { 0 };
  cs_graph *g = cs_graph_new ();
  cs_shape in = cs_shape_4d (1, 1, 24, 24);
  int32_t x = cs_graph_add_input (g, "input", &in, &err);
  x = fnet_conv (g, "edge", x, 1, 1, 3, 1, 1, 1, &err);
  int32_t r = fnet_unary (g, CS_OP_RELU, "relu", x, &err);
  cs_model *m = fnet_model (g, 1, &err);
  const float sobel[9] = { -1, 0, 1, -2, 0, 2, -1, 0, 1 };
  memcpy (m->weights[0].data, sobel, sizeof sobel);
  m->weights[1].data[0] = 0;
  cs_exec *e = cs_exec_new (m, 1, &err);
  cs_actmax_params p = CS_ACTMAX_PARAMS_DEFAULT;
  p.param = kind;
  p.steps = 256;
  p.seed = 1;
  /* without a decay the spectrum's low frequencies wander into the sigmoid's flat ends */
  p.l2_decay = kind == CS_IMAGE_PARAM_FOURIER ? 2.0f : 0.0f;
  int32_t unit = 0;
  cs_actmax_result res;
  cs_status st = cs_actmax_run (e, r, &unit, 1, &p, NULL, NULL, NULL, &res, &err);
  double eh = 0, ev = 0;
  const float *im = res.images.data;
  for (int y = 0; y < 23; y++)
    for (int xx = 0; xx < 23; xx++)
      {
        double dx = im[y * 24 + xx + 1] - im[y * 24 + xx], dy = im[(y + 1) * 24 + xx] - im[y * 24 + xx];
        eh += dx * dx;
        ev += dy * dy;
      }
  CHECK (st == CS_OK && eh > 4 * ev, "%s: the vertical-edge detector's image varies across columns, not rows "
         "(horizontal gradient energy %.3f, vertical %.3f)", kind == CS_IMAGE_PARAM_FOURIER ? "Fourier" : "pixels", eh, ev);
  for (int y = 0; y < 24 && kind == CS_IMAGE_PARAM_FOURIER; y += 6)
    {
      char line[64];
      for (int xx = 0; xx < 24; xx++)
        line[xx] = " .:-=+*#%@"[(int) (im[y * 24 + xx] * 9.99f)];
      line[24] = 0;
      TEST_NOTE ("row %2d |%s|", y, line);
    }
  cs_actmax_result_free (&res);
  cs_exec_free (e);
  cs_model_free (m);
}

int
main (void)
{
  check_param_gradient (CS_IMAGE_PARAM_FOURIER, 1, 6, 5);
  check_param_gradient (CS_IMAGE_PARAM_FOURIER, 3, 4, 7);
  check_param_gradient (CS_IMAGE_PARAM_PIXEL, 3, 5, 5);
  check_transform ();
  check_ascent ();
  check_edge_detector (CS_IMAGE_PARAM_FOURIER);
  check_edge_detector (CS_IMAGE_PARAM_PIXEL);
  return test_done ();
}

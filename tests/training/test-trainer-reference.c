/* The trainer against PyTorch on one batch of a small CNN (tools/make-training-reference.py):
 * loss and parameter gradients, then two SGD-momentum and two Adam steps with weight decay. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"
#include "io/atomic_file.h"
#include "io/model_json.h"
#include "testlib.h"
#include "training/trainer.h"

static cJSON *fixture;

static const cJSON *
item (const cJSON *o, const char *key)
{
  return cJSON_GetObjectItemCaseSensitive (o, key);
}

static cs_model *
make_model (void)
{
  cs_error err = { 0 };
  char *text = cJSON_PrintUnformatted (item (fixture, "model"));
  cs_graph *g = cs_model_json_parse (text, strlen (text), "reference model", &err);
  free (text);
  if (g == NULL)
    {
      CHECK (0, "model.json parses: %s", err.message);
      return NULL;
    }
  cs_model *m = cs_model_new (g, &err);
  cs_graph_unref (g);
  const cJSON *p;
  cJSON_ArrayForEach (p, item (fixture, "params"))
    {
      int32_t idx = cs_model_param_index (m, p->string);
      if (idx < 0 || cJSON_GetArraySize (p) != cs_tensor_numel (&m->weights[idx]))
        {
          CHECK (0, "parameter %s exists with %d values", p->string, cJSON_GetArraySize (p));
          continue;
        }
      for (int i = 0; i < cJSON_GetArraySize (p); i++)
        m->weights[idx].data[i] = (float) cJSON_GetArrayItem (p, i)->valuedouble;
    }
  return m;
}

static cs_tensor
make_input (int32_t **labels)
{
  const cJSON *shape = item (fixture, "input_shape"), *data = item (fixture, "input"), *lab = item (fixture, "labels");
  int64_t dims[4];
  for (int d = 0; d < 4; d++)
    dims[d] = cJSON_GetArrayItem (shape, d)->valueint;
  cs_shape s = cs_shape_make (4, dims);
  cs_tensor x = { 0 };
  cs_tensor_alloc (&x, &s, NULL);
  for (int i = 0; i < cJSON_GetArraySize (data); i++)
    x.data[i] = (float) cJSON_GetArrayItem (data, i)->valuedouble;
  *labels = calloc ((size_t) dims[0], sizeof **labels);
  for (int i = 0; i < dims[0]; i++)
    (*labels)[i] = cJSON_GetArrayItem (lab, i)->valueint;
  return x;
}

/* Largest |a - b| of a tensor against a JSON list. */
static double
max_diff (const cs_tensor *t, const cJSON *ref)
{
  if (t == NULL || cJSON_GetArraySize (ref) != cs_tensor_numel (t))
    return INFINITY;
  double worst = 0;
  for (int i = 0; i < cJSON_GetArraySize (ref); i++)
    {
      double d = fabs ((double) t->data[i] - cJSON_GetArrayItem (ref, i)->valuedouble);
      if (!(d <= worst))
        worst = isnan (d) ? INFINITY : d;
    }
  return worst;
}

static void
test_gradients (void)
{
  cs_model *m = make_model ();
  int32_t *labels;
  cs_tensor x = make_input (&labels);
  cs_error err = { 0 };
  cs_trainer_config cfg = { .optimizer = cs_optimizer_config_default (CS_OPTIMIZER_SGD), .batch = 6, .seed = 1 };
  cs_trainer *t = cs_trainer_new (m, &cfg, &err);
  CHECK (t != NULL, "trainer: %s", err.message);
  double loss = 0;
  int32_t correct = -1;
  cs_status st = cs_trainer_gradients (t, &x, labels, &loss, &correct, &err);
  CHECK (st == CS_OK, "forward and backward: %s", err.message);
  double ref_loss = item (fixture, "loss")->valuedouble;
  CHECK (fabs (loss - ref_loss) <= 1e-5, "loss %.7f vs PyTorch %.7f", loss, ref_loss);
  int ref_correct = item (fixture, "correct")->valueint;
  CHECK (correct == ref_correct, "correct count %d vs PyTorch %d", correct, ref_correct);
  const cJSON *g;
  cJSON_ArrayForEach (g, item (fixture, "grads"))
    {
      int32_t idx = cs_model_param_index (m, g->string);
      double d = max_diff (cs_trainer_param_grad (t, idx), g);
      CHECK (d <= 1e-4, "gradient of %s within 1e-4 of PyTorch (max diff %.3g)", g->string, d);
    }
  /* gradients leave the weights alone */
  const cJSON *p;
  double moved = 0;
  cJSON_ArrayForEach (p, item (fixture, "params"))
    {
      double d = max_diff (&m->weights[cs_model_param_index (m, p->string)], p);
      moved = d > moved ? d : moved;
    }
  CHECK (moved == 0, "computing gradients changes no weight");
  cs_trainer_free (t);
  cs_model_free (m);
  cs_tensor_free (&x);
  free (labels);
}

static void
test_steps (const char *which, cs_optimizer_kind kind)
{
  const cJSON *ref = item (fixture, which);
  cs_model *m = make_model ();
  int32_t *labels;
  cs_tensor x = make_input (&labels);
  cs_error err = { 0 };
  cs_trainer_config cfg = { .optimizer = cs_optimizer_config_default (kind), .batch = 6, .seed = 1 };
  cfg.optimizer.lr = item (ref, "lr")->valuedouble;
  cfg.optimizer.weight_decay = item (ref, "weight_decay")->valuedouble;
  if (kind == CS_OPTIMIZER_SGD)
    cfg.optimizer.momentum = item (ref, "momentum")->valuedouble;
  else
    {
      cfg.optimizer.beta1 = cJSON_GetArrayItem (item (ref, "betas"), 0)->valuedouble;
      cfg.optimizer.beta2 = cJSON_GetArrayItem (item (ref, "betas"), 1)->valuedouble;
      cfg.optimizer.eps = item (ref, "eps")->valuedouble;
    }
  cs_trainer *t = cs_trainer_new (m, &cfg, &err);
  int steps = item (ref, "steps")->valueint;
  for (int s = 0; s < steps; s++)
    {
      double loss;
      int32_t correct;
      cs_status st = cs_trainer_step (t, &x, labels, &loss, &correct, &err);
      double want = cJSON_GetArrayItem (item (ref, "losses"), s)->valuedouble;
      CHECK (st == CS_OK && fabs (loss - want) <= 1e-5, "%s step %d: loss %.7f vs PyTorch %.7f %s", which, s + 1,
             loss, want, err.message);
    }
  const cJSON *p;
  cJSON_ArrayForEach (p, item (ref, "after"))
    {
      int32_t idx = cs_model_param_index (m, p->string);
      double d = idx >= 0 ? max_diff (&m->weights[idx], p) : INFINITY;
      CHECK (d <= 1e-4, "%s: %s after %d steps within 1e-4 of PyTorch (max diff %.3g)", which, p->string, steps, d);
    }
  CHECK (cs_optimizer_steps (cs_trainer_optimizer (t)) == steps, "%s counted its steps", which);
  cs_trainer_free (t);
  cs_model_free (m);
  cs_tensor_free (&x);
  free (labels);
}

/* Largest difference of two trainers' parameter gradients, relative to the first's. */
static double
grad_difference (const cs_trainer *a, const cs_trainer *b, const cs_model *m)
{
  double worst = 0;
  for (int32_t p = 0; p < m->graph->n_params; p++)
    {
      const cs_tensor *ga = cs_trainer_param_grad (a, p), *gb = cs_trainer_param_grad (b, p);
      if ((ga == NULL) != (gb == NULL))
        return INFINITY;
      for (int64_t i = 0; ga != NULL && i < cs_tensor_numel (ga); i++)
        {
          double d = fabs ((double) ga->data[i] - gb->data[i]) / (1e-3 + fabs ((double) ga->data[i]));
          worst = d > worst || isnan (d) ? d : worst;
        }
    }
  return worst;
}

/* The batch split over several execs gives the gradients of the whole batch: slices of 3, 2
 * and 2 samples of a model without batch norm (dropout off) against one exec. */
static void
test_slices (void)
{
  static const char *json =
    "{\"format\": \"convscope-model/1\", \"input\": [2, 9, 9], \"nodes\": ["
    "{\"name\": \"conv1\", \"op\": \"conv2d\", \"out_channels\": 5, \"kernel\": 3},"
    "{\"name\": \"relu1\", \"op\": \"relu\"},"
    "{\"name\": \"pool1\", \"op\": \"maxpool2d\", \"kernel\": 2},"
    "{\"name\": \"flat\", \"op\": \"flatten\"},"
    "{\"name\": \"fc\", \"op\": \"linear\", \"out_features\": 4}]}";
  cs_error err = { 0 };
  cs_graph *g = cs_model_json_parse (json, strlen (json), "slices model", &err);
  CHECK (g != NULL, "model parses: %s", err.message);
  if (g == NULL)
    return;
  cs_model *m = cs_model_new (g, &err);
  cs_graph_unref (g);
  cs_model_init_weights (m, 5);
  cs_shape s = cs_shape_4d (7, 2, 9, 9);
  cs_tensor x;
  cs_tensor_alloc (&x, &s, &err);
  cs_rng rng;
  cs_rng_seed (&rng, 11);
  for (int64_t i = 0; i < cs_tensor_numel (&x); i++)
    x.data[i] = (float) cs_rng_normal (&rng);
  int32_t labels[7] = { 0, 1, 2, 3, 3, 2, 1 };
  cs_trainer_config cfg = { .optimizer = cs_optimizer_config_default (CS_OPTIMIZER_SGD), .batch = 7, .seed = 1,
                            .slices = 1 };
  cs_trainer *one = cs_trainer_new (m, &cfg, &err);
  cfg.slices = 3;
  cs_trainer *three = cs_trainer_new (m, &cfg, &err);
  CHECK (one != NULL && three != NULL && cs_trainer_slices (one) == 1 && cs_trainer_slices (three) == 3,
         "trainers with 1 and 3 slices");
  double l1, l3;
  int32_t c1, c3;
  cs_status s1 = cs_trainer_gradients (one, &x, labels, &l1, &c1, &err);
  cs_status s3 = cs_trainer_gradients (three, &x, labels, &l3, &c3, &err);
  CHECK (s1 == CS_OK && s3 == CS_OK, "gradients: %s", err.message);
  CHECK (fabs (l1 - l3) <= 1e-6 && c1 == c3, "same loss (%.8f, %.8f) and correct count", l1, l3);
  double worst = grad_difference (one, three, m);
  CHECK (worst <= 1e-4, "same parameter gradients (worst relative difference %.3g)", worst);
  cs_trainer_free (one);
  cs_trainer_free (three);
  cs_model_free (m);
  cs_tensor_free (&x);
}

/* Batch norm on slices takes the whole batch's statistics through the slices' group: 1, 2 and
 * 4 slices (the last with a batch of 3, so one slice is empty) give the same loss, gradients
 * and running statistics; a slice that fails releases the others, and its own error is the
 * one reported. */
static void
test_slices_batch_norm (void)
{
  int32_t *labels;
  cs_tensor x = make_input (&labels);
  cs_error err = { 0 };
  const int32_t counts[] = { 1, 2, 4 };
  cs_model *models[3];
  cs_trainer *trainers[3];
  double losses[3];
  for (int i = 0; i < 3; i++)
    {
      models[i] = make_model ();
      cs_trainer_config cfg = { .optimizer = cs_optimizer_config_default (CS_OPTIMIZER_SGD), .batch = 6,
                                .seed = 1, .slices = counts[i] };
      trainers[i] = cs_trainer_new (models[i], &cfg, &err);
      CHECK (trainers[i] != NULL && cs_trainer_slices (trainers[i]) == counts[i], "batch norm on %d slices",
             counts[i]);
      int32_t correct;
      cs_status st = cs_trainer_step (trainers[i], &x, labels, &losses[i], &correct, &err);
      CHECK (st == CS_OK, "a step on %d slices: %s", counts[i], err.message);
    }
  for (int i = 1; i < 3; i++)
    {
      CHECK (fabs (losses[i] - losses[0]) <= 1e-6, "%d slices: loss %.8f, one exec %.8f", counts[i], losses[i],
             losses[0]);
      double d = grad_difference (trainers[0], trainers[i], models[0]);
      CHECK (d <= 1e-4, "%d slices: the same gradients (worst relative difference %.3g)", counts[i], d);
      double moved = 0;
      for (int32_t p = 0; p < models[0]->graph->n_params; p++)
        for (int64_t k = 0; k < cs_tensor_numel (&models[0]->weights[p]); k++)
          {
            double v = fabs ((double) models[0]->weights[p].data[k] - models[i]->weights[p].data[k]);
            moved = v > moved || isnan (v) ? v : moved;
          }
      CHECK (moved <= 1e-6, "%d slices: the same weights and running statistics after a step (max diff %.3g)",
             counts[i], moved);
    }
  /* a batch of 3 on 4 slices: the first slice holds no sample */
  cs_shape s3 = x.shape;
  s3.dim[0] = 3;
  cs_tensor x3 = cs_tensor_view (&s3, x.data);
  double l0, l2;
  cs_status a = cs_trainer_gradients (trainers[0], &x3, labels, &l0, NULL, &err);
  cs_status b = cs_trainer_gradients (trainers[2], &x3, labels, &l2, NULL, &err);
  CHECK (a == CS_OK && b == CS_OK && fabs (l0 - l2) <= 1e-6, "a batch of 3 on 4 slices: loss %.8f, one exec %.8f",
         l2, l0);
  CHECK (grad_difference (trainers[0], trainers[2], models[0]) <= 1e-4, "a batch of 3 on 4 slices: the same gradients");
  /* a label out of range fails the loss of the last slice after the forward's sums */
  int32_t bad[6];
  memcpy (bad, labels, sizeof bad);
  bad[5] = 1000;
  err.message[0] = '\0';
  cs_status st = cs_trainer_gradients (trainers[1], &x, bad, &l0, NULL, &err);
  CHECK (st != CS_OK && st != CS_ERR_CANCELLED && strstr (err.message, "1000") != NULL,
         "a failing slice's own error is reported: %s", err.message);
  st = cs_trainer_gradients (trainers[1], &x, labels, &l0, NULL, &err);
  CHECK (st == CS_OK && isfinite (l0), "the next batch runs again: %s", err.message);
  for (int i = 0; i < 3; i++)
    {
      cs_trainer_free (trainers[i]);
      cs_model_free (models[i]);
    }
  cs_tensor_free (&x);
  free (labels);
}

int
main (void)
{
  const char *src = getenv ("CONVSCOPE_SOURCE_DIR");
  char path[4096];
  snprintf (path, sizeof path, "%s/tests/training/fixtures/reference.json", src != NULL ? src : ".");
  uint8_t *text;
  size_t size;
  cs_error err = { 0 };
  /* The fixture is committed: not being able to read it is a failure, not a skip. */
  if (cs_file_read_all (path, 1 << 24, &text, &size, &err) != CS_OK)
    {
      CHECK (false, "read the committed fixture: %s", err.message);
      return test_done ();
    }
  fixture = cJSON_ParseWithLength ((const char *) text, size);
  free (text);
  CHECK (fixture != NULL, "fixture parses");
  if (fixture == NULL)
    return test_done ();
  test_gradients ();
  test_steps ("sgd", CS_OPTIMIZER_SGD);
  test_steps ("adam", CS_OPTIMIZER_ADAM);
  test_slices ();
  test_slices_batch_norm ();
  cJSON_Delete (fixture);
  return test_done ();
}

/* The training job: everything between command-line options and the run directory. */
#include "training/train_run.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/threads.h"
#include "data/dataset.h"
#include "training/subsets.h"
#include "io/model_json.h"
#include "io/safetensors.h"
#include "training/trainer.h"

cs_train_options
cs_train_options_default (void)
{
  return (cs_train_options) {
    .epochs = 10,
    .batch = 64,
    .optimizer = cs_optimizer_config_default (CS_OPTIMIZER_SGD),
  };
}

static double
now_seconds (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

static cJSON *
train_json (const cs_train_options *o, int32_t slices)
{
  const cs_optimizer_config *c = &o->optimizer;
  cJSON *t = cJSON_CreateObject ();
  if (t == NULL)
    return NULL;
  cJSON_AddStringToObject (t, "optimizer", cs_optimizer_kind_name (c->kind));
  cJSON_AddNumberToObject (t, "lr", c->lr);
  cJSON_AddNumberToObject (t, "momentum", c->momentum);
  cJSON_AddNumberToObject (t, "weight_decay", c->weight_decay);
  if (c->kind == CS_OPTIMIZER_ADAM)
    {
      cJSON *betas = cJSON_AddArrayToObject (t, "betas");
      cJSON_AddItemToArray (betas, cJSON_CreateNumber (c->beta1));
      cJSON_AddItemToArray (betas, cJSON_CreateNumber (c->beta2));
      cJSON_AddNumberToObject (t, "eps", c->eps);
    }
  cJSON_AddNumberToObject (t, "batch", o->batch);
  cJSON_AddNumberToObject (t, "epochs", o->epochs);
  cJSON_AddNumberToObject (t, "seed", (double) o->seed);
  cJSON_AddNumberToObject (t, "threads", cs_threads_get ());
  cJSON_AddNumberToObject (t, "batch_slices", slices);
  cJSON_AddStringToObject (t, "loss", "cross_entropy");
  return t;
}

static cJSON *
dataset_json (const cs_train_options *o, const cs_dataset *ds, int64_t n_train, int64_t n_val)
{
  cJSON *d = cJSON_CreateObject ();
  if (d == NULL)
    return NULL;
  cJSON_AddStringToObject (d, "spec", o->dataset);
  cJSON_AddStringToObject (d, "name", ds->name);
  cJSON_AddStringToObject (d, "dir", ds->dir);
  cJSON_AddStringToObject (d, "train_split", "train");
  cJSON_AddStringToObject (d, "val_split", "test");
  cJSON_AddNumberToObject (d, "train_size", (double) ds->train.n);
  cJSON_AddNumberToObject (d, "val_size", (double) ds->test.n);
  cJSON_AddNumberToObject (d, "train_subset", (double) n_train);
  cJSON_AddNumberToObject (d, "val_subset", (double) n_val);
  return d;
}

static bool
json_number (const cJSON *obj, const char *key, double *v)
{
  const cJSON *item = cJSON_GetObjectItemCaseSensitive (obj, key);
  if (!cJSON_IsNumber (item))
    return false;
  *v = item->valuedouble;
  return true;
}

/* The settings a resumed run continues with: those recorded in its run.json. */
static cs_status
options_from_run (const cJSON *root, const char *path, cs_train_options *o, float *mean, float *std,
                  cs_error *err)
{
  const cJSON *train = cJSON_GetObjectItemCaseSensitive (root, "train");
  const cJSON *dataset = cJSON_GetObjectItemCaseSensitive (root, "dataset");
  const cJSON *input = cJSON_GetObjectItemCaseSensitive (root, "input");
  const cJSON *opt = cJSON_GetObjectItemCaseSensitive (train, "optimizer");
  const cJSON *spec = cJSON_GetObjectItemCaseSensitive (dataset, "spec");
  const cJSON *jm = cJSON_GetObjectItemCaseSensitive (input, "mean");
  const cJSON *js = cJSON_GetObjectItemCaseSensitive (input, "std");
  double lr, mom, wd, batch, seed, nt, nv;
  cs_optimizer_kind kind;
  if (!cJSON_IsString (opt) || !cs_optimizer_kind_parse (opt->valuestring, &kind) || !cJSON_IsString (spec)
      || !json_number (train, "lr", &lr) || !json_number (train, "momentum", &mom)
      || !json_number (train, "weight_decay", &wd) || !json_number (train, "batch", &batch)
      || !json_number (train, "seed", &seed) || !json_number (dataset, "train_subset", &nt)
      || !json_number (dataset, "val_subset", &nv) || !cJSON_IsArray (jm) || !cJSON_IsArray (js)
      || cJSON_GetArraySize (jm) < 1 || cJSON_GetArraySize (jm) > 4
      || cJSON_GetArraySize (js) != cJSON_GetArraySize (jm))
    return cs_error_set (err, CS_ERR_FORMAT, "%s: \"train\", \"dataset\" or \"input\" lacks the settings "
                         "needed to resume", path);
  o->optimizer = cs_optimizer_config_default (kind);
  o->optimizer.lr = lr;
  o->optimizer.momentum = mom;
  o->optimizer.weight_decay = wd;
  const cJSON *betas = cJSON_GetObjectItemCaseSensitive (train, "betas");
  if (kind == CS_OPTIMIZER_ADAM && cJSON_GetArraySize (betas) == 2)
    {
      o->optimizer.beta1 = cJSON_GetArrayItem (betas, 0)->valuedouble;
      o->optimizer.beta2 = cJSON_GetArrayItem (betas, 1)->valuedouble;
      json_number (train, "eps", &o->optimizer.eps);
    }
  o->batch = (int32_t) batch;
  o->seed = (uint64_t) seed;
  o->dataset = spec->valuestring;
  o->train_subset = (int64_t) nt;
  o->val_subset = (int64_t) nv;
  for (int i = 0; i < cJSON_GetArraySize (jm); i++)
    {
      mean[i] = (float) cJSON_GetArrayItem (jm, i)->valuedouble;
      std[i] = (float) cJSON_GetArrayItem (js, i)->valuedouble;
    }
  return CS_OK;
}

typedef struct {
  const cs_train_callbacks *cb;
  int32_t epoch, epochs;
  const char *phase;
} progress_state;

static void
on_progress (void *user, double fraction)
{
  progress_state *p = user;
  if (p->cb != NULL && p->cb->batch != NULL)
    p->cb->batch (p->cb->user, p->epoch, p->epochs, p->phase, fraction);
}

cs_status
cs_train_run (const cs_train_options *opts, const cs_train_callbacks *cb, int32_t *last_epoch, cs_error *err)
{
  cs_train_options o = *opts;
  cs_dataset ds = { 0 };
  cs_run_writer *w = NULL;
  cs_model *m = NULL;
  cs_trainer *t = NULL;
  int64_t *train_idx = NULL, *val_idx = NULL, n_train = 0, n_val = 0;
  float mean[4] = { 0 }, std[4] = { 1, 1, 1, 1 };
  cs_status st = CS_OK;
  if (last_epoch != NULL)
    *last_epoch = -1;

  if (o.resume)
    {
      if ((w = cs_run_writer_resume (o.out, err)) == NULL)
        return err != NULL ? err->code : CS_ERR_IO;
      if ((st = options_from_run (cs_run_writer_json (w), o.out, &o, mean, std, err)) != CS_OK)
        goto done;
    }
  if (o.epochs < 1 || o.batch < 1 || o.train_subset < 0 || o.val_subset < 0)
    {
      st = cs_error_set (err, CS_ERR_ARGUMENT, "epochs (%d) and batch (%d) must be positive, subsets not "
                         "negative", o.epochs, o.batch);
      goto done;
    }
  if ((st = cs_dataset_open (o.dataset, &ds, err)) != CS_OK)
    goto done;
  st = cs_train_subsets (&ds, o.train_subset, o.val_subset, o.seed, &train_idx, &n_train, &val_idx, &n_val, err);
  if (st != CS_OK)
    goto done;

  if (o.resume)
    {
      int32_t last = cs_run_writer_last_epoch (w);
      m = cs_model_json_load (cs_run_writer_model_path (w), 0, err);
      char *ck = cs_run_writer_checkpoint_path (w, last);
      if (m == NULL)
        st = err != NULL ? err->code : CS_ERR_FORMAT;
      else if (ck == NULL)
        st = cs_error_set (err, CS_ERR_MEMORY, "out of memory");
      else
        st = cs_safetensors_apply (m, ck, false, err);
      free (ck);
      if (st != CS_OK)
        goto done;
    }
  else
    {
      if ((m = cs_model_json_load (o.arch, o.seed, err)) == NULL)
        {
          st = err != NULL ? err->code : CS_ERR_FORMAT;
          goto done;
        }
      cs_dataset_stats (&ds.train, train_idx, n_train, mean, std);
    }
  if (ds.train.channels > 4)
    {
      st = cs_error_set (err, CS_ERR_UNSUPPORTED, "%s: more than 4 channels", o.dataset);
      goto done;
    }
  for (int32_t c = 0; c < ds.train.channels; c++)
    {
      m->mean[c] = mean[c];
      m->std[c] = std[c];
    }
  m->has_normalization = true;
  if ((st = cs_model_set_classes (m, ds.n_classes, ds.classes, err)) != CS_OK)
    goto done;
  if (m->n_classes != ds.n_classes)
    {
      st = cs_error_set (err, CS_ERR_SHAPE, "%s: the model has %d outputs, %s has %d classes",
                         o.resume ? cs_run_writer_model_path (w) : o.arch, m->n_classes, o.dataset,
                         ds.n_classes);
      goto done;
    }

  cs_trainer_config tc = { .optimizer = o.optimizer, .batch = o.batch, .seed = o.seed };
  if ((t = cs_trainer_new (m, &tc, err)) == NULL)
    {
      st = err != NULL ? err->code : CS_ERR_ARGUMENT;
      goto done;
    }
  progress_state ps = { .cb = cb, .epochs = o.epochs };
  cs_progress progress = { .progress = on_progress, .user_data = &ps,
                           .cancel = cb != NULL ? cb->cancel : NULL };
  int32_t first = 1;
  if (o.resume)
    {
      if ((st = cs_run_writer_load_optimizer (w, cs_trainer_optimizer (t), err)) != CS_OK)
        goto done;
      first = cs_run_writer_last_epoch (w) + 1;
      cs_run_writer_set_epochs (w, o.epochs);
    }
  else
    {
      cs_run_header h = {
        .name = o.name, .channels = m->channels, .height = m->height, .width = m->width, .mean = mean, .std = std,
        .n_classes = ds.n_classes, .classes = ds.classes,
        .dataset = dataset_json (&o, &ds, n_train, n_val), .train = train_json (&o, cs_trainer_slices (t)),
      };
      if ((w = cs_run_writer_create (o.out, m->graph, &h, err)) == NULL)
        {
          st = err != NULL ? err->code : CS_ERR_IO;
          goto done;
        }
      /* Epoch 0: the initialisation, validated but not trained. */
      double t0 = now_seconds ();
      cs_run_metrics mt = { .epoch = 0, .train_loss = NAN, .train_accuracy = NAN,
                            .learning_rate = o.optimizer.lr };
      ps.phase = "validate";
      if ((st = cs_trainer_evaluate (t, &ds.test, val_idx, n_val, mean, std, &mt.val_loss, &mt.val_accuracy,
                                     &progress, err)) != CS_OK)
        goto done;
      mt.seconds = now_seconds () - t0;
      if ((st = cs_run_writer_add_epoch (w, m, cs_trainer_optimizer (t), &mt, err)) != CS_OK)
        goto done;
      if (last_epoch != NULL)
        *last_epoch = 0;
      if (cb != NULL && cb->epoch != NULL)
        cb->epoch (cb->user, &mt, o.epochs);
    }

  for (int32_t epoch = first; epoch <= o.epochs; epoch++)
    {
      double t0 = now_seconds ();
      cs_run_metrics mt = { .epoch = epoch, .learning_rate = o.optimizer.lr };
      ps.epoch = epoch;
      ps.phase = "train";
      if ((st = cs_trainer_epoch (t, &ds.train, train_idx, n_train, mean, std, epoch, &mt.train_loss,
                                  &mt.train_accuracy, &progress, err)) != CS_OK)
        goto done;
      ps.phase = "validate";
      if ((st = cs_trainer_evaluate (t, &ds.test, val_idx, n_val, mean, std, &mt.val_loss, &mt.val_accuracy,
                                     &progress, err)) != CS_OK)
        goto done;
      mt.seconds = now_seconds () - t0;
      if ((st = cs_run_writer_add_epoch (w, m, cs_trainer_optimizer (t), &mt, err)) != CS_OK)
        goto done;
      if (last_epoch != NULL)
        *last_epoch = epoch;
      if (cb != NULL && cb->epoch != NULL)
        cb->epoch (cb->user, &mt, o.epochs);
    }

done:
  if (st == CS_OK || st == CS_ERR_CANCELLED)
    if (last_epoch != NULL && w != NULL)
      *last_epoch = cs_run_writer_last_epoch (w);
  cs_trainer_free (t);
  cs_model_free (m);
  cs_run_writer_free (w);
  free (train_idx);
  free (val_idx);
  cs_dataset_free (&ds);
  return st;
}

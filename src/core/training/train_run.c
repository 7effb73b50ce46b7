/* The training job: everything between command-line options and the run directory. */
#include "training/train_run.h"
#include "base/clock.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/threads.h"
#include "data/dataset.h"
#include "training/subsets.h"
#include "io/model_json.h"
#include "io/safetensors.h"
#include "training/train_data.h"
#include "training/trainer.h"

cs_train_options
cs_train_options_default (void)
{
  return (cs_train_options) {
    .epochs = 10,
    .batch = 64,
    .optimizer = cs_optimizer_config_default (CS_OPTIMIZER_SGD),
    .step_size = 10,
    .gamma = 0.1,
  };
}

static const char *const schedule_names[] = { "constant", "step", "cosine" };

const char *
cs_lr_schedule_name (cs_lr_schedule s)
{
  return s >= CS_LR_CONSTANT && s <= CS_LR_COSINE ? schedule_names[s] : "constant";
}

bool
cs_lr_schedule_parse (const char *name, cs_lr_schedule *s)
{
  for (int i = 0; name != NULL && i <= CS_LR_COSINE; i++)
    if (strcmp (name, schedule_names[i]) == 0)
      {
        *s = (cs_lr_schedule) i;
        return true;
      }
  return false;
}

double
cs_lr_at_epoch (cs_lr_schedule s, double lr, int32_t step_size, double gamma, int32_t epoch, int32_t epochs)
{
  int32_t e = epoch > 1 ? epoch - 1 : 0;
  if (s == CS_LR_STEP && step_size > 0)
    return lr * pow (gamma, (double) (e / step_size));
  if (s == CS_LR_COSINE && epochs > 0)
    return lr * 0.5 * (1.0 + cos (M_PI * (double) e / (double) epochs));
  return lr;
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
  cJSON_AddNumberToObject (t, "label_noise", o->label_noise);
  cJSON_AddBoolToObject (t, "augment", o->augment);
  cJSON *sched = cJSON_AddObjectToObject (t, "lr_schedule");
  cJSON_AddStringToObject (sched, "kind", cs_lr_schedule_name (o->schedule));
  if (o->schedule == CS_LR_STEP)
    {
      cJSON_AddNumberToObject (sched, "step_size", o->step_size);
      cJSON_AddNumberToObject (sched, "gamma", o->gamma);
    }
  return t;
}

static cJSON *
dataset_json (const cs_train_options *o, const cs_dataset *ds, int64_t n_train, int64_t n_val,
              int64_t n_test)
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
  if (n_test > 0)
    {
      cJSON_AddStringToObject (d, "test_split", "test");
      cJSON_AddNumberToObject (d, "test_subset", (double) n_test);
    }
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

/* The study settings; absent in runs written before them, which had none of them. */
static cs_status
options_extra_from_run (const cJSON *train, const cJSON *dataset, const char *path, cs_train_options *o,
                        cs_error *err)
{
  double v;
  if (json_number (train, "label_noise", &v))
    o->label_noise = v;
  o->augment = cJSON_IsTrue (cJSON_GetObjectItemCaseSensitive (train, "augment"));
  const cJSON *sched = cJSON_GetObjectItemCaseSensitive (train, "lr_schedule");
  const cJSON *kind = cJSON_GetObjectItemCaseSensitive (sched, "kind");
  o->schedule = CS_LR_CONSTANT;
  if (sched != NULL && (!cJSON_IsString (kind) || !cs_lr_schedule_parse (kind->valuestring, &o->schedule)))
    return cs_error_set (err, CS_ERR_FORMAT, "%s: \"train\".\"lr_schedule\" has no known \"kind\"", path);
  if (json_number (sched, "step_size", &v))
    o->step_size = (int32_t) v;
  if (json_number (sched, "gamma", &v))
    o->gamma = v;
  if (json_number (dataset, "test_subset", &v))
    o->test_subset = (int64_t) v;
  if (!(o->label_noise >= 0 && o->label_noise <= 1) || o->step_size < 1 || !(o->gamma > 0)
      || o->test_subset < 0)
    return cs_error_set (err, CS_ERR_FORMAT, "%s: label_noise, lr_schedule or test_subset out of range", path);
  return CS_OK;
}

/* The settings a resumed run continues with: those recorded in its run.json. */
static cs_status
options_from_run (const cJSON *root, const char *path, cs_train_options *o, cs_error *err)
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
  return options_extra_from_run (train, dataset, path, o, err);
}

/* Normalisation recorded in run.json "input". */
static void
normalisation_from_run (const cJSON *root, float *mean, float *std)
{
  const cJSON *input = cJSON_GetObjectItemCaseSensitive (root, "input");
  const cJSON *jm = cJSON_GetObjectItemCaseSensitive (input, "mean");
  const cJSON *js = cJSON_GetObjectItemCaseSensitive (input, "std");
  for (int i = 0; i < cJSON_GetArraySize (jm) && i < 4; i++)
    {
      mean[i] = (float) cJSON_GetArrayItem (jm, i)->valuedouble;
      std[i] = (float) cJSON_GetArrayItem (js, i)->valuedouble;
    }
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

/* Everything a job holds between its steps. */
typedef struct {
  cs_train_options o;
  cs_train_data data;
  cs_run_writer *w;
  cs_model *m;
  cs_trainer *t;
  float mean[4], std[4];
  progress_state ps;
  cs_progress progress;
} train_job;

static void
job_free (train_job *j)
{
  cs_trainer_free (j->t);
  cs_model_free (j->m);
  cs_run_writer_free (j->w);
  cs_train_data_free (&j->data);
}

/* Resume: reopens the run and takes its recorded settings; then checks them. */
static cs_status
job_options (train_job *j, cs_error *err)
{
  if (j->o.resume)
    {
      if ((j->w = cs_run_writer_resume (j->o.out, err)) == NULL)
        return err != NULL ? err->code : CS_ERR_IO;
      cs_status st = options_from_run (cs_run_writer_json (j->w), j->o.out, &j->o, err);
      if (st != CS_OK)
        return st;
      normalisation_from_run (cs_run_writer_json (j->w), j->mean, j->std);
    }
  const cs_train_options *o = &j->o;
  if (o->epochs < 1 || o->batch < 1 || o->train_subset < 0 || o->val_subset < 0)
    return cs_error_set (err, CS_ERR_ARGUMENT, "epochs (%d) and batch (%d) must be positive, subsets not "
                         "negative", o->epochs, o->batch);
  if (o->step_size < 1 || !(o->gamma > 0) || !isfinite (o->gamma))
    return cs_error_set (err, CS_ERR_ARGUMENT, "step size (%d) and gamma (%g) must be positive", o->step_size,
                         o->gamma);
  return CS_OK;
}

/* The model: a fresh one from the arch (with normalisation from the training subset), or the
 * last checkpoint of a resumed run; then checked against the data set. */
static cs_status
job_model (train_job *j, cs_error *err)
{
  const cs_dataset *ds = &j->data.ds;
  cs_status st = CS_OK;
  if (j->o.resume)
    {
      j->m = cs_model_json_load (cs_run_writer_model_path (j->w), 0, err);
      char *ck = cs_run_writer_checkpoint_path (j->w, cs_run_writer_last_epoch (j->w));
      if (j->m == NULL)
        st = err != NULL ? err->code : CS_ERR_FORMAT;
      else if (ck == NULL)
        st = cs_error_set (err, CS_ERR_MEMORY, "out of memory");
      else
        st = cs_safetensors_apply (j->m, ck, false, err);
      free (ck);
      if (st != CS_OK)
        return st;
    }
  else
    {
      if ((j->m = cs_model_json_load (j->o.arch, j->o.seed, err)) == NULL)
        return err != NULL ? err->code : CS_ERR_FORMAT;
      cs_dataset_stats (&ds->train, j->data.train_idx, j->data.n_train, j->mean, j->std);
    }
  if (ds->train.channels > 4)
    return cs_error_set (err, CS_ERR_UNSUPPORTED, "%s: more than 4 channels", j->o.dataset);
  for (int32_t c = 0; c < ds->train.channels; c++)
    {
      j->m->mean[c] = j->mean[c];
      j->m->std[c] = j->std[c];
    }
  j->m->has_normalization = true;
  if ((st = cs_model_set_classes (j->m, ds->n_classes, ds->classes, err)) != CS_OK)
    return st;
  if (j->m->n_classes != ds->n_classes)
    return cs_error_set (err, CS_ERR_SHAPE, "%s: the model has %d outputs, %s has %d classes",
                         j->o.resume ? cs_run_writer_model_path (j->w) : j->o.arch, j->m->n_classes,
                         j->o.dataset, ds->n_classes);
  cs_trainer_config tc = { .optimizer = j->o.optimizer, .batch = j->o.batch, .seed = j->o.seed,
                           .augment = j->o.augment };
  if ((j->t = cs_trainer_new (j->m, &tc, err)) == NULL)
    return err != NULL ? err->code : CS_ERR_ARGUMENT;
  if (j->o.resume)
    {
      if ((st = cs_run_writer_load_optimizer (j->w, cs_trainer_optimizer (j->t), err)) != CS_OK)
        return st;
      cs_run_writer_set_epochs (j->w, j->o.epochs);
    }
  return CS_OK;
}

/* Validation, and the test subset when there is one, of the current weights into mt. */
static cs_status
job_evaluate (train_job *j, cs_run_metrics *mt, cs_error *err)
{
  const cs_train_data *d = &j->data;
  j->ps.phase = "validate";
  cs_status st = cs_trainer_evaluate (j->t, &d->ds.test, d->val_idx, d->n_val, j->mean, j->std, &mt->val_loss,
                                      &mt->val_accuracy, &j->progress, err);
  if (st == CS_OK && d->n_test > 0)
    {
      j->ps.phase = "test";
      st = cs_trainer_evaluate (j->t, &d->ds.test, d->test_idx, d->n_test, j->mean, j->std, &mt->test_loss,
                                &mt->test_accuracy, &j->progress, err);
    }
  return st;
}

/* A new run: its directory, the label-noise list, and epoch 0 (the initialisation, evaluated
 * but not trained). */
static cs_status
job_start (train_job *j, const cs_train_callbacks *cb, int32_t *last_epoch, cs_error *err)
{
  const cs_train_data *d = &j->data;
  const cs_model *m = j->m;
  cs_run_header h = {
    .name = j->o.name, .channels = m->channels, .height = m->height, .width = m->width, .mean = j->mean,
    .std = j->std, .n_classes = d->ds.n_classes, .classes = d->ds.classes,
    .dataset = dataset_json (&j->o, &d->ds, d->n_train, d->n_val, d->n_test),
    .train = train_json (&j->o, cs_trainer_slices (j->t)),
  };
  if ((j->w = cs_run_writer_create (j->o.out, m->graph, &h, err)) == NULL)
    return err != NULL ? err->code : CS_ERR_IO;
  cs_status st = CS_OK;
  if (j->o.label_noise > 0 && (st = cs_train_data_write_noise (d, j->o.label_noise, j->o.out, err)) != CS_OK)
    return st;
  double t0 = cs_clock_seconds (CLOCK_MONOTONIC);
  cs_run_metrics mt = { .epoch = 0, .train_loss = NAN, .train_accuracy = NAN, .learning_rate = NAN,
                        .test_loss = NAN, .test_accuracy = NAN, .eb_criterion = NAN };
  mt.learning_rate = cs_lr_at_epoch (j->o.schedule, j->o.optimizer.lr, j->o.step_size, j->o.gamma, 1,
                                     j->o.epochs);
  if ((st = job_evaluate (j, &mt, err)) != CS_OK)
    return st;
  mt.seconds = cs_clock_seconds (CLOCK_MONOTONIC) - t0;
  if ((st = cs_run_writer_add_epoch (j->w, m, cs_trainer_optimizer (j->t), &mt, err)) != CS_OK)
    return st;
  if (last_epoch != NULL)
    *last_epoch = 0;
  if (cb != NULL && cb->epoch != NULL)
    cb->epoch (cb->user, &mt, j->o.epochs);
  return CS_OK;
}

/* One epoch: the scheduled rate, training, evaluation, the files. */
static cs_status
job_epoch (train_job *j, int32_t epoch, const cs_train_callbacks *cb, int32_t *last_epoch, cs_error *err)
{
  const cs_train_data *d = &j->data;
  double t0 = cs_clock_seconds (CLOCK_MONOTONIC);
  double lr = cs_lr_at_epoch (j->o.schedule, j->o.optimizer.lr, j->o.step_size, j->o.gamma, epoch, j->o.epochs);
  cs_optimizer_set_lr (cs_trainer_optimizer (j->t), lr);
  cs_run_metrics mt = { .epoch = epoch, .learning_rate = lr, .test_loss = NAN, .test_accuracy = NAN };
  j->ps.epoch = epoch;
  j->ps.phase = "train";
  cs_status st = cs_trainer_epoch (j->t, &d->ds.train, d->train_idx, d->n_train, j->mean, j->std, epoch,
                                   &mt.train_loss, &mt.train_accuracy, &j->progress, err);
  if (st != CS_OK)
    return st;
  mt.eb_criterion = cs_trainer_eb_criterion (j->t);
  if ((st = job_evaluate (j, &mt, err)) != CS_OK)
    return st;
  mt.seconds = cs_clock_seconds (CLOCK_MONOTONIC) - t0;
  if ((st = cs_run_writer_add_epoch (j->w, j->m, cs_trainer_optimizer (j->t), &mt, err)) != CS_OK)
    return st;
  if (last_epoch != NULL)
    *last_epoch = epoch;
  if (cb != NULL && cb->epoch != NULL)
    cb->epoch (cb->user, &mt, j->o.epochs);
  return CS_OK;
}

cs_status
cs_train_run (const cs_train_options *opts, const cs_train_callbacks *cb, int32_t *last_epoch, cs_error *err)
{
  train_job j = { .o = *opts, .std = { 1, 1, 1, 1 } };
  if (last_epoch != NULL)
    *last_epoch = -1;
  j.ps = (progress_state) { .cb = cb, .epochs = j.o.epochs };
  cs_status st = job_options (&j, err);
  j.ps.epochs = j.o.epochs;
  j.progress = (cs_progress) { .progress = on_progress, .user_data = &j.ps,
                               .cancel = cb != NULL ? cb->cancel : NULL };
  if (st == CS_OK)
    st = cs_train_data_open (&j.o, &j.data, err);
  if (st == CS_OK)
    st = job_model (&j, err);
  if (st == CS_OK && !j.o.resume)
    st = job_start (&j, cb, last_epoch, err);
  for (int32_t epoch = j.w != NULL ? cs_run_writer_last_epoch (j.w) + 1 : 1; st == CS_OK && epoch <= j.o.epochs;
       epoch++)
    st = job_epoch (&j, epoch, cb, last_epoch, err);
  if ((st == CS_OK || st == CS_ERR_CANCELLED) && last_epoch != NULL && j.w != NULL)
    *last_epoch = cs_run_writer_last_epoch (j.w);
  job_free (&j);
  return st;
}

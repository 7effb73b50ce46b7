/* Whole training runs on a Fashion-MNIST subset: the accuracy reached, the run directory,
 * determinism (same seed, same bytes), and a run interrupted mid-epoch and resumed equal to an
 * uninterrupted one, with SGD-momentum and with Adam. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/threads.h"
#include "data/dataset.h"
#include "io/atomic_file.h"
#include "io/model_load.h"
#include "testlib.h"
#include "training/train_run.h"

static const char *arch_json =
  "{\"format\": \"convscope-model/1\", \"input\": [1, 28, 28], \"nodes\": [\n"
  "  {\"name\": \"conv1\", \"op\": \"conv2d\", \"out_channels\": 8, \"kernel\": 3, \"padding\": 1},\n"
  "  {\"name\": \"bn1\", \"op\": \"batchnorm2d\"},\n"
  "  {\"name\": \"relu1\", \"op\": \"relu\"},\n"
  "  {\"name\": \"pool1\", \"op\": \"maxpool2d\", \"kernel\": 2},\n"
  "  {\"name\": \"conv2\", \"op\": \"conv2d\", \"out_channels\": 16, \"kernel\": 3, \"padding\": 1},\n"
  "  {\"name\": \"relu2\", \"op\": \"relu\"},\n"
  "  {\"name\": \"pool2\", \"op\": \"maxpool2d\", \"kernel\": 2},\n"
  "  {\"name\": \"flat\", \"op\": \"flatten\"},\n"
  "  {\"name\": \"drop\", \"op\": \"dropout\", \"p\": 0.25},\n"
  "  {\"name\": \"fc\", \"op\": \"linear\", \"out_features\": 10}]}\n";

/* Without batch norm: trained with the batch split over the threads. */
static const char *arch_split_json =
  "{\"format\": \"convscope-model/1\", \"input\": [1, 28, 28], \"nodes\": [\n"
  "  {\"name\": \"conv1\", \"op\": \"conv2d\", \"out_channels\": 6, \"kernel\": 5, \"stride\": 2},\n"
  "  {\"name\": \"relu1\", \"op\": \"relu\"},\n"
  "  {\"name\": \"pool1\", \"op\": \"maxpool2d\", \"kernel\": 2},\n"
  "  {\"name\": \"flat\", \"op\": \"flatten\"},\n"
  "  {\"name\": \"drop\", \"op\": \"dropout\", \"p\": 0.3},\n"
  "  {\"name\": \"fc\", \"op\": \"linear\", \"out_features\": 10}]}\n";

static char dir[] = "/tmp/cs-test-train-XXXXXX";
static char arch[600], arch_split[600];
static const char *arch_used = arch;

static char *
sub (const char *a, const char *b)
{
  static char buf[8][700];
  static int k;
  k = (k + 1) % 8;
  if (b != NULL)
    snprintf (buf[k], sizeof buf[k], "%s/%s/%s", dir, a, b);
  else
    snprintf (buf[k], sizeof buf[k], "%s/%s", dir, a);
  return buf[k];
}

static bool
same_file (const char *a, const char *b)
{
  uint8_t *da = NULL, *db = NULL;
  size_t na = 0, nb = 0;
  bool ok = cs_file_read_all (a, 1 << 28, &da, &na, NULL) == CS_OK
            && cs_file_read_all (b, 1 << 28, &db, &nb, NULL) == CS_OK && na == nb && memcmp (da, db, na) == 0;
  free (da);
  free (db);
  return ok;
}

static cJSON *
load_run (const char *run)
{
  uint8_t *text;
  size_t size;
  char path[700];
  snprintf (path, sizeof path, "%s/run.json", run);
  if (cs_file_read_all (path, 1 << 24, &text, &size, NULL) != CS_OK)
    return NULL;
  cJSON *j = cJSON_ParseWithLength ((const char *) text, size);
  free (text);
  return j;
}

static double
epoch_metric (const cJSON *run, int epoch, const char *key)
{
  const cJSON *e = cJSON_GetArrayItem (cJSON_GetObjectItem (run, "epochs"), epoch);
  const cJSON *v = cJSON_GetObjectItem (e, key);
  return cJSON_IsNumber (v) ? v->valuedouble : NAN;
}

typedef struct {
  int32_t stop_epoch;
  volatile int cancel;
} stopper;

/* Raises the cancel flag half-way through epoch stop_epoch's training. */
static void
stop_midway (void *user, int32_t epoch, int32_t epochs, const char *phase, double fraction)
{
  stopper *s = user;
  if (epoch == s->stop_epoch && strcmp (phase, "train") == 0 && fraction >= 0.5)
    s->cancel = 1;
}

static cs_train_options
options (const char *out, cs_optimizer_kind kind, int64_t n_train)
{
  cs_train_options o = cs_train_options_default ();
  o.arch = arch_used;
  o.dataset = "fashion-mnist";
  o.out = out;
  o.epochs = 2;
  o.train_subset = n_train;
  o.val_subset = 500;
  o.batch = 64;
  o.seed = 42;
  o.optimizer = cs_optimizer_config_default (kind);
  if (kind == CS_OPTIMIZER_SGD)
    o.optimizer.lr = 0.05;
  else
    o.optimizer.lr = 0.003;
  o.optimizer.weight_decay = 1e-4;
  return o;
}

static void
test_sgd_runs (void)
{
  cs_error err = { 0 };
  int32_t last = -1;
  cs_train_options o = options (sub ("a", NULL), CS_OPTIMIZER_SGD, 2000);
  cs_status st = cs_train_run (&o, NULL, &last, &err);
  CHECK (st == CS_OK && last == 2, "2 epochs on 2000 Fashion-MNIST images: %s", err.message);
  cJSON *run = load_run (sub ("a", NULL));
  CHECK (run != NULL, "run.json parses");
  const cJSON *fmt = cJSON_GetObjectItem (run, "format");
  CHECK (cJSON_IsString (fmt) && strcmp (fmt->valuestring, "convscope-run/1") == 0, "format convscope-run/1");
  CHECK (cJSON_GetArraySize (cJSON_GetObjectItem (run, "epochs")) == 3, "epochs 0, 1, 2 listed");
  const cJSON *classes = cJSON_GetObjectItem (run, "classes");
  CHECK (cJSON_GetArraySize (classes) == 10 && strcmp (cJSON_GetArrayItem (classes, 0)->valuestring, "T-shirt/top") == 0,
         "Fashion-MNIST class names");
  const cJSON *mean = cJSON_GetObjectItem (cJSON_GetObjectItem (run, "input"), "mean");
  const cJSON *std = cJSON_GetObjectItem (cJSON_GetObjectItem (run, "input"), "std");
  double mu = cJSON_GetArrayItem (mean, 0)->valuedouble, sd = cJSON_GetArrayItem (std, 0)->valuedouble;
  CHECK (mu > 0.25 && mu < 0.32 && sd > 0.32 && sd < 0.38, "normalisation of the subset: mean %.4f std %.4f", mu, sd);
  CHECK (isnan (epoch_metric (run, 0, "train_loss")) && epoch_metric (run, 0, "val_accuracy") < 0.3,
         "epoch 0 is the initialisation (val accuracy %.3f)", epoch_metric (run, 0, "val_accuracy"));
  double acc = epoch_metric (run, 2, "val_accuracy"), loss1 = epoch_metric (run, 1, "train_loss");
  double loss2 = epoch_metric (run, 2, "train_loss");
  CHECK (acc >= 0.6 && acc <= 0.9, "validation accuracy after 2 epochs %.3f in [0.6, 0.9]", acc);
  CHECK (loss2 < loss1, "training loss falls: %.4f then %.4f", loss1, loss2);
  CHECK (access (sub ("a", "model.json"), R_OK) == 0 && access (sub ("a", "checkpoints/epoch-0000.safetensors"), R_OK) == 0
         && access (sub ("a", "checkpoints/epoch-0002.safetensors"), R_OK) == 0, "model.json and checkpoints written");
  CHECK (access (sub ("a", "checkpoints/optimizer-0001-momentum_buffer.safetensors"), F_OK) != 0
         && access (sub ("a", "checkpoints/optimizer-0002-momentum_buffer.safetensors"), R_OK) == 0,
         "only the last epoch's optimizer state is kept");
  cs_model *m = cs_model_load (sub ("a", NULL), NULL, &err);
  CHECK (m != NULL && m->n_classes == 10, "the run loads as a MODEL: %s", m == NULL ? err.message : "");
  cs_model_free (m);

  /* A new run refuses to overwrite one. */
  st = cs_train_run (&o, NULL, &last, &err);
  CHECK (st == CS_ERR_ARGUMENT && strstr (err.message, "already holds a run") != NULL, "%s", err.message);
  cJSON_Delete (run);
}

/* Interrupted half-way through epoch 2, resumed: equal to the run that was never stopped. */
static void
test_resume (cs_optimizer_kind kind, const char *whole, int64_t n_train)
{
  cs_error err = { 0 };
  int32_t last = -1;
  char stopped[64];
  snprintf (stopped, sizeof stopped, "%s-stopped", whole);
  char kname[64];
  snprintf (kname, sizeof kname, "%s (%s)", cs_optimizer_kind_name (kind), whole);
  cs_train_options o = options (sub (whole, NULL), kind, n_train);
  if (access (sub (whole, "run.json"), R_OK) != 0)
    {
      cs_status st = cs_train_run (&o, NULL, &last, &err);
      CHECK (st == CS_OK, "%s: uninterrupted run: %s", kname, err.message);
    }
  o.out = sub (stopped, NULL);
  stopper s = { .stop_epoch = 2 };
  cs_train_callbacks cb = { .batch = stop_midway, .user = &s, .cancel = &s.cancel };
  cs_status st = cs_train_run (&o, &cb, &last, &err);
  CHECK (st == CS_ERR_CANCELLED && last == 1, "%s: cancelled in epoch 2, complete up to epoch %d: %s", kname, last,
         err.message);
  cJSON *run = load_run (sub (stopped, NULL));
  CHECK (run != NULL && cJSON_GetArraySize (cJSON_GetObjectItem (run, "epochs")) == 2,
         "%s: the interrupted run is valid and lists epochs 0 and 1", kname);
  cJSON_Delete (run);
  CHECK (access (sub (stopped, "checkpoints/epoch-0002.safetensors"), F_OK) != 0, "%s: no partial epoch 2", kname);
  /* Determinism: the same seed gives the same bytes. */
  for (int e = 0; e <= 1; e++)
    {
      char name[64];
      snprintf (name, sizeof name, "checkpoints/epoch-%04d.safetensors", e);
      CHECK (same_file (sub (whole, name), sub (stopped, name)), "%s: same seed, %s identical", kname, name);
    }

  cs_train_options r = cs_train_options_default ();
  r.out = sub (stopped, NULL);
  r.epochs = 2;
  r.resume = true;
  err.message[0] = '\0';
  st = cs_train_run (&r, NULL, &last, &err);
  CHECK (st == CS_OK && last == 2, "%s: resumed to epoch 2: %s", kname, err.message);
  CHECK (same_file (sub (whole, "checkpoints/epoch-0002.safetensors"), sub (stopped, "checkpoints/epoch-0002.safetensors")),
         "%s: resumed epoch 2 identical to the uninterrupted one", kname);
  cJSON *a = load_run (sub (whole, NULL)), *b = load_run (sub (stopped, NULL));
  CHECK (epoch_metric (a, 2, "val_loss") == epoch_metric (b, 2, "val_loss")
         && epoch_metric (a, 2, "train_loss") == epoch_metric (b, 2, "train_loss"),
         "%s: resumed metrics equal", kname);
  cJSON_Delete (a);
  cJSON_Delete (b);
  /* Nothing left to do: resuming a finished run writes nothing and succeeds. */
  st = cs_train_run (&r, NULL, &last, &err);
  CHECK (st == CS_OK && last == 2, "%s: resuming a finished run is a no-op", kname);

  /* A truncated last checkpoint stops a resume with an error naming it, and writes nothing. */
  if (kind == CS_OPTIMIZER_SGD)
    {
      const char *ck = sub (stopped, "checkpoints/epoch-0002.safetensors");
      uint8_t *data;
      size_t size;
      cs_file_read_all (ck, 1 << 28, &data, &size, NULL);
      cs_file_write_all (ck, data, size / 2, NULL);
      free (data);
      r.epochs = 3;
      st = cs_train_run (&r, NULL, &last, &err);
      CHECK (st != CS_OK && strstr (err.message, "epoch-0002.safetensors") != NULL,
             "truncated checkpoint: %s", err.message);
      CHECK (access (sub (stopped, "checkpoints/epoch-0003.safetensors"), F_OK) != 0, "and no epoch 3");
    }
}

int
main (void)
{
  cs_dataset ds;
  cs_error err = { 0 };
  if (cs_dataset_open ("fashion-mnist", &ds, &err) != CS_OK)
    TEST_SKIP_ALL ("%s", err.message);
  cs_dataset_free (&ds);
  if (mkdtemp (dir) == NULL)
    TEST_SKIP_ALL ("cannot create a temporary directory");
  /* One thread: the suite stays fast on a busy machine (the ops' own tests check that their
   * results do not depend on the thread count). */
  cs_threads_set (1);
  snprintf (arch, sizeof arch, "%s/arch.json", dir);
  cs_file_write_all (arch, arch_json, strlen (arch_json), &err);
  snprintf (arch_split, sizeof arch_split, "%s/arch-split.json", dir);
  cs_file_write_all (arch_split, arch_split_json, strlen (arch_split_json), &err);

  test_sgd_runs ();
  test_resume (CS_OPTIMIZER_SGD, "a", 2000);
  test_resume (CS_OPTIMIZER_ADAM, "adam", 600);

  /* Two threads and a model without batch norm: the batch split in two slices, with dropout
   * masks per slice; still the same bytes for the same seed, and resume equal. */
  cs_threads_set (2);
  arch_used = arch_split;
  test_resume (CS_OPTIMIZER_SGD, "split", 600);

  char cmd[700];
  snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system (cmd) != 0)
    TEST_NOTE ("could not remove %s", dir);
  return test_done ();
}

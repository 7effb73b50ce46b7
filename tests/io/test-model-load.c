/* cs_model_load: run directories (epochs, normalisation, classes), run.json, model.json with
 * seeded initialisation, --weights, and the errors of each. */
#include <math.h>

#include "io/io-config.h"
#include "io/model_json.h"
#include "io/model_load.h"
#include "io/run.h"
#include "io/safetensors.h"
#include "iotest.h"
#include "testlib.h"

static char *dir;

static void
write_text (const char *name, const char *text)
{
  write_bytes (join (dir, name), text, strlen (text));
}

static bool
same_weights (const cs_model *a, const cs_model *b)
{
  for (int32_t p = 0; p < a->graph->n_params; p++)
    if (memcmp (a->weights[p].data, b->weights[p].data,
                sizeof (float) * (size_t) cs_tensor_numel (&a->weights[p])) != 0)
      return false;
  return true;
}

#define RUN_HEAD "{\"format\":\"convscope-run/1\",\"name\":\"t\",\"model\":\"model.json\","

int
main (void)
{
  cs_error err = { 0 };
  dir = scratch_dir ();
  mkdir (join (dir, "checkpoints"), 0755);
  size_t size;
  uint8_t *model_text = read_bytes (data_path ("small-model.json"), &size);
  write_bytes (join (dir, "model.json"), model_text, size);
  free (model_text);

  /* three checkpoints of different weights */
  cs_model *ck[3];
  for (int e = 0; e < 3; e++)
    {
      char name[64];
      ck[e] = cs_model_json_load (join (dir, "model.json"), 100 + (uint64_t) e, &err);
      snprintf (name, sizeof name, "checkpoints/epoch-%04d.safetensors", e);
      CHECK (ck[e] != NULL && cs_safetensors_save (ck[e], join (dir, name), &err) == CS_OK,
             "checkpoint %d written", e);
    }
  write_text ("run.json", RUN_HEAD "\"input\":{\"channels\":3,\"height\":8,\"width\":8,"
              "\"mean\":[0.5,0.25,0.125],\"std\":[2,4,8]},\"classes\":[\"a\",\"b\",\"c\",\"d\",\"e\"],"
              "\"dataset\":{\"name\":\"x\"},\"train\":{\"seed\":1},\"epochs\":["
              "{\"epoch\":0,\"checkpoint\":\"checkpoints/epoch-0000.safetensors\"},"
              "{\"epoch\":1,\"checkpoint\":\"checkpoints/epoch-0001.safetensors\",\"train_loss\":1.5,\"val_accuracy\":0.75},"
              "{\"epoch\":2,\"checkpoint\":\"checkpoints/epoch-0002.safetensors\",\"train_loss\":1.25,\"val_loss\":null}]}");

  cs_run *run = cs_run_load (dir, &err);
  CHECK (run != NULL && run->n_epochs == 3 && run->epochs[1].train_loss == 1.5
         && run->epochs[1].val_accuracy == 0.75 && isnan (run->epochs[2].val_loss)
         && isnan (run->epochs[0].train_loss) && run->n_classes == 5 && run->channels == 3
         && run->std[2] == 8.0f && strcmp (run->name, "t") == 0
         && run->train_json != NULL && strstr (run->train_json, "seed") != NULL
         && strstr (run->epochs[2].checkpoint, dir) == run->epochs[2].checkpoint,
         "run.json parsed, paths resolved against the run directory");
  CHECK (run != NULL && cs_run_epoch_index (run, -1) == 2 && cs_run_epoch_index (run, 1) == 1
         && cs_run_epoch_index (run, 5) == -1, "epoch lookup");
  cs_run_free (run);

  cs_model *m = cs_model_load (dir, NULL, &err);
  CHECK (m != NULL && same_weights (m, ck[2]), "a run directory loads its last epoch (%s)",
         m ? "ok" : err.message);
  CHECK (m != NULL && m->has_normalization && m->mean[1] == 0.25f && m->std[2] == 8.0f
         && m->n_classes == 5 && m->classes != NULL && strcmp (m->classes[4], "e") == 0,
         "mean, std and classes from run.json");
  cs_model_free (m);
  cs_load_options o = CS_LOAD_OPTIONS_DEFAULT;
  o.epoch = 1;
  m = cs_model_load (join (dir, "run.json"), &o, &err);
  CHECK (m != NULL && same_weights (m, ck[1]), "run.json path, --epoch 1");
  cs_model_free (m);
  o.epoch = 7;
  m = cs_model_load (dir, &o, &err);
  CHECK (m == NULL && err.code == CS_ERR_ARGUMENT && strstr (err.message, "no epoch 7") != NULL
         && strstr (err.message, "0 to 2") != NULL, "missing epoch: %s", err.message);

  /* model.json: seeded initialisation, then --weights */
  o = CS_LOAD_OPTIONS_DEFAULT;
  o.init_seed = 101;
  m = cs_model_load (join (dir, "model.json"), &o, &err);
  CHECK (m != NULL && same_weights (m, ck[1]) && !m->has_normalization, "model.json with init_seed");
  cs_model_free (m);
  o.weights = join (dir, "checkpoints/epoch-0002.safetensors");
  m = cs_model_load (join (dir, "model.json"), &o, &err);
  CHECK (m != NULL && same_weights (m, ck[2]), "--weights laid over model.json");
  cs_model_free (m);
  o.weights = join (dir, "nope.safetensors");
  m = cs_model_load (join (dir, "model.json"), &o, &err);
  CHECK (m == NULL && err.code == CS_ERR_IO && strstr (err.message, "nope.safetensors") != NULL,
         "missing --weights: %s", err.message);

  /* errors */
  const char *missing = join (dir, "missing.onnx");
  m = cs_model_load (missing, NULL, &err);
  CHECK (m == NULL && err.code == CS_ERR_IO && strstr (err.message, "no such file") != NULL
         && names_file (&err, missing), "nonexistent path: %s", err.message);
  write_text ("model.txt", "hello");
  m = cs_model_load (join (dir, "model.txt"), NULL, &err);
  CHECK (m == NULL && err.code == CS_ERR_UNSUPPORTED, "unknown extension: %s", err.message);
#if !CS_HAVE_ONNX
  write_text ("m.onnx", "x");
  m = cs_model_load (join (dir, "m.onnx"), NULL, &err);
  CHECK (m == NULL && err.code == CS_ERR_UNSUPPORTED, "no ONNX in this build: %s", err.message);
#endif
  static const struct {
    const char *text;
    cs_status code;
    const char *message;
  } bad[] = {
    { "{\"format\":\"convscope-run/9\",\"model\":\"model.json\"}", CS_ERR_FORMAT, "convscope-run/1" },
    { "[1]", CS_ERR_FORMAT, "not a JSON object" },
    { RUN_HEAD "\"epochs\":[]}", CS_ERR_FORMAT, "no epochs" },
    { RUN_HEAD "\"epochs\":[{\"epoch\":1,\"checkpoint\":\"checkpoints/epoch-0001.safetensors\"},{\"epoch\":1,\"checkpoint\":\"x\"}]}", CS_ERR_FORMAT, "does not follow" },
    { RUN_HEAD "\"epochs\":[{\"epoch\":0}]}", CS_ERR_FORMAT, "checkpoint" },
    { RUN_HEAD "\"epochs\":[{\"epoch\":0,\"checkpoint\":\"gone.safetensors\"}]}", CS_ERR_IO, "gone.safetensors: no such file" },
    { RUN_HEAD "\"input\":{\"channels\":1,\"height\":8,\"width\":8},\"epochs\":[{\"epoch\":0,\"checkpoint\":\"checkpoints/epoch-0000.safetensors\"}]}", CS_ERR_SHAPE, "input is 1x8x8" },
    { RUN_HEAD "\"input\":{\"channels\":3,\"height\":8,\"width\":8,\"mean\":[0,0],\"std\":[1,1]},\"epochs\":[]}", CS_ERR_FORMAT, "mean and std need 3" },
    { RUN_HEAD "\"input\":{\"channels\":3,\"height\":8,\"width\":8,\"mean\":[0,0,0],\"std\":[1,0,1]},\"epochs\":[]}", CS_ERR_FORMAT, "std positive" },
    { RUN_HEAD "\"classes\":[\"a\"],\"epochs\":[{\"epoch\":0,\"checkpoint\":\"checkpoints/epoch-0000.safetensors\"}]}", CS_ERR_SHAPE, "class labels" },
    { RUN_HEAD "\"classes\":[1,2],\"epochs\":[]}", CS_ERR_FORMAT, "classes[0]" },
    { "{\"format\":\"convscope-run/1\",\"model\":\"other.json\",\"epochs\":[]}", CS_ERR_IO, "other.json: no such file" },
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      write_text ("run.json", bad[i].text);
      err.code = CS_OK;
      m = cs_model_load (dir, NULL, &err);
      CHECK (m == NULL && err.code == bad[i].code && strstr (err.message, bad[i].message) != NULL,
             "bad run %zu: %s", i, err.message);
      cs_model_free (m);
    }
  write_text ("run.json", RUN_HEAD "\"epochs\":[{\"epoch\":0,\"checkpoint\":\"checkpoints/epoch-0000.safetensors\"}]");
  m = cs_model_load (dir, NULL, &err);
  CHECK (m == NULL && err.code == CS_ERR_FORMAT && strstr (err.message, "run.json") != NULL,
         "truncated run.json: %s", err.message);
  remove (join (dir, "run.json"));
  m = cs_model_load (dir, NULL, &err);
  CHECK (m == NULL && err.code == CS_ERR_IO && strstr (err.message, "run.json: no such file") != NULL,
         "a directory without run.json: %s", err.message);

  for (int e = 0; e < 3; e++)
    cs_model_free (ck[e]);
  remove_tree (dir);
  return test_done ();
}

/* The synthetic run of the analysis tests (see synthetic-run.h). */
#include "synthetic-run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/rng.h"
#include "io/atomic_file.h"
#include "io/model_json.h"
#include "io/safetensors.h"
#include "testlib.h"

static const double train_loss[SYNTH_EPOCHS] = { 2.3, 1.1, 0.7, 0.5, 0.35, 0.25, 0.15, 0.1 };
static const double val_loss[SYNTH_EPOCHS] = { 2.3, 1.2, 0.8, 0.7, 0.75, 0.8, 0.9, 1.0 };
/* The size of each epoch's step: a fast phase, then a plateau, so that the weight rule sees an
 * onset too. */
static const double step[SYNTH_EPOCHS] = { 0, 0.4, 0.2, 0.04, 0.036, 0.034, 0.033, 0.033 };

void
synth_write_text (const char *dir, const char *name, const char *text)
{
  char path[512];
  snprintf (path, sizeof path, "%s/%s", dir, name);
  cs_error err = { 0 };
  CHECK (cs_file_write_all (path, text, strlen (text), &err) == CS_OK, "wrote %s %s", name,
         err.message);
}

void
synth_run_write_run_json (const char *dir, const char *classes_json)
{
  char buf[8192];
  size_t len = (size_t) snprintf (buf, sizeof buf,
    "{\"format\": \"convscope-run/1\", \"name\": \"synthetic\", \"model\": \"model.json\",\n"
    " \"input\": {\"channels\": 1, \"height\": 6, \"width\": 6, \"mean\": [0.5], \"std\": [0.25]},\n"
    " \"classes\": %s, \"epochs\": [", classes_json);
  for (int e = 0; e < SYNTH_EPOCHS; e++)
    len += (size_t) snprintf (buf + len, sizeof buf - len,
      "%s\n  {\"epoch\": %d, \"checkpoint\": \"checkpoints/epoch-%04d.safetensors\", "
      "\"train_loss\": %g, \"train_accuracy\": 0.5, \"val_loss\": %g, \"val_accuracy\": 0.4, "
      "\"learning_rate\": 0.1, \"seconds\": 1.5}", e ? "," : "", e, e, train_loss[e], val_loss[e]);
  snprintf (buf + len, sizeof buf - len, "]}\n");
  synth_write_text (dir, "run.json", buf);
}

cs_model *
synth_run_build (char dir[256], float *saved[SYNTH_EPOCHS][2], const char *classes_json)
{
  snprintf (dir, 256, "/tmp/cs-analysis-XXXXXX");
  CHECK (mkdtemp (dir) != NULL, "temporary run directory");
  char path[512];
  snprintf (path, sizeof path, "%s/checkpoints", dir);
  mkdir (path, 0755);
  synth_write_text (dir, "model.json",
    "{\"format\": \"convscope-model/1\", \"input\": [1, 6, 6], \"nodes\": [\n"
    " {\"name\": \"conv1\", \"op\": \"conv2d\", \"out_channels\": 4, \"kernel\": 3, \"padding\": 1},\n"
    " {\"name\": \"relu1\", \"op\": \"relu\"},\n"
    " {\"name\": \"flat\", \"op\": \"flatten\"},\n"
    " {\"name\": \"fc\", \"op\": \"linear\", \"out_features\": 3}]}\n");
  snprintf (path, sizeof path, "%s/model.json", dir);
  cs_error err = { 0 };
  cs_model *m = cs_model_json_load (path, 42, &err);
  CHECK (m != NULL, "model.json loads (%s)", err.message);
  if (m == NULL)
    return NULL;
  int32_t pc = cs_model_param_index (m, "conv1.weight"), pf = cs_model_param_index (m, "fc.weight");
  cs_rng rng;
  cs_rng_seed (&rng, 3);
  for (int e = 0; e < SYNTH_EPOCHS; e++)
    {
      if (e > 0)
        for (int32_t p = 0; p < m->graph->n_params; p++)
          {
            cs_tensor *t = &m->weights[p];
            for (int64_t i = 0; i < cs_tensor_numel (t); i++)
              t->data[i] += (float) (cs_rng_normal (&rng) * step[e]);
          }
      snprintf (path, sizeof path, "%s/checkpoints/epoch-%04d.safetensors", dir, e);
      CHECK (cs_safetensors_save (m, path, &err) == CS_OK, "checkpoint %d saved (%s)", e,
             err.message);
      int32_t ps[2] = { pc, pf };
      for (int k = 0; saved != NULL && k < 2; k++)
        {
          int64_t n = cs_tensor_numel (&m->weights[ps[k]]);
          saved[e][k] = malloc ((size_t) n * sizeof (float));
          memcpy (saved[e][k], m->weights[ps[k]].data, (size_t) n * sizeof (float));
        }
    }
  synth_run_write_run_json (dir, classes_json);
  return m;
}

char *
synth_slurp (const char *path)
{
  uint8_t *d;
  size_t n;
  if (cs_file_read_all (path, 1 << 26, &d, &n, NULL) != CS_OK)
    return strdup ("");
  char *s = malloc (n + 1);
  memcpy (s, d, n);
  s[n] = '\0';
  free (d);
  return s;
}

int
synth_run_cli (const char *dir, const char *prog, const char *subcommand, const char *args,
               char **out, char **errtext)
{
  char cmd[2048], po[512], pe[512];
  snprintf (po, sizeof po, "%s.out", dir);
  snprintf (pe, sizeof pe, "%s.err", dir);
  snprintf (cmd, sizeof cmd, "'%s' %s %s >'%s' 2>'%s'", prog, subcommand, args, po, pe);
  int st = system (cmd);
  *out = synth_slurp (po);
  *errtext = synth_slurp (pe);
  unlink (po);
  unlink (pe);
  return WIFEXITED (st) ? WEXITSTATUS (st) : -1;
}

bool
synth_one_error_line (const char *e)
{
  const char *nl = strchr (e, '\n');
  return strncmp (e, "convscope-cli: error: ", 22) == 0 && nl != NULL && nl[1] == '\0';
}

void
synth_run_remove (const char *dir)
{
  /* CS_KEEP_RUN=1 keeps the synthetic run for a look at it. */
  char cmd[512];
  snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (getenv ("CS_KEEP_RUN") != NULL)
    TEST_NOTE ("kept %s", dir);
  else if (system (cmd) != 0)
    TEST_NOTE ("could not remove %s", dir);
}

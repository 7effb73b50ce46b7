/* Fuzz target: analysis.json, the weight-statistics cache of a run directory, read through
 * cs_run_stats_load against a real run. The cache is only parsed when its "key" matches the run
 * (sizes and mtimes of the files), which no mutation would guess: the placeholder "@KEY@" in an
 * input is replaced by the run's actual key. The run is tiny (a 2-filter conv and a linear
 * layer, 3 epochs, in memory-backed storage when available) so that the recomputation a rejected
 * cache triggers stays cheap. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/run_stats.h"
#include "io/atomic_file.h"
#include "io/model_json.h"
#include "io/run.h"
#include "training/run_writer.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const char model_text[] =
  "{\"format\": \"convscope-model/1\", \"input\": [1, 6, 6], \"nodes\": ["
  "{\"name\":\"conv\",\"op\":\"conv2d\",\"out_channels\":2,\"kernel\":3},"
  "{\"name\":\"relu\",\"op\":\"relu\"},{\"name\":\"flat\",\"op\":\"flatten\"},"
  "{\"name\":\"fc\",\"op\":\"linear\",\"out_features\":3}]}";

static char dir[256], cache[300];
static cs_run *run;
static char *key_text;

static void
die (const char *what, const cs_error *err)
{
  fprintf (stderr, "fuzz-analysis-json: %s: %s\n", what, err != NULL ? err->message : "");
  abort ();
}

static void
remove_tree (const char *path)
{
  char cmd[640];
  snprintf (cmd, sizeof cmd, "rm -rf '%s'", path);
  if (system (cmd) != 0)
    fprintf (stderr, "fuzz-analysis-json: could not remove %s\n", path);
}

static void
remove_run (void)
{
  char *slash = strrchr (dir, '/');
  if (slash != NULL)
    *slash = '\0'; /* the mkdtemp directory, not only the run in it */
  remove_tree (dir);
}

/* libFuzzer ends with _Exit, past atexit: remove what runs whose process is gone left behind
 * (named fuzz-analysis-PID-XXXXXX). */
static void
remove_stale (const char *base)
{
  DIR *d = opendir (base);
  struct dirent *e;
  while (d != NULL && (e = readdir (d)) != NULL)
    {
      char *end;
      if (strncmp (e->d_name, "fuzz-analysis-", 14) != 0)
        continue;
      long pid = strtol (e->d_name + 14, &end, 10);
      if (end[0] == '-' && pid > 0 && kill ((pid_t) pid, 0) != 0 && errno == ESRCH)
        {
          char path[300];
          snprintf (path, sizeof path, "%s/%s", base, e->d_name);
          remove_tree (path);
        }
    }
  if (d != NULL)
    closedir (d);
}

/* Writes the run once per process, computes its statistics once (which writes analysis.json)
 * and keeps the key that file holds. */
static void
setup (void)
{
  cs_error err = { 0 };
  const char *base = access ("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  remove_stale (base);
  snprintf (dir, sizeof dir, "%s/fuzz-analysis-%ld-XXXXXX", base, (long) getpid ());
  if (mkdtemp (dir) == NULL)
    die ("mkdtemp", NULL);
  atexit (remove_run);
  snprintf (dir + strlen (dir), sizeof dir - strlen (dir), "/run");
  cs_graph *g = cs_model_json_parse (model_text, strlen (model_text), "model.json", &err);
  cs_model *m = g != NULL ? cs_model_new (g, &err) : NULL;
  cs_graph_unref (g);
  if (m == NULL)
    die ("model", &err);
  float mean = 0.5f, std = 0.25f;
  static const char *const classes[] = { "a", "b", "c" };
  cs_run_header h = { .name = "fuzz", .channels = 1, .height = 6, .width = 6, .mean = &mean,
                      .std = &std, .n_classes = 3, .classes = classes };
  cs_run_writer *w = cs_run_writer_create (dir, m->graph, &h, &err);
  if (w == NULL)
    die ("run", &err);
  for (int32_t e = 0; e < 3; e++)
    {
      cs_model_init_weights (m, 1 + (uint64_t) e);
      cs_run_metrics mt = { e, 1.0 / (e + 1), 0.5, 1.0 / (e + 1), 0.5, 0.1, 0.01 };
      if (cs_run_writer_add_epoch (w, m, NULL, &mt, &err) != CS_OK)
        die ("epoch", &err);
    }
  cs_run_writer_free (w);
  cs_model_free (m);
  if ((run = cs_run_load (dir, &err)) == NULL)
    die ("run.json", &err);
  cs_run_stats *s = cs_run_stats_load (run, NULL, &err);
  if (s == NULL)
    die ("statistics", &err);
  cs_run_stats_free (s);
  snprintf (cache, sizeof cache, "%s/%s", dir, CS_ANALYSIS_FILE);
  uint8_t *text;
  size_t n;
  if (cs_file_read_all (cache, (size_t) 1 << 24, &text, &n, &err) != CS_OK)
    die ("analysis.json", &err);
  cJSON *doc = cJSON_ParseWithLength ((const char *) text, n);
  key_text = cJSON_PrintUnformatted (cJSON_GetObjectItemCaseSensitive (doc, "key"));
  /* CS_FUZZ_SEED_OUT=FILE writes the computed cache, key replaced by the placeholder: how the
   * committed seed was made. */
  const char *seed = getenv ("CS_FUZZ_SEED_OUT");
  if (seed != NULL && doc != NULL)
    {
      cJSON_ReplaceItemInObjectCaseSensitive (doc, "key", cJSON_CreateString ("@KEY@"));
      char *out = cJSON_PrintUnformatted (doc);
      if (out == NULL || cs_file_write_all (seed, out, strlen (out), &err) != CS_OK)
        die ("seed", &err);
      free (out);
    }
  cJSON_Delete (doc);
  free (text);
  if (key_text == NULL)
    die ("no key in analysis.json", NULL);
}

/* The input with every "@KEY@" replaced by the run's key. */
static char *
substitute (const uint8_t *data, size_t size, size_t *out_size)
{
  static const char mark[] = "\"@KEY@\"";
  size_t mlen = sizeof mark - 1, klen = strlen (key_text), count = 0;
  for (size_t i = 0; i + mlen <= size; i++)
    if (memcmp (data + i, mark, mlen) == 0)
      count++;
  char *out = malloc (size + count * klen + 1);
  size_t o = 0;
  for (size_t i = 0; out != NULL && i < size;)
    if (i + mlen <= size && memcmp (data + i, mark, mlen) == 0)
      {
        memcpy (out + o, key_text, klen);
        o += klen;
        i += mlen;
      }
    else
      out[o++] = (char) data[i++];
  *out_size = o;
  return out;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (run == NULL)
    setup ();
  size_t n;
  char *text = substitute (data, size, &n);
  cs_error err = { 0 };
  if (text == NULL || cs_file_write_all (cache, text, n, &err) != CS_OK)
    die ("write analysis.json", &err);
  free (text);
  /* Whatever the cache holds, the statistics come back whole: read from it or recomputed. */
  cs_run_stats *s = cs_run_stats_load (run, NULL, &err);
  if (s == NULL)
    die ("a damaged cache made the run unreadable", &err);
  if (s->n_epochs != run->n_epochs || s->n_layers != 2)
    abort ();
  for (int32_t e = 0; e < s->n_epochs; e++)
    if (s->epochs[e] != run->epochs[e].epoch)
      abort ();
  for (int32_t i = 0; i < s->n_layers; i++)
    if (s->layers[i].n_filters != (i == 0 ? 2 : 3))
      abort ();
  cs_run_stats_free (s);
  return 0;
}

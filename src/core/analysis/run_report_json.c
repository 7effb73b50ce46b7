/* The run-info JSON document (convscope-run-info/1): run-info --json and the app's export. */
#include "analysis/run_analysis.h"

#include <cjson/cJSON.h>

#include "io/json_number.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define REPORT_FORMAT "convscope-run-info/1"

static cJSON *
series_json (const double *v, int32_t n)
{
  cJSON *a = cJSON_CreateArray ();
  for (int32_t i = 0; a != NULL && i < n; i++)
    cJSON_AddItemToArray (a, cs_json_number (v[i]));
  return a;
}

static cJSON *
epoch_or_null (const cs_run_analysis *a, int32_t index)
{
  return index >= 0 ? cJSON_CreateNumber (cs_run_analysis_epoch (a, index)) : cJSON_CreateNull ();
}

/* The epochs exactly as run.json has them (every field its writer recorded), and for an
 * unavailable checkpoint the reason. */
static cJSON *
epochs_json (const cs_run_analysis *a)
{
  const cs_run *run = a->run;
  cJSON *epochs = run->epochs_json != NULL ? cJSON_Parse (run->epochs_json) : cJSON_CreateArray ();
  if (!cJSON_IsArray (epochs) || cJSON_GetArraySize (epochs) != run->n_epochs)
    {
      cJSON_Delete (epochs);
      return NULL;
    }
  int32_t e = 0;
  cJSON *o;
  cJSON_ArrayForEach (o, epochs)
    {
      const char *why = cs_run_analysis_checkpoint_error (a, e++);
      cJSON_DeleteItemFromObjectCaseSensitive (o, "checkpoint_error");
      if (why != NULL)
        cJSON_AddStringToObject (o, "checkpoint_error", why);
    }
  return epochs;
}

static cJSON *
overfitting_json (const cs_run_analysis *a)
{
  int32_t n = a->run->n_epochs;
  cJSON *of = cJSON_CreateObject ();
  cJSON_AddItemToObject (of, "by_validation", epoch_or_null (a, a->by_validation));
  cJSON_AddItemToObject (of, "by_weights", epoch_or_null (a, a->by_weights.index));
  cJSON_AddItemToObject (of, "agreement",
                         a->by_validation >= 0 && a->by_weights.index >= 0
                           ? cJSON_CreateNumber (cs_run_analysis_epoch (a, a->by_weights.index)
                                                 - cs_run_analysis_epoch (a, a->by_validation))
                           : cJSON_CreateNull ());
  cJSON_AddItemToObject (of, "generalization_gap", series_json (a->gap, n));
  cJSON_AddItemToObject (of, "weight_signal", series_json (a->weight_signal, n));
  cJSON_AddStringToObject (of, "explanation", a->explanation);
  if (a->early_auroc != NULL)
    cJSON_AddItemToObject (of, "early_auroc", series_json (a->early_auroc, n));
  return of;
}

char *
cs_run_report_json (const cs_run_analysis *a, cs_error *err)
{
  cJSON *epochs = epochs_json (a);
  if (epochs == NULL)
    {
      cs_error_set (err, CS_ERR_FORMAT, "%s: its epochs could not be read back", a->run->path);
      return NULL;
    }
  cJSON *doc = cJSON_CreateObject ();
  cJSON_AddStringToObject (doc, "format", REPORT_FORMAT);
  cJSON_AddItemToObject (doc, "name", a->run->name != NULL ? cJSON_CreateString (a->run->name)
                                                          : cJSON_CreateNull ());
  cJSON_AddItemToObject (doc, "epochs", epochs);
  cJSON *layers = cJSON_AddArrayToObject (doc, "layers");
  for (int32_t l = 0; l < a->stats->n_layers; l++)
    cJSON_AddItemToArray (layers, cs_layer_series_json (&a->stats->layers[l], a->stats->n_epochs));
  cJSON_AddItemToObject (doc, "overfitting", overfitting_json (a));
  char *text = cJSON_Print (doc);
  cJSON_Delete (doc);
  size_t len = text != NULL ? strlen (text) : 0;
  char *out = text != NULL ? malloc (len + 2) : NULL;
  if (out == NULL)
    {
      cJSON_free (text);
      cs_error_set (err, CS_ERR_MEMORY, "out of memory for the run-info JSON");
      return NULL;
    }
  memcpy (out, text, len);
  out[len] = '\n';
  out[len + 1] = '\0';
  cJSON_free (text);
  return out;
}

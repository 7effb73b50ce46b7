/* `convscope-cli predict MODEL INPUT...`: logits, probabilities and the top classes of each input. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-commands.h"
#include "base/softmax.h"
#include "cli-common.h"
#include "exec/exec.h"

enum { OPT_TOP = CLI_OPT_FIRST_COMMAND };

static const cli_option predict_options[] = {
  { "top", true, OPT_TOP },
  { NULL, false, 0 },
};

/* Indices of the k largest probabilities, in decreasing order (ties: lower index first). */
static void
top_k (const float *p, int32_t n, int32_t k, int32_t *idx)
{
  for (int32_t j = 0; j < k; j++)
    {
      int32_t best = -1;
      for (int32_t i = 0; i < n; i++)
        {
          bool taken = false;
          for (int32_t t = 0; t < j && !taken; t++)
            taken = idx[t] == i;
          if (!taken && (best < 0 || p[i] > p[best]))
            best = i;
        }
      idx[j] = best;
    }
}

int
cli_cmd_predict (int argc, char **argv)
{
  cli_args args;
  int code = cli_parse (argc, argv, "predict", predict_options, &args);
  if (code != CLI_EXIT_OK)
    return code;
  if (args.values[CLI_OPT_HELP])
    {
      cli_command_usage ("predict");
      return CLI_EXIT_OK;
    }
  if (args.n_positional < 2)
    return cli_error (CLI_EXIT_USAGE, "predict", args.n_positional ? _("missing INPUT") : _("missing MODEL and INPUT"));
  int64_t k = 5;
  if ((code = cli_get_int (&args, OPT_TOP, "--top", 1, 1000000, &k)) != CLI_EXIT_OK
      || (code = cli_apply_threads (&args)) != CLI_EXIT_OK)
    return code;

  const char *model_path = args.positional[0];
  cs_model *m = cli_load_model (&args, model_path, &code);
  if (m == NULL)
    return code;
  cli_norm norm;
  if ((code = cli_get_norm (&args, m, &norm)) != CLI_EXIT_OK)
    {
      cs_model_free (m);
      return code;
    }

  int n_inputs = args.n_positional - 1;
  int32_t classes = m->n_classes;
  if (k > classes)
    k = classes;
  cs_error err = { 0 };
  cs_exec *e = cs_exec_new (m, 1, &err);
  float *logits = calloc ((size_t) n_inputs * (size_t) (classes > 0 ? classes : 1), sizeof (float));
  if (e == NULL || logits == NULL)
    {
      code = e == NULL ? cli_fail (model_path, &err) : cli_error (CLI_EXIT_FAILURE, model_path, _("out of memory"));
      goto out;
    }
  /* Everything is computed before anything is printed, so a bad input prints no partial result. */
  for (int i = 0; i < n_inputs; i++)
    {
      const char *path = args.positional[i + 1];
      cs_tensor x = { 0 };
      if ((code = cli_load_input (path, m, &norm, &x)) != CLI_EXIT_OK)
        goto out;
      if (cs_exec_forward (e, &x, &err) != CS_OK)
        {
          cs_tensor_free (&x);
          code = cli_fail (path, &err);
          goto out;
        }
      cs_tensor_free (&x);
      const cs_tensor *y = cs_exec_value (e, m->graph->output_node);
      if ((code = cli_check_output (path, y)) != CLI_EXIT_OK)
        goto out;
      if (y == NULL || cs_tensor_numel (y) != classes)
        {
          code = cli_error (CLI_EXIT_FAILURE, model_path, _("the output has not %d values"), classes);
          goto out;
        }
      memcpy (logits + (size_t) i * classes, y->data, (size_t) classes * sizeof (float));
    }

  float *p = malloc ((size_t) (classes > 0 ? classes : 1) * sizeof (float));
  int32_t *idx = malloc ((size_t) (k > 0 ? k : 1) * sizeof (int32_t));
  cJSON *doc = args.values[CLI_OPT_JSON] ? cJSON_CreateArray () : NULL;
  if (p == NULL || idx == NULL)
    {
      free (p);
      free (idx);
      cJSON_Delete (doc);
      code = cli_error (CLI_EXIT_FAILURE, model_path, _("out of memory"));
      goto out;
    }
  for (int i = 0; i < n_inputs; i++)
    {
      const float *l = logits + (size_t) i * classes;
      cs_softmax (l, classes, p);
      top_k (p, classes, (int32_t) k, idx);
      char buf[16];
      if (doc != NULL)
        {
          cJSON *o = cJSON_CreateObject ();
          cJSON_AddStringToObject (o, "input", args.positional[i + 1]);
          cJSON_AddItemToObject (o, "logits", cJSON_CreateFloatArray (l, classes));
          cJSON_AddItemToObject (o, "probabilities", cJSON_CreateFloatArray (p, classes));
          cJSON *top = cJSON_AddArrayToObject (o, "top");
          for (int32_t j = 0; j < k; j++)
            {
              cJSON *t = cJSON_CreateObject ();
              cJSON_AddNumberToObject (t, "class", idx[j]);
              cJSON_AddStringToObject (t, "label", cli_class_label (m, idx[j], buf));
              cJSON_AddNumberToObject (t, "probability", p[idx[j]]);
              cJSON_AddItemToArray (top, t);
            }
          cJSON_AddItemToArray (doc, o);
        }
      else
        {
          printf ("%s\n", args.positional[i + 1]);
          for (int32_t j = 0; j < k; j++)
            if (m->classes != NULL)
              printf ("  %4d  %-20s  p=%.4f  logit=%.4f\n", idx[j], cli_class_label (m, idx[j], buf),
                      p[idx[j]], l[idx[j]]);
            else
              printf ("  %4d  p=%.4f  logit=%.4f\n", idx[j], p[idx[j]], l[idx[j]]);
        }
    }
  free (p);
  free (idx);
  code = doc != NULL ? cli_print_json (doc) : CLI_EXIT_OK;

out:
  free (logits);
  cs_exec_free (e);
  cs_model_free (m);
  return code;
}

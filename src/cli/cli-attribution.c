/* Shared attribution plumbing for the CLI commands: knobs, layers, method lists, progress. */
#include "cli-attribution.h"

#include "base/softmax.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
cli_resolve_layer (const cs_model *m, const char *name, int32_t *id)
{
  const cs_graph *g = m->graph;
  int32_t n = cs_graph_find (g, name);
  if (n < 0)
    return cli_error (CLI_EXIT_USAGE, "--layer", _("no node '%s' in the model (see `convscope-cli inspect`)"), name);
  const cs_node *node = &g->nodes[n];
  char shape[96];
  if (!node->batched || node->op == CS_OP_INPUT || node->shape.ndim != 4 || node->shape.dim[2] < 2
      || node->shape.dim[3] < 2)
    return cli_error (CLI_EXIT_USAGE, "--layer", _("'%s' is not a spatial layer (output %s): CAM methods "
                      "need a feature map [N,C,H,W] with H, W > 1"), name,
                      cs_shape_format (&node->shape, shape, sizeof shape));
  *id = n;
  return CLI_EXIT_OK;
}

const cli_attr_ids cli_attr_all_ids = {
  .target = CLI_OPT_TARGET, .layer = CLI_OPT_LAYER, .samples = CLI_OPT_SAMPLES, .noise = CLI_OPT_NOISE,
  .steps = CLI_OPT_STEPS, .baseline = CLI_OPT_BASELINE, .seed = CLI_OPT_SEED, .window = CLI_OPT_WINDOW,
  .stride = CLI_OPT_STRIDE, .batch = CLI_OPT_BATCH,
};

int
cli_attr_params (const cli_args *args, const cli_attr_ids *ids, const cs_model *m,
                 cs_attribution_params *p)
{
  static const char *const baselines[] = { "zero", "blur", "uniform", NULL };
  int code;
  int64_t i;
  double d;
  const char *s;
  if (ids->target >= 0 && args->values[ids->target] != NULL
      && strcmp (args->values[ids->target], "auto") != 0)
    {
      i = -1;
      if ((code = cli_get_int (args, ids->target, "--target", 0, INT32_MAX, &i)) != CLI_EXIT_OK)
        return code;
      if (i >= m->n_classes)
        return cli_error (CLI_EXIT_USAGE, "--target", _("class %lld, the model has %d classes (0 to %d)"),
                          (long long) i, m->n_classes, m->n_classes - 1);
      p->target = (int32_t) i;
    }
  if (ids->layer >= 0 && args->values[ids->layer] != NULL
      && (code = cli_resolve_layer (m, args->values[ids->layer], &p->layer)) != CLI_EXIT_OK)
    return code;
  if (ids->samples >= 0 && args->values[ids->samples] != NULL)
    {
      if ((code = cli_get_int (args, ids->samples, "--samples", 1, 1000000, &i)) != CLI_EXIT_OK)
        return code;
      p->samples = (int32_t) i;
    }
  if (ids->noise >= 0 && args->values[ids->noise] != NULL)
    {
      if ((code = cli_get_double (args, ids->noise, "--noise", 0, 1e6, &d)) != CLI_EXIT_OK)
        return code;
      if (d == 0)
        return cli_error (CLI_EXIT_USAGE, "--noise", _("must be positive"));
      p->noise = (float) d;
    }
  if (ids->steps >= 0 && args->values[ids->steps] != NULL)
    {
      if ((code = cli_get_int (args, ids->steps, "--steps", 1, 100000, &i)) != CLI_EXIT_OK)
        return code;
      p->steps = (int32_t) i;
    }
  if (ids->baseline >= 0 && args->values[ids->baseline] != NULL)
    {
      if ((code = cli_get_choice (args, ids->baseline, "--baseline", baselines, &s)) != CLI_EXIT_OK)
        return code;
      p->baseline = strcmp (s, "zero") == 0 ? CS_BASELINE_ZERO
                    : strcmp (s, "blur") == 0 ? CS_BASELINE_BLUR : CS_BASELINE_UNIFORM;
    }
  if (ids->seed >= 0 && args->values[ids->seed] != NULL)
    {
      if ((code = cli_get_int (args, ids->seed, "--seed", 0, INT64_MAX, &i)) != CLI_EXIT_OK)
        return code;
      p->seed = (uint64_t) i;
    }
  if (ids->window >= 0 && args->values[ids->window] != NULL)
    {
      if ((code = cli_get_int (args, ids->window, "--window", 1, 1 << 16, &i)) != CLI_EXIT_OK)
        return code;
      if (i > m->height || i > m->width)
        return cli_error (CLI_EXIT_USAGE, "--window", _("%lld is larger than the %dx%d input"), (long long) i,
                          m->height, m->width);
      p->window = (int32_t) i;
    }
  if (ids->stride >= 0 && args->values[ids->stride] != NULL)
    {
      if ((code = cli_get_int (args, ids->stride, "--stride", 1, 1 << 16, &i)) != CLI_EXIT_OK)
        return code;
      p->stride = (int32_t) i;
    }
  return CLI_EXIT_OK;
}

int
cli_parse_methods (const char *list, const char *option, bool selected[CS_METHOD_COUNT])
{
  for (int k = 0; k < CS_METHOD_COUNT; k++)
    selected[k] = false;
  if (list == NULL || strcmp (list, "all") == 0)
    {
      for (int k = 0; k < CS_METHOD_COUNT; k++)
        selected[k] = true;
      return CLI_EXIT_OK;
    }
  const char *s = list;
  bool any = false;
  while (*s != '\0')
    {
      const char *comma = strchr (s, ',');
      size_t len = comma ? (size_t) (comma - s) : strlen (s);
      char id[64];
      if (len == 0 || len >= sizeof id)
        return cli_error (CLI_EXIT_USAGE, option, _("'%s' is not a comma-separated list of methods"), list);
      memcpy (id, s, len);
      id[len] = '\0';
      cs_method m = cs_method_from_id (id);
      if (m == CS_METHOD_COUNT)
        {
          char all[512] = "";
          for (int k = 0; k < CS_METHOD_COUNT; k++)
            {
              strncat (all, k ? ", " : "", sizeof all - strlen (all) - 1);
              strncat (all, cs_method_id ((cs_method) k), sizeof all - strlen (all) - 1);
            }
          return cli_error (CLI_EXIT_USAGE, option, _("unknown method '%s' (expected all or some of: %s)"), id, all);
        }
      selected[m] = true;
      any = true;
      s += len;
      if (*s == ',')
        s++;
    }
  if (!any)
    return cli_error (CLI_EXIT_USAGE, option, _("no method given"));
  return CLI_EXIT_OK;
}

int
cli_attr_batch (const cli_args *args, const cli_attr_ids *ids, const cs_model *m,
                const bool selected[CS_METHOD_COUNT], int32_t *batch)
{
  int64_t b = 0;
  if (ids->batch >= 0 && args->values[ids->batch] != NULL)
    {
      int code = cli_get_int (args, ids->batch, "--batch", 1, 4096, &b);
      if (code != CLI_EXIT_OK)
        return code;
      *batch = (int32_t) b;
      return CLI_EXIT_OK;
    }
  *batch = 1;
  for (int k = 0; k < CS_METHOD_COUNT; k++)
    if (selected[k])
      {
        int32_t h = cs_attribution_batch_hint (m, (cs_method) k, 0);
        *batch = h > *batch ? h : *batch;
      }
  return CLI_EXIT_OK;
}

static void
show_progress (void *user_data, double fraction)
{
  cli_progress *p = user_data;
  int pct = (int) floor (100 * (fraction < 0 ? 0 : fraction > 1 ? 1 : fraction));
  if (pct == p->last)
    return;
  p->last = pct;
  fprintf (stderr, "\r%s %3d%%", p->label, pct);
  fflush (stderr);
}

void
cli_progress_init (cli_progress *p, const char *label)
{
  memset (p, 0, sizeof *p);
  p->label = label;
  p->last = -1;
  p->active = isatty (STDERR_FILENO) == 1;
  p->progress.progress = p->active ? show_progress : NULL;
  p->progress.user_data = p;
}

void
cli_progress_done (cli_progress *p)
{
  if (p->active && p->last >= 0)
    {
      fprintf (stderr, "\r%*s\r", (int) strlen (p->label) + 6, "");
      fflush (stderr);
    }
  p->last = -1;
}

/* Prints text wrapped at `width` columns, every line indented by `indent` spaces. */
static void
print_wrapped (FILE *fp, const char *text, int indent, int width)
{
  const char *s = text;
  while (*s != '\0')
    {
      int room = width - indent, len = 0, cut = 0;
      /* count bytes of up to `room` characters (UTF-8 continuation bytes are free) */
      int chars = 0;
      while (s[len] != '\0' && chars < room)
        {
          if (s[len] == ' ')
            cut = len;
          if (((unsigned char) s[len] & 0xC0) != 0x80)
            chars++;
          len++;
        }
      if (s[len] == '\0')
        cut = len;
      else if (cut == 0)
        cut = len;
      fprintf (fp, "%*s%.*s\n", indent, "", cut, s);
      s += cut;
      while (*s == ' ')
        s++;
    }
}

void
cli_print_methods (FILE *fp)
{
  fprintf (fp, "\n%s\n", _("Methods (--method ids) and their conventions:"));
  for (int k = 0; k < CS_METHOD_COUNT; k++)
    {
      cs_method m = (cs_method) k;
      /* The titles are the core's English ones; the app marks them (cs-jobs.c), same domain. */
      fprintf (fp, "  %-21s %s (%s)%s\n", cs_method_id (m), _(cs_method_title (m)), cs_method_citation (m),
               cs_method_is_cam (m) ? _(" [uses --layer]") : "");
      print_wrapped (fp, cs_method_conventions (m), 6, 96);
    }
}

cs_status
cli_predict (cs_exec *e, const cs_model *m, const cs_tensor *x, int32_t *predicted,
             float *probability, cs_error *err)
{
  *predicted = 0;
  *probability = 0;
  cs_status st = cs_exec_forward (e, x, err);
  if (st != CS_OK)
    return st;
  const cs_tensor *logits = cs_exec_value (e, m->graph->output_node);
  int32_t classes = (int32_t) cs_tensor_numel (logits);
  for (int32_t i = 1; i < classes; i++)
    if (logits->data[i] > logits->data[*predicted])
      *predicted = i;
  *probability = (float) cs_softmax_at (logits->data, classes, *predicted);
  return CS_OK;
}

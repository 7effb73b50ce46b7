/* `convscope-cli inspect MODEL`: every node with its op, output shape and parameters; totals. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "cli-commands.h"
#include "cli-common.h"
#include "graph/ops.h"

static const char *
node_op_name (const cs_node *n)
{
  if (n->source_op != NULL && n->source_op[0] != '\0')
    return n->source_op;
  const cs_op_info *info = cs_op_get (n->op);
  return info != NULL && info->name != NULL ? info->name : "?";
}

/* "[N, 6, 28, 28]" for batched nodes (the batch is the run-time N), full dims otherwise. */
static void
format_shape (const cs_node *n, char *buf, size_t size)
{
  size_t len = (size_t) snprintf (buf, size, "[");
  for (int32_t d = 0; d < n->shape.ndim && len < size; d++)
    {
      if (d == 0 && n->batched)
        len += (size_t) snprintf (buf + len, size - len, "N");
      else
        len += (size_t) snprintf (buf + len, size - len, "%s%lld", d ? ", " : "",
                                  (long long) n->shape.dim[d]);
    }
  if (len < size)
    snprintf (buf + len, size - len, "]");
}

static bool
is_listed (const cs_node *n)
{
  return n->op != CS_OP_PARAM && n->op != CS_OP_CONST;
}

static void
format_count (int64_t v, char *buf, size_t size)
{
  if (v >= 1000000000)
    snprintf (buf, size, "%.2fG", (double) v / 1e9);
  else if (v >= 1000000)
    snprintf (buf, size, "%.2fM", (double) v / 1e6);
  else if (v >= 1000)
    snprintf (buf, size, "%.1fk", (double) v / 1e3);
  else
    snprintf (buf, size, "%lld", (long long) v);
}

static int
print_text (const cs_model *m, const char *path)
{
  const cs_graph *g = m->graph;
  int name_w = 4, op_w = 2;
  for (int32_t i = 0; i < g->n_nodes; i++)
    if (is_listed (&g->nodes[i]))
      {
        int nl = (int) strlen (g->nodes[i].name), ol = (int) strlen (node_op_name (&g->nodes[i]));
        name_w = nl > name_w ? (nl > 48 ? 48 : nl) : name_w;
        op_w = ol > op_w ? (ol > 24 ? 24 : ol) : op_w;
      }
  printf (_("%s: input [N, %d, %d, %d], %d classes\n"), path, m->channels, m->height, m->width,
          m->n_classes);
  const char *h_node = _("node"), *h_shape = _("output shape"), *h_params = _("parameters");
  printf ("%-*s  %-*s  %-*s  %*s  %12s\n", cli_pad_width (h_node, name_w), h_node, op_w, "op",
          cli_pad_width (h_shape, 22), h_shape, cli_pad_width (h_params, 12), h_params, "FLOPs");
  int64_t params = 0, flops = 0;
  for (int32_t i = 0; i < g->n_nodes; i++)
    {
      const cs_node *n = &g->nodes[i];
      if (!is_listed (n))
        continue;
      char shape[128];
      format_shape (n, shape, sizeof shape);
      int64_t p = cs_graph_node_parameters (g, i), f = cs_graph_node_flops (g, i);
      params += p > 0 ? p : 0;
      flops += f > 0 ? f : 0;
      printf ("%-*s  %-*s  %-22s  %12lld  %12lld\n", name_w, n->name, op_w, node_op_name (n), shape,
              (long long) p, (long long) f);
    }
  char pbuf[32], fbuf[32];
  format_count (params, pbuf, sizeof pbuf);
  format_count (flops, fbuf, sizeof fbuf);
  printf (_("total: %lld parameters (%s), %lld FLOPs per sample (%s)\n"), (long long) params, pbuf,
          (long long) flops, fbuf);
  return CLI_EXIT_OK;
}

static int
print_json (const cs_model *m)
{
  const cs_graph *g = m->graph;
  cJSON *doc = cJSON_CreateObject ();
  cJSON *nodes = cJSON_AddArrayToObject (doc, "nodes");
  double params = 0, flops = 0;
  for (int32_t i = 0; i < g->n_nodes; i++)
    {
      const cs_node *n = &g->nodes[i];
      if (!is_listed (n))
        continue;
      cJSON *o = cJSON_CreateObject ();
      cJSON_AddStringToObject (o, "name", n->name);
      if (n->alias != NULL) /* the name in the file, which --layer accepts too */
        cJSON_AddStringToObject (o, "alias", n->alias);
      cJSON_AddStringToObject (o, "op", node_op_name (n));
      cJSON *inputs = cJSON_AddArrayToObject (o, "inputs");
      for (int32_t k = 0; k < n->n_inputs; k++)
        {
          int32_t id = n->inputs[k];
          if (id >= 0 && id < g->n_nodes)
            cJSON_AddItemToArray (inputs, cJSON_CreateString (g->nodes[id].name));
        }
      /* Batched nodes: dim 0 is the batch, given as 1 (one sample); "batched" says so. */
      cJSON *shape = cJSON_AddArrayToObject (o, "output_shape");
      for (int32_t d = 0; d < n->shape.ndim; d++)
        cJSON_AddItemToArray (shape, cJSON_CreateNumber ((double) n->shape.dim[d]));
      cJSON_AddBoolToObject (o, "batched", n->batched);
      int64_t p = cs_graph_node_parameters (g, i), f = cs_graph_node_flops (g, i);
      cJSON_AddNumberToObject (o, "parameters", (double) (p > 0 ? p : 0));
      cJSON_AddNumberToObject (o, "flops", (double) (f > 0 ? f : 0));
      params += (double) (p > 0 ? p : 0);
      flops += (double) (f > 0 ? f : 0);
      cJSON_AddItemToArray (nodes, o);
    }
  cJSON_AddNumberToObject (doc, "parameters", params);
  cJSON_AddNumberToObject (doc, "flops", flops);
  cJSON *input = cJSON_AddArrayToObject (doc, "input_shape");
  cJSON_AddItemToArray (input, cJSON_CreateNumber (m->channels));
  cJSON_AddItemToArray (input, cJSON_CreateNumber (m->height));
  cJSON_AddItemToArray (input, cJSON_CreateNumber (m->width));
  cJSON_AddNumberToObject (doc, "classes", m->n_classes);
  return cli_print_json (doc);
}

int
cli_cmd_inspect (int argc, char **argv)
{
  cli_args args;
  int code = cli_parse (argc, argv, "inspect", NULL, &args);
  if (code != CLI_EXIT_OK)
    return code;
  if (args.values[CLI_OPT_HELP])
    {
      cli_command_usage ("inspect");
      return CLI_EXIT_OK;
    }
  if (args.n_positional != 1)
    return cli_error (CLI_EXIT_USAGE, "inspect", args.n_positional ? _("expected one MODEL") : _("missing MODEL"));
  if ((code = cli_apply_threads (&args)) != CLI_EXIT_OK)
    return code;
  cs_model *m = cli_load_model (&args, args.positional[0], &code);
  if (m == NULL)
    return code;
  code = args.values[CLI_OPT_JSON] ? print_json (m) : print_text (m, args.positional[0]);
  cs_model_free (m);
  return code;
}

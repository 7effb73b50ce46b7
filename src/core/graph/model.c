/* cs_model: a shared graph plus one set of weights, the input conventions and class labels. */
#include "graph/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
read_geometry (cs_model *m)
{
  const cs_graph *g = m->graph;
  if (g->input_node >= 0)
    {
      const cs_shape *s = &g->nodes[g->input_node].shape;
      m->channels = s->ndim > 1 ? (int32_t) s->dim[1] : 1;
      m->height = s->ndim > 2 ? (int32_t) s->dim[2] : 1;
      m->width = s->ndim > 3 ? (int32_t) s->dim[3] : 1;
    }
  if (g->output_node >= 0)
    {
      const cs_shape *s = &g->nodes[g->output_node].shape;
      int64_t n = cs_shape_numel (s);
      m->n_classes = (int32_t) (s->ndim > 0 && s->dim[0] > 0 ? n / s->dim[0] : n);
    }
  for (int c = 0; c < 4; c++)
    {
      m->mean[c] = 0.0f;
      m->std[c] = 1.0f;
    }
}

cs_model *
cs_model_new (cs_graph *g, cs_error *err)
{
  if (g->input_node < 0 || g->output_node < 0)
    {
      cs_error_set (err, CS_ERR_FORMAT, "the graph has no %s", g->input_node < 0 ? "input" : "output");
      return NULL;
    }
  cs_model *m = calloc (1, sizeof *m);
  if (m == NULL)
    {
      cs_error_set (err, CS_ERR_MEMORY, "out of memory");
      return NULL;
    }
  m->graph = cs_graph_ref (g);
  m->weights = calloc ((size_t) (g->n_params > 0 ? g->n_params : 1), sizeof *m->weights);
  if (m->weights == NULL)
    {
      cs_model_free (m);
      cs_error_set (err, CS_ERR_MEMORY, "out of memory");
      return NULL;
    }
  for (int32_t p = 0; p < g->n_params; p++)
    {
      const cs_node *n = &g->nodes[g->param_nodes[p]];
      if (cs_tensor_alloc (&m->weights[p], &n->shape, err) != CS_OK)
        {
          cs_error_prefix (err, "parameter '%s'", n->name);
          cs_model_free (m);
          return NULL;
        }
    }
  read_geometry (m);
  return m;
}

void
cs_model_free (cs_model *m)
{
  if (m == NULL)
    return;
  if (m->weights != NULL)
    for (int32_t p = 0; p < m->graph->n_params; p++)
      cs_tensor_free (&m->weights[p]);
  free (m->weights);
  if (m->classes != NULL)
    for (int32_t i = 0; i < m->n_classes; i++)
      free (m->classes[i]);
  free (m->classes);
  free (m->path);
  cs_graph_unref (m->graph);
  free (m);
}

cs_model *
cs_model_clone (const cs_model *m, cs_error *err)
{
  cs_model *c = cs_model_new (m->graph, err);
  if (c == NULL)
    return NULL;
  for (int32_t p = 0; p < m->graph->n_params; p++)
    {
      int64_t n = cs_tensor_numel (&m->weights[p]);
      if (n > 0)
        memcpy (c->weights[p].data, m->weights[p].data, (size_t) n * sizeof (float));
    }
  memcpy (c->mean, m->mean, sizeof c->mean);
  memcpy (c->std, m->std, sizeof c->std);
  c->has_normalization = m->has_normalization;
  c->resize = m->resize;
  if (m->path != NULL)
    c->path = strdup (m->path);
  if (m->classes != NULL
      && cs_model_set_classes (c, m->n_classes, (const char *const *) m->classes, err) != CS_OK)
    {
      cs_model_free (c);
      return NULL;
    }
  return c;
}

cs_status
cs_model_set_classes (cs_model *m, int32_t n, const char *const *labels, cs_error *err)
{
  if (n != m->n_classes)
    return cs_error_set (err, CS_ERR_SHAPE, "%d class labels for a model with %d outputs", n, m->n_classes);
  char **copy = calloc ((size_t) (n > 0 ? n : 1), sizeof *copy);
  if (copy == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  for (int32_t i = 0; i < n; i++)
    {
      copy[i] = strdup (labels[i] != NULL ? labels[i] : "");
      if (copy[i] == NULL)
        {
          for (int32_t j = 0; j < i; j++)
            free (copy[j]);
          free (copy);
          return cs_error_set (err, CS_ERR_MEMORY, "out of memory");
        }
    }
  if (m->classes != NULL)
    for (int32_t i = 0; i < m->n_classes; i++)
      free (m->classes[i]);
  free (m->classes);
  m->classes = copy;
  return CS_OK;
}

int32_t
cs_model_param_index (const cs_model *m, const char *name)
{
  int32_t id = cs_graph_find (m->graph, name);
  return id >= 0 ? m->graph->nodes[id].param_index : -1;
}

int64_t
cs_model_parameter_count (const cs_model *m)
{
  int64_t total = 0;
  for (int32_t p = 0; p < m->graph->n_params; p++)
    total += cs_tensor_numel (&m->weights[p]);
  return total;
}

int64_t
cs_count_nonfinite (const float *v, int64_t n)
{
  int64_t bad = 0;
  for (int64_t i = 0; i < n; i++)
    bad += !isfinite (v[i]);
  return bad;
}

cs_status
cs_model_check_finite (const cs_model *m, cs_error *err)
{
  const cs_graph *g = m->graph;
  const char *first = NULL;
  int32_t first_id = -1;
  int64_t first_bad = 0, first_n = 0;
  int32_t others = 0;
  for (int32_t i = 0; i < g->n_nodes; i++)
    {
      const cs_node *n = &g->nodes[i];
      const cs_tensor *t = n->op == CS_OP_PARAM ? &m->weights[n->param_index]
                           : n->op == CS_OP_CONST ? &n->value : NULL;
      if (t == NULL || t->data == NULL)
        continue;
      int64_t count = cs_tensor_numel (t), bad = cs_count_nonfinite (t->data, count);
      if (bad > 0 && first == NULL)
        {
          first = n->name;
          first_id = i;
          first_bad = bad;
          first_n = count;
        }
      else if (bad > 0)
        others++;
    }
  if (first == NULL)
    return CS_OK;
  /* Exporters name folded weights "onnx::Conv_196": say which layer reads the tensor. */
  char layer[300] = "";
  for (int32_t i = first_id + 1; i < g->n_nodes && layer[0] == '\0'; i++)
    for (int32_t k = 0; k < g->nodes[i].n_inputs; k++)
      if (g->nodes[i].inputs[k] == first_id)
        {
          snprintf (layer, sizeof layer, " (an input of layer '%s')", g->nodes[i].name);
          break;
        }
  char more[64] = "";
  if (others > 0)
    snprintf (more, sizeof more, "; %d more tensors have some", others);
  return cs_error_set (err, CS_ERR_FORMAT, "%lld of the %lld values of '%s'%s are NaN or "
                       "infinite%s", (long long) first_bad, (long long) first_n, first, layer, more);
}

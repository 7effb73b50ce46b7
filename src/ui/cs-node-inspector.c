/* The node inspector's content: a grid of labelled rows built from the graph alone. */
#include "config.h"

#include <glib/gi18n.h>

#include "cs-node-inspector.h"

static void
append_shape (GString *s, const cs_shape *shape, gboolean batched)
{
  g_string_append_c (s, '[');
  for (int i = 0; i < shape->ndim; i++)
    {
      if (i == 0 && batched)
        g_string_append (s, "N");
      else
        g_string_append_printf (s, "%lld", (long long) shape->dim[i]);
      if (i + 1 < shape->ndim)
        g_string_append (s, ", ");
    }
  g_string_append_c (s, ']');
}

/* The attributes that matter for the op, as "name=value" pairs. */
static void
append_attributes (GString *s, const cs_node *n)
{
  const cs_window_attrs *w = &n->attrs.window;

  switch (n->op)
    {
    case CS_OP_CONV2D:
    case CS_OP_MAXPOOL:
    case CS_OP_AVGPOOL:
      g_string_append_printf (s, "kernel %d×%d · stride %d×%d · pad %d,%d,%d,%d", w->kernel[0],
                              w->kernel[1], w->stride[0], w->stride[1], w->pad[0], w->pad[1],
                              w->pad[2], w->pad[3]);
      if (n->op == CS_OP_CONV2D)
        g_string_append_printf (s, " · dilation %d×%d · groups %d", w->dilation[0], w->dilation[1],
                                w->groups);
      else if (w->ceil_mode)
        g_string_append (s, " · ceil_mode");
      break;
    case CS_OP_GEMM:
      g_string_append_printf (s, "transB %d · alpha %g · beta %g", n->attrs.gemm.trans_b,
                              n->attrs.gemm.alpha, n->attrs.gemm.beta);
      break;
    case CS_OP_LEAKY_RELU:
      g_string_append_printf (s, "slope %g", n->attrs.act.alpha);
      break;
    case CS_OP_CLIP:
      g_string_append_printf (s, "min %g · max %g", n->attrs.act.alpha, n->attrs.act.beta);
      break;
    case CS_OP_BATCHNORM:
      g_string_append_printf (s, "eps %g · momentum %g", n->attrs.norm.eps, n->attrs.norm.momentum);
      break;
    case CS_OP_SOFTMAX:
    case CS_OP_FLATTEN:
    case CS_OP_CONCAT:
      g_string_append_printf (s, "axis %d", n->attrs.axis.axis);
      break;
    case CS_OP_DROPOUT:
      g_string_append_printf (s, "p %g", n->attrs.dropout.p);
      break;
    default:
      break;
    }
}

static void
row (GString *s, const char *key, const char *value)
{
  if (value != NULL && value[0] != '\0')
    g_string_append_printf (s, "%s: %s\n", key, value);
}

char *
cs_node_inspector_describe (const cs_graph *g, int id)
{
  const cs_node *n = &g->nodes[id];
  GString *s = g_string_new (NULL);
  g_autoptr (GString) attrs = g_string_new (NULL), inputs = g_string_new (NULL), params = g_string_new (NULL);
  g_autoptr (GString) out = g_string_new (NULL);
  g_autofree char *count = NULL, *flops = NULL;

  row (s, _("Layer"), n->name);
  row (s, _("Name in the file"), n->alias);
  row (s, _("Operator"), n->source_op);
  append_attributes (attrs, n);
  row (s, _("Attributes"), attrs->str);
  for (int k = 0; k < n->n_inputs; k++)
    {
      const cs_node *in = &g->nodes[n->inputs[k]];
      GString *dst = in->op == CS_OP_PARAM || in->op == CS_OP_CONST ? params : inputs;
      if (dst->len > 0)
        g_string_append (dst, "\n    ");
      g_string_append_printf (dst, "%s ", in->name);
      append_shape (dst, &in->shape, in->batched);
      if (dst == params)
        g_string_append_printf (dst, " (%lld)", (long long) cs_shape_numel (&in->shape));
    }
  row (s, _("Inputs"), inputs->str);
  append_shape (out, &n->shape, n->batched);
  row (s, _("Output"), out->str);
  row (s, _("Parameters"), params->str);
  count = g_strdup_printf ("%lld", (long long) cs_graph_node_parameters (g, id));
  row (s, _("Parameter count"), count);
  flops = g_strdup_printf (_("%.4g M per image"), (double) cs_graph_node_flops (g, id) / 1e6);
  row (s, _("FLOPs"), flops);
  if (s->len > 0)
    g_string_truncate (s, s->len - 1);
  return g_string_free (s, FALSE);
}

GtkWidget *
cs_node_inspector_new (const cs_graph *g, int id)
{
  GtkWidget *popover = gtk_popover_new ();
  GtkWidget *label = gtk_label_new (NULL);
  g_autofree char *text = cs_node_inspector_describe (g, id);

  gtk_label_set_text (GTK_LABEL (label), text);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 60);
  gtk_widget_add_css_class (label, "node-inspector");
  gtk_widget_set_margin_start (label, 6);
  gtk_widget_set_margin_end (label, 6);
  gtk_widget_set_margin_top (label, 6);
  gtk_widget_set_margin_bottom (label, 6);
  gtk_popover_set_child (GTK_POPOVER (popover), label);
  /* Not autohide: it takes no grab or focus, so the graph keeps panning and a click on another
   * node (or on empty space) replaces (or closes) it. */
  gtk_popover_set_autohide (GTK_POPOVER (popover), FALSE);
  return popover;
}

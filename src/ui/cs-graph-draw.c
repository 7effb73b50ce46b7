/* CsGraphView's drawing: boxes coloured by op, edges as curves, collapsed blocks as dashed
 * boxes, brackets beside open blocks. */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "cs-graph-view-private.h"

static void
op_color (cs_op op, GdkRGBA *c)
{
  const char *spec;

  switch (op)
    {
    case CS_OP_CONV2D: spec = "#3584e4"; break;
    case CS_OP_GEMM: case CS_OP_MATMUL: spec = "#9141ac"; break;
    case CS_OP_MAXPOOL: case CS_OP_AVGPOOL: case CS_OP_GLOBAL_AVGPOOL: case CS_OP_REDUCE_MEAN:
      spec = "#e66100"; break;
    case CS_OP_BATCHNORM: spec = "#c88800"; break;
    case CS_OP_ADD: case CS_OP_CONCAT: case CS_OP_SUB: case CS_OP_MUL: case CS_OP_DIV:
      spec = "#c01c28"; break;
    case CS_OP_INPUT: spec = "#5e5c64"; break;
    default: spec = "#2ec27e"; break;
    }
  gdk_rgba_parse (c, spec);
}

static const char *
op_label (const cs_node *n)
{
  static const char *const names[CS_OP_COUNT] = {
    [CS_OP_INPUT] = "input", [CS_OP_CONV2D] = "conv2d", [CS_OP_GEMM] = "linear",
    [CS_OP_MATMUL] = "matmul", [CS_OP_RELU] = "relu", [CS_OP_LEAKY_RELU] = "leaky_relu",
    [CS_OP_CLIP] = "clip", [CS_OP_SIGMOID] = "sigmoid", [CS_OP_HARD_SIGMOID] = "hard_sigmoid",
    [CS_OP_HARD_SWISH] = "hard_swish", [CS_OP_TANH] = "tanh", [CS_OP_ERF] = "erf",
    [CS_OP_SQRT] = "sqrt", [CS_OP_EXP] = "exp", [CS_OP_NEG] = "neg", [CS_OP_IDENTITY] = "identity",
    [CS_OP_DROPOUT] = "dropout", [CS_OP_ADD] = "add", [CS_OP_SUB] = "sub", [CS_OP_MUL] = "mul",
    [CS_OP_DIV] = "div", [CS_OP_POW] = "pow", [CS_OP_MAXPOOL] = "maxpool2d",
    [CS_OP_AVGPOOL] = "avgpool2d", [CS_OP_GLOBAL_AVGPOOL] = "global_avgpool",
    [CS_OP_REDUCE_MEAN] = "reduce_mean", [CS_OP_BATCHNORM] = "batchnorm2d",
    [CS_OP_SOFTMAX] = "softmax", [CS_OP_FLATTEN] = "flatten", [CS_OP_RESHAPE] = "reshape",
    [CS_OP_TRANSPOSE] = "transpose", [CS_OP_SLICE] = "slice", [CS_OP_CONCAT] = "concat",
    [CS_OP_PAD] = "pad",
  };
  return n->op < CS_OP_COUNT && names[n->op] != NULL ? names[n->op] : "op";
}

static void
format_shape (const cs_shape *s, char *buf, gsize size)
{
  gsize len = 0;

  buf[0] = '\0';
  /* Without the batch dimension: what one sample looks like. */
  for (int d = 1; d < s->ndim && len + 24 < size; d++)
    len += g_snprintf (buf + len, size - len, d > 1 ? "×%" G_GINT64_FORMAT : "%" G_GINT64_FORMAT,
                       s->dim[d]);
  if (s->ndim <= 1)
    g_snprintf (buf, size, "%s", _("scalar"));
}

/* The extent of expanded block b's boxes, for its bracket; FALSE when none is laid out. */
gboolean
cs_graph_view_block_extent (CsGraphView *self, int b, double *x, double *y0, double *y1)
{
  const cs_graph *g = cs_model_set_get_graph (self->set);
  gboolean any = FALSE;

  for (int id = 0; id < g->n_nodes; id++)
    {
      const Box *box;
      if (self->box_of_node[id] < 0
          || (self->blocks->outer[id] != b && self->blocks->inner[id] != b))
        continue;
      box = &g_array_index (self->boxes, Box, self->box_of_node[id]);
      *x = any ? MIN (*x, box->x) : box->x;
      *y0 = any ? MIN (*y0, box->y) : box->y;
      *y1 = any ? MAX (*y1, box->y + BOX_H) : box->y + BOX_H;
      any = TRUE;
    }
  return any;
}

/* An expanded block inside no collapsed one: its members are drawn, with its bracket. */
gboolean
cs_graph_view_block_shown_expanded (CsGraphView *self, int b)
{
  const CsGraphBlock *blk = &g_array_index (self->blocks->blocks, CsGraphBlock, b);

  return blk->expanded && blk->n_members >= 2
         && (blk->parent < 0 || g_array_index (self->blocks->blocks, CsGraphBlock, blk->parent).expanded);
}

/* The bracket of an expanded block left of its boxes (a click on it collapses the block). */
double
cs_graph_view_bracket_x (CsGraphView *self, int b, double box_x)
{
  return box_x - 8 - 7 * (1 - cs_graph_blocks_depth (self->blocks, b));
}

static void
draw_brackets (CsGraphView *self, cairo_t *cr, const GdkRGBA *fg)
{
  for (guint b = 0; self->blocks != NULL && b < self->blocks->blocks->len; b++)
    {
      double x, y0, y1, bx;
      if (!cs_graph_view_block_shown_expanded (self, (int) b) || !cs_graph_view_block_extent (self, (int) b, &x, &y0, &y1))
        continue;
      bx = cs_graph_view_bracket_x (self, (int) b, x);
      cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.35);
      cairo_set_line_width (cr, 2);
      cairo_move_to (cr, bx + 4, y0);
      cairo_line_to (cr, bx, y0);
      cairo_line_to (cr, bx, y1);
      cairo_line_to (cr, bx + 4, y1);
      cairo_stroke (cr);
    }
}

static void
draw_edges (CsGraphView *self, cairo_t *cr, const GdkRGBA *fg)
{
  cairo_set_line_width (cr, 1.5);
  for (guint i = 0; i < self->edges->len; i++)
    {
      const Edge *e = &g_array_index (self->edges, Edge, i);
      const Box *a = &g_array_index (self->boxes, Box, e->from);
      const Box *b = &g_array_index (self->boxes, Box, e->to);
      double x0 = a->x + BOX_W / 2, y0 = a->y + BOX_H, x1 = b->x + BOX_W / 2, y1 = b->y;

      cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.45);
      cairo_move_to (cr, x0, y0);
      if (a->col == b->col && b->row - a->row > 1)
        {
          /* A skip connection over boxes of the same column: bow out to the right. */
          double bow = x0 + BOX_W / 2 + 40;
          cairo_curve_to (cr, bow, y0 + 10, bow, y1 - 10, x1 + BOX_W / 4, y1);
        }
      else
        cairo_curve_to (cr, x0, (y0 + y1) / 2, x1, (y0 + y1) / 2, x1, y1);
      cairo_stroke (cr);
      /* An arrowhead. */
      cairo_move_to (cr, x1, y1);
      cairo_rel_line_to (cr, -4, -6);
      cairo_rel_line_to (cr, 8, 0);
      cairo_close_path (cr);
      cairo_fill (cr);
    }
}

/* A block's name in its box: the key's last component ("denseblock1", "denselayer2"), or its
 * last two when the last is a bare index ("layer1.0", "features.3"). */
static const char *
block_title (const char *key)
{
  const char *last = strrchr (key, '.');
  gboolean numeric = last != NULL && last[1] != '\0';

  if (last == NULL)
    return key;
  for (const char *p = last + 1; *p != '\0'; p++)
    numeric &= g_ascii_isdigit (*p);
  if (!numeric)
    return last + 1;
  for (const char *p = last - 1; p >= key; p--)
    if (*p == '.')
      return p + 1;
  return key;
}

/* A box's text: op and name over the output shape; a collapsed block's key and size. */
static char *
box_markup (CsGraphView *self, const Box *b)
{
  const cs_graph *g = cs_model_set_get_graph (self->set);
  g_autofree char *name = NULL;
  char shape[64];
  int block;

  if (b->block >= 0)
    {
      const CsGraphBlock *blk = &g_array_index (self->blocks->blocks, CsGraphBlock, b->block);
      format_shape (&g->nodes[blk->last_node].shape, shape, sizeof shape);
      return g_markup_printf_escaped (ngettext ("<b>▸ %s</b>\n<small>%d layer · %s</small>",
                                               "<b>▸ %s</b>\n<small>%d layers · %s</small>",
                                               blk->n_members),
                                      block_title (blk->key), blk->n_members, shape);
    }
  format_shape (&g->nodes[b->id].shape, shape, sizeof shape);
  /* Inside a block, the name from the block's title on: "denselayer2.conv1", not
   * "features.denseblock1.denselayer2.conv1" (the inspector shows the whole name). */
  block = self->blocks->inner[b->id] >= 0 ? self->blocks->inner[b->id] : self->blocks->outer[b->id];
  if (block >= 0)
    {
      const char *key = g_array_index (self->blocks->blocks, CsGraphBlock, block).key;
      name = g_strconcat (block_title (key), g->nodes[b->id].name + strlen (key), NULL);
    }
  return g_markup_printf_escaped ("<b>%s</b> <small>%s</small>\n<small>%s</small>",
                                  op_label (&g->nodes[b->id]), name != NULL ? name : g->nodes[b->id].name,
                                  shape);
}

void
cs_graph_view_draw (CsGraphView *self, cairo_t *cr, const GdkRGBA *fg)
{
  const cs_graph *g = cs_model_set_get_graph (self->set);
  int selected = self->session != NULL ? cs_session_get_layer (self->session) : -1;
  int selected_box = selected >= 0 && selected < g->n_nodes ? self->box_of_node[selected] : -1;
  PangoLayout *pl = gtk_widget_create_pango_layout (GTK_WIDGET (self), NULL);
  PangoFontDescription *font = pango_font_description_from_string ("Sans 9");

  pango_layout_set_font_description (pl, font);
  pango_layout_set_width (pl, (int) ((BOX_W - 12) * PANGO_SCALE));
  /* The middle goes: a long name keeps its distinctive end ("…denselayer3.conv1"). */
  pango_layout_set_ellipsize (pl, PANGO_ELLIPSIZE_MIDDLE);

  cairo_translate (cr, self->pan_x, self->pan_y);
  cairo_scale (cr, self->zoom, self->zoom);

  /* Edges first, under the boxes. */
  draw_edges (self, cr, fg);
  draw_brackets (self, cr, fg);

  for (guint i = 0; i < self->boxes->len; i++)
    {
      const Box *b = &g_array_index (self->boxes, Box, i);
      gboolean is_selected = (int) i == selected_box;
      GdkRGBA c;
      g_autofree char *markup = box_markup (self, b);

      if (b->block >= 0)
        gdk_rgba_parse (&c, "#1c71d8");
      else
        op_color (g->nodes[b->id].op, &c);
      cairo_new_sub_path (cr);
      cairo_arc (cr, b->x + BOX_W - 6, b->y + 6, 6, -G_PI / 2, 0);
      cairo_arc (cr, b->x + BOX_W - 6, b->y + BOX_H - 6, 6, 0, G_PI / 2);
      cairo_arc (cr, b->x + 6, b->y + BOX_H - 6, 6, G_PI / 2, G_PI);
      cairo_arc (cr, b->x + 6, b->y + 6, 6, G_PI, 3 * G_PI / 2);
      cairo_close_path (cr);
      cairo_set_source_rgba (cr, c.red, c.green, c.blue, is_selected ? 0.9 : b->block >= 0 ? 0.10 : 0.18);
      cairo_fill_preserve (cr);
      cairo_set_source_rgba (cr, c.red, c.green, c.blue, 1.0);
      cairo_set_line_width (cr, is_selected ? 3.0 : b->block >= 0 ? 2.0 : 1.2);
      if (b->block >= 0 && !is_selected)
        cairo_set_dash (cr, (const double[]) { 5, 3 }, 2, 0);
      cairo_stroke (cr);
      cairo_set_dash (cr, NULL, 0, 0);

      pango_layout_set_markup (pl, markup, -1);
      if (is_selected)
        cairo_set_source_rgb (cr, 1, 1, 1);
      else
        gdk_cairo_set_source_rgba (cr, fg);
      cairo_move_to (cr, b->x + 6, b->y + 4);
      pango_cairo_show_layout (cr, pl);
    }

  pango_font_description_free (font);
  g_object_unref (pl);
}

/* CsGraphView: boxes laid out in rows by longest path from the input, residual branches in
 * columns beside the main path; edges as curves; the selected layer highlighted. */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "cs-graph-view.h"
#include "cs-node-inspector.h"

#define BOX_W 168.0
#define BOX_H 42.0
#define ROW_H 66.0
#define COL_W 196.0
#define MARGIN 24.0

typedef struct
{
  int id;                      /* graph node id */
  int row, col;
  double x, y;                 /* box top-left, graph coordinates */
} Box;

struct _CsGraphView
{
  GtkWidget parent_instance;
  CsSession *session;
  CsModelSet *set;             /* the graph laid out, kept alive while drawn */
  GArray *boxes;               /* Box */
  int *box_of_node;            /* node id -> index in boxes or -1 */
  double width, height;        /* of the laid-out graph */
  double zoom, pan_x, pan_y;   /* widget = graph * zoom + pan */
  double drag_pan_x, drag_pan_y;
  gboolean fitted;
  GtkWidget *inspector;        /* the node inspector popover, or NULL */
};

enum { PROP_0, PROP_SESSION, N_PROPS };
static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (CsGraphView, cs_graph_view, GTK_TYPE_WIDGET)

static gboolean
node_is_shown (const cs_node *n)
{
  return n->op != CS_OP_PARAM && n->op != CS_OP_CONST;
}

static void
layout (CsGraphView *self)
{
  const cs_graph *g;
  int *row;
  GArray *row_used;            /* per row: how many columns are taken (bitmask of 32) */
  int max_col = 0, max_row = 0;

  g_array_set_size (self->boxes, 0);
  g_clear_pointer (&self->box_of_node, g_free);
  if (self->set == NULL)
    return;
  g = cs_model_set_get_graph (self->set);
  row = g_new0 (int, g->n_nodes);
  self->box_of_node = g_new (int, g->n_nodes);
  row_used = g_array_new (FALSE, TRUE, sizeof (guint32));

  for (int id = 0; id < g->n_nodes; id++)
    {
      const cs_node *n = &g->nodes[id];
      int r = 0, pref = -1;
      Box b;

      self->box_of_node[id] = -1;
      if (!node_is_shown (n))
        continue;
      /* Longest path: one row below the lowest shown input. */
      for (int i = 0; i < n->n_inputs; i++)
        {
          int in = n->inputs[i];
          if (self->box_of_node[in] >= 0)
            {
              Box *ib = &g_array_index (self->boxes, Box, self->box_of_node[in]);
              r = MAX (r, row[in] + 1);
              if (pref < 0)
                pref = ib->col;
            }
        }
      row[id] = r;
      if ((guint) r >= row_used->len)
        g_array_set_size (row_used, r + 1);
      /* The column of the first input when free, so a chain stays straight and a branch
       * moves aside. */
      {
        guint32 used = g_array_index (row_used, guint32, r);
        int c = MAX (pref, 0);
        while (c < 31 && (used & (1u << c)))
          c++;
        if (used & (1u << c))
          for (c = 0; c < 31 && (used & (1u << c)); c++)
            ;
        g_array_index (row_used, guint32, r) |= 1u << c;
        b.col = c;
      }
      b.id = id;
      b.row = r;
      b.x = MARGIN + b.col * COL_W;
      b.y = MARGIN + r * ROW_H;
      max_col = MAX (max_col, b.col);
      max_row = MAX (max_row, r);
      self->box_of_node[id] = self->boxes->len;
      g_array_append_val (self->boxes, b);
    }
  self->width = 2 * MARGIN + max_col * COL_W + BOX_W;
  self->height = 2 * MARGIN + max_row * ROW_H + BOX_H;
  g_array_unref (row_used);
  g_free (row);
  self->fitted = FALSE;
}

static void
fit (CsGraphView *self)
{
  double w = gtk_widget_get_width (GTK_WIDGET (self));

  if (w <= 1 || self->width <= 0)
    return;
  self->zoom = CLAMP (w / self->width, 0.25, 1.0);
  self->pan_x = MAX (0.0, (w - self->width * self->zoom) / 2);
  self->pan_y = 0;
  self->fitted = TRUE;
}

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

static void
draw_graph (CsGraphView *self, cairo_t *cr, const GdkRGBA *fg)
{
  const cs_graph *g = cs_model_set_get_graph (self->set);
  int selected = self->session != NULL ? cs_session_get_layer (self->session) : -1;
  PangoLayout *pl = gtk_widget_create_pango_layout (GTK_WIDGET (self), NULL);
  PangoFontDescription *font = pango_font_description_from_string ("Sans 9");

  pango_layout_set_font_description (pl, font);
  pango_layout_set_width (pl, (int) ((BOX_W - 12) * PANGO_SCALE));
  pango_layout_set_ellipsize (pl, PANGO_ELLIPSIZE_END);

  cairo_translate (cr, self->pan_x, self->pan_y);
  cairo_scale (cr, self->zoom, self->zoom);

  /* Edges first, under the boxes. */
  cairo_set_line_width (cr, 1.5);
  for (guint i = 0; i < self->boxes->len; i++)
    {
      const Box *b = &g_array_index (self->boxes, Box, i);
      const cs_node *n = &g->nodes[b->id];
      for (int k = 0; k < n->n_inputs; k++)
        {
          int ib = self->box_of_node[n->inputs[k]];
          const Box *a;
          double x0, y0, x1, y1;
          if (ib < 0)
            continue;
          a = &g_array_index (self->boxes, Box, ib);
          x0 = a->x + BOX_W / 2;
          y0 = a->y + BOX_H;
          x1 = b->x + BOX_W / 2;
          y1 = b->y;
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

  for (guint i = 0; i < self->boxes->len; i++)
    {
      const Box *b = &g_array_index (self->boxes, Box, i);
      const cs_node *n = &g->nodes[b->id];
      GdkRGBA c;
      char shape[64];
      g_autofree char *markup = NULL;

      op_color (n->op, &c);
      cairo_new_sub_path (cr);
      cairo_arc (cr, b->x + BOX_W - 6, b->y + 6, 6, -G_PI / 2, 0);
      cairo_arc (cr, b->x + BOX_W - 6, b->y + BOX_H - 6, 6, 0, G_PI / 2);
      cairo_arc (cr, b->x + 6, b->y + BOX_H - 6, 6, G_PI / 2, G_PI);
      cairo_arc (cr, b->x + 6, b->y + 6, 6, G_PI, 3 * G_PI / 2);
      cairo_close_path (cr);
      cairo_set_source_rgba (cr, c.red, c.green, c.blue, b->id == selected ? 0.9 : 0.18);
      cairo_fill_preserve (cr);
      cairo_set_source_rgba (cr, c.red, c.green, c.blue, 1.0);
      cairo_set_line_width (cr, b->id == selected ? 3.0 : 1.2);
      cairo_stroke (cr);

      format_shape (&n->shape, shape, sizeof shape);
      markup = g_markup_printf_escaped ("<b>%s</b> <small>%s</small>\n<small>%s</small>",
                                        op_label (n), n->name, shape);
      pango_layout_set_markup (pl, markup, -1);
      if (b->id == selected)
        cairo_set_source_rgb (cr, 1, 1, 1);
      else
        gdk_cairo_set_source_rgba (cr, fg);
      cairo_move_to (cr, b->x + 6, b->y + 4);
      pango_cairo_show_layout (cr, pl);
    }

  pango_font_description_free (font);
  g_object_unref (pl);
}

static void
cs_graph_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  CsGraphView *self = CS_GRAPH_VIEW (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  GdkRGBA fg;
  cairo_t *cr;

  if (self->set == NULL || self->boxes->len == 0 || w <= 0 || h <= 0)
    return;
  if (!self->fitted)
    fit (self);
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  draw_graph (self, cr, &fg);
  cairo_destroy (cr);
}

int
cs_graph_view_node_at (CsGraphView *self, double x, double y)
{
  double gx, gy;

  if (self->set == NULL || self->zoom <= 0)
    return -1;
  if (!self->fitted)
    fit (self);
  gx = (x - self->pan_x) / self->zoom;
  gy = (y - self->pan_y) / self->zoom;
  for (guint i = 0; i < self->boxes->len; i++)
    {
      const Box *b = &g_array_index (self->boxes, Box, i);
      if (gx >= b->x && gx <= b->x + BOX_W && gy >= b->y && gy <= b->y + BOX_H)
        return b->id;
    }
  return -1;
}

gboolean
cs_graph_view_node_center (CsGraphView *self, int id, double *x, double *y)
{
  const Box *b;

  if (self->set == NULL || self->box_of_node == NULL || id < 0
      || id >= cs_model_set_get_graph (self->set)->n_nodes || self->box_of_node[id] < 0)
    return FALSE;
  if (!self->fitted)
    fit (self);
  b = &g_array_index (self->boxes, Box, self->box_of_node[id]);
  *x = (b->x + BOX_W / 2) * self->zoom + self->pan_x;
  *y = (b->y + BOX_H / 2) * self->zoom + self->pan_y;
  return TRUE;
}

static void
click_released_cb (GtkGestureClick *gesture, int n_press, double x, double y, CsGraphView *self)
{
  int id = cs_graph_view_node_at (self, x, y);
  double cx, cy;

  if (id >= 0 && self->session != NULL)
    cs_session_set_layer (self->session, id);
  /* The node inspector: what the node is (op, attributes, shapes, parameters, FLOPs). */
  g_clear_pointer (&self->inspector, gtk_widget_unparent);
  if (id >= 0 && self->set != NULL && cs_graph_view_node_center (self, id, &cx, &cy))
    {
      /* The node's box, clipped to the widget: the popover must point inside it. */
      int w = gtk_widget_get_width (GTK_WIDGET (self)), h = gtk_widget_get_height (GTK_WIDGET (self));
      int x0 = CLAMP ((int) (cx - BOX_W * self->zoom / 2), 0, MAX (w - 1, 0));
      int y0 = CLAMP ((int) (cy - BOX_H * self->zoom / 2), 0, MAX (h - 1, 0));
      int x1 = CLAMP ((int) (cx + BOX_W * self->zoom / 2), x0 + 1, MAX (w, x0 + 1));
      int y1 = CLAMP ((int) (cy + BOX_H * self->zoom / 2), y0 + 1, MAX (h, y0 + 1));
      GdkRectangle r = { x0, y0, x1 - x0, y1 - y0 };
      self->inspector = cs_node_inspector_new (cs_model_set_get_graph (self->set), id);
      gtk_widget_set_parent (self->inspector, GTK_WIDGET (self));
      gtk_popover_set_position (GTK_POPOVER (self->inspector), GTK_POS_RIGHT);
      gtk_popover_set_pointing_to (GTK_POPOVER (self->inspector), &r);
      gtk_popover_popup (GTK_POPOVER (self->inspector));
    }
}

int
cs_graph_view_find (CsGraphView *self, const char *text)
{
  const cs_graph *g;
  g_autofree char *needle = g_utf8_casefold (text != NULL ? text : "", -1);

  if (self->set == NULL || needle[0] == '\0')
    return -1;
  g = cs_model_set_get_graph (self->set);
  for (int id = 0; id < g->n_nodes; id++)
    {
      const cs_node *n = &g->nodes[id];
      g_autofree char *name = g_utf8_casefold (n->name, -1);
      g_autofree char *alias = n->alias != NULL ? g_utf8_casefold (n->alias, -1) : NULL;
      double cx, cy;

      if (!node_is_shown (n) || (strstr (name, needle) == NULL && (alias == NULL || strstr (alias, needle) == NULL)))
        continue;
      /* Bring it to the middle of the view, then select it. */
      if (cs_graph_view_node_center (self, id, &cx, &cy))
        {
          self->pan_x += gtk_widget_get_width (GTK_WIDGET (self)) / 2.0 - cx;
          self->pan_y += gtk_widget_get_height (GTK_WIDGET (self)) / 2.0 - cy;
          gtk_widget_queue_draw (GTK_WIDGET (self));
        }
      if (self->session != NULL)
        cs_session_set_layer (self->session, id);
      return id;
    }
  return -1;
}

GtkWidget *
cs_graph_view_get_inspector (CsGraphView *self)
{
  return self->inspector;
}

static void
drag_begin_cb (GtkGestureDrag *gesture, double x, double y, CsGraphView *self)
{
  self->drag_pan_x = self->pan_x;
  self->drag_pan_y = self->pan_y;
}

static void
drag_update_cb (GtkGestureDrag *gesture, double dx, double dy, CsGraphView *self)
{
  self->pan_x = self->drag_pan_x + dx;
  self->pan_y = self->drag_pan_y + dy;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
zoom_at (CsGraphView *self, double factor, double x, double y)
{
  double z = CLAMP (self->zoom * factor, 0.1, 4.0);

  /* Keep the point under the pointer still. */
  self->pan_x = x - (x - self->pan_x) * z / self->zoom;
  self->pan_y = y - (y - self->pan_y) * z / self->zoom;
  self->zoom = z;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static gboolean
scroll_cb (GtkEventControllerScroll *scroll, double dx, double dy, CsGraphView *self)
{
  GdkModifierType state = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (scroll));

  if (state & GDK_CONTROL_MASK)
    {
      double x = gtk_widget_get_width (GTK_WIDGET (self)) / 2.0, y = gtk_widget_get_height (GTK_WIDGET (self)) / 2.0;
      GdkEvent *ev = gtk_event_controller_get_current_event (GTK_EVENT_CONTROLLER (scroll));
      if (ev != NULL)
        {
          double ex, ey;
          if (gdk_event_get_position (ev, &ex, &ey))
            {
              graphene_point_t p;
              GtkNative *native = gtk_widget_get_native (GTK_WIDGET (self));
              double nx, ny;
              gtk_native_get_surface_transform (native, &nx, &ny);
              if (gtk_widget_compute_point (GTK_WIDGET (native), GTK_WIDGET (self),
                                            &GRAPHENE_POINT_INIT (ex - nx, ey - ny), &p))
                x = p.x, y = p.y;
            }
        }
      zoom_at (self, dy < 0 ? 1.15 : 1 / 1.15, x, y);
    }
  else
    {
      self->pan_x -= dx * 40;
      self->pan_y -= dy * 40;
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
  return TRUE;
}

static void
model_set_changed_cb (CsSession *session, GParamSpec *pspec, CsGraphView *self)
{
  CsModelSet *set = cs_session_get_model_set (session);

  if (set == self->set)
    return;
  g_clear_pointer (&self->set, cs_model_set_unref);
  g_clear_pointer (&self->inspector, gtk_widget_unparent);
  self->set = set != NULL ? cs_model_set_ref (set) : NULL;
  layout (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
layer_changed_cb (CsSession *session, GParamSpec *pspec, CsGraphView *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

CsSession *
cs_graph_view_get_session (CsGraphView *self)
{
  return self->session;
}

void
cs_graph_view_set_session (CsGraphView *self, CsSession *session)
{
  g_return_if_fail (CS_IS_GRAPH_VIEW (self));

  if (self->session == session)
    return;
  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_set_object (&self->session, session);
  if (session != NULL)
    {
      g_signal_connect_object (session, "notify::model-set", G_CALLBACK (model_set_changed_cb),
                               self, 0);
      g_signal_connect_object (session, "notify::layer", G_CALLBACK (layer_changed_cb), self, 0);
      model_set_changed_cb (session, NULL, self);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SESSION]);
}

static void
cs_graph_view_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  CsGraphView *self = CS_GRAPH_VIEW (widget);

  if (!self->fitted)
    fit (self);
  if (self->inspector != NULL)
    gtk_popover_present (GTK_POPOVER (self->inspector));
}

static void
cs_graph_view_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                       int *natural, int *minimum_baseline, int *natural_baseline)
{
  *minimum = 120;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 260 : 400;
}

static void
cs_graph_view_dispose (GObject *object)
{
  CsGraphView *self = CS_GRAPH_VIEW (object);

  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_clear_object (&self->session);
  g_clear_pointer (&self->set, cs_model_set_unref);
  g_clear_pointer (&self->inspector, gtk_widget_unparent);
  G_OBJECT_CLASS (cs_graph_view_parent_class)->dispose (object);
}

static void
cs_graph_view_finalize (GObject *object)
{
  CsGraphView *self = CS_GRAPH_VIEW (object);

  g_array_unref (self->boxes);
  g_free (self->box_of_node);
  G_OBJECT_CLASS (cs_graph_view_parent_class)->finalize (object);
}

static void
cs_graph_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CsGraphView *self = CS_GRAPH_VIEW (object);

  switch (prop_id)
    {
    case PROP_SESSION: g_value_set_object (value, self->session); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_graph_view_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CsGraphView *self = CS_GRAPH_VIEW (object);

  switch (prop_id)
    {
    case PROP_SESSION: cs_graph_view_set_session (self, g_value_get_object (value)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_graph_view_class_init (CsGraphViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cs_graph_view_dispose;
  object_class->finalize = cs_graph_view_finalize;
  object_class->get_property = cs_graph_view_get_property;
  object_class->set_property = cs_graph_view_set_property;
  widget_class->snapshot = cs_graph_view_snapshot;
  widget_class->measure = cs_graph_view_measure;
  widget_class->size_allocate = cs_graph_view_size_allocate;

  properties[PROP_SESSION] =
    g_param_spec_object ("session", NULL, NULL, CS_TYPE_SESSION,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);
  gtk_widget_class_set_css_name (widget_class, "csgraphview");
}

static void
cs_graph_view_init (CsGraphView *self)
{
  GtkGesture *click = gtk_gesture_click_new ();
  GtkGesture *drag = gtk_gesture_drag_new ();
  GtkEventController *scroll =
    gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);

  self->boxes = g_array_new (FALSE, FALSE, sizeof (Box));
  self->zoom = 1.0;
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);

  g_signal_connect (click, "released", G_CALLBACK (click_released_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
  g_signal_connect (drag, "drag-begin", G_CALLBACK (drag_begin_cb), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (drag_update_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));
  g_signal_connect (scroll, "scroll", G_CALLBACK (scroll_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), scroll);
}

GtkWidget *
cs_graph_view_new (CsSession *session)
{
  return g_object_new (CS_TYPE_GRAPH_VIEW, "session", session, NULL);
}

/* CsCartographyChart: the variability-confidence scatter of the training examples. */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "cs-cartography-chart.h"
#include "cs-panel.h"
#include "cs-colormap.h"

#define ML 44.0   /* margins: left, right, top, bottom */
#define MR 10.0
#define MT 20.0
#define MB 30.0
#define TITLE_H 20.0
#define REACH 8.0

struct _CsCartographyChart
{
  GtkWidget parent_instance;
  const CsDataHistory *d;
  int epoch;
  gboolean by_class;
  int64_t hover;
  double x_max;
  /* The points as drawn on screen, kept while the data, epoch, colours and size stay: a hover
   * then redraws only its read-out, not tens of thousands of points. */
  cairo_surface_t *points;
  int points_w, points_h, points_epoch;
  gboolean points_by_class;
  GdkRGBA points_fg;
};

enum { SIGNAL_EXAMPLE_ACTIVATED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (CsCartographyChart, cs_cartography_chart, GTK_TYPE_WIDGET)

void
cs_class_color (int c, double rgb[3])
{
  /* Tableau 10: distinct in print and for the common colour-vision deficiencies. */
  static const guint32 palette[10] = { 0x4e79a7, 0xf28e2b, 0xe15759, 0x76b7b2, 0x59a14f,
                                       0xedc948, 0xb07aa1, 0xff9da7, 0x9c755f, 0xbab0ac };
  guint32 v = palette[(c < 0 ? 0 : c) % 10];
  double shade = c >= 10 ? 0.7 : 1.0;  /* beyond ten classes the palette repeats, darker */

  rgb[0] = shade * ((v >> 16) & 0xff) / 255.0;
  rgb[1] = shade * ((v >> 8) & 0xff) / 255.0;
  rgb[2] = shade * (v & 0xff) / 255.0;
}

static void
update_range (CsCartographyChart *self)
{
  /* The paper's plots span variability 0..0.5; a wider spread widens the axis. */
  self->x_max = 0.5;
  if (self->d != NULL)
    for (int64_t i = 0; i < self->d->h->split[CS_HISTORY_TRAIN].n; i++)
      if (isfinite (self->d->measures[i].variability))
        self->x_max = MAX (self->x_max, self->d->measures[i].variability * 1.05);
}

static void
drop_points (CsCartographyChart *self)
{
  g_clear_pointer (&self->points, cairo_surface_destroy);
}

void
cs_cartography_chart_set_data (CsCartographyChart *self, const CsDataHistory *d)
{
  drop_points (self);
  self->d = d;
  self->hover = -1;
  update_range (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
cs_cartography_chart_set_epoch (CsCartographyChart *self, int epoch)
{
  self->epoch = epoch;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
cs_cartography_chart_set_color_by_class (CsCartographyChart *self, gboolean by_class)
{
  self->by_class = by_class;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

int64_t
cs_cartography_chart_get_n_points (CsCartographyChart *self)
{
  return self->d != NULL ? self->d->h->split[CS_HISTORY_TRAIN].n : 0;
}

static void
plot_box (int w, int h, gboolean figure, double *x0, double *y0, double *pw, double *ph)
{
  double top = MT + (figure ? TITLE_H : 0);

  *x0 = ML;
  *y0 = top;
  *pw = MAX (w - ML - MR, 1);
  *ph = MAX (h - top - MB, 1);
}

static gboolean
point_in (CsCartographyChart *self, int64_t pos, int w, int h, gboolean figure, double *x, double *y)
{
  double x0, y0, pw, ph;
  const cs_example_measures *m;

  if (self->d == NULL || pos < 0 || pos >= self->d->h->split[CS_HISTORY_TRAIN].n)
    return FALSE;
  m = &self->d->measures[pos];
  if (!isfinite (m->variability) || !isfinite (m->confidence))
    return FALSE;
  plot_box (w, h, figure, &x0, &y0, &pw, &ph);
  *x = x0 + pw * m->variability / self->x_max;
  *y = y0 + ph * (1.0 - m->confidence);
  return TRUE;
}

gboolean
cs_cartography_chart_point_at (CsCartographyChart *self, int64_t pos, int w, int h, double *x,
                               double *y)
{
  return point_in (self, pos, w, h, FALSE, x, y);
}

static int64_t
nearest (CsCartographyChart *self, double x, double y)
{
  int w = gtk_widget_get_width (GTK_WIDGET (self)), h = gtk_widget_get_height (GTK_WIDGET (self));
  double best = REACH * REACH;
  int64_t found = -1;

  for (int64_t i = 0; i < cs_cartography_chart_get_n_points (self); i++)
    {
      double px, py;
      if (point_in (self, i, w, h, FALSE, &px, &py)
          && (px - x) * (px - x) + (py - y) * (py - y) < best)
        {
          best = (px - x) * (px - x) + (py - y) * (py - y);
          found = i;
        }
    }
  return found;
}

static void
point_color (CsCartographyChart *self, int64_t i, double rgb[3])
{
  if (self->by_class)
    cs_class_color (self->d->h->split[CS_HISTORY_TRAIN].label[i], rgb);
  else
    {
      guint8 c[3];
      cs_colormap_lookup (CS_COLORMAP_VIRIDIS, self->d->measures[i].correctness, c);
      for (int k = 0; k < 3; k++)
        rgb[k] = c[k] / 255.0;
    }
}

static void
show_text (cairo_t *cr, PangoLayout *pl, const char *text, double x, double y, double align)
{
  int tw, th;

  pango_layout_set_text (pl, text, -1);
  pango_layout_get_pixel_size (pl, &tw, &th);
  cairo_move_to (cr, x - align * tw, y);
  pango_cairo_show_layout (cr, pl);
}

static void
draw_axes (CsCartographyChart *self, cairo_t *cr, PangoLayout *pl, const GdkRGBA *fg,
           double x0, double y0, double pw, double ph)
{
  char buf[16];

  cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.5);
  cairo_set_line_width (cr, 1);
  cairo_rectangle (cr, x0 + 0.5, y0 + 0.5, pw, ph);
  cairo_stroke (cr);
  gdk_cairo_set_source_rgba (cr, fg);
  for (int t = 0; t <= 4; t++)
    {
      g_snprintf (buf, sizeof buf, "%.2f", t / 4.0);
      show_text (cr, pl, buf, x0 - 4, y0 + ph * (1 - t / 4.0) - 6, 1.0);
      g_snprintf (buf, sizeof buf, "%.2f", self->x_max * t / 4.0);
      show_text (cr, pl, buf, x0 + pw * t / 4.0, y0 + ph + 2, t == 4 ? 1.0 : t == 0 ? 0.0 : 0.5);
    }
  show_text (cr, pl, _("variability"), x0 + pw / 2, y0 + ph + 15, 0.5);
  cairo_save (cr);
  cairo_move_to (cr, 2, y0 + ph / 2);
  cairo_rotate (cr, -G_PI / 2);
  pango_layout_set_text (pl, _("confidence"), -1);
  {
    int tw, th;
    pango_layout_get_pixel_size (pl, &tw, &th);
    cairo_rel_move_to (cr, -tw / 2.0, 0);
  }
  pango_cairo_show_layout (cr, pl);
  cairo_restore (cr);
}

/* The paper's three regions, where they lie (over the points, which crowd the top left). */
static void
draw_regions (cairo_t *cr, PangoLayout *pl, const GdkRGBA *fg, double x0, double y0, double pw,
              double ph)
{
  cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.6);
  show_text (cr, pl, _("easy to learn"), x0 + pw / 2, y0 + 2, 0.5);
  show_text (cr, pl, _("hard to learn"), x0 + 4, y0 + ph - 16, 0.0);
  show_text (cr, pl, _("ambiguous"), x0 + pw - 4, y0 + ph / 2 - 8, 1.0);
}

static void
draw_legend (CsCartographyChart *self, cairo_t *cr, PangoLayout *pl, const GdkRGBA *fg, int w,
             double ly)
{
  double x = w - MR;

  gdk_cairo_set_source_rgba (cr, fg);
  if (self->by_class)
    {
      /* The names when they fit in one line, else the class numbers (the confusion matrix's
       * column labels). */
      gboolean numbers = FALSE;
      double total = 0;
      for (int c = 0; c < self->d->h->n_classes; c++)
        {
          int tw, th;
          pango_layout_set_text (pl, cs_data_history_class_name (self->d, c), -1);
          pango_layout_get_pixel_size (pl, &tw, &th);
          total += tw + 16;
        }
      numbers = total > w - MR - 4;
      for (int c = self->d->h->n_classes - 1; c >= 0; c--)
        {
          double rgb[3];
          char num[16];
          int tw, th;
          g_snprintf (num, sizeof num, "%d", c);
          pango_layout_set_text (pl, numbers ? num : cs_data_history_class_name (self->d, c), -1);
          pango_layout_get_pixel_size (pl, &tw, &th);
          x -= tw;
          gdk_cairo_set_source_rgba (cr, fg);
          cairo_move_to (cr, x, ly);
          pango_cairo_show_layout (cr, pl);
          cs_class_color (c, rgb);
          cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
          cairo_new_sub_path (cr);
          cairo_arc (cr, x - 6, ly + 7, 3.5, 0, 2 * G_PI);
          cairo_fill (cr);
          x -= 16;
        }
      return;
    }
  for (int i = 0; i < 5; i++)
    {
      guint8 c[3];
      char buf[8];
      g_snprintf (buf, sizeof buf, "%.1f", 1.0 - i / 4.0);
      pango_layout_set_text (pl, buf, -1);
      x -= 24;
      gdk_cairo_set_source_rgba (cr, fg);
      cairo_move_to (cr, x, ly);
      pango_cairo_show_layout (cr, pl);
      cs_colormap_lookup (CS_COLORMAP_VIRIDIS, (float) (1.0 - i / 4.0), c);
      cairo_set_source_rgb (cr, c[0] / 255.0, c[1] / 255.0, c[2] / 255.0);
      cairo_new_sub_path (cr);
      cairo_arc (cr, x - 6, ly + 7, 3.5, 0, 2 * G_PI);
      cairo_fill (cr);
      x -= 10;
    }
  gdk_cairo_set_source_rgba (cr, fg);
  show_text (cr, pl, _("correctness"), x - 4, ly, 1.0);
}

static void
draw_readout (CsCartographyChart *self, cairo_t *cr, PangoLayout *pl, const GdkRGBA *fg,
              double x, double y, double x0, double pw)
{
  const cs_history_examples *ex = &self->d->h->split[CS_HISTORY_TRAIN];
  const cs_example_measures *m = &self->d->measures[self->hover];
  g_autofree char *text = g_strdup_printf (_("train:%lld · %s\nconfidence %.2f · variability %.2f\ncorrectness %.2f · AUM %.2f · forgotten %d×"),
                                           (long long) ex->index[self->hover],
                                           cs_data_history_class_name (self->d, ex->label[self->hover]),
                                           m->confidence, m->variability, m->correctness, m->aum,
                                           m->forgetting);
  int tw, th;
  double tx, ty;

  cairo_set_source_rgb (cr, 0.21, 0.52, 0.89);
  cairo_set_line_width (cr, 2);
  cairo_new_sub_path (cr);
  cairo_arc (cr, x, y, 5, 0, 2 * G_PI);
  cairo_stroke (cr);
  pango_layout_set_text (pl, text, -1);
  pango_layout_get_pixel_size (pl, &tw, &th);
  tx = x + 10 + tw > x0 + pw ? x - 10 - tw : x + 10;
  ty = MAX (2, y - th - 4);
  cairo_set_source_rgba (cr, 1 - fg->red, 1 - fg->green, 1 - fg->blue, 0.85);
  cairo_rectangle (cr, tx - 3, ty - 2, tw + 6, th + 4);
  cairo_fill (cr);
  gdk_cairo_set_source_rgba (cr, fg);
  cairo_move_to (cr, tx, ty);
  pango_cairo_show_layout (cr, pl);
}

/* Antialiased coverage (0..255) of a disc of radius r, or a ring of radius r and width lw when
 * lw > 0, on a (2 * MASK_R + 1)^2 pixel grid centred on a pixel centre, 4x4 samples a pixel. */
#define MASK_R 4
#define MASK_N (2 * MASK_R + 1)
static void
make_mask (guint8 mask[MASK_N * MASK_N], double r, double lw)
{
  for (int y = 0; y < MASK_N; y++)
    for (int x = 0; x < MASK_N; x++)
      {
        int in = 0;
        for (int sy = 0; sy < 4; sy++)
          for (int sx = 0; sx < 4; sx++)
            {
              double dx = x - MASK_R + (sx + 0.5) / 4 - 0.5, dy = y - MASK_R + (sy + 0.5) / 4 - 0.5;
              double d = sqrt (dx * dx + dy * dy);
              in += lw > 0 ? fabs (d - r) <= lw / 2 : d <= r;
            }
        mask[y * MASK_N + x] = (guint8) (in * 255 / 16);
      }
}

/* Blends colour rgb at opacity alpha x mask into a premultiplied ARGB32 image at (cx, cy). */
static void
stamp (guint8 *data, int stride, int w, int h, int cx, int cy, const guint8 *mask, const double rgb[3],
       double alpha)
{
  guint32 c[3] = { (guint32) (rgb[0] * 255), (guint32) (rgb[1] * 255), (guint32) (rgb[2] * 255) };

  for (int y = MAX (0, cy - MASK_R); y <= MIN (h - 1, cy + MASK_R); y++)
    for (int x = MAX (0, cx - MASK_R); x <= MIN (w - 1, cx + MASK_R); x++)
      {
        guint32 a = (guint32) (mask[(y - cy + MASK_R) * MASK_N + x - cx + MASK_R] * alpha);
        guint32 *p = (guint32 *) (void *) (data + y * stride) + x, v = *p;
        if (a == 0)
          continue;
        guint32 out = ((a + ((v >> 24) * (255 - a)) / 255) << 24);
        for (int k = 0; k < 3; k++)
          out |= ((c[k] * a + ((v >> (16 - 8 * k)) & 0xff) * (255 - a)) / 255) << (16 - 8 * k);
        *p = out;
      }
}

/* The points (and the rings of those wrong at epoch k) rendered into self->points. */
static void
render_points (CsCartographyChart *self, const GdkRGBA *fg, int w, int h, int k)
{
  const cs_history_examples *ex = &self->d->h->split[CS_HISTORY_TRAIN];
  static guint8 disc[MASK_N * MASK_N], ring[MASK_N * MASK_N];
  double fg_rgb[3] = { fg->red, fg->green, fg->blue };
  guint8 *data;
  int stride;

  if (ring[MASK_R] == 0)
    {
      make_mask (disc, 2.5, 0);
      make_mask (ring, 3.6, 0.8);
    }
  drop_points (self);
  self->points = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, w, h);
  self->points_w = w;
  self->points_h = h;
  self->points_epoch = k;
  self->points_by_class = self->by_class;
  self->points_fg = *fg;
  cairo_surface_flush (self->points);
  data = cairo_image_surface_get_data (self->points);
  stride = cairo_image_surface_get_stride (self->points);
  for (int64_t i = 0; i < ex->n; i++)
    {
      double px, py, rgb[3];
      if (!point_in (self, i, w, h, FALSE, &px, &py))
        continue;
      point_color (self, i, rgb);
      stamp (data, stride, w, h, (int) floor (px), (int) floor (py), disc, rgb, 0.8);
      if (k >= 0 && ex->pred[i * self->d->h->n_epochs + k] != ex->label[i])
        stamp (data, stride, w, h, (int) floor (px), (int) floor (py), ring, fg_rgb, 0.7);
    }
  cairo_surface_mark_dirty (self->points);
}

/* On screen: the cached raster (rendered again when anything it shows changed); in a figure,
 * vector circles. */
static void
draw_points (CsCartographyChart *self, cairo_t *cr, const GdkRGBA *fg, int w, int h, gboolean figure,
             int k)
{
  const cs_history_examples *ex = &self->d->h->split[CS_HISTORY_TRAIN];

  if (!figure)
    {
      if (self->points == NULL || self->points_w != w || self->points_h != h || self->points_epoch != k
          || self->points_by_class != self->by_class || !gdk_rgba_equal (&self->points_fg, fg))
        render_points (self, fg, w, h, k);
      cairo_set_source_surface (cr, self->points, 0, 0);
      cairo_paint (cr);
      return;
    }
  for (int64_t i = 0; i < ex->n; i++)
    {
      double px, py, rgb[3];
      if (!point_in (self, i, w, h, figure, &px, &py))
        continue;
      point_color (self, i, rgb);
      cairo_set_source_rgba (cr, rgb[0], rgb[1], rgb[2], 0.8);
      cairo_new_sub_path (cr);
      cairo_arc (cr, px, py, 2.5, 0, 2 * G_PI);
      cairo_fill (cr);
      if (k >= 0 && ex->pred[i * self->d->h->n_epochs + k] != ex->label[i])
        {
          /* Wrong at the selected epoch: a ring that follows the scrubber. */
          cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.7);
          cairo_set_line_width (cr, 0.8);
          cairo_new_sub_path (cr);
          cairo_arc (cr, px, py, 3.6, 0, 2 * G_PI);
          cairo_stroke (cr);
        }
    }
}

void
cs_cartography_chart_draw (CsCartographyChart *self, cairo_t *cr, PangoLayout *pl, const GdkRGBA *fg,
                           int w, int h, gboolean figure)
{
  double x0, y0, pw, ph;
  int k;

  if (self->d == NULL)
    return;
  k = self->epoch >= 0 && self->epoch < self->d->h->n_epochs ? self->epoch : -1;
  plot_box (w, h, figure, &x0, &y0, &pw, &ph);
  if (figure)
    {
      gdk_cairo_set_source_rgba (cr, fg);
      show_text (cr, pl, _("Dataset cartography of the training examples"), 4, 3, 0.0);
    }
  draw_axes (self, cr, pl, fg, x0, y0, pw, ph);
  draw_points (self, cr, fg, w, h, figure, k);
  draw_regions (cr, pl, fg, x0, y0, pw, ph);
  if (figure || pw > 260)
    draw_legend (self, cr, pl, fg, w, y0 - MT + 3);
  if (!figure && self->hover >= 0)
    {
      double px, py;
      if (point_in (self, self->hover, w, h, FALSE, &px, &py))
        draw_readout (self, cr, pl, fg, px, py, x0, pw);
    }
}

static void
cs_cartography_chart_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  PangoLayout *pl;
  GdkRGBA fg;
  cairo_t *cr = cs_panel_begin (widget, snapshot, "Sans 8", &pl, &fg);

  cs_cartography_chart_draw (CS_CARTOGRAPHY_CHART (widget), cr, pl, &fg, w, h, FALSE);
  cs_panel_end (cr, pl);
}

int64_t
cs_cartography_chart_activate_at (CsCartographyChart *self, double x, double y)
{
  int64_t pos = nearest (self, x, y);

  if (pos >= 0)
    g_signal_emit (self, signals[SIGNAL_EXAMPLE_ACTIVATED], 0, (gint64) pos);
  return pos;
}

static void
motion_cb (GtkEventControllerMotion *motion, double x, double y, CsCartographyChart *self)
{
  int64_t pos = nearest (self, x, y);

  if (pos != self->hover)
    {
      self->hover = pos;
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

static void
leave_cb (GtkEventControllerMotion *motion, CsCartographyChart *self)
{
  self->hover = -1;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
click_cb (GtkGestureClick *gesture, int n_press, double x, double y, CsCartographyChart *self)
{
  cs_cartography_chart_activate_at (self, x, y);
}

static void
cs_cartography_chart_finalize (GObject *object)
{
  drop_points (CS_CARTOGRAPHY_CHART (object));
  G_OBJECT_CLASS (cs_cartography_chart_parent_class)->finalize (object);
}

static void
cs_cartography_chart_class_init (CsCartographyChartClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = cs_cartography_chart_finalize;

  widget_class->snapshot = cs_cartography_chart_snapshot;
  /* ::example-activated (position in the training split) */
  signals[SIGNAL_EXAMPLE_ACTIVATED] =
    g_signal_new ("example-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_INT64);
  gtk_widget_class_set_css_name (widget_class, "cscartographychart");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
cs_cartography_chart_init (CsCartographyChart *self)
{
  GtkEventController *motion = gtk_event_controller_motion_new ();
  GtkGesture *click = gtk_gesture_click_new ();

  self->hover = -1;
  self->epoch = -1;
  self->x_max = 0.5;
  g_signal_connect (motion, "motion", G_CALLBACK (motion_cb), self);
  g_signal_connect (motion, "leave", G_CALLBACK (leave_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);
  g_signal_connect (click, "pressed", G_CALLBACK (click_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
  gtk_widget_set_size_request (GTK_WIDGET (self), 260, 200);
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Dataset cartography: each training example's confidence against its variability; click one to explain it"),
                                  -1);
}

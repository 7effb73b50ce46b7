/* CsShortcutPanel: the shortcut report of the session's epoch, computed on the worker (the same
 * analysis as `convscope-cli shortcuts`: Layer-CAM maps of 32 right validation images per class,
 * SpRAy clusters, the densest small box), drawn from one function for the screen and exports. */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "cs-shortcut-panel.h"
#include "cs-model-set.h"
#include "cs-panel.h"
#include "render/colormap.h"

#define CHANNEL "data-shortcuts"
#define PER_CLASS 32
#define MAX_CLUSTERS 3   /* drawn per class, largest first */
#define N_THUMBS 4       /* member images drawn per cluster */
#define LEFT 170.0
#define MAP 64.0
#define THUMB 40.0
#define ROW 92.0
#define TOP 26.0
#define CLUSTER_W (MAP + 8 + N_THUMBS * (THUMB + 3) + 18)

struct _CsShortcutPanel
{
  GtkWidget parent_instance;
  CsSession *session;
  const CsDataHistory *d;
  cs_shortcut_report *report;
  int report_epoch;             /* session epoch index of the report, -1 without one */
  int job_epoch;                /* of the job running, -1 when none */
  guint64 generation;
  char *status;
};

G_DEFINE_FINAL_TYPE (CsShortcutPanel, cs_shortcut_panel, GTK_TYPE_WIDGET)

typedef struct
{
  CsModelSet *set;
  int epoch;
} Job;

static void
job_free (gpointer data)
{
  Job *j = data;

  cs_model_set_unref (j->set);
  g_free (j);
}

static void
report_free (gpointer r)
{
  cs_shortcut_report_free (r);
}

/* Worker: the run's validation examples through the model at the job's epoch. */
static gpointer
job_run (CsWorkerJob *wjob, gpointer data, GError **error)
{
  Job *j = data;
  const cs_model *m = cs_worker_job_get_model (wjob, j->set, j->epoch, error);
  const cs_run *run = cs_model_set_get_run (j->set);
  cs_dataset ds = { 0 };
  char *spec = NULL;
  int64_t *train_idx = NULL, *test_idx = NULL, n_train = 0, n_test = 0;
  cs_error err = { 0 };
  cs_shortcut_report *r = NULL;

  if (m == NULL)
    return NULL;
  if (cs_history_examples_of_run (run, &ds, &spec, &train_idx, &n_train, &test_idx, &n_test, &err) == CS_OK)
    {
      cs_shortcut_options o = { .method = CS_METHOD_LAYERCAM, .layer = -1, .per_class = PER_CLASS,
                                .mean = m->mean, .std = m->std };
      r = cs_shortcuts_analyse (m, &ds, test_idx, n_test, &o, cs_worker_job_get_progress (wjob), &err);
    }
  if (r == NULL)
    cs_set_core_error (error, &err);
  cs_dataset_free (&ds);
  free (spec);
  free (train_idx);
  free (test_idx);
  return r;
}

static void
set_report (CsShortcutPanel *self, cs_shortcut_report *r, int epoch)
{
  g_clear_pointer (&self->report, cs_shortcut_report_free);
  self->report = r;
  self->report_epoch = r != NULL ? epoch : -1;
  cs_shortcut_panel_get_figure_size (self, NULL, NULL);
  gtk_widget_queue_resize (GTK_WIDGET (self));
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
job_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CsShortcutPanel) self = user_data;
  g_autoptr (GError) error = NULL;
  cs_shortcut_report *r = cs_worker_finish (CS_WORKER (source), result, &error);
  int epoch = self->job_epoch;

  if (r == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      /* Superseded by a newer job (which reports), or cancelled from the window. */
      if (cs_worker_get_generation (CS_WORKER (source), CHANNEL) != self->generation)
        self->job_epoch = -1;
      gtk_widget_queue_draw (GTK_WIDGET (self));
      return;
    }
  self->job_epoch = -1;
  g_clear_pointer (&self->status, g_free);
  if (r == NULL)
    self->status = g_strdup (error->message);
  set_report (self, r, epoch);
}

void
cs_shortcut_panel_update (CsShortcutPanel *self)
{
  CsModelSet *set = self->session != NULL ? cs_session_get_model_set (self->session) : NULL;
  int epoch = self->session != NULL ? cs_session_get_epoch (self->session) : -1;
  Job *j;

  if (set == NULL || self->d == NULL || epoch < 0 || !gtk_widget_get_mapped (GTK_WIDGET (self))
      || epoch == self->report_epoch || epoch == self->job_epoch)
    return;
  j = g_new0 (Job, 1);
  j->set = cs_model_set_ref (set);
  j->epoch = epoch;
  self->job_epoch = epoch;
  g_clear_pointer (&self->status, g_free);
  self->generation = cs_worker_run (cs_session_get_worker (self->session), CHANNEL, TRUE, job_run, j,
                                    job_free, report_free, job_done, g_object_ref (self));
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
cs_shortcut_panel_set_session (CsShortcutPanel *self, CsSession *session)
{
  g_set_object (&self->session, session);
}

void
cs_shortcut_panel_set_data (CsShortcutPanel *self, const CsDataHistory *d)
{
  if (self->job_epoch >= 0 && self->session != NULL)
    cs_worker_cancel (cs_session_get_worker (self->session), CHANNEL);
  self->job_epoch = -1;
  self->d = d;
  g_clear_pointer (&self->status, g_free);
  set_report (self, NULL, -1);
}

gboolean
cs_shortcut_panel_get_loading (CsShortcutPanel *self)
{
  return self->job_epoch >= 0;
}

const cs_shortcut_report *
cs_shortcut_panel_get_report (CsShortcutPanel *self, int *epoch)
{
  if (epoch != NULL)
    *epoch = self->report_epoch;
  return self->report;
}

const char *
cs_shortcut_panel_get_status (CsShortcutPanel *self)
{
  return self->status;
}

void
cs_shortcut_panel_get_figure_size (CsShortcutPanel *self, int *w, int *h)
{
  int rows = self->report != NULL ? self->report->n_classes : 1;
  int width = (int) (LEFT + MAX_CLUSTERS * CLUSTER_W), height = (int) (TOP + rows * ROW);

  if (w != NULL)
    *w = width;
  if (h != NULL)
    *h = height;
  gtk_widget_set_size_request (GTK_WIDGET (self), width, height);
}

/* The history's position of test-split example index (its indices ascend), or -1. */
static int64_t
test_position (const CsDataHistory *d, int64_t index)
{
  const cs_history_examples *ex = &d->h->split[CS_HISTORY_TEST];
  int64_t lo = 0, hi = ex->n - 1;

  while (lo <= hi)
    {
      int64_t mid = lo + (hi - lo) / 2;
      if (ex->index[mid] == index)
        return mid;
      if (ex->index[mid] < index)
        lo = mid + 1;
      else
        hi = mid - 1;
    }
  return -1;
}

/* A cluster's mean map (viridis, scaled to its maximum) with the class's box outlined. */
static void
draw_mean_map (cairo_t *cr, const cs_shortcut_report *r, const cs_shortcut_class *k, const float *map,
               double x, double y)
{
  int n = r->height * r->width;
  g_autofree guint8 *rgb = g_malloc ((gsize) n * 3);
  float top = 0;

  for (int i = 0; i < n; i++)
    top = MAX (top, map[i]);
  for (int i = 0; i < n; i++)
    cs_colormap_lookup (CS_COLORMAP_VIRIDIS, top > 0 ? map[i] / top : 0, rgb + 3 * i);
  cs_panel_paint_pixels (cr, rgb, r->width, r->height, 3, TRUE, x, y, MAP);
  /* The densest small box: red and solid on a flagged class, dashed otherwise. */
  double sx = MAP / r->width, sy = MAP / r->height;
  cairo_save (cr);
  cairo_rectangle (cr, x + k->box[0] * sx, y + k->box[1] * sy, (k->box[2] - k->box[0] + 1) * sx,
                   (k->box[3] - k->box[1] + 1) * sy);
  if (k->flagged)
    cairo_set_source_rgb (cr, 0.9, 0.1, 0.1), cairo_set_line_width (cr, 2);
  else
    {
      static const double dash[] = { 3, 2 };
      cairo_set_source_rgba (cr, 1, 1, 1, 0.8);
      cairo_set_line_width (cr, 1);
      cairo_set_dash (cr, dash, 2, 0);
    }
  cairo_stroke (cr);
  cairo_restore (cr);
}

static void
draw_text (cairo_t *cr, PangoLayout *pl, const char *text, double x, double y)
{
  pango_layout_set_text (pl, text, -1);
  cairo_move_to (cr, x, y);
  pango_cairo_show_layout (cr, pl);
}

static void
draw_class (CsShortcutPanel *self, cairo_t *cr, PangoLayout *pl, const GdkRGBA *fg, int c, double y)
{
  const cs_shortcut_report *r = self->report;
  const cs_shortcut_class *k = &r->classes[c];
  const CsDataHistory *d = self->d;
  g_autofree char *head = NULL, *info = NULL;

  head = g_strdup_printf ("%s%s", cs_data_history_class_name (d, c), k->flagged ? _(" — a shortcut?") : "");
  info = g_strdup_printf (ngettext ("%d images, %d cluster\nbox (%d,%d)–(%d,%d)\nmass inside: %.0f %%\nimages mostly inside: %.0f %%",
                                    "%d images, %d clusters\nbox (%d,%d)–(%d,%d)\nmass inside: %.0f %%\nimages mostly inside: %.0f %%",
                                    k->n_clusters),
                          k->n_images, k->n_clusters, k->box[0], k->box[1], k->box[2], k->box[3],
                          100 * k->box_mass, 100 * k->box_images);
  if (k->flagged)
    cairo_set_source_rgb (cr, 0.8, 0.05, 0.05);
  else
    gdk_cairo_set_source_rgba (cr, fg);
  pango_layout_set_width (pl, (int) ((LEFT - 8) * PANGO_SCALE));
  draw_text (cr, pl, head, 4, y);
  gdk_cairo_set_source_rgba (cr, fg);
  draw_text (cr, pl, info, 4, y + 16);
  pango_layout_set_width (pl, -1);
  for (int i = 0; i < MIN (k->n_clusters, MAX_CLUSTERS); i++)
    {
      const cs_shortcut_cluster *cl = &k->clusters[i];
      double x = LEFT + i * CLUSTER_W;
      g_autofree char *size = g_strdup_printf (_("cluster %d: %d images"), i + 1, cl->size);
      draw_mean_map (cr, r, k, cl->mean_map, x, y);
      gdk_cairo_set_source_rgba (cr, fg);
      draw_text (cr, pl, size, x, y + MAP + 2);
      for (int t = 0; t < MIN (cl->size, N_THUMBS); t++)
        {
          int64_t pos = test_position (d, cl->members[t]);
          if (pos >= 0)
            cs_panel_paint_pixels (cr, d->pixels[CS_HISTORY_TEST] + (gsize) pos * d->channels * d->width * d->height,
                                   d->width, d->height, d->channels, FALSE, x + MAP + 8 + t * (THUMB + 3),
                                   y + (MAP - THUMB) / 2, THUMB);
        }
    }
}

void
cs_shortcut_panel_draw (CsShortcutPanel *self, cairo_t *cr, PangoLayout *pl, const GdkRGBA *fg, int w, int h,
                        gboolean figure)
{
  g_autofree char *title = NULL;

  gdk_cairo_set_source_rgba (cr, fg);
  if (self->report == NULL || self->d == NULL)
    {
      draw_text (cr, pl, self->status != NULL ? self->status
                         : self->job_epoch >= 0 ? _("Explaining each class’s validation images…")
                         : _("Shown at the scrubber’s epoch once computed"), 4, 4);
      return;
    }
  title = g_strdup_printf (_("Shortcuts at epoch %d: Layer-CAM maps of up to %d right validation images per class, "
                             "SpRAy clusters (mean map, members); flagged classes in red with their box"),
                           self->d->h->epochs[MAX (0, cs_data_history_epoch_of (self->d, self->session))],
                           PER_CLASS);
  pango_layout_set_width (pl, (int) ((w - 8) * PANGO_SCALE));
  draw_text (cr, pl, title, 4, 3);
  pango_layout_set_width (pl, -1);
  for (int c = 0; c < self->report->n_classes; c++)
    draw_class (self, cr, pl, fg, c, TOP + c * ROW);
}

static void
cs_shortcut_panel_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  PangoLayout *pl;
  GdkRGBA fg;
  cairo_t *cr = cs_panel_begin (widget, snapshot, "Sans 8", &pl, &fg);

  cs_shortcut_panel_draw (CS_SHORTCUT_PANEL (widget), cr, pl, &fg, w, h, FALSE);
  cs_panel_end (cr, pl);
}

static void
cs_shortcut_panel_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (cs_shortcut_panel_parent_class)->map (widget);
  cs_shortcut_panel_update (CS_SHORTCUT_PANEL (widget));
}

static void
cs_shortcut_panel_dispose (GObject *object)
{
  CsShortcutPanel *self = CS_SHORTCUT_PANEL (object);

  if (self->job_epoch >= 0 && self->session != NULL)
    cs_worker_cancel (cs_session_get_worker (self->session), CHANNEL);
  g_clear_object (&self->session);
  g_clear_pointer (&self->report, cs_shortcut_report_free);
  g_clear_pointer (&self->status, g_free);
  G_OBJECT_CLASS (cs_shortcut_panel_parent_class)->dispose (object);
}

static void
cs_shortcut_panel_class_init (CsShortcutPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cs_shortcut_panel_dispose;
  widget_class->snapshot = cs_shortcut_panel_snapshot;
  widget_class->map = cs_shortcut_panel_map;
  gtk_widget_class_set_css_name (widget_class, "csshortcutpanel");
}

static void
cs_shortcut_panel_init (CsShortcutPanel *self)
{
  self->report_epoch = self->job_epoch = -1;
  cs_shortcut_panel_get_figure_size (self, NULL, NULL);
}

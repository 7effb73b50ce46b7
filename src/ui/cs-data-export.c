/* Data view export: figures drawn by the panels' own draw functions, CSV from the history. */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "cs-data-export.h"
#include "cs-export.h"
#include "cs-panel.h"

#define N_SUSPECT_FIGURE 40
#define THUMB 64.0
#define THUMB_COLS 8

typedef struct
{
  CsDataView *view;
  const char *what;
} Figure;

static const GdkRGBA black = { 0, 0, 0, 1 };

gboolean
cs_data_export_handles (const char *what)
{
  return g_strcmp0 (what, "cartography") == 0 || g_strcmp0 (what, "confusion") == 0
         || g_strcmp0 (what, "suspects") == 0 || g_strcmp0 (what, "early-auroc") == 0
         || g_strcmp0 (what, "shortcuts") == 0;
}

static void
draw_thumbnail (cairo_t *cr, const CsDataHistory *d, int64_t pos, double x, double y)
{
  gsize plane = (gsize) d->width * d->height;

  cs_panel_paint_pixels (cr, d->pixels[CS_HISTORY_TRAIN] + (gsize) pos * plane * d->channels, d->width,
                         d->height, d->channels, FALSE, x, y, THUMB);
}

/* The first suspects as a sheet: thumbnail, given → likely label, AUM. */
static void
draw_suspects (cairo_t *cr, PangoLayout *pl, const CsDataHistory *d)
{
  const cs_history_examples *ex = &d->h->split[CS_HISTORY_TRAIN];
  int64_t n = MIN (ex->n, N_SUSPECT_FIGURE);

  cairo_set_source_rgb (cr, 0, 0, 0);
  pango_layout_set_text (pl, _("Likely label errors, most suspicious first (area under the margin)"), -1);
  cairo_move_to (cr, 4, 3);
  pango_cairo_show_layout (cr, pl);
  pango_layout_set_width (pl, (int) ((THUMB + 20) * PANGO_SCALE));
  pango_layout_set_alignment (pl, PANGO_ALIGN_CENTER);
  for (int64_t i = 0; i < n; i++)
    {
      int64_t pos = d->suspects[i];
      double x = 8 + (i % THUMB_COLS) * (THUMB + 24), y = 24 + (i / THUMB_COLS) * (THUMB + 52);
      g_autofree char *text = g_strdup_printf (_("#%lld %s → %s\nAUM %.2f"), (long long) ex->index[pos],
                                               cs_data_history_class_name (d, ex->label[pos]),
                                               cs_data_history_class_name (d, d->measures[pos].likely_label),
                                               d->measures[pos].aum);
      draw_thumbnail (cr, d, pos, x + 10, y);
      cairo_set_source_rgb (cr, 0, 0, 0);
      pango_layout_set_text (pl, text, -1);
      cairo_move_to (cr, x, y + THUMB + 2);
      pango_cairo_show_layout (cr, pl);
    }
}

static void
draw_figure (cairo_t *cr, int width, int height, gpointer user_data)
{
  Figure *f = user_data;
  PangoLayout *pl = pango_cairo_create_layout (cr);
  PangoFontDescription *font = pango_font_description_from_string ("Sans 8");

  pango_layout_set_font_description (pl, font);
  pango_font_description_free (font);
  if (g_strcmp0 (f->what, "cartography") == 0)
    cs_cartography_chart_draw (cs_data_view_get_cartography (f->view), cr, pl, &black, width, height, TRUE);
  else if (g_strcmp0 (f->what, "confusion") == 0)
    cs_confusion_matrix_draw (cs_data_view_get_confusion (f->view), cr, pl, &black, width, height, TRUE);
  else if (g_strcmp0 (f->what, "early-auroc") == 0)
    cs_auroc_chart_draw (cs_data_view_get_auroc_chart (f->view), cr, pl, &black, width, height, TRUE);
  else if (g_strcmp0 (f->what, "shortcuts") == 0)
    cs_shortcut_panel_draw (cs_data_view_get_shortcuts (f->view), cr, pl, &black, width, height, TRUE);
  else
    draw_suspects (cr, pl, cs_data_view_get_history (f->view));
  g_object_unref (pl);
}

static void
csv_text (GString *s, const char *text)
{
  /* Class names are free text in run.json: quoted as RFC 4180 says. */
  g_string_append_c (s, '"');
  for (const char *c = text; *c != '\0'; c++)
    {
      if (*c == '"')
        g_string_append_c (s, '"');
      g_string_append_c (s, *c);
    }
  g_string_append_c (s, '"');
}

static void
csv_number (GString *s, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (isfinite (v))
    g_string_append (s, g_ascii_formatd (buf, sizeof buf, "%.9g", v));
}

/* One row per training example, most suspicious first (the suspects ranking), or in split
 * order (the cartography): index, labels, the measures. */
static void
measures_csv (GString *s, const CsDataHistory *d, gboolean ranked)
{
  const cs_history_examples *ex = &d->h->split[CS_HISTORY_TRAIN];

  g_string_append (s, "rank,index,label,label_name,likely_label,likely_label_name,confidence,"
                      "variability,correctness,aum,forgetting,learned_at\n");
  for (int64_t r = 0; r < ex->n; r++)
    {
      int64_t i = ranked ? d->suspects[r] : r;
      const cs_example_measures *m = &d->measures[i];
      g_string_append_printf (s, "%lld,%lld,%d,", (long long) (ranked ? r + 1 : 0),
                              (long long) ex->index[i], ex->label[i]);
      csv_text (s, cs_data_history_class_name (d, ex->label[i]));
      g_string_append_printf (s, ",%d,", m->likely_label);
      csv_text (s, cs_data_history_class_name (d, m->likely_label));
      g_string_append_c (s, ',');
      csv_number (s, m->confidence);
      g_string_append_c (s, ',');
      csv_number (s, m->variability);
      g_string_append_c (s, ',');
      csv_number (s, m->correctness);
      g_string_append_c (s, ',');
      csv_number (s, m->aum);
      g_string_append_printf (s, ",%d,%d\n", m->forgetting, m->learned_at);
    }
}

static gboolean
confusion_csv (GString *s, CsDataView *view, const CsDataHistory *d, GError **error)
{
  CsConfusionMatrix *cm = cs_data_view_get_confusion (view);
  int k = cs_confusion_matrix_get_epoch (cm), n = d->h->n_classes;

  if (k < 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           _("The selected epoch has no checkpoint in the history"));
      return FALSE;
    }
  /* Rows: the true class; columns: the predicted class; the epoch in the corner cell. */
  g_string_append_printf (s, "\"true \\ predicted at epoch %d\"", d->h->epochs[k]);
  for (int p = 0; p < n; p++)
    {
      g_string_append_c (s, ',');
      csv_text (s, cs_data_history_class_name (d, p));
    }
  g_string_append_c (s, '\n');
  for (int t = 0; t < n; t++)
    {
      csv_text (s, cs_data_history_class_name (d, t));
      for (int p = 0; p < n; p++)
        g_string_append_printf (s, ",%lld", (long long) cs_confusion_matrix_get_count (cm, t, p));
      g_string_append_c (s, '\n');
    }
  return TRUE;
}

static gboolean
export_csv (CsDataView *view, const char *what, const char *path, GError **error)
{
  const CsDataHistory *d = cs_data_view_get_history (view);
  g_autoptr (GString) s = g_string_new (NULL);

  if (g_strcmp0 (what, "confusion") == 0)
    {
      if (!confusion_csv (s, view, d, error))
        return FALSE;
    }
  else if (g_strcmp0 (what, "early-auroc") == 0)
    {
      g_string_append (s, "epoch,auroc\n");
      for (int k = 0; k < d->h->n_epochs; k++)
        {
          g_string_append_printf (s, "%d,", d->h->epochs[k]);
          csv_number (s, d->auroc[k]);
          g_string_append_c (s, '\n');
        }
    }
  else
    measures_csv (s, d, g_strcmp0 (what, "suspects") == 0);
  return g_file_set_contents (path, s->str, (gssize) s->len, error);  /* atomic: a temp renamed */
}

/* One row per cluster: its class, the class's box and flag, the cluster's size and members. */
static void
shortcuts_csv (GString *s, const cs_shortcut_report *r, const CsDataHistory *d)
{
  g_string_append (s, "class,label,flagged,box_x0,box_y0,box_x1,box_y1,box_mass,box_images,cluster,size,members\n");
  for (int c = 0; c < r->n_classes; c++)
    {
      const cs_shortcut_class *k = &r->classes[c];
      for (int i = 0; i < k->n_clusters; i++)
        {
          g_string_append_printf (s, "%d,", c);
          csv_text (s, cs_data_history_class_name (d, c));
          g_string_append_printf (s, ",%d,%d,%d,%d,%d,", k->flagged, k->box[0], k->box[1], k->box[2], k->box[3]);
          csv_number (s, k->box_mass);
          g_string_append_c (s, ',');
          csv_number (s, k->box_images);
          g_string_append_printf (s, ",%d,%d,", i + 1, k->clusters[i].size);
          for (int m = 0; m < k->clusters[i].size; m++)
            g_string_append_printf (s, "%s%lld", m > 0 ? " " : "", (long long) k->clusters[i].members[m]);
          g_string_append_c (s, '\n');
        }
    }
}

/* The shortcut report exists once the panel has computed one (it computes when shown). */
static gboolean
export_shortcuts (CsDataView *view, CsExportFormat format, const char *path, Figure *f, GError **error)
{
  CsShortcutPanel *panel = cs_data_view_get_shortcuts (view);
  int w, h;

  if (cs_shortcut_panel_get_report (panel, NULL) == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_PENDING,
                           cs_shortcut_panel_get_loading (panel)
                           ? _("The shortcut report is still being computed")
                           : _("No shortcut report: show the Data view’s Shortcuts page first"));
      return FALSE;
    }
  if (format == CS_EXPORT_CSV)
    {
      g_autoptr (GString) s = g_string_new (NULL);
      shortcuts_csv (s, cs_shortcut_panel_get_report (panel, NULL), cs_data_view_get_history (view));
      return g_file_set_contents (path, s->str, (gssize) s->len, error);  /* atomic: a temp renamed */
    }
  cs_shortcut_panel_get_figure_size (panel, &w, &h);
  return cs_export_figure (path, w, h, draw_figure, f, error);
}

gboolean
cs_data_export (CsDataView *view, const char *what, const char *path, GError **error)
{
  CsExportFormat format = cs_export_format_from_path (path);
  const CsDataHistory *d = cs_data_view_get_history (view);
  Figure f = { view, what };
  int rows;

  if (!cs_data_export_handles (what))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("Unknown view “%s”"), what);
      return FALSE;
    }
  if (format != CS_EXPORT_CSV && !cs_export_format_is_figure (format))
    {
      g_autofree char *base = g_path_get_basename (path);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("%s: unknown file type (expected PNG, PDF, SVG or CSV)"), base);
      return FALSE;
    }
  if (d == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_PENDING,
                           cs_data_view_get_loading (view)
                           ? _("The examples’ history is still being computed")
                           : _("No example history: open a training run with its data set and show the Data view"));
      return FALSE;
    }
  if (g_strcmp0 (what, "shortcuts") == 0)
    return export_shortcuts (view, format, path, &f, error);
  if (format == CS_EXPORT_CSV)
    return export_csv (view, what, path, error);
  if (g_strcmp0 (what, "cartography") == 0)
    return cs_export_figure (path, 640, 480, draw_figure, &f, error);
  if (g_strcmp0 (what, "confusion") == 0)
    {
      if (cs_confusion_matrix_get_epoch (cs_data_view_get_confusion (view)) < 0)
        return confusion_csv (NULL, view, d, error);
      return cs_export_figure (path, 520, 470, draw_figure, &f, error);
    }
  if (g_strcmp0 (what, "early-auroc") == 0)
    return cs_export_figure (path, 560, 220, draw_figure, &f, error);
  rows = (int) ((MIN (d->h->split[CS_HISTORY_TRAIN].n, N_SUSPECT_FIGURE) + THUMB_COLS - 1) / THUMB_COLS);
  return cs_export_figure (path, (int) (16 + THUMB_COLS * (THUMB + 24)), (int) (30 + rows * (THUMB + 52)),
                           draw_figure, &f, error);
}

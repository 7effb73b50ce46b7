/* Export: Cairo surfaces written to a temporary file beside the target and renamed over it,
 * so that a failed export never leaves a truncated figure where the user asked for one. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <unistd.h>

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "cs-export.h"

#include "analysis/run_analysis.h"
#include "render/sheet.h"

#define PNG_SCALE 4.0          /* 288 dpi: pixels per point of the PNG figures */

CsExportFormat
cs_export_format_from_path (const char *path)
{
  static const struct { const char *ext; CsExportFormat format; } table[] = {
    { ".png", CS_EXPORT_PNG }, { ".pdf", CS_EXPORT_PDF }, { ".svg", CS_EXPORT_SVG },
    { ".csv", CS_EXPORT_CSV }, { ".json", CS_EXPORT_JSON },
  };
  g_autofree char *lower = NULL;

  if (path == NULL)
    return CS_EXPORT_UNKNOWN;
  lower = g_ascii_strdown (path, -1);
  for (guint i = 0; i < G_N_ELEMENTS (table); i++)
    if (g_str_has_suffix (lower, table[i].ext))
      return table[i].format;
  return CS_EXPORT_UNKNOWN;
}

gboolean
cs_export_format_is_figure (CsExportFormat format)
{
  return format == CS_EXPORT_PNG || format == CS_EXPORT_PDF || format == CS_EXPORT_SVG;
}

static gboolean
unknown_format (const char *path, const char *expected, GError **error)
{
  g_autofree char *base = g_path_get_basename (path);

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               _("“%s”: expected a %s file"), base, expected);
  return FALSE;
}

/* A temporary file in path's directory: its name, the file already created and closed. */
static char *
temp_beside (const char *path, GError **error)
{
  char *tmp = g_strdup_printf ("%s.XXXXXX", path);
  int fd = g_mkstemp_full (tmp, O_RDWR, 0666);  /* the umask decides, as for any new file */

  if (fd < 0)
    {
      int errsv = errno;
      g_autofree char *dir = g_path_get_dirname (path);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), _("Cannot write in “%s”: %s"),
                   dir, g_strerror (errsv));
      g_free (tmp);
      return NULL;
    }
  close (fd);
  return tmp;
}

static gboolean
cairo_failed (cairo_status_t status, const char *path, GError **error)
{
  if (status == CAIRO_STATUS_SUCCESS)
    return FALSE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Cannot draw “%s”: %s"), path,
               cairo_status_to_string (status));
  return TRUE;
}

gboolean
cs_export_figure (const char *path, int width, int height, CsExportDrawFunc draw,
                  gpointer user_data, GError **error)
{
  CsExportFormat format = cs_export_format_from_path (path);
  g_autofree char *tmp = NULL;
  cairo_surface_t *surface;
  cairo_t *cr;
  gboolean ok;

  if (!cs_export_format_is_figure (format))
    return unknown_format (path, _("PNG, PDF or SVG"), error);
  if (width <= 0 || height <= 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("Nothing to draw"));
      return FALSE;
    }
  if ((tmp = temp_beside (path, error)) == NULL)
    return FALSE;

  if (format == CS_EXPORT_PDF)
    surface = cairo_pdf_surface_create (tmp, width, height);
  else if (format == CS_EXPORT_SVG)
    {
      surface = cairo_svg_surface_create (tmp, width, height);
      cairo_svg_surface_set_document_unit (surface, CAIRO_SVG_UNIT_PT);
    }
  else
    surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, (int) ceil (width * PNG_SCALE),
                                          (int) ceil (height * PNG_SCALE));
  cr = cairo_create (surface);
  if (format == CS_EXPORT_PNG)
    cairo_scale (cr, PNG_SCALE, PNG_SCALE);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  draw (cr, width, height, user_data);
  cairo_show_page (cr);
  ok = !cairo_failed (cairo_status (cr), path, error);
  cairo_destroy (cr);
  if (ok && format == CS_EXPORT_PNG)
    ok = !cairo_failed (cairo_surface_write_to_png (surface, tmp), path, error);
  cairo_surface_finish (surface);
  if (ok)
    ok = !cairo_failed (cairo_surface_status (surface), path, error);
  cairo_surface_destroy (surface);

  if (ok && g_rename (tmp, path) != 0)
    {
      int errsv = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), _("Cannot write “%s”: %s"),
                   path, g_strerror (errsv));
      ok = FALSE;
    }
  if (!ok)
    g_unlink (tmp);
  return ok;
}

/* The saliency view as the core's sheet. */

gboolean
cs_export_saliency (CsSaliencyView *view, gboolean comparison, const char *path, GError **error)
{
  CsSession *session = cs_saliency_view_get_session (view);
  CsModelSet *set = session != NULL ? cs_session_get_model_set (session) : NULL;
  const cs_tensor *input = session != NULL ? cs_session_get_input (session) : NULL;
  cs_sheet_panel panels[CS_METHOD_COUNT];
  g_autofree char *title = NULL, *subtitle = NULL;
  char predicted_buf[64], target_buf[64];
  cs_sheet_format sheet_format;
  cs_sheet sheet = { 0 };
  cs_error err = { 0 };
  const cs_model *m;
  int predicted = -1, n = 0;
  float probability = 0;

  if (cs_sheet_format_from_path (path, &sheet_format, &err) != CS_OK)
    return unknown_format (path, _("PNG, PDF or SVG"), error);
  if (set == NULL || input == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           _("Nothing to export: open a model and an image first"));
      return FALSE;
    }
  m = cs_model_set_get_base (set);
  cs_saliency_view_get_prediction (view, &predicted, &probability);

  if (comparison)
    {
      for (int method = 0; method < CS_METHOD_COUNT; method++)
        {
          int w, h;
          double seconds;
          const char *failed;
          const float *map;

          if (!(cs_session_get_comparison (session) & (1u << method)))
            continue;
          map = cs_saliency_view_get_panel (view, method, &w, &h, &seconds, &failed);
          panels[n++] = (cs_sheet_panel) {
            .title = cs_method_title (method), .map = map, .map_h = h, .map_w = w,
            .min = 0, .max = 1, .milliseconds = map != NULL ? seconds * 1000.0 : -1,
            .error = map != NULL ? NULL : failed != NULL ? failed : _("not computed yet"),
          };
        }
      if (n == 0)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                               _("The comparison grid has no methods (see Preferences)"));
          return FALSE;
        }
    }
  else
    {
      int w, h, target, layer;
      const float *map = cs_saliency_view_get_map (view, &w, &h, &target, &layer);
      int method = cs_saliency_view_get_overlay_method (view);

      if (map == NULL)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_PENDING,
                               _("The saliency map is not computed yet"));
          return FALSE;
        }
      if (layer >= 0)
        subtitle = g_strdup_printf (_("layer %s"), cs_model_set_get_graph (set)->nodes[layer].name);
      panels[n++] = (cs_sheet_panel) { .title = cs_method_title (method), .subtitle = subtitle,
                                       .map = map, .map_h = h, .map_w = w, .min = 0, .max = 1,
                                       .milliseconds = -1 };
      if (target != predicted && target >= 0)
        sheet.target_label = cs_model_set_get_class_label (set, target, target_buf, sizeof target_buf);
    }

  {
    const cs_run *run = cs_model_set_get_run (set);
    g_autofree char *base = g_path_get_basename (cs_model_set_get_path (set));
    const char *name = run != NULL && run->name != NULL ? run->name : base;
    const char *image = cs_session_get_image_name (session);
    if (run != NULL)
      title = g_strdup_printf (_("%s, epoch %d · %s"), name,
                               cs_model_set_get_epoch_number (set, cs_session_get_epoch (session)),
                               image != NULL ? image : "");
    else
      title = g_strdup_printf ("%s · %s", name, image != NULL ? image : "");
  }
  sheet.title = title;
  sheet.input = input;
  sheet.mean = m->mean;
  sheet.std = m->std;
  sheet.predicted_label = predicted >= 0
                          ? cs_model_set_get_class_label (set, predicted, predicted_buf, sizeof predicted_buf)
                          : "?";
  sheet.probability = probability;
  sheet.overlay = CS_OVERLAY_OPTIONS_DEFAULT;
  sheet.overlay.colormap = cs_saliency_view_get_colormap (view);
  sheet.overlay.alpha = (float) cs_saliency_view_get_opacity (view);
  sheet.panels = panels;
  sheet.n_panels = n;
  if (cs_sheet_write (&sheet, path, &err) != CS_OK)
    {
      cs_set_core_error (error, &err);
      return FALSE;
    }
  return TRUE;
}

/* Charts, drawn by the widgets' own code in black on white. */

typedef struct
{
  const cs_run *run;
  int onset, weight_onset;
} ChartFigure;

static void
draw_chart (cairo_t *cr, int width, int height, gpointer user_data)
{
  static const GdkRGBA black = { 0, 0, 0, 1 };
  ChartFigure *f = user_data;
  PangoLayout *pl = pango_cairo_create_layout (cr);
  PangoFontDescription *font = pango_font_description_from_string ("Sans 9");

  pango_layout_set_font_description (pl, font);
  pango_font_description_free (font);
  cs_training_chart_draw (f->run, f->onset, f->weight_onset, cr, pl, &black, width, height);
  g_object_unref (pl);
}

gboolean
cs_export_training_chart (CsTrainingChart *chart, const char *path, GError **error)
{
  ChartFigure f = { cs_training_chart_get_run (chart), cs_training_chart_get_onset (chart),
                    cs_training_chart_get_weight_onset (chart) };

  if (!cs_export_format_is_figure (cs_export_format_from_path (path)))
    return unknown_format (path, _("PNG, PDF or SVG"), error);
  if (f.run == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           _("No training curves: open a training run first"));
      return FALSE;
    }
  return cs_export_figure (path, 760, 300, draw_chart, &f, error);
}

static void
draw_timeline (cairo_t *cr, int width, int height, gpointer user_data)
{
  cs_weight_timeline_draw_figure (user_data, cr, width, height);
}

gboolean
cs_export_weight_timeline (CsWeightTimeline *timeline, const char *path, GError **error)
{
  if (!cs_export_format_is_figure (cs_export_format_from_path (path)))
    return unknown_format (path, _("PNG, PDF or SVG"), error);
  if (cs_weight_timeline_get_n_layers (timeline) == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_PENDING,
                           cs_weight_timeline_get_loading (timeline)
                           ? _("The weight statistics are still being computed")
                           : _("No weight statistics: open a training run first"));
      return FALSE;
    }
  return cs_export_figure (path, 600, cs_weight_timeline_get_figure_height (timeline),
                           draw_timeline, timeline, error);
}

/* Data: the core's run-info JSON and CSV, byte for byte what `run-info --json` / `--csv`
 * print for the same run. */

gboolean
cs_export_run_data (const cs_run *run, const char *path, GError **error)
{
  CsExportFormat format = cs_export_format_from_path (path);
  cs_run_analysis *analysis;
  cs_error err = { 0 };
  char *text;
  gboolean ok;

  if (format != CS_EXPORT_CSV && format != CS_EXPORT_JSON)
    return unknown_format (path, _("CSV or JSON"), error);
  if (run == NULL || run->n_epochs == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           _("No training run: open a run directory first"));
      return FALSE;
    }
  /* The statistics the weight timeline shows (the run's cache when it is current and valid). */
  analysis = cs_run_analysis_load (run, NULL, &err);
  text = analysis == NULL ? NULL
         : format == CS_EXPORT_CSV ? cs_run_report_csv (analysis, &err)
         : cs_run_report_json (analysis, &err);
  cs_run_analysis_free (analysis);
  if (text == NULL)
    {
      cs_set_core_error (error, &err);
      return FALSE;
    }
  ok = g_file_set_contents (path, text, -1, error);  /* atomic: a temp file renamed */
  free (text);
  return ok;
}

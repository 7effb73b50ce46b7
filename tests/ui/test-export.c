/* Export: every view in every figure format writes a valid file (PNG decodes, PDF has its
 * header and trailer, SVG parses with an <svg> root), the run's data as CSV and JSON exactly as
 * `convscope-cli run-info --csv` / `--json` print them, and a failed export leaves no file
 * behind. */
#include "config.h"

#include <cjson/cJSON.h>
#include <glib/gstdio.h>
#include <string.h>

#include "cs-export.h"
#include "cs-export-job.h"
#include "cs-saliency-view.h"
#include "cs-training-view.h"
#include "io/image.h"
#include "ui-fixture.h"

#define N_EPOCHS 4

static char *run_dir;
static char *out_dir;

static void
check_png (const char *path)
{
  cs_image img = { 0 };
  cs_error err = { 0 };

  g_assert_cmpint (cs_image_load (path, &img, &err), ==, CS_OK);
  g_assert_cmpint (img.width, >, 100);
  g_assert_cmpint (img.height, >, 100);
  cs_image_free (&img);
}

static void
check_pdf (const char *path)
{
  g_autofree char *text = NULL;
  gsize len;
  g_autofree char *tail = NULL;

  g_assert_true (g_file_get_contents (path, &text, &len, NULL));
  g_assert_cmpuint (len, >, 100);
  g_assert_true (memcmp (text, "%PDF", 4) == 0);
  tail = g_strstrip (g_strndup (text + len - 16, 16));
  g_assert_true (g_str_has_suffix (tail, "%%EOF"));
}

static void
root_element (GMarkupParseContext *ctx, const char *name, const char **attr_names,
              const char **attr_values, gpointer user_data, GError **error)
{
  char **root = user_data;

  if (*root == NULL)
    *root = g_strdup (name);
}

static void
check_svg (const char *path)
{
  static const GMarkupParser parser = { .start_element = root_element };
  g_autofree char *text = NULL, *root = NULL;
  gsize len;
  GMarkupParseContext *ctx;
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_get_contents (path, &text, &len, NULL));
  ctx = g_markup_parse_context_new (&parser, 0, &root, NULL);
  g_assert_true (g_markup_parse_context_parse (ctx, text, (gssize) len, &error));
  g_assert_no_error (error);
  g_assert_true (g_markup_parse_context_end_parse (ctx, &error));
  g_markup_parse_context_free (ctx);
  g_assert_cmpstr (root, ==, "svg");
  /* Vector text: glyphs are outlines or <text>, never one embedded bitmap of the chart. */
  g_assert_nonnull (strstr (text, "<path"));
}

static void
check_figure (const char *path)
{
  switch (cs_export_format_from_path (path))
    {
    case CS_EXPORT_PNG: check_png (path); break;
    case CS_EXPORT_PDF: check_pdf (path); break;
    case CS_EXPORT_SVG: check_svg (path); break;
    default: g_assert_not_reached ();
    }
}

typedef struct
{
  CsSession *session;
  GtkWidget *window;
  CsSaliencyView *saliency;
  CsTrainingView *training;
} Views;

static void
views_open (Views *v)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gint64 end;

  v->session = cs_session_new ();
  v->saliency = CS_SALIENCY_VIEW (cs_saliency_view_new (v->session));
  v->training = CS_TRAINING_VIEW (g_object_new (CS_TYPE_TRAINING_VIEW, NULL));
  cs_training_view_set_session (v->training, v->session);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (v->saliency));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (v->training));
  v->window = gtk_window_new ();
  gtk_window_set_child (GTK_WINDOW (v->window), box);
  gtk_window_set_default_size (GTK_WINDOW (v->window), 900, 800);
  gtk_window_present (GTK_WINDOW (v->window));

  cs_session_set_method (v->session, CS_METHOD_GRADCAM);
  cs_session_set_comparison (v->session, (1u << CS_METHOD_SALIENCY) | (1u << CS_METHOD_GRADCAM)
                                         | (1u << CS_METHOD_GRADIENT_X_INPUT));
  g_assert_true (cs_session_open_model (v->session, run_dir, NULL));
  cs_saliency_view_show_comparison (v->saliency, TRUE);
  end = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while ((cs_saliency_view_get_n_compared (v->saliency) < 3
          || cs_saliency_view_get_loading (v->saliency)
          || cs_weight_timeline_get_n_layers (cs_training_view_get_timeline (v->training)) == 0)
         && g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  g_assert_cmpuint (cs_saliency_view_get_n_compared (v->saliency), ==, 3);
  g_assert_cmpint (cs_weight_timeline_get_n_layers (cs_training_view_get_timeline (v->training)), >, 0);
}

static void
views_close (Views *v)
{
  gtk_window_destroy (GTK_WINDOW (v->window));
  g_clear_object (&v->session);
}

static char *
out_path (const char *name)
{
  char *path = g_build_filename (out_dir, name, NULL);

  g_unlink (path);
  return path;
}

static void
test_figures (void)
{
  static const char *const exts[] = { "png", "pdf", "svg" };
  Views v = { 0 };

  views_open (&v);
  for (guint i = 0; i < G_N_ELEMENTS (exts); i++)
    {
      g_autofree char *overlay = NULL, *grid = NULL, *curves = NULL, *weights = NULL;
      g_autofree char *n1 = g_strdup_printf ("overlay.%s", exts[i]);
      g_autofree char *n2 = g_strdup_printf ("comparison.%s", exts[i]);
      g_autofree char *n3 = g_strdup_printf ("curves.%s", exts[i]);
      g_autofree char *n4 = g_strdup_printf ("weights.%s", exts[i]);
      g_autoptr (GError) error = NULL;

      overlay = out_path (n1);
      grid = out_path (n2);
      curves = out_path (n3);
      weights = out_path (n4);
      g_assert_true (cs_export_saliency (v.saliency, FALSE, overlay, &error));
      g_assert_no_error (error);
      check_figure (overlay);
      g_assert_true (cs_export_saliency (v.saliency, TRUE, grid, &error));
      check_figure (grid);
      g_assert_true (cs_export_training_chart (cs_training_view_get_chart (v.training), curves, &error));
      g_assert_no_error (error);
      check_figure (curves);
      g_assert_true (cs_export_weight_timeline (cs_training_view_get_timeline (v.training), weights, &error));
      g_assert_no_error (error);
      check_figure (weights);
    }
  views_close (&v);
}

/* What `convscope-cli run-info RUN FLAG` prints. */
static char *
run_info_output (const char *flag)
{
  const char *cli = g_getenv ("CONVSCOPE_CLI");
  const char *argv[] = { cli, "run-info", run_dir, flag, NULL };
  g_autoptr (GError) error = NULL;
  char *out = NULL;
  int status = 0;

  g_assert_nonnull (cli);
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                               &out, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  return out;
}

/* The data export writes what run-info prints, byte for byte: one writer, one schema. */
static void
test_data (void)
{
  g_autofree char *csv = out_path ("run.csv");
  g_autofree char *json = out_path ("run.json");
  g_autofree char *text = NULL, *expected = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (CsModelSet) set = cs_model_set_load (run_dir, NULL);
  const cs_run *run = cs_model_set_get_run (set);
  cJSON *doc;

  g_assert_true (cs_export_run_data (run, csv, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
  expected = run_info_output ("--csv");
  g_assert_cmpstr (text, ==, expected);
  lines = g_strsplit (g_strchomp (text), "\n", -1);
  g_assert_true (g_str_has_prefix (lines[0], "epoch,layer,op,norm,relative_change"));
  g_assert_cmpuint (g_strv_length (lines), >, N_EPOCHS);

  g_clear_pointer (&text, g_free);
  g_clear_pointer (&expected, g_free);
  g_assert_true (cs_export_run_data (run, json, &error));
  g_assert_true (g_file_get_contents (json, &text, NULL, NULL));
  expected = run_info_output ("--json");
  g_assert_cmpstr (text, ==, expected);
  doc = cJSON_Parse (text);
  g_assert_nonnull (doc);
  g_assert_cmpstr (cJSON_GetObjectItem (doc, "format")->valuestring, ==, "convscope-run-info/1");
  g_assert_cmpint (cJSON_GetArraySize (cJSON_GetObjectItem (doc, "epochs")), ==, N_EPOCHS);
  g_assert_cmpint (cJSON_GetArraySize (cJSON_GetObjectItem (doc, "layers")), >, 0);
  g_assert_nonnull (cJSON_GetObjectItem (cJSON_GetObjectItem (doc, "overfitting"), "by_weights"));
  cJSON_Delete (doc);
}

typedef struct
{
  gboolean done, ok;
  GError *error;
} Exported;

static void
exported_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Exported *e = user_data;

  e->ok = cs_export_run_data_finish (CS_WORKER (source), result, &e->error);
  e->done = TRUE;
}

/* On the worker, the same file as on the main thread; without a run, a clear error. */
static void
test_data_async (void)
{
  g_autofree char *sync_path = out_path ("sync.csv");
  g_autofree char *async_path = out_path ("async.csv");
  g_autofree char *a = NULL, *b = NULL;
  g_autoptr (CsModelSet) set = cs_model_set_load (run_dir, NULL);
  g_autoptr (CsWorker) worker = cs_worker_new ();
  Exported done = { 0 }, none = { 0 };
  gint64 end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  g_assert_true (cs_export_run_data (cs_model_set_get_run (set), sync_path, NULL));
  cs_export_run_data_async (worker, set, async_path, exported_cb, &done);
  while (!done.done && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (done.ok);
  g_assert_no_error (done.error);
  g_assert_true (g_file_get_contents (sync_path, &a, NULL, NULL));
  g_assert_true (g_file_get_contents (async_path, &b, NULL, NULL));
  g_assert_cmpstr (a, ==, b);

  cs_export_run_data_async (worker, NULL, async_path, exported_cb, &none);
  while (!none.done && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (none.ok);
  g_assert_error (none.error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&none.error);
}

static void
test_failures_leave_nothing (void)
{
  g_autofree char *missing_dir = g_build_filename (out_dir, "no", "such", "dir", "x.pdf", NULL);
  g_autofree char *bad_ext = out_path ("figure.txt");
  g_autofree char *early = out_path ("early.pdf");
  g_autoptr (CsModelSet) set = cs_model_set_load (run_dir, NULL);
  g_autoptr (CsSession) empty = cs_session_new ();
  GtkWidget *view = cs_saliency_view_new (empty);
  g_autoptr (GError) error = NULL;
  Views v = { 0 };

  g_object_ref_sink (view);
  /* Nothing computed: an error, no file. */
  g_assert_false (cs_export_saliency (CS_SALIENCY_VIEW (view), FALSE, early, &error));
  g_assert_nonnull (error);
  g_assert_false (g_file_test (early, G_FILE_TEST_EXISTS));
  g_clear_error (&error);
  g_object_unref (view);

  views_open (&v);
  /* A directory that does not exist. */
  g_assert_false (cs_export_training_chart (cs_training_view_get_chart (v.training), missing_dir, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_false (cs_export_saliency (v.saliency, TRUE, missing_dir, &error));
  g_clear_error (&error);
  g_assert_false (g_file_test (missing_dir, G_FILE_TEST_EXISTS));
  /* An unknown extension. */
  g_assert_false (cs_export_weight_timeline (cs_training_view_get_timeline (v.training), bad_ext, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (cs_export_run_data (cs_model_set_get_run (set), bad_ext, &error));
  g_clear_error (&error);
  g_assert_false (g_file_test (bad_ext, G_FILE_TEST_EXISTS));
  views_close (&v);

  /* No stray temporary files either. */
  {
    g_autoptr (GDir) dir = g_dir_open (out_dir, 0, NULL);
    const char *name;
    while ((name = g_dir_read_name (dir)) != NULL)
      g_assert_null (strstr (name, ".pdf."));
  }
}

int
main (int argc, char *argv[])
{
  int ret;

  gtk_test_init (&argc, &argv, NULL);
  run_dir = ui_fixture_make_run (N_EPOCHS);
  /* CONVSCOPE_EXPORT_KEEP=DIR keeps the figures there, to look at them. */
  out_dir = g_getenv ("CONVSCOPE_EXPORT_KEEP") != NULL ? g_strdup (g_getenv ("CONVSCOPE_EXPORT_KEEP"))
                                                        : g_dir_make_tmp ("convscope-export-XXXXXX", NULL);
  g_test_add_func ("/export/figures", test_figures);
  g_test_add_func ("/export/data", test_data);
  g_test_add_func ("/export/data-async", test_data_async);
  g_test_add_func ("/export/failures-leave-nothing", test_failures_leave_nothing);
  ret = g_test_run ();
  ui_fixture_remove (run_dir);
  if (g_getenv ("CONVSCOPE_EXPORT_KEEP") == NULL)
    ui_fixture_remove (out_dir);
  return ret;
}

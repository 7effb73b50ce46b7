/* CsDataView on a copy of the demo run: the view computes the example history on the worker;
 * the cartography has a point per training example; the confusion matrix at the last epoch sums
 * to the validation count and its mistakes match `convscope-cli history --json`; the scrubber's
 * epoch moves every panel; clicks on a point, a suspect and a cell's member select that example
 * as the session's input; each panel exports; the shortcut page computes the CLI's report at the
 * scrubber's epoch and exports it; a run without a data set says why. */
#include "config.h"

#include <cjson/cJSON.h>
#include <glib/gstdio.h>
#include <stdlib.h>

#include "cs-data-export.h"
#include "cs-data-view.h"
#include "ui-fixture.h"

static char *demo_copy;

static void edit_run_json (const char *run, void (*edit) (cJSON *json));
static void remove_dataset (cJSON *json);

static gboolean
wait_for_history (CsDataView *view, int timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  /* The view starts computing when mapped: wait for a result, not for "not loading". */
  while (g_get_monotonic_time () < end)
    {
      if (!cs_data_view_get_loading (view)
          && (cs_data_view_get_history (view) != NULL
              || (cs_data_view_get_status (view) != NULL
                  && !g_str_has_prefix (cs_data_view_get_status (view), "No training run")
                  && !g_str_has_prefix (cs_data_view_get_status (view), "Computing"))))
        return TRUE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  return FALSE;
}

static cJSON *
cli_history_json (const char *run)
{
  const char *cli = g_getenv ("CONVSCOPE_CLI");
  const char *argv[] = { cli, "history", run, "--json", NULL };
  g_autofree char *out = NULL;
  int status = 0;

  g_assert_nonnull (cli);
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                               &out, NULL, &status, NULL));
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  return cJSON_Parse (out);
}

static int64_t
matrix_sum (CsConfusionMatrix *m, int n, gboolean off_diagonal_only)
{
  int64_t s = 0;

  for (int t = 0; t < n; t++)
    for (int p = 0; p < n; p++)
      if (!off_diagonal_only || t != p)
        s += cs_confusion_matrix_get_count (m, t, p);
  return s;
}

static void
check_exports (GtkWidget *view)
{
  static const char *const what[] = { "cartography", "confusion", "suspects", "early-auroc" };
  static const char *const ext[] = { "png", "svg", "pdf", "csv" };
  g_autofree char *dir = g_dir_make_tmp ("cs-data-export-XXXXXX", NULL);

  for (guint i = 0; i < G_N_ELEMENTS (what); i++)
    for (guint f = 0; f < G_N_ELEMENTS (ext); f++)
      {
        g_autofree char *path = g_strdup_printf ("%s/%s.%s", dir, what[i], ext[f]);
        g_autoptr (GError) error = NULL;
        GStatBuf st;
        g_assert_true (cs_data_export (CS_DATA_VIEW (view), what[i], path, &error));
        g_assert_no_error (error);
        g_assert_cmpint (g_stat (path, &st), ==, 0);
        g_assert_cmpint (st.st_size, >, 100);
        g_unlink (path);
      }
  {
    /* The confusion CSV holds the matrix shown: 10 rows of counts summing to 2000. */
    g_autofree char *path = g_build_filename (dir, "c.csv", NULL);
    g_autofree char *text = NULL;
    g_auto (GStrv) lines = NULL;
    int64_t total = 0;
    g_assert_true (cs_data_export (CS_DATA_VIEW (view), "confusion", path, NULL));
    g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
    lines = g_strsplit (text, "\n", -1);
    g_assert_cmpuint (g_strv_length (lines), ==, 12);  /* header, 10 rows, the final newline */
    for (int r = 1; r <= 10; r++)
      {
        g_auto (GStrv) cells = g_strsplit (lines[r], ",", -1);
        g_assert_cmpuint (g_strv_length (cells), ==, 11);
        for (int c = 1; c <= 10; c++)
          total += g_ascii_strtoll (cells[c], NULL, 10);
      }
    g_assert_cmpint (total, ==, 2000);
    g_unlink (path);
  }
  {
    /* An unknown type writes nothing. */
    g_autofree char *path = g_build_filename (dir, "c.txt", NULL);
    g_autoptr (GError) error = NULL;
    g_assert_false (cs_data_export (CS_DATA_VIEW (view), "confusion", path, &error));
    g_assert_nonnull (error);
    g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  }
  g_rmdir (dir);
}

static void
check_clicks (CsSession *session, GtkWidget *view, const CsDataHistory *d)
{
  CsCartographyChart *chart = cs_data_view_get_cartography (CS_DATA_VIEW (view));
  CsExampleGallery *suspects = cs_data_view_get_suspects (CS_DATA_VIEW (view));
  CsExampleGallery *cell = cs_data_view_get_cell_gallery (CS_DATA_VIEW (view));
  CsConfusionMatrix *matrix = cs_data_view_get_confusion (CS_DATA_VIEW (view));
  const cs_history_examples *train = &d->h->split[CS_HISTORY_TRAIN];
  const cs_history_examples *test = &d->h->split[CS_HISTORY_TEST];
  int w = gtk_widget_get_width (GTK_WIDGET (chart)), h = gtk_widget_get_height (GTK_WIDGET (chart));
  g_autofree char *want = NULL;
  int64_t pos;
  double x, y;
  int bt = -1, bp = -1, t, p;

  /* A click on the most suspicious point: that training image becomes the input. */
  g_assert_true (cs_cartography_chart_point_at (chart, d->suspects[0], w, h, &x, &y));
  pos = cs_cartography_chart_activate_at (chart, x, y);
  g_assert_cmpint (pos, >=, 0);
  want = g_strdup_printf ("train:%lld", (long long) train->index[pos]);
  g_assert_cmpstr (cs_session_get_image_name (session), ==, want);
  g_assert_cmpint (cs_session_get_image_label (session), ==, train->label[pos]);

  /* The suspects gallery, most suspicious first. */
  g_assert_cmpuint (cs_example_gallery_get_n_items (suspects), ==, 60);
  g_assert_cmpint (cs_example_gallery_get_position (suspects, 1), ==, d->suspects[1]);
  cs_example_gallery_activate (suspects, 1);
  g_free (want);
  want = g_strdup_printf ("train:%lld", (long long) train->index[d->suspects[1]]);
  g_assert_cmpstr (cs_session_get_image_name (session), ==, want);

  /* The largest confusion, clicked where it is drawn, lists its members; one click explains one. */
  for (t = 0; t < 10; t++)
    for (p = 0; p < 10; p++)
      if (t != p && (bt < 0 || cs_confusion_matrix_get_count (matrix, t, p)
                                 > cs_confusion_matrix_get_count (matrix, bt, bp)))
        bt = t, bp = p;
  w = gtk_widget_get_width (GTK_WIDGET (matrix));
  h = gtk_widget_get_height (GTK_WIDGET (matrix));
  cs_confusion_matrix_cell_center (matrix, bt, bp, w, h, &x, &y);
  g_assert_true (cs_confusion_matrix_cell_at (matrix, x, y, w, h, &t, &p));
  g_assert_cmpint (t, ==, bt);
  g_assert_cmpint (p, ==, bp);
  g_signal_emit_by_name (matrix, "cell-activated", t, p);
  g_assert_true (cs_data_view_get_cell (CS_DATA_VIEW (view), &t, &p));
  g_assert_cmpint (t, ==, bt);
  g_assert_cmpuint (cs_example_gallery_get_n_items (cell), ==,
                    MIN (cs_confusion_matrix_get_count (matrix, bt, bp), CS_EXAMPLE_GALLERY_MAX));
  cs_example_gallery_activate (cell, 0);
  pos = cs_example_gallery_get_position (cell, 0);
  g_free (want);
  want = g_strdup_printf ("test:%lld", (long long) test->index[pos]);
  g_assert_cmpstr (cs_session_get_image_name (session), ==, want);
  g_assert_cmpint (cs_session_get_image_label (session), ==, bt);
  g_assert_cmpint (test->pred[pos * d->h->n_epochs + cs_confusion_matrix_get_epoch (matrix)], ==, bp);
}

static void
test_demo (void)
{
  g_autoptr (CsSession) session = cs_session_new ();
  GtkWidget *window = gtk_window_new ();
  GtkWidget *view = cs_data_view_new (session);
  CsConfusionMatrix *matrix = cs_data_view_get_confusion (CS_DATA_VIEW (view));
  const CsDataHistory *d;
  cJSON *json;
  int last;

  gtk_window_set_child (GTK_WINDOW (window), view);
  gtk_window_set_default_size (GTK_WINDOW (window), 1200, 460);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (cs_session_open_model (session, demo_copy, NULL));
  g_assert_true (wait_for_history (CS_DATA_VIEW (view), 600000));
  d = cs_data_view_get_history (CS_DATA_VIEW (view));
  g_assert_nonnull (d);
  g_assert_false (d->from_cache);  /* the copy has no history.bin: the view computed it */
  ui_spin (200);

  g_assert_cmpint (cs_cartography_chart_get_n_points (cs_data_view_get_cartography (CS_DATA_VIEW (view))), ==, 500);
  last = cs_session_get_n_epochs (session) - 1;
  g_assert_cmpint (cs_session_get_epoch (session), ==, last);
  g_assert_cmpint (cs_confusion_matrix_get_epoch (matrix), ==, d->h->n_epochs - 1);
  g_assert_cmpint (matrix_sum (matrix, 10, FALSE), ==, 2000);

  /* The CLI reads the cache the view wrote, and counts the same final mistakes. */
  json = cli_history_json (demo_copy);
  g_assert_nonnull (json);
  g_assert_cmpint (matrix_sum (matrix, 10, TRUE), ==,
                   (int64_t) cJSON_GetObjectItem (json, "final_test_errors")->valuedouble);
  g_assert_cmpint (cJSON_GetObjectItem (json, "test_examples")->valueint, ==, 2000);
  cJSON_Delete (json);

  /* The scrubber's epoch moves the matrix (epoch 0 is the untrained network). */
  cs_session_set_epoch (session, 0);
  g_assert_cmpint (cs_confusion_matrix_get_epoch (matrix), ==, 0);
  g_assert_cmpint (matrix_sum (matrix, 10, FALSE), ==, 2000);
  g_assert_cmpint (matrix_sum (matrix, 10, TRUE), >, 1000);
  /* The page's own scrubber moves the session's epoch. */
  gtk_range_set_value (GTK_RANGE (ui_find_child (view, GTK_TYPE_SCALE)), 5);
  g_assert_cmpint (cs_session_get_epoch (session), ==, 5);
  g_assert_cmpint (cs_confusion_matrix_get_epoch (matrix), ==, 5);
  cs_session_set_epoch (session, last);
  g_assert_cmpfloat (gtk_range_get_value (GTK_RANGE (ui_find_child (view, GTK_TYPE_SCALE))), ==, last);

  check_clicks (session, view, d);
  check_exports (view);
  gtk_window_destroy (GTK_WINDOW (window));
  ui_spin (100);
}

static gboolean
wait_for_report (CsShortcutPanel *panel, int epoch, int timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  int at = -1;

  while (g_get_monotonic_time () < end)
    {
      if (cs_shortcut_panel_get_report (panel, &at) != NULL && at == epoch)
        return TRUE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  return FALSE;
}

/* The panel's report is the CLI's (`shortcuts --epoch N --json`): per class the images, the
 * flag, the box mass and the clusters' sizes. */
static void
check_report_is_cli (const cs_shortcut_report *r, int epoch_number)
{
  g_autofree char *e = g_strdup_printf ("%d", epoch_number);
  const char *argv[] = { g_getenv ("CONVSCOPE_CLI"), "shortcuts", demo_copy, "--epoch", e, "--json", NULL };
  g_autofree char *out = NULL;
  int status = 0;
  cJSON *json, *classes;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                               &out, NULL, &status, NULL));
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  json = cJSON_Parse (out);
  classes = cJSON_GetObjectItem (json, "classes");
  g_assert_cmpint (r->n_classes, ==, 10);
  g_assert_cmpint (cJSON_GetArraySize (classes), ==, 10);
  for (int c = 0; c < r->n_classes; c++)
    {
      const cs_shortcut_class *k = &r->classes[c];
      cJSON *j = cJSON_GetArrayItem (classes, c);
      cJSON *clusters = cJSON_GetObjectItem (j, "clusters");
      int sum = 0;
      g_assert_cmpint (k->n_images, ==, cJSON_GetObjectItem (j, "images")->valueint);
      g_assert_cmpint (k->flagged, ==, cJSON_IsTrue (cJSON_GetObjectItem (j, "flagged")));
      g_assert_cmpint (k->n_clusters, ==, cJSON_GetArraySize (clusters));
      for (int i = 0; i < k->n_clusters; i++)
        {
          g_assert_cmpint (k->clusters[i].size, ==,
                           cJSON_GetObjectItem (cJSON_GetArrayItem (clusters, i), "size")->valueint);
          sum += k->clusters[i].size;
        }
      g_assert_cmpint (sum, ==, k->n_images);
      g_assert_cmpfloat_with_epsilon (k->box_mass, cJSON_GetObjectItem (j, "box_mass")->valuedouble, 1e-9);
    }
  cJSON_Delete (json);
}

static void
test_shortcuts (void)
{
  g_autoptr (CsSession) session = cs_session_new ();
  GtkWidget *window = gtk_window_new ();
  GtkWidget *view = cs_data_view_new (session);
  CsShortcutPanel *panel = cs_data_view_get_shortcuts (CS_DATA_VIEW (view));
  g_autofree char *dir = g_dir_make_tmp ("cs-shortcut-export-XXXXXX", NULL);
  static const char *const ext[] = { "png", "svg", "pdf", "csv" };
  const cs_shortcut_report *r;
  CsModelSet *set;
  int last, clusters = 0;

  gtk_window_set_child (GTK_WINDOW (window), view);
  gtk_window_set_default_size (GTK_WINDOW (window), 1400, 900);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (cs_session_open_model (session, demo_copy, NULL));
  g_assert_true (wait_for_history (CS_DATA_VIEW (view), 600000));
  set = cs_session_get_model_set (session);
  last = cs_session_get_n_epochs (session) - 1;
  /* Hidden, the panel computes nothing; shown, it explains the session's (last) epoch. */
  ui_spin (100);
  g_assert_null (cs_shortcut_panel_get_report (panel, NULL));
  g_assert_false (cs_shortcut_panel_get_loading (panel));
  g_assert_false (cs_data_export (CS_DATA_VIEW (view), "shortcuts", "/nonexistent-dir/never.png", NULL));
  cs_data_view_set_gallery_page (CS_DATA_VIEW (view), "shortcuts");
  g_assert_true (wait_for_report (panel, last, 300000));
  r = cs_shortcut_panel_get_report (panel, NULL);
  check_report_is_cli (r, cs_model_set_get_epoch_number (set, last));
  /* CONVSCOPE_TEST_HOLD_MS: keep the window up that long, for a screenshot from outside. */
  ui_spin (g_getenv ("CONVSCOPE_TEST_HOLD_MS") != NULL ? atoi (g_getenv ("CONVSCOPE_TEST_HOLD_MS")) : 100);

  for (guint f = 0; f < G_N_ELEMENTS (ext); f++)
    {
      g_autofree char *path = g_strdup_printf ("%s/shortcuts.%s", dir, ext[f]);
      g_autoptr (GError) error = NULL;
      GStatBuf st;
      g_assert_true (cs_data_export (CS_DATA_VIEW (view), "shortcuts", path, &error));
      g_assert_no_error (error);
      g_assert_cmpint (g_stat (path, &st), ==, 0);
      g_assert_cmpint (st.st_size, >, 100);
      if (g_str_equal (ext[f], "csv"))
        {
          g_autofree char *text = NULL;
          g_auto (GStrv) lines = NULL;
          g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
          lines = g_strsplit (text, "\n", -1);
          for (int c = 0; c < r->n_classes; c++)
            clusters += r->classes[c].n_clusters;
          g_assert_cmpuint (g_strv_length (lines), ==, (guint) clusters + 2);  /* header, rows, final newline */
        }
      g_unlink (path);
    }
  g_rmdir (dir);

  /* The scrubber moves the report: epoch 0, the untrained network, is explained anew. */
  cs_session_set_epoch (session, 0);
  g_assert_true (wait_for_report (panel, 0, 300000));
  check_report_is_cli (cs_shortcut_panel_get_report (panel, NULL), cs_model_set_get_epoch_number (set, 0));
  gtk_window_destroy (GTK_WINDOW (window));
  ui_spin (100);
}

/* The fixture run without its "dataset": the status page says the run records none. */
static void
test_no_dataset (void)
{
  g_autoptr (CsSession) session = cs_session_new ();
  char *run = ui_fixture_make_run (3);
  g_autofree char *model = NULL;
  GtkWidget *window = gtk_window_new ();
  GtkWidget *view = cs_data_view_new (session);

  edit_run_json (run, remove_dataset);

  gtk_window_set_child (GTK_WINDOW (window), view);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (cs_session_open_model (session, run, NULL));
  g_assert_true (wait_for_history (CS_DATA_VIEW (view), 60000));
  g_assert_null (cs_data_view_get_history (CS_DATA_VIEW (view)));
  g_assert_true (g_str_has_prefix (cs_data_view_get_status (CS_DATA_VIEW (view)),
                                   "This run records no data set: "));
  g_assert_nonnull (strstr (cs_data_view_get_status (CS_DATA_VIEW (view)), "run.json"));
  g_assert_false (cs_data_export (CS_DATA_VIEW (view), "cartography",
                                  "/nonexistent-dir/never-written.png", NULL));

  /* A bare model (no run): nothing to follow. */
  model = g_build_filename (run, "model.json", NULL);
  g_assert_true (cs_session_open_model (session, model, NULL));
  ui_spin (50);
  g_assert_true (g_str_has_prefix (cs_data_view_get_status (CS_DATA_VIEW (view)), "No training run"));
  gtk_window_destroy (GTK_WINDOW (window));
  ui_spin (50);
  ui_fixture_remove (run);
}

/* Cancelled from the window, the view says so; shown again, it computes again. */
static void
edit_run_json (const char *run, void (*edit) (cJSON *json))
{
  g_autofree char *path = g_build_filename (run, "run.json", NULL);
  g_autofree char *text = NULL;
  cJSON *json;
  char *out;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  json = cJSON_Parse (text);
  g_assert_nonnull (json);
  edit (json);
  out = cJSON_Print (json);
  g_assert_true (g_file_set_contents (path, out, -1, NULL));
  free (out);
  cJSON_Delete (json);
}

static char *fixture_run;

/* As `convscope-cli train` records it: both splits whole, the seed they were drawn with, and the
 * data set's directory absolute. */
static void
add_subsets (cJSON *json)
{
  cJSON *ds = cJSON_GetObjectItem (json, "dataset");
  cJSON *train = cJSON_GetObjectItem (json, "train");
  g_autofree char *spec = g_strdup_printf ("mnist:%s/dataset", fixture_run);

  cJSON_DeleteItemFromObject (ds, "spec");
  cJSON_AddStringToObject (ds, "spec", spec);

  if (train == NULL)
    train = cJSON_AddObjectToObject (json, "train");
  cJSON_DeleteItemFromObject (train, "seed");
  cJSON_AddNumberToObject (train, "seed", 1);
  cJSON_AddNumberToObject (ds, "train_subset", 0);
  cJSON_AddNumberToObject (ds, "val_subset", 0);
}

static void
remove_dataset (cJSON *json)
{
  cJSON_DeleteItemFromObject (json, "dataset");
}

static void
test_cancel (void)
{
  g_autoptr (CsSession) session = cs_session_new ();
  char *run = ui_fixture_make_run (3);
  GtkWidget *window = gtk_window_new ();
  GtkWidget *view = cs_data_view_new (session);
  fixture_run = run;
  edit_run_json (run, add_subsets);
  gtk_window_set_child (GTK_WINDOW (window), view);
  gtk_window_present (GTK_WINDOW (window));
  ui_spin (50);
  g_assert_true (cs_session_open_model (session, run, NULL));
  g_assert_true (cs_data_view_get_loading (CS_DATA_VIEW (view)));
  cs_worker_cancel (cs_session_get_worker (session), NULL);
  g_assert_true (ui_wait_for_bool (G_OBJECT (view), "loading", FALSE, 60000));
  g_assert_true (g_str_has_prefix (cs_data_view_get_status (CS_DATA_VIEW (view)), "Cancelled"));
  g_assert_null (cs_data_view_get_history (CS_DATA_VIEW (view)));

  /* Shown again, it computes again: the fixture's model (4 classes) does not fit its MNIST-layout
   * data set (10), which the core refuses and the status page reports. */
  gtk_widget_set_visible (view, FALSE);
  gtk_widget_set_visible (view, TRUE);
  ui_spin (50);
  g_assert_true (wait_for_history (CS_DATA_VIEW (view), 120000));
  g_assert_null (cs_data_view_get_history (CS_DATA_VIEW (view)));
  g_assert_true (g_str_has_prefix (cs_data_view_get_status (CS_DATA_VIEW (view)), "No example history: "));
  g_assert_nonnull (strstr (cs_data_view_get_status (CS_DATA_VIEW (view)), "4 outputs for 10 classes"));
  gtk_window_destroy (GTK_WINDOW (window));
  ui_spin (50);
  ui_fixture_remove (run);
}

int
main (int argc, char **argv)
{
  const char *src = g_getenv ("CONVSCOPE_SOURCE_DIR");
  g_autofree char *demo = g_build_filename (src != NULL ? src : ".", "data", "demo", NULL);
  g_autofree char *tmp = g_dir_make_tmp ("cs-data-view-XXXXXX", NULL);
  g_autofree char *cmd = NULL;
  int status, ret;

  gtk_test_init (&argc, &argv, NULL);
  /* A copy: the view writes its cache beside the run, and a cache already there is not the
   * computation this test wants to see. */
  demo_copy = g_build_filename (tmp, "demo", NULL);
  cmd = g_strdup_printf ("cp -r '%s' '%s'", demo, demo_copy);
  g_assert_true (g_spawn_command_line_sync (cmd, NULL, NULL, &status, NULL) && status == 0);
  {
    g_autofree char *cache = g_build_filename (demo_copy, "history.bin", NULL);
    g_unlink (cache);
  }
  g_test_add_func ("/data-view/demo", test_demo);
  g_test_add_func ("/data-view/shortcuts", test_shortcuts);
  g_test_add_func ("/data-view/no-dataset", test_no_dataset);
  g_test_add_func ("/data-view/cancel", test_cancel);
  ret = g_test_run ();
  g_free (cmd);
  cmd = g_strdup_printf ("rm -rf '%s'", tmp);
  g_spawn_command_line_sync (cmd, NULL, NULL, NULL, NULL);
  g_free (demo_copy);
  return ret;
}

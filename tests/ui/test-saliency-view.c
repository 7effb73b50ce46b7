/* CsSaliencyView: the overlay follows session:method and session:epoch; predictions fill the
 * target list; the comparison grid fills in panel by panel, sampling methods progressively
 * within their time budget. */
#include "config.h"

#include "cs-colorbar.h"
#include "cs-compare-grid.h"
#include "cs-jobs.h"
#include "cs-saliency-view.h"
#include "ui-fixture.h"

static char *run_dir;

#define SMOOTHGRAD_SAMPLES 40000

static GBytes *
texture_bytes (GdkTexture *t)
{
  gsize stride = (gsize) gdk_texture_get_width (t) * 4;
  gsize size = stride * gdk_texture_get_height (t);
  guint8 *data = g_malloc (size);

  gdk_texture_download (t, data, stride);
  return g_bytes_new_take (data, size);
}

static CsSaliencyView *
make_view (CsSession *session, GtkWidget **window)
{
  GtkWidget *view = cs_saliency_view_new (session);

  *window = gtk_window_new ();
  gtk_window_set_child (GTK_WINDOW (*window), view);
  gtk_window_set_default_size (GTK_WINDOW (*window), 600, 500);
  gtk_window_present (GTK_WINDOW (*window));
  return CS_SALIENCY_VIEW (view);
}

static void
test_method_changes_overlay (void)
{
  g_autoptr (CsSession) session = cs_session_new ();
  GtkWidget *window;
  CsSaliencyView *view = make_view (session, &window);
  g_autoptr (GBytes) a = NULL, b = NULL, c = NULL;
  int other = CS_METHOD_GRADCAM;
  GtkWidget *colorbar;

  cs_session_set_method (session, CS_METHOD_SALIENCY);
  g_assert_true (cs_session_open_model (session, run_dir, NULL));
  g_assert_true (ui_wait_for_bool (G_OBJECT (view), "loading", FALSE, 20000));
  g_assert_nonnull (cs_saliency_view_get_overlay (view));
  g_assert_cmpint (cs_saliency_view_get_overlay_method (view), ==, CS_METHOD_SALIENCY);
  a = texture_bytes (cs_saliency_view_get_overlay (view));
  /* The overlay's scale under it, in its colormap, as wide as the picture. */
  ui_spin (100);
  colorbar = ui_find_child (GTK_WIDGET (view), CS_TYPE_COLORBAR);
  g_assert_nonnull (colorbar);
  g_assert_true (gtk_widget_get_mapped (colorbar));
  g_assert_cmpint (cs_colorbar_get_colormap (CS_COLORBAR (colorbar)), ==, cs_saliency_view_get_colormap (view));
  g_assert_cmpint (gtk_widget_get_width (colorbar), >=, 100);

  cs_session_set_method (session, other);
  g_assert_true (cs_saliency_view_get_loading (view));
  g_assert_true (ui_wait_for_bool (G_OBJECT (view), "loading", FALSE, 20000));
  g_assert_cmpint (cs_saliency_view_get_overlay_method (view), ==, other);
  b = texture_bytes (cs_saliency_view_get_overlay (view));
  g_assert_false (g_bytes_equal (a, b));

  /* Another epoch: other weights, another map for the same method. */
  cs_session_set_method (session, CS_METHOD_SALIENCY);
  g_assert_true (ui_wait_for_bool (G_OBJECT (view), "loading", FALSE, 20000));
  cs_session_set_epoch (session, 0);
  g_assert_true (ui_wait_for_bool (G_OBJECT (view), "loading", FALSE, 20000));
  c = texture_bytes (cs_saliency_view_get_overlay (view));
  g_assert_false (g_bytes_equal (a, c));

  /* A colormap change recolours without a job. */
  g_object_set (view, "colormap", "gray", NULL);
  g_assert_false (cs_saliency_view_get_loading (view));
  {
    g_autoptr (GBytes) d = texture_bytes (cs_saliency_view_get_overlay (view));
    g_assert_false (g_bytes_equal (c, d));
  }
  g_assert_cmpint (cs_colorbar_get_colormap (CS_COLORBAR (colorbar)), ==, CS_COLORMAP_GRAY);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_comparison_grid (void)
{
  g_autoptr (CsSession) session = cs_session_new ();
  GtkWidget *window;
  CsSaliencyView *view = make_view (session, &window);
  gint64 end;
  guint want = (1u << CS_METHOD_SALIENCY) | (1u << CS_METHOD_GRADCAM) | (1u << CS_METHOD_GRADIENT_X_INPUT);

  cs_session_set_comparison (session, want);
  g_assert_true (cs_session_open_model (session, run_dir, NULL));
  cs_saliency_view_show_comparison (view, TRUE);
  end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (cs_saliency_view_get_n_compared (view) < 3 && g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  /* Every panel finished, with its map or with its reason. */
  g_assert_cmpuint (cs_saliency_view_get_n_compared (view), ==, 3);
  /* A cell whose map is zero everywhere says so over its picture; the others show no note. */
  for (int m = 0; m < CS_METHOD_COUNT; m++)
    if (want & (1u << m))
      {
        int w, h;
        double seconds;
        const char *error, *note = cs_saliency_view_get_panel_note (view, m);
        const float *map = cs_saliency_view_get_panel (view, m, &w, &h, &seconds, &error);
        gboolean empty = map != NULL;
        for (int i = 0; empty && i < w * h; i++)
          empty = map[i] == 0.0f;
        g_test_message ("%s: %s", cs_ui_method_title (m), empty ? "empty map" : "non-empty map");
        g_assert_true (empty == (note != NULL));
        if (note != NULL)
          g_assert_nonnull (strstr (note, "zero everywhere"));
      }
  gtk_window_destroy (GTK_WINDOW (window));
}

/* All 13 methods at once in a pane the size the window gives the saliency view at 1600x1000:
 * a grid of rows and columns inside the visible area, no scrolling. */
static void
test_comparison_fits (void)
{
  g_autoptr (CsSession) session = cs_session_new ();
  GtkWidget *window = gtk_window_new ();
  GtkWidget *view = cs_saliency_view_new (session);
  GtkWidget *grid, *scrolled;
  int n = 0, rows = 0;

  gtk_window_set_child (GTK_WINDOW (window), view);
  gtk_window_set_default_size (GTK_WINDOW (window), 590, 440);
  gtk_window_present (GTK_WINDOW (window));
  cs_session_set_comparison (session, (1u << CS_METHOD_COUNT) - 1);
  g_assert_true (cs_session_open_model (session, run_dir, NULL));
  cs_saliency_view_show_comparison (CS_SALIENCY_VIEW (view), TRUE);
  ui_spin (300);
  grid = ui_find_child (view, CS_TYPE_COMPARE_GRID);
  g_assert_nonnull (grid);
  scrolled = gtk_widget_get_ancestor (grid, GTK_TYPE_SCROLLED_WINDOW);
  g_assert_nonnull (scrolled);
  g_assert_cmpint (cs_compare_grid_get_columns (CS_COMPARE_GRID (grid)), >=, 5);
  for (GtkWidget *c = gtk_widget_get_first_child (grid); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      graphene_rect_t r;
      g_assert_true (gtk_widget_compute_bounds (c, scrolled, &r));
      g_assert_cmpfloat (r.origin.y + r.size.height, <=, gtk_widget_get_height (scrolled) + 0.5);
      g_assert_cmpfloat (r.origin.x + r.size.width, <=, gtk_widget_get_width (scrolled) + 0.5);
      g_assert_cmpfloat (r.size.width, >=, CS_COMPARE_GRID_PICTURE_MIN);
      g_assert_true (gtk_widget_compute_bounds (c, grid, &r));
      rows += r.origin.x < 1;   /* the first cell of a row */
      n++;
    }
  g_assert_cmpint (n, ==, CS_METHOD_COUNT);
  g_assert_cmpint (rows, >=, 2);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
wait_compared (CsSaliencyView *view, guint n)
{
  gint64 end = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  while (cs_saliency_view_get_n_compared (view) < n && g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  g_assert_cmpuint (cs_saliency_view_get_n_compared (view), ==, n);
}

/* A sampling method with many samples and a short budget: best-so-far maps while it refines,
 * a stop short of the end with "refine further" offered and the stopped run's state kept, and
 * refining further continues from it to the end. `samples` is the session property holding
 * the method's sample count. */
static void
check_progressive_panel (int method, const char *samples, int count)
{
  g_autoptr (CsSession) session = cs_session_new ();
  GtkWidget *window;
  CsSaliencyView *view = make_view (session, &window);
  guint partials;
  gboolean can_refine;
  double completed;
  int w, h;
  double seconds;
  const char *error;

  g_object_set (session, samples, count, "attribution-budget", 0.4, NULL);
  cs_session_set_comparison (session, 1u << method);
  g_assert_true (cs_session_open_model (session, run_dir, NULL));
  cs_saliency_view_show_comparison (view, TRUE);
  wait_compared (view, 1);
  completed = cs_saliency_view_get_panel_completed (view, method, &partials, &can_refine);
  g_assert_cmpfloat (completed, >, 0.0);
  g_assert_cmpfloat (completed, <, 1.0);
  g_assert_true (can_refine);
  g_assert_cmpuint (partials, >=, 1);
  g_assert_nonnull (cs_saliency_view_get_panel (view, method, &w, &h, &seconds, &error));

  g_test_message ("%s stopped at %.3f after %u partial maps", cs_method_id (method), completed, partials);
  g_assert_cmpfloat (cs_saliency_view_get_panel_resumable (view, method), ==, completed);
  cs_saliency_view_refine_further (view, method);
  g_assert_cmpfloat (cs_saliency_view_get_panel_resumable (view, method), ==, 0.0);
  wait_compared (view, 1);
  completed = cs_saliency_view_get_panel_completed (view, method, &partials, &can_refine);
  g_assert_cmpfloat (completed, ==, 1.0);
  g_assert_false (can_refine);
  g_assert_cmpfloat (cs_saliency_view_get_panel_resumable (view, method), ==, 0.0);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* RISE with 200,000 masks and 0.4 s: a 0.05 s budget could end before the first partial map
 * reached the view, while 200,000 masks take seconds, far beyond the budget. */
static void
test_progressive_panel (void)
{
  check_progressive_panel (CS_METHOD_RISE, "rise-samples", 200000);
}

/* SmoothGrad, whose state holds gradient sums and the noise generator: the same in its cell. */
static void
test_progressive_smoothgrad (void)
{
  check_progressive_panel (CS_METHOD_SMOOTHGRAD, "smoothgrad-samples", SMOOTHGRAD_SAMPLES);
}

int
main (int argc, char *argv[])
{
  int ret;

  gtk_test_init (&argc, &argv, NULL);
  run_dir = ui_fixture_make_run (4);
  g_test_add_func ("/saliency-view/method-changes-overlay", test_method_changes_overlay);
  g_test_add_func ("/saliency-view/comparison-grid", test_comparison_grid);
  g_test_add_func ("/saliency-view/comparison-fits", test_comparison_fits);
  g_test_add_func ("/saliency-view/progressive-panel", test_progressive_panel);
  g_test_add_func ("/saliency-view/progressive-smoothgrad", test_progressive_smoothgrad);
  ret = g_test_run ();
  ui_fixture_remove (run_dir);
  return ret;
}

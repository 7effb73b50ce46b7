/* Responsiveness, traced rather than asserted: the time for the filter gallery and the overlay
 * to catch up with an epoch step, for a method switch, and for the comparison grid of every
 * method. Figures go to the TAP log as comments. CONVSCOPE_TIMING_RUN names another run. */
#include "config.h"

#include "cs-filter-gallery.h"
#include "cs-jobs.h"
#include "cs-saliency-view.h"
#include "ui-fixture.h"

static void
wait_idle (CsFilterGallery *gallery, CsSaliencyView *view)
{
  g_assert_true (ui_wait_for_bool (G_OBJECT (gallery), "loading", FALSE, 60000));
  g_assert_true (ui_wait_for_bool (G_OBJECT (view), "loading", FALSE, 60000));
}

static void
test_timings (void)
{
  const char *env = g_getenv ("CONVSCOPE_TIMING_RUN");
  char *fixture = env == NULL ? ui_fixture_make_run (10) : NULL;
  g_autoptr (CsSession) session = cs_session_new ();
  GtkWidget *window = gtk_window_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  CsSaliencyView *view = CS_SALIENCY_VIEW (cs_saliency_view_new (session));
  CsFilterGallery *gallery = CS_FILTER_GALLERY (cs_filter_gallery_new (session));
  gint64 t0, worst = 0, total = 0;
  int n;

  gtk_box_append (GTK_BOX (box), GTK_WIDGET (view));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (gallery));
  gtk_window_set_child (GTK_WINDOW (window), box);
  gtk_window_set_default_size (GTK_WINDOW (window), 1000, 600);
  gtk_window_present (GTK_WINDOW (window));
  cs_session_set_method (session, CS_METHOD_GRADCAM);
  g_assert_true (cs_session_open_model (session, env != NULL ? env : fixture, NULL));
  wait_idle (gallery, view);

  /* Epoch steps, every checkpoint visited once before (cached). */
  n = cs_session_get_n_epochs (session);
  for (int pass = 0; pass < 2; pass++)
    for (int e = 0; e < n; e++)
      {
        t0 = g_get_monotonic_time ();
        cs_session_set_epoch (session, e);
        wait_idle (gallery, view);
        if (pass == 1)
          {
            gint64 dt = g_get_monotonic_time () - t0;
            worst = MAX (worst, dt);
            total += dt;
          }
      }
  g_test_message ("epoch step (filters + feature maps + Grad-CAM, cached checkpoints): mean %.1f ms, worst %.1f ms over %d epochs",
                  total / 1000.0 / n, worst / 1000.0, n);

  for (int m = 0; m < CS_METHOD_COUNT; m++)
    {
      if (m == CS_METHOD_SALIENCY || m == CS_METHOD_GUIDED_BACKPROP || m == CS_METHOD_GRADIENT_X_INPUT
          || m == CS_METHOD_GRADCAM || m == CS_METHOD_LAYERCAM)
        {
          t0 = g_get_monotonic_time ();
          cs_session_set_method (session, m);
          wait_idle (gallery, view);
          g_test_message ("method switch to %s: %.1f ms", cs_ui_method_title (m),
                          (g_get_monotonic_time () - t0) / 1000.0);
        }
    }

  cs_session_set_comparison (session, (1u << CS_METHOD_COUNT) - 1);
  t0 = g_get_monotonic_time ();
  cs_saliency_view_show_comparison (view, TRUE);
  while (cs_saliency_view_get_n_compared (view) < CS_METHOD_COUNT
         && g_get_monotonic_time () - t0 < 120 * G_USEC_PER_SEC)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (200);
    }
  g_test_message ("comparison grid, all %d methods: %.0f ms", CS_METHOD_COUNT,
                  (g_get_monotonic_time () - t0) / 1000.0);
  g_assert_cmpuint (cs_saliency_view_get_n_compared (view), ==, CS_METHOD_COUNT);

  gtk_window_destroy (GTK_WINDOW (window));
  if (fixture != NULL)
    ui_fixture_remove (fixture);
}

int
main (int argc, char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);
  g_test_add_func ("/timings/responsiveness", test_timings);
  return g_test_run ();
}

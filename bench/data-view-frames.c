/* data-view-frames RUN [SECONDS]: the app's Data view alone on RUN in a 1600x1000 window, its
 * frame clock recorded (set CONVSCOPE_FRAME_TIMINGS=FILE, docs/app-main-loop.md): waits for the
 * example history (computed or from the run's cache), then for SECONDS (default 20) moves the
 * session's epoch every 100 ms, which redraws the cartography's rings, the confusion matrix and
 * the AUROC marker: how interactive the view stays with 60,000 points (bench/README.md). */
#include <stdio.h>
#include <stdlib.h>

#include "cs-data-view.h"
#include "cs-frame-timings.h"

static void
spin (int ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE), g_usleep (500);
}

int
main (int argc, char **argv)
{
  g_autoptr (CsSession) session = NULL;
  g_autoptr (GError) error = NULL;
  GtkWidget *window, *view;
  int seconds = argc > 2 ? atoi (argv[2]) : 20, n, steps = 0;
  gint64 t0;

  if (argc < 2)
    {
      fprintf (stderr, "usage: data-view-frames RUN [SECONDS]\n");
      return 2;
    }
  gtk_init ();
  session = cs_session_new ();
  window = gtk_window_new ();
  view = cs_data_view_new (session);
  gtk_window_set_child (GTK_WINDOW (window), view);
  gtk_window_set_default_size (GTK_WINDOW (window), 1600, 1000);
  cs_frame_timings_attach (window);
  gtk_window_present (GTK_WINDOW (window));
  if (!cs_session_open_model (session, argv[1], &error))
    {
      fprintf (stderr, "data-view-frames: %s\n", error->message);
      return 1;
    }
  t0 = g_get_monotonic_time ();
  while (cs_data_view_get_history (CS_DATA_VIEW (view)) == NULL)
    {
      spin (50);
      if (!cs_data_view_get_loading (CS_DATA_VIEW (view)) && g_get_monotonic_time () - t0 > 5000000)
        {
          fprintf (stderr, "data-view-frames: %s\n", cs_data_view_get_status (CS_DATA_VIEW (view)));
          return 1;
        }
    }
  printf ("history after %.1f s\n", (g_get_monotonic_time () - t0) / 1e6);
  n = cs_session_get_n_epochs (session);
  t0 = g_get_monotonic_time ();
  while (g_get_monotonic_time () - t0 < (gint64) seconds * 1000000)
    {
      cs_session_set_epoch (session, steps++ % n);
      spin (100);
    }
  printf ("epoch steps: %d\n", steps);
  gtk_window_destroy (GTK_WINDOW (window));
  spin (100);
  return 0;
}

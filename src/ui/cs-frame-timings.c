/* Frame timings: one line per frame of a widget's frame clock, appended to the file named by
 * CONVSCOPE_FRAME_TIMINGS. */
#include "config.h"

#include <errno.h>
#include <stdio.h>

#include "cs-frame-timings.h"

typedef struct
{
  FILE *file;
  gint64 last_us;              /* frame time of the previous frame, 0 before the first */
} FrameTimings;

static void
frame_timings_free (gpointer data)
{
  FrameTimings *ft = data;

  fclose (ft->file);
  g_free (ft);
}

/* The frame time is the clock's monotonic time for this frame; a line is flushed at once so
 * that a benchmark killing the app loses nothing. */
static gboolean
tick_cb (GtkWidget *widget, GdkFrameClock *clock, gpointer user_data)
{
  FrameTimings *ft = user_data;
  gint64 now = gdk_frame_clock_get_frame_time (clock);

  if (ft->last_us != 0)
    {
      fprintf (ft->file, "%.3f %.3f\n", now / 1000.0, (now - ft->last_us) / 1000.0);
      fflush (ft->file);
    }
  ft->last_us = now;
  return G_SOURCE_CONTINUE;
}

void
cs_frame_timings_attach (GtkWidget *widget)
{
  const char *path = g_getenv ("CONVSCOPE_FRAME_TIMINGS");
  FrameTimings *ft;
  FILE *file;

  if (path == NULL || *path == '\0')
    return;
  file = fopen (path, "a");
  if (file == NULL)
    {
      g_printerr ("convscope: CONVSCOPE_FRAME_TIMINGS: cannot open %s: %s\n", path,
                  g_strerror (errno));
      return;
    }
  ft = g_new0 (FrameTimings, 1);
  ft->file = file;
  gtk_widget_add_tick_callback (widget, tick_cb, ft, frame_timings_free);
}

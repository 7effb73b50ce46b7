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
  double last_cpu_ms;          /* the main thread's CPU time then */
  double last_wait_ms;         /* and its time spent runnable, waiting for a CPU */
} FrameTimings;

/* The main thread's CPU time and run-queue wait (Linux schedstat, in ns), so that a long
 * interval can be told apart: the main loop busy (CPU), the machine overloaded (wait), or the
 * main loop blocked on a lock or I/O (neither). */
static void
thread_times_ms (double *cpu, double *wait)
{
  FILE *f = fopen ("/proc/thread-self/schedstat", "r");
  unsigned long long run_ns = 0, wait_ns = 0;

  if (f != NULL)
    {
      if (fscanf (f, "%llu %llu", &run_ns, &wait_ns) != 2)
        run_ns = wait_ns = 0;
      fclose (f);
    }
  *cpu = run_ns / 1e6;
  *wait = wait_ns / 1e6;
}

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
  double cpu, wait;

  thread_times_ms (&cpu, &wait);
  if (ft->last_us != 0)
    {
      fprintf (ft->file, "%.3f %.3f %.3f %.3f\n", now / 1000.0, (now - ft->last_us) / 1000.0,
               cpu - ft->last_cpu_ms, wait - ft->last_wait_ms);
      fflush (ft->file);
    }
  ft->last_us = now;
  ft->last_cpu_ms = cpu;
  ft->last_wait_ms = wait;
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

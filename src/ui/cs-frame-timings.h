/* Frame timings: with CONVSCOPE_FRAME_TIMINGS=FILE, a window appends one line per frame of its
 * frame clock to FILE, "<monotonic ms> <ms since the previous frame> <main thread's CPU ms>
 * <main thread's ms waiting for a CPU>" (the last two over the same interval, 0 where the
 * kernel does not tell), to measure how long the main loop is ever kept from drawing and why. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Starts recording frames of widget (once it is realized) when the variable is set; a tick
 * callback keeps the frame clock running, so that an interval is the main loop's latency
 * rather than the time nothing needed redrawing. Does nothing otherwise. */
void cs_frame_timings_attach (GtkWidget *widget);

G_END_DECLS

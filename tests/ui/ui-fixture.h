/* A small training run written into a temporary directory, so the widget tests do not depend
 * on the demo run; and helpers to wait on the main loop. */
#pragma once

#include <gtk/gtk.h>

/* Writes model.json (conv, relu, pool, a residual block, linear), n_epochs checkpoints with
 * distinct weights, run.json with curves that overfit, images/ with labelled PNGs, and dataset/ (36 images in
 * the MNIST layout, named by run.json's "dataset": {"spec": "mnist:dataset"}).
 * Returns the run directory (free with ui_fixture_remove). */
char *ui_fixture_make_run (int n_epochs);
/* A file that is not a model. */
char *ui_fixture_make_bad_file (const char *dir);
void ui_fixture_remove (char *dir);

/* Iterates the main loop until *flag is FALSE/TRUE as wanted, or timeout_ms passes. Returns
 * whether the condition was met. */
gboolean ui_wait_for_bool (GObject *object, const char *property, gboolean wanted, int timeout_ms);
/* Iterates the main loop for ms milliseconds. */
void ui_spin (int ms);
/* The first widget of type under root (root included), depth first, or NULL. */
GtkWidget *ui_find_child (GtkWidget *root, GType type);

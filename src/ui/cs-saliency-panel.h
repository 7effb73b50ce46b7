/* One cell of the comparison grid: the input with a method's map over it, the method's title,
 * and a status line (progress ring while it runs, time and how far it got, "refine further"). */
#pragma once

#include <gtk/gtk.h>

#include "cs-colormap.h"
#include "cs-jobs.h"

G_BEGIN_DECLS

typedef struct
{
  GtkWidget *root;
  GtkWidget *image;
  GtkWidget *map;
  GtkWidget *title;
  GtkWidget *time;
  GtkWidget *ring;             /* progress ring while the method runs */
  GtkWidget *refine;           /* "refine further", shown when the budget stopped it */
  GtkWidget *note;             /* over the picture: why the finished map is empty */
  float *values;               /* the map, or NULL */
  int width, height;
  double seconds;
  double fraction;             /* of the running job, for the ring */
  double completed;            /* of the map shown: 1, or where the budget stopped it */
  double floor;                /* partial maps at or below this fraction do not replace the map */
  guint serial;                /* of the job whose maps this panel accepts */
  guint n_partials;            /* best-so-far maps shown since the panel was cleared */
  gboolean running;
  char *error;                 /* why the method failed, or NULL */
  cs_resume *resume;           /* the budget-stopped run's state "refine further" continues */
  double spent;                /* seconds of the earlier runs the shown result continues */
  gboolean first_look;         /* the running job is a sampling method's first short look */
  double left;                 /* the budget left for the first look's continuation (0: none) */
  gboolean waiting;            /* the first look stopped; its continuation waits for the others' */
  double estimate;             /* seconds the continuation is expected to take */
} CsSaliencyPanel;

/* Builds the widgets of method m's cell (p->root is the cell); refine is connected to the
 * "refine further" button's clicked signal, whose "method" data is m. */
void cs_saliency_panel_build (CsSaliencyPanel *p, int m, GCallback refine, gpointer data);
/* Frees the panel's map and error and forgets its widgets (they belong to the grid). */
void cs_saliency_panel_release (CsSaliencyPanel *p);
/* Before a new job: no map, the ring at 0. */
void cs_saliency_panel_clear (CsSaliencyPanel *p);
void cs_saliency_panel_set_running (CsSaliencyPanel *p, gboolean running, double fraction);
void cs_saliency_panel_recolor (CsSaliencyPanel *p, cs_colormap colormap);
/* A best-so-far map: moves the ring; replaces the map when it goes further than p->floor. */
void cs_saliency_panel_show_partial (CsSaliencyPanel *p, const float *map, int width, int height,
                                     double fraction, cs_colormap colormap);
/* The job's end: its map (taken from r) and time, or the error message. */
void cs_saliency_panel_show_result (CsSaliencyPanel *p, CsSaliencyResult *r, cs_colormap colormap);
void cs_saliency_panel_show_error (CsSaliencyPanel *p, const char *message);
/* The note shown over the picture (why the map is empty), or NULL when there is none. */
const char *cs_saliency_panel_get_note (CsSaliencyPanel *p);

G_END_DECLS

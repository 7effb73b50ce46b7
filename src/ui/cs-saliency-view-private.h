/* CsSaliencyView's instance, shared by the view (cs-saliency-view.c) and its comparison grid
 * (cs-saliency-compare.c). */
#pragma once

#include "cs-colorbar.h"
#include "cs-colormap.h"
#include "cs-compare-grid.h"
#include "cs-saliency-panel.h"
#include "cs-saliency-view.h"

G_BEGIN_DECLS

#define N_TOP 5
typedef CsSaliencyPanel Panel;

struct _CsSaliencyView
{
  GtkWidget parent_instance;
  CsSession *session;
  cs_colormap colormap;
  gboolean loading;
  gboolean updating;           /* setting widgets from the session: no feedback */
  char predict_channel[32], saliency_channel[32], compare_prefix[32];

  int target_classes[N_TOP + 1];
  int predicted;               /* the top class, -1 until predictions arrive */
  float predicted_probability;
  int map_target;              /* the class the overlay explains */
  int map_layer;
  GtkStringList *targets;

  float *map;                  /* the overlay's map, width x height in [0, 1] */
  int map_width, map_height, map_method;
  GdkTexture *overlay;

  Panel panels[CS_METHOD_COUNT];
  guint serial;                /* last job serial handed out */
  guint n_compared;
  guint n_first_looks;         /* sampling methods' first looks still running */
  gboolean compare_stale;

  GtkWidget *box;
  GtkSpinner *spinner;
  GtkDropDown *method_dropdown;
  GtkDropDown *target_dropdown;
  GtkDropDown *colormap_dropdown;
  GtkAdjustment *opacity_adjustment;
  AdwViewStack *stack;
  GtkAspectFrame *aspect;
  GtkPicture *image_picture;
  GtkPicture *map_picture;
  CsColorbar *colorbar;
  GtkLabel *info_label;
  CsCompareGrid *compare_box;
};

/* Creates or drops the grid's panels to match the session's compared methods. */
void cs_saliency_compare_ensure_panels (CsSaliencyView *self);
/* Starts every compared method's job for the current inputs. */
void cs_saliency_compare_run (CsSaliencyView *self);

G_END_DECLS

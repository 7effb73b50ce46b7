/* CsShortcutPanel: the Data view's shortcut report ("Clever Hans", SpRAy): per class, the
 * clusters of its validation images' explanations at the session's epoch, each drawn as its
 * mean map beside member images, flagged classes and the box where their mass sits outlined.
 * Computed on the session's worker when shown, again when the epoch changes. */
#pragma once

#include <gtk/gtk.h>

#include "analysis/shortcuts.h"
#include "cs-data-history.h"

G_BEGIN_DECLS

#define CS_TYPE_SHORTCUT_PANEL (cs_shortcut_panel_get_type ())

G_DECLARE_FINAL_TYPE (CsShortcutPanel, cs_shortcut_panel, CS, SHORTCUT_PANEL, GtkWidget)

void cs_shortcut_panel_set_session (CsShortcutPanel *self, CsSession *session);
/* d stays owned by the caller (set NULL before freeing it); the report goes with it. */
void cs_shortcut_panel_set_data (CsShortcutPanel *self, const CsDataHistory *d);
/* Computes the report for the session's epoch when the panel is mapped and has none for it. */
void cs_shortcut_panel_update (CsShortcutPanel *self);
gboolean cs_shortcut_panel_get_loading (CsShortcutPanel *self);
/* The report shown (NULL before one is computed), and its session epoch index. */
const cs_shortcut_report *cs_shortcut_panel_get_report (CsShortcutPanel *self, int *epoch);
/* The last job's error message, or NULL. */
const char *cs_shortcut_panel_get_status (CsShortcutPanel *self);

/* Draws the report; figure: for export (a title, black on white). */
void cs_shortcut_panel_draw (CsShortcutPanel *self, cairo_t *cr, PangoLayout *pl, const GdkRGBA *fg,
                             int w, int h, gboolean figure);
void cs_shortcut_panel_get_figure_size (CsShortcutPanel *self, int *w, int *h);

G_END_DECLS

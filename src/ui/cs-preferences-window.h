/* CsPreferencesWindow: the app's preferences (colormap, opacity, the comparison grid's methods
 * and their parameters, compute threads, checkpoint cache), each bound to its GSettings key. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define CS_TYPE_PREFERENCES_WINDOW (cs_preferences_window_get_type ())

G_DECLARE_FINAL_TYPE (CsPreferencesWindow, cs_preferences_window, CS, PREFERENCES_WINDOW,
                      AdwPreferencesWindow)

/* settings: the app's (schema io.github.convscope.Convscope). */
CsPreferencesWindow *cs_preferences_window_new (GtkWindow *parent, GSettings *settings);

/* The switch of a method in the comparison group (tests and keyboard users' labels). */
GtkSwitch *cs_preferences_window_get_method_switch (CsPreferencesWindow *self, int method);

/* The comparison-methods key as a bit set per cs_method, and back. */
guint cs_settings_get_comparison (GSettings *settings);
void cs_settings_set_comparison (GSettings *settings, guint methods);

/* Binds the settings that are process-wide rather than per window (compute threads →
 * cs_threads_set), now and on every change. Call once per GSettings. */
void cs_settings_apply_global (GSettings *settings);

/* Binds a session and a saliency view of a window to the settings: parameters of the
 * attribution methods, the cache size, the comparison grid's methods, colormap and opacity. */
void cs_settings_bind_session (GSettings *settings, GObject *session);

G_END_DECLS

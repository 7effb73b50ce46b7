/* CsModelSettingsWindow: the input-preprocessing window of a model (preset, mean/std, resize and
 * centre crop), saved beside the model (or in the user's data directory) for later opens. */
#pragma once

#include <adwaita.h>

#include "graph/model.h"

G_BEGIN_DECLS

#define CS_TYPE_MODEL_SETTINGS_WINDOW (cs_model_settings_window_get_type ())

G_DECLARE_FINAL_TYPE (CsModelSettingsWindow, cs_model_settings_window, CS, MODEL_SETTINGS_WINDOW, AdwPreferencesWindow)

/* For the model m opened from path (a run's settings come from its run.json: shown, not
 * editable). Emits "applied" after saving, when the model should be opened again. */
CsModelSettingsWindow *cs_model_settings_window_new (GtkWindow *parent, const char *path, const cs_model *m,
                                        gboolean is_run);

/* Test hooks: pick a preset ("imagenet", "fashion-mnist", "none") as the user would, and
 * press Apply. Returns FALSE with error set when the values are invalid or cannot be saved. */
void cs_model_settings_window_select_preset (CsModelSettingsWindow *self, const char *preset);
gboolean cs_model_settings_window_apply (CsModelSettingsWindow *self, GError **error);

G_END_DECLS

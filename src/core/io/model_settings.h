/* A model's input preprocessing as the user set it: presets (imagenet, fashion-mnist, none),
 * custom mean/std and resize+crop, stored in a sidecar "<model>.convscope.json" beside the
 * model when its directory is writable, else in the user's data directory. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "graph/model.h"

#define CS_MODEL_SETTINGS_FORMAT "convscope-model-settings/1"

typedef struct {
  char preset[16];           /* "imagenet", "fashion-mnist", "none" or "custom" */
  int32_t channels;          /* entries of mean and std (the model's input channels) */
  float mean[4], std[4];
  int32_t resize;            /* shorter side before the centre crop; 0 = resize to the input */
} cs_model_settings;

/* The preset's values for a model of `channels` x height inputs; false for an unknown name.
 * imagenet is torchvision's evaluation transform: Resize(height * 256 / 224), CenterCrop,
 * Normalize(ImageNet statistics; a grey model gets their channel mean). */
bool cs_model_settings_preset (const char *name, int32_t channels, int32_t height,
                               cs_model_settings *s);
/* What m uses now, as settings (preset "custom" unless the values are a preset's). */
void cs_model_settings_from_model (const cs_model *m, cs_model_settings *s);
/* Sets m's mean/std and resize; with the imagenet (fashion-mnist) preset, a model of 1000 (10)
 * outputs that has no class names gets that data set's. */
cs_status cs_model_settings_apply (cs_model *m, const cs_model_settings *s, cs_error *err);

/* Parses the sidecar JSON (name for messages); values are checked (std > 0, resize bounded). */
cs_status cs_model_settings_parse (const char *text, size_t size, const char *name,
                                   cs_model_settings *s, cs_error *err);
/* The sidecar's JSON text (malloc'ed), or NULL when out of memory. */
char *cs_model_settings_to_json (const cs_model_settings *s);

/* "<model_path>.convscope.json" and the user-data fallback
 * ($XDG_DATA_HOME or ~/.local/share)/convscope/models/<hash of the absolute path>.convscope.json;
 * malloc'ed, NULL when out of memory (or no home for the fallback). */
char *cs_model_settings_sidecar_path (const char *model_path);
char *cs_model_settings_user_path (const char *model_path);

/* Reads the settings remembered for model_path: the sidecar, else the user-data file.
 * *found false (and CS_OK) when there are none; a damaged file is an error naming it. */
cs_status cs_model_settings_find (const char *model_path, cs_model_settings *s, bool *found,
                                  cs_error *err);
/* Writes them atomically to the sidecar when its directory is writable, else to the user-data
 * file (creating its directories). *where (malloc'ed, may be NULL) receives the path written. */
cs_status cs_model_settings_save (const char *model_path, const cs_model_settings *s,
                                  char **where, cs_error *err);

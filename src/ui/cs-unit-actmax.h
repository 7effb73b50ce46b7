/* CsUnitActmax: the unit inspector's activation-maximisation panel: the image that excites the
 * unit most, refined live step by step, its parameters, and the cache of finished images that
 * the evolution panel shares. */
#pragma once

#include <gtk/gtk.h>

#include "cs-session.h"
#include "cs-unit-panel.h"
#include "cs-unit-jobs.h"
#include "features/actmax.h"

G_BEGIN_DECLS

#define CS_TYPE_UNIT_ACTMAX (cs_unit_actmax_get_type ())

G_DECLARE_FINAL_TYPE (CsUnitActmax, cs_unit_actmax, CS, UNIT_ACTMAX, CsUnitPanel)

void cs_unit_actmax_set_session (CsUnitActmax *self, CsSession *session);
/* The model set changed (NULL: none): the cache starts over, any job is cancelled. */
void cs_unit_actmax_reset (CsUnitActmax *self, CsModelSet *set);
/* Shows the unit at the epoch index, from the cache or a new job; layer < 0 stops. */
void cs_unit_actmax_select (CsUnitActmax *self, int epoch, int layer, int unit);

/* Signals: "image-ready" (const CsUnitImage *) when a finished image is shown (computed or
 * cached); "params-changed" just before the parameters' new images start. */
void cs_unit_actmax_get_params (CsUnitActmax *self, cs_actmax_params *params);
void cs_unit_actmax_set_params (CsUnitActmax *self, const cs_actmax_params *params);
void cs_unit_actmax_restart (CsUnitActmax *self);
gboolean cs_unit_actmax_get_loading (CsUnitActmax *self);

/* The cache of finished images, keyed by epoch, unit and the current parameters. */
const CsUnitImage *cs_unit_actmax_lookup (CsUnitActmax *self, int epoch, int layer, int unit);
void cs_unit_actmax_cache_take (CsUnitActmax *self, CsUnitImage *image);

/* Probes for the tests (cs-unit-inspector-private.h). */
GdkTexture *cs_unit_actmax_get_texture (CsUnitActmax *self);
const float *cs_unit_actmax_get_image (CsUnitActmax *self, int *epoch, int *layer, int *unit,
                                       int *c, int *h, int *w, gboolean *final);
guint cs_unit_actmax_get_n_live_updates (CsUnitActmax *self);
guint cs_unit_actmax_get_n_dropped (CsUnitActmax *self);

G_END_DECLS

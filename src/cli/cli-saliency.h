/* The saliency method (Simonyan 2013): the input gradient of the target logit, and its map. */
#pragma once

#include <stdint.h>

#include "exec/exec.h"

/* Runs x [N, C, H, W] forward and back-propagates a one-hot seed on each sample's target logit
 * to the input. targets[n] < 0 means "auto" and is replaced by the predicted class. The signed
 * gradient is then cs_exec_grad (e, graph->input_node). seed is scratch of the logits' shape,
 * allocated on first use and reusable across calls (free it with cs_tensor_free). */
cs_status cli_saliency_run (cs_exec *e, const cs_tensor *x, int32_t *targets, cs_tensor *seed,
                            cs_error *err);

/* The displayed map of a gradient-only method (docs/methods.md): max |.| over channels, divided by the
 * 99th percentile (numpy's linear interpolation), clipped to [0, 1]. map has h*w floats. */
void cli_saliency_map (const float *grad, int32_t c, int32_t h, int32_t w, float *map);

/* Receptive fields: which input pixels each spatial position of a node can see, through
 * conv / pool / pad / slice stacks, and through elementwise ops and concat as the union. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "graph/graph.h"

/* For one node, per spatial axis (0 = height, 1 = width): output position i sees the input
 * pixels [start + i·jump, start + i·jump + size) before clipping to the image (start may be
 * negative where padding reaches outside). A node whose value depends on the whole input
 * (after a global pool, flatten + linear, or a broadcast from such a node) is `global`; a node
 * that does not depend on the input (parameters, constants) is neither local nor global. */
typedef struct {
  bool local;                /* a batched 4-D node whose positions map to input windows */
  bool global;               /* depends on every input pixel: its box is the whole image */
  bool exact;                /* false when branches with different jumps were merged */
  int64_t size[2];
  int64_t jump[2];
  int64_t start[2];
} cs_receptive_field;

/* Fills rf[0 .. g->n_nodes) in one pass over the graph. Fails (CS_ERR_UNSUPPORTED) only for an
 * input that is not 4-D. */
cs_status cs_receptive_field_compute (const cs_graph *g, cs_receptive_field *rf, cs_error *err);

/* The box of output position (y, x) of a node with field rf, clipped to the input_h×input_w
 * image: box = {x0, y0, x1, y1}, half-open ([x0, x1) × [y0, y1)). Global and non-local nodes
 * get the whole image. */
void cs_receptive_field_box (const cs_receptive_field *rf, int64_t y, int64_t x, int32_t input_h,
                             int32_t input_w, int32_t box[4]);

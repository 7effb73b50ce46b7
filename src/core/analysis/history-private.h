/* What the example history's computation and its cache share. */
#pragma once

#include "analysis/history.h"

/* Allocates x's arrays (and its index when x->index is NULL) for n examples over n_epochs. */
cs_status cs_history_examples_alloc (cs_history_examples *x, int64_t n, int32_t n_epochs, cs_error *err);

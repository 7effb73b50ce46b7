/* The native architecture format convscope-model/1 (model.json), read and written with cJSON. */
#pragma once

#include <stddef.h>

#include "graph/model.h"

/* Parses model.json text into a graph (parameters named <node>.weight etc.). */
cs_graph *cs_model_json_parse (const char *text, size_t size, const char *name, cs_error *err);
/* Loads model.json and initialises the weights with cs_model_init_weights (seed). */
cs_model *cs_model_json_load (const char *path, uint64_t seed, cs_error *err);
/* Writes the graph as model.json (atomically). Only graphs built from native ops. */
cs_status cs_model_json_save (const cs_graph *g, const char *path, cs_error *err);

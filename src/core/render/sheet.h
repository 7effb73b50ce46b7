/* The comparison sheet: the input and its prediction, then one titled panel per method (map
 * over the input, colour bar, time), drawn with Cairo into PNG, PDF or SVG. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "base/tensor.h"
#include "render/overlay.h"

typedef struct {
  const char *title;          /* "Grad-CAM" */
  const char *subtitle;       /* a second, smaller line ("layer conv2"), or NULL */
  const float *map;           /* map_h×map_w, in [0,1] (in [-1,1] when is_signed) */
  int32_t map_h, map_w;
  bool is_signed;             /* drawn with the diverging map whatever the sheet's colormap */
  double min, max;            /* the colour bar's end labels */
  double milliseconds;        /* the method's time; < 0 hides it */
  const char *error;          /* non-NULL: the method failed; the panel shows this instead */
} cs_sheet_panel;

typedef struct {
  const char *title;          /* first line of the sheet (model and input), or NULL */
  const cs_tensor *input;     /* [1,C,H,W] as the network saw it */
  const float *mean, *std;    /* its normalisation (NULL: 0 and 1) */
  const char *predicted_label;
  float probability;          /* of the predicted class */
  const char *target_label;   /* the explained class when it is not the predicted one, or NULL */
  cs_overlay_options overlay;
  int32_t panel_size;         /* pixels (points in PDF/SVG) per picture; 0 = 192 */
  int32_t columns;            /* cells per row; 0 = up to 5 */
  const cs_sheet_panel *panels;
  int32_t n_panels;
} cs_sheet;

typedef enum { CS_SHEET_PNG, CS_SHEET_PDF, CS_SHEET_SVG } cs_sheet_format;

/* The format from the path's extension (.png, .pdf, .svg, any case); CS_ERR_ARGUMENT otherwise. */
cs_status cs_sheet_format_from_path (const char *path, cs_sheet_format *format, cs_error *err);

/* Draws the sheet and writes it atomically (temp file, then rename): on any failure nothing
 * is left at path. Text is vector text in PDF and SVG. */
cs_status cs_sheet_write (const cs_sheet *s, const char *path, cs_error *err);

/* Releases Cairo's and fontconfig's process-wide font caches, which otherwise live until exit
 * and look like leaks to sanitizers and valgrind. Call only when no drawing is under way (at
 * the end of a command or a test); a later sheet initialises them again. */
void cs_sheet_release_caches (void);

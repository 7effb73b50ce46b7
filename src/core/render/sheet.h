/* The Cairo sheets, in PNG, PDF or SVG: the comparison sheet (the input and its prediction, then
 * one titled panel per method: map over the input, colour bar, time) and the image sheet (a
 * header, then one titled picture per panel, with optional boxes: activation maximisation,
 * top dataset examples). */
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

/* A rectangle drawn over an image panel (a receptive field): x0, y0, x1, y1 in the image's
 * pixels, half-open. */
typedef struct {
  int32_t x0, y0, x1, y1;
} cs_sheet_box;

typedef struct {
  const char *title;          /* "unit 3 · activation 4.21" */
  const char *subtitle;       /* a second, smaller line, or NULL */
  const float *image;         /* channels×height×width in [0,1]: 1 = gray, 2 = the mean of both
                                 as gray, >= 3 = the first three as RGB */
  int32_t channels, height, width;
  const cs_sheet_box *boxes;  /* outlined in red over the picture (may be NULL) */
  int32_t n_boxes;
} cs_sheet_image;

typedef struct {
  const char *title;          /* the header's first line (model, layer, epoch), or NULL */
  const char *subtitle;       /* its second, smaller line (parameters), or NULL */
  int32_t panel_size;         /* pixels (points in PDF/SVG) per picture; 0 = 160 */
  int32_t columns;            /* panels per row; 0 = up to 6 */
  const cs_sheet_image *images;
  int32_t n_images;
} cs_image_sheet;

/* Draws an image sheet with the comparison sheet's layout, fonts and atomic writing; small
 * images are magnified without smoothing. Bad panels (no pixels, a box outside the image) are
 * CS_ERR_ARGUMENT before anything is written. */
cs_status cs_image_sheet_write (const cs_image_sheet *s, const char *path, cs_error *err);

/* Releases Cairo's and fontconfig's process-wide font caches, which otherwise live until exit
 * and look like leaks to sanitizers and valgrind. Call only when no drawing is under way (at
 * the end of a command or a test); a later sheet initialises them again. */
void cs_sheet_release_caches (void);

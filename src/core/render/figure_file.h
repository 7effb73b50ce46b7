/* Writes a Cairo drawing to a PNG, PDF or SVG file atomically: the one surface writer of the core's figures. */
#pragma once

#include <cairo.h>

#include "base/status.h"
#include "render/sheet.h"

/* Draws the figure on cr; a multi-page PDF drawer calls cairo_show_page between its pages. */
typedef cs_status (*cs_figure_draw_fn) (cairo_t *cr, const void *data, cs_error *err);

/* Creates a width x height surface for format (PDF pages are width x pdf_page_height when that
 * is positive), draws with draw and writes path through a temporary file: on any failure the
 * temporary file is removed and nothing is left at path. what names the figure in errors
 * ("sheet", "figures"). */
cs_status cs_figure_write (const char *path, cs_sheet_format format, double width, double height,
                           double pdf_page_height, const char *what, cs_figure_draw_fn draw,
                           const void *data, cs_error *err);

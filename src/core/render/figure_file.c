/* Writes a Cairo drawing to a PNG, PDF or SVG file atomically: the one surface writer of the core's figures. */
#include "render/figure_file.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <math.h>
#include <stdio.h>

#include "io/atomic_file.h"

static cairo_status_t
write_stream (void *closure, const unsigned char *data, unsigned int length)
{
  return fwrite (data, 1, length, closure) == length ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

cs_status
cs_figure_write (const char *path, cs_sheet_format format, double width, double height,
                 double pdf_page_height, const char *what, cs_figure_draw_fn draw, const void *data,
                 cs_error *err)
{
  /* A bound on the pixels a PNG would need (written the negative way so that NaN fails too). */
  if (!(width > 0 && height > 0 && width * height <= 30000.0 * 30000.0))
    return cs_error_set (err, CS_ERR_LIMIT, "%s: a %s of %.0fx%.0f is too large", path, what, width, height);
  cs_atomic_file f;
  cs_status st;
  if ((st = cs_atomic_open (&f, path, err)) != CS_OK)
    return st;
  cairo_surface_t *surface = NULL;
  switch (format)
    {
    case CS_SHEET_PNG:
      surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, (int) ceil (width), (int) ceil (height));
      break;
    case CS_SHEET_PDF:
      surface = cairo_pdf_surface_create_for_stream (write_stream, f.fp, width,
                                                     pdf_page_height > 0 ? pdf_page_height : height);
      break;
    case CS_SHEET_SVG:
      surface = cairo_svg_surface_create_for_stream (write_stream, f.fp, width, height);
      break;
    }
  cairo_t *cr = cairo_create (surface);
  st = draw (cr, data, err);
  if (st == CS_OK && cairo_status (cr) != CAIRO_STATUS_SUCCESS)
    st = cs_error_set (err, CS_ERR_MEMORY, "%s: drawing the %s: %s", path, what,
                       cairo_status_to_string (cairo_status (cr)));
  cairo_destroy (cr);
  if (st == CS_OK && format == CS_SHEET_PNG)
    {
      cairo_status_t cs = cairo_surface_write_to_png_stream (surface, write_stream, f.fp);
      if (cs != CAIRO_STATUS_SUCCESS)
        st = cs_error_set (err, CS_ERR_IO, "%s: cannot write the PNG: %s", path, cairo_status_to_string (cs));
    }
  /* Finishing a PDF/SVG surface writes its body into the stream. */
  cairo_surface_finish (surface);
  if (st == CS_OK && cairo_surface_status (surface) != CAIRO_STATUS_SUCCESS)
    st = cs_error_set (err, CS_ERR_IO, "%s: cannot write the %s: %s", path, what,
                       cairo_status_to_string (cairo_surface_status (surface)));
  cairo_surface_destroy (surface);
  if (st != CS_OK)
    {
      cs_atomic_abort (&f);
      return st;
    }
  return cs_atomic_commit (&f, err);
}

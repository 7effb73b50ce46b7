/* The sheets drawn with Cairo: a grid of cells (the comparison sheet: the input first, then the
 * methods; the image sheet: a header, then the pictures), one writer for both. Pictures are
 * raster images at their own resolution (scaled without smoothing when small, so 28x28 pixels
 * stay pixels); text, frames and boxes are vector in PDF and SVG. */
#include "render/sheet.h"

#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "render/figure_file.h"
#include "base/duration.h"
#include "render/colorbar.h"

#define MARGIN 16.0
#define GAP 14.0
#define TITLE_SIZE 13.0
#define TEXT_SIZE 10.5
#define SHEET_TITLE_SIZE 15.0
#define BAR_HEIGHT 9.0

static const char *const font = "sans-serif";

cs_status
cs_sheet_format_from_path (const char *path, cs_sheet_format *format, cs_error *err)
{
  const char *dot = path ? strrchr (path, '.') : NULL;
  if (dot != NULL && strcasecmp (dot, ".png") == 0)
    *format = CS_SHEET_PNG;
  else if (dot != NULL && strcasecmp (dot, ".pdf") == 0)
    *format = CS_SHEET_PDF;
  else if (dot != NULL && strcasecmp (dot, ".svg") == 0)
    *format = CS_SHEET_SVG;
  else
    return cs_error_set (err, CS_ERR_ARGUMENT, "%s: the sheet's format comes from its extension: "
                         ".png, .pdf or .svg", path ? path : "(null)");
  return CS_OK;
}

/* RGBA8 into a Cairo image surface (native-endian premultiplied ARGB; ours is opaque). */
static cairo_surface_t *
surface_from_rgba (const uint8_t *rgba, int32_t w, int32_t h)
{
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, w, h);
  if (cairo_surface_status (s) != CAIRO_STATUS_SUCCESS)
    return s;
  cairo_surface_flush (s);
  uint8_t *data = cairo_image_surface_get_data (s);
  int stride = cairo_image_surface_get_stride (s);
  for (int32_t y = 0; y < h; y++)
    {
      uint32_t *row = (uint32_t *) (void *) (data + (size_t) y * (size_t) stride);
      for (int32_t x = 0; x < w; x++)
        {
          const uint8_t *p = rgba + 4 * ((int64_t) y * w + x);
          row[x] = 0xff000000u | (uint32_t) p[0] << 16 | (uint32_t) p[1] << 8 | p[2];
        }
    }
  cairo_surface_mark_dirty (s);
  return s;
}

/* Paints a w×h picture into the square box of side `size` at (x, y), centred, aspect kept. */
static void
paint_picture (cairo_t *cr, cairo_surface_t *pic, int32_t w, int32_t h, double x, double y,
               double size)
{
  double scale = size / (double) (w > h ? w : h);
  double dw = w * scale, dh = h * scale;
  double ox = x + (size - dw) / 2, oy = y + (size - dh) / 2;
  cairo_save (cr);
  cairo_translate (cr, ox, oy);
  cairo_scale (cr, scale, scale);
  cairo_set_source_surface (cr, pic, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (cr), scale >= 2 ? CAIRO_FILTER_NEAREST : CAIRO_FILTER_GOOD);
  cairo_rectangle (cr, 0, 0, w, h);
  cairo_fill (cr);
  cairo_restore (cr);
  cairo_set_source_rgb (cr, 0.6, 0.6, 0.6);
  cairo_set_line_width (cr, 0.75);
  cairo_rectangle (cr, ox, oy, dw, dh);
  cairo_stroke (cr);
}

/* Shows text at (x, baseline y), shrinking the font until it fits max_width; centre when asked. */
static void
show_text (cairo_t *cr, const char *text, double x, double y, double max_width, double size,
           bool bold, bool centre)
{
  if (text == NULL || text[0] == '\0')
    return;
  cairo_select_font_face (cr, font, CAIRO_FONT_SLANT_NORMAL,
                          bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_text_extents_t ext;
  cairo_set_font_size (cr, size);
  cairo_text_extents (cr, text, &ext);
  if (ext.x_advance > max_width && ext.x_advance > 0)
    {
      size *= max_width / ext.x_advance;
      cairo_set_font_size (cr, size);
      cairo_text_extents (cr, text, &ext);
    }
  cairo_move_to (cr, centre ? x + (max_width - ext.x_advance) / 2 : x, y);
  cairo_show_text (cr, text);
}

/* Wraps an error message over up to four lines of the box. */
static void
show_wrapped (cairo_t *cr, const char *text, double x, double y, double width)
{
  cairo_select_font_face (cr, font, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, TEXT_SIZE);
  char line[256];
  size_t n = strlen (text), start = 0;
  for (int l = 0; l < 6 && start < n; l++)
    {
      size_t best = 0, len = 0;
      while (start + len < n && len + 1 < sizeof line)
        {
          len++;
          memcpy (line, text + start, len);
          line[len] = '\0';
          cairo_text_extents_t ext;
          cairo_text_extents (cr, line, &ext);
          if (ext.x_advance > width)
            {
              len--;
              break;
            }
          if (text[start + len] == ' ' || start + len == n)
            best = len;
        }
      if (best == 0)
        best = len > 0 ? len : 1;
      memcpy (line, text + start, best);
      line[best] = '\0';
      cairo_move_to (cr, x, y + l * (TEXT_SIZE + 3));
      cairo_show_text (cr, line);
      start += best;
      while (start < n && text[start] == ' ')
        start++;
    }
}

typedef struct {
  double size;         /* picture side */
  double cell_w, cell_h;
  int32_t columns, rows;
  double top;          /* y of the first row */
  double width, height;
} layout;

static layout
compute_layout (const cs_sheet *s)
{
  layout L;
  L.size = s->panel_size > 0 ? s->panel_size : 192;
  if (L.size < 48)
    L.size = 48;
  int32_t cells = s->n_panels + 1;
  L.columns = s->columns > 0 ? s->columns : (cells < 5 ? cells : 5);
  L.rows = (cells + L.columns - 1) / L.columns;
  L.cell_w = L.size;
  /* title + subtitle, the picture, the bar, its labels, the time */
  L.cell_h = TITLE_SIZE + 6 + TEXT_SIZE + 6 + L.size + 6 + BAR_HEIGHT + TEXT_SIZE + 6 + TEXT_SIZE + 4;
  L.top = MARGIN + (s->title ? SHEET_TITLE_SIZE + 10 : 0);
  L.width = 2 * MARGIN + L.columns * L.cell_w + (L.columns - 1) * GAP;
  L.height = L.top + L.rows * L.cell_h + (L.rows - 1) * GAP + MARGIN;
  return L;
}

static void
format_number (double v, char *buf, size_t size)
{
  snprintf (buf, size, "%.3g", v);
}

static cs_status
draw_panel (cairo_t *cr, const cs_sheet *s, const cs_sheet_panel *p, const uint8_t *base,
            int32_t bw, int32_t bh, double x, double y, double size, cs_error *err)
{
  cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
  show_text (cr, p->title ? p->title : "", x, y + TITLE_SIZE, size, TITLE_SIZE, true, false);
  cairo_set_source_rgb (cr, 0.35, 0.35, 0.35);
  show_text (cr, p->subtitle, x, y + TITLE_SIZE + 6 + TEXT_SIZE, size, TEXT_SIZE, false, false);
  double py = y + TITLE_SIZE + 6 + TEXT_SIZE + 6;
  if (p->error != NULL || p->map == NULL)
    {
      cairo_set_source_rgb (cr, 0.95, 0.92, 0.92);
      cairo_rectangle (cr, x, py, size, size);
      cairo_fill (cr);
      cairo_set_source_rgb (cr, 0.6, 0.1, 0.1);
      show_wrapped (cr, p->error ? p->error : "no map", x + 6, py + 6 + TEXT_SIZE, size - 12);
      return CS_OK;
    }
  cs_overlay_options o = s->overlay;
  if (p->is_signed)
    o.colormap = CS_COLORMAP_DIVERGING;
  else if (cs_colormap_is_signed (o.colormap))
    o.colormap = CS_COLORMAP_DEFAULT;
  uint8_t *pix = malloc ((size_t) bw * (size_t) bh * 4);
  if (pix == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "out of memory for a sheet panel");
  cs_status st = cs_render_overlay (base, bw, bh, p->map, p->map_h, p->map_w, &o, pix, err);
  if (st != CS_OK)
    {
      free (pix);
      return st;
    }
  cairo_surface_t *pic = surface_from_rgba (pix, bw, bh);
  free (pix);
  paint_picture (cr, pic, bw, bh, x, py, size);
  cairo_surface_destroy (pic);
  /* A CAM that is negative everywhere before its ReLU is legitimately empty: say so on the
   * picture rather than leave a reader looking for a map that is not there. */
  bool empty = true;
  for (int64_t i = 0; empty && i < (int64_t) p->map_h * p->map_w; i++)
    empty = p->map[i] == 0.0f;
  if (empty)
    {
      cairo_set_source_rgba (cr, 1, 1, 1, 0.85);
      double box = 3 * (TEXT_SIZE + 3) + 8; /* three lines of show_wrapped */
      cairo_rectangle (cr, x, py + size - box, size, box);
      cairo_fill (cr);
      cairo_set_source_rgb (cr, 0.45, 0.1, 0.1);
      show_wrapped (cr, "the map is zero everywhere: nothing at this layer speaks for this class",
                    x + 6, py + size - box + 4 + TEXT_SIZE, size - 12);
    }

  /* The colour bar: a 256-step strip scaled to the picture's width, framed, with end labels. */
  double by = py + size + 6;
  uint8_t strip[256 * 4];
  cs_colorbar_pixels (o.colormap, false, 256, 1, strip);
  cairo_surface_t *bar = surface_from_rgba (strip, 256, 1);
  cairo_save (cr);
  cairo_translate (cr, x, by);
  cairo_scale (cr, size / 256.0, BAR_HEIGHT);
  cairo_set_source_surface (cr, bar, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_NEAREST);
  cairo_rectangle (cr, 0, 0, 256, 1);
  cairo_fill (cr);
  cairo_restore (cr);
  cairo_surface_destroy (bar);
  cairo_set_source_rgb (cr, 0.6, 0.6, 0.6);
  cairo_set_line_width (cr, 0.75);
  cairo_rectangle (cr, x, by, size, BAR_HEIGHT);
  cairo_stroke (cr);

  char lo[32], hi[32], t[48];
  format_number (p->min, lo, sizeof lo);
  format_number (p->max, hi, sizeof hi);
  cairo_set_source_rgb (cr, 0.2, 0.2, 0.2);
  double ly = by + BAR_HEIGHT + TEXT_SIZE + 1;
  show_text (cr, lo, x, ly, size / 2, TEXT_SIZE, false, false);
  cairo_select_font_face (cr, font, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, TEXT_SIZE);
  cairo_text_extents_t ext;
  cairo_text_extents (cr, hi, &ext);
  cairo_move_to (cr, x + size - ext.x_advance, ly);
  cairo_show_text (cr, hi);
  if (p->milliseconds >= 0)
    {
      cs_format_duration (p->milliseconds / 1000.0, t, sizeof t);
      show_text (cr, t, x, ly + TEXT_SIZE + 5, size, TEXT_SIZE, false, true);
    }
  return CS_OK;
}

static cs_status
draw_sheet (cairo_t *cr, const cs_sheet *s, const layout *L, cs_error *err)
{
  cs_status st = CS_OK;
  int32_t nd = s->input ? s->input->shape.ndim : 0;
  if (nd < 3)
    return cs_error_set (err, CS_ERR_SHAPE, "a sheet needs the input tensor");
  int32_t bh = (int32_t) s->input->shape.dim[nd - 2], bw = (int32_t) s->input->shape.dim[nd - 1];
  uint8_t *base = malloc ((size_t) bw * (size_t) bh * 4);
  uint8_t *shown = malloc ((size_t) bw * (size_t) bh * 4);
  if (base == NULL || shown == NULL)
    {
      free (base);
      free (shown);
      return cs_error_set (err, CS_ERR_MEMORY, "out of memory for the sheet's input picture");
    }
  /* The input cell shows the colour picture; the panels use the overlay's base (maybe gray). */
  if ((st = cs_render_input (s->input, s->mean, s->std, false, shown, err)) != CS_OK
      || (st = cs_render_input (s->input, s->mean, s->std, s->overlay.grayscale, base, err)) != CS_OK)
    goto out;

  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  if (s->title)
    {
      cairo_set_source_rgb (cr, 0.05, 0.05, 0.05);
      show_text (cr, s->title, MARGIN, MARGIN + SHEET_TITLE_SIZE, L->width - 2 * MARGIN,
                 SHEET_TITLE_SIZE, true, false);
    }

  for (int32_t cell = 0; cell <= s->n_panels && st == CS_OK; cell++)
    {
      double x = MARGIN + (cell % L->columns) * (L->cell_w + GAP);
      double y = L->top + (cell / L->columns) * (L->cell_h + GAP);
      if (cell > 0)
        {
          st = draw_panel (cr, s, &s->panels[cell - 1], base, bw, bh, x, y, L->size, err);
          continue;
        }
      cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
      show_text (cr, "Input", x, y + TITLE_SIZE, L->size, TITLE_SIZE, true, false);
      double py = y + TITLE_SIZE + 6 + TEXT_SIZE + 6;
      cairo_surface_t *pic = surface_from_rgba (shown, bw, bh);
      paint_picture (cr, pic, bw, bh, x, py, L->size);
      cairo_surface_destroy (pic);
      char line[256];
      double ty = py + L->size + 6 + TEXT_SIZE;
      snprintf (line, sizeof line, "Predicted: %s", s->predicted_label ? s->predicted_label : "?");
      cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
      show_text (cr, line, x, ty, L->size, TEXT_SIZE, true, false);
      snprintf (line, sizeof line, "probability %.3f", (double) s->probability);
      cairo_set_source_rgb (cr, 0.25, 0.25, 0.25);
      show_text (cr, line, x, ty + TEXT_SIZE + 4, L->size, TEXT_SIZE, false, false);
      if (s->target_label)
        {
          snprintf (line, sizeof line, "Explained: %s", s->target_label);
          show_text (cr, line, x, ty + 2 * (TEXT_SIZE + 4), L->size, TEXT_SIZE, false, false);
        }
    }
  if (st == CS_OK && cairo_status (cr) != CAIRO_STATUS_SUCCESS)
    st = cs_error_set (err, CS_ERR_MEMORY, "drawing the sheet: %s", cairo_status_to_string (cairo_status (cr)));
out:
  free (base);
  free (shown);
  return st;
}

/* What the figure writer hands back to a sheet's drawer. */
typedef struct
{
  const void *sheet;
  const layout *L;
  cs_status (*draw) (cairo_t *cr, const void *sheet, const layout *L, cs_error *err);
} sheet_drawing;

static cs_status
draw_laid_out (cairo_t *cr, const void *data, cs_error *err)
{
  const sheet_drawing *d = data;
  return d->draw (cr, d->sheet, d->L, err);
}

static cs_status
write_surface (const char *path, cs_sheet_format format, const layout *L,
               cs_status (*draw) (cairo_t *, const void *, const layout *, cs_error *), const void *sheet,
               cs_error *err)
{
  sheet_drawing d = { sheet, L, draw };
  return cs_figure_write (path, format, L->width, L->height, 0, "sheet", draw_laid_out, &d, err);
}

static cs_status
draw_comparison (cairo_t *cr, const void *sheet, const layout *L, cs_error *err)
{
  return draw_sheet (cr, sheet, L, err);
}

cs_status
cs_sheet_write (const cs_sheet *s, const char *path, cs_error *err)
{
  cs_sheet_format format;
  cs_status st = cs_sheet_format_from_path (path, &format, err);
  if (st != CS_OK)
    return st;
  if (s->n_panels < 0 || (s->n_panels > 0 && s->panels == NULL))
    return cs_error_set (err, CS_ERR_ARGUMENT, "%s: a sheet's panels are missing", path);
  layout L = compute_layout (s);
  return write_surface (path, format, &L, draw_comparison, s, err);
}

/* ---- Image sheets: a header, then titled pictures ---- */

/* The advance of text at size (bold or not), measured on a scratch surface: the page size
 * must be known before the PDF/SVG surface exists. */
static double
text_width (const char *text, double size, bool bold)
{
  if (text == NULL || text[0] == '\0')
    return 0;
  cairo_surface_t *scratch = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t *cr = cairo_create (scratch);
  cairo_select_font_face (cr, font, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, size);
  cairo_text_extents_t ext;
  cairo_text_extents (cr, text, &ext);
  double w = cairo_status (cr) == CAIRO_STATUS_SUCCESS ? ext.x_advance : 0;
  cairo_destroy (cr);
  cairo_surface_destroy (scratch);
  return w;
}

static layout
compute_image_layout (const cs_image_sheet *s)
{
  layout L;
  L.size = s->panel_size > 0 ? s->panel_size : 160;
  if (L.size < 48)
    L.size = 48;
  int32_t cells = s->n_images > 0 ? s->n_images : 1;
  L.columns = s->columns > 0 ? s->columns : (cells < 6 ? cells : 6);
  if (L.columns > cells)
    L.columns = cells;
  L.rows = (cells + L.columns - 1) / L.columns;
  L.cell_w = L.size;
  /* title, subtitle, the picture */
  L.cell_h = TITLE_SIZE + 6 + TEXT_SIZE + 6 + L.size;
  L.top = MARGIN + (s->title ? SHEET_TITLE_SIZE + 10 : 0) + (s->subtitle ? TEXT_SIZE + 10 : 0);
  L.width = 2 * MARGIN + L.columns * L.cell_w + (L.columns - 1) * GAP;
  /* A narrow grid (one or two units) widens to show the header at full size, up to a limit
   * beyond which the header's text shrinks instead. */
  double header = fmax (text_width (s->title, SHEET_TITLE_SIZE, true), text_width (s->subtitle, TEXT_SIZE, false));
  L.width = fmax (L.width, fmin (header + 2 * MARGIN, 900));
  L.height = L.top + L.rows * L.cell_h + (L.rows - 1) * GAP + MARGIN;
  return L;
}

static uint8_t
byte_of (float v)
{
  if (!(v > 0)) /* NaN too */
    return 0;
  return v >= 1 ? 255 : (uint8_t) (v * 255.0f + 0.5f);
}

/* A C×H×W picture in [0,1] into RGBA8 (C = 1 gray, 2 the mean gray, >= 3 the first three). */
static void
image_to_rgba (const cs_sheet_image *im, uint8_t *rgba)
{
  int64_t hw = (int64_t) im->height * im->width;
  for (int64_t k = 0; k < hw; k++)
    {
      uint8_t *p = rgba + 4 * k;
      if (im->channels >= 3)
        for (int i = 0; i < 3; i++)
          p[i] = byte_of (im->image[i * hw + k]);
      else
        p[0] = p[1] = p[2] = byte_of (im->channels == 2 ? 0.5f * (im->image[k] + im->image[hw + k]) : im->image[k]);
      p[3] = 255;
    }
}

static cs_status
draw_image_panel (cairo_t *cr, const cs_sheet_image *im, double x, double y, double size, cs_error *err)
{
  cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
  show_text (cr, im->title ? im->title : "", x, y + TITLE_SIZE, size, TITLE_SIZE, true, false);
  cairo_set_source_rgb (cr, 0.35, 0.35, 0.35);
  show_text (cr, im->subtitle, x, y + TITLE_SIZE + 6 + TEXT_SIZE, size, TEXT_SIZE, false, false);
  double py = y + TITLE_SIZE + 6 + TEXT_SIZE + 6;
  int32_t w = im->width, h = im->height;
  uint8_t *pix = malloc ((size_t) w * (size_t) h * 4);
  if (pix == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "out of memory for a sheet panel");
  image_to_rgba (im, pix);
  cairo_surface_t *pic = surface_from_rgba (pix, w, h);
  free (pix);
  paint_picture (cr, pic, w, h, x, py, size);
  cairo_surface_destroy (pic);

  /* Boxes in image pixels, stroked inside their edges so a box at the border stays visible. */
  double scale = size / (double) (w > h ? w : h);
  double ox = x + (size - w * scale) / 2, oy = py + (size - h * scale) / 2;
  double line = fmax (1.5, fmin (3.0, size / 80.0));
  cairo_set_source_rgb (cr, 0.9, 0.12, 0.12);
  cairo_set_line_width (cr, line);
  for (int32_t b = 0; b < im->n_boxes; b++)
    {
      const cs_sheet_box *r = &im->boxes[b];
      cairo_rectangle (cr, ox + r->x0 * scale + line / 2, oy + r->y0 * scale + line / 2,
                       fmax ((r->x1 - r->x0) * scale - line, 0), fmax ((r->y1 - r->y0) * scale - line, 0));
      cairo_stroke (cr);
    }
  return CS_OK;
}

static cs_status
draw_image_sheet (cairo_t *cr, const void *sheet, const layout *L, cs_error *err)
{
  const cs_image_sheet *s = sheet;
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  double y = MARGIN;
  if (s->title)
    {
      cairo_set_source_rgb (cr, 0.05, 0.05, 0.05);
      show_text (cr, s->title, MARGIN, y + SHEET_TITLE_SIZE, L->width - 2 * MARGIN, SHEET_TITLE_SIZE, true, false);
      y += SHEET_TITLE_SIZE + 10;
    }
  if (s->subtitle)
    {
      cairo_set_source_rgb (cr, 0.3, 0.3, 0.3);
      show_text (cr, s->subtitle, MARGIN, y + TEXT_SIZE, L->width - 2 * MARGIN, TEXT_SIZE, false, false);
    }
  cs_status st = CS_OK;
  for (int32_t i = 0; i < s->n_images && st == CS_OK; i++)
    st = draw_image_panel (cr, &s->images[i], MARGIN + (i % L->columns) * (L->cell_w + GAP),
                           L->top + (i / L->columns) * (L->cell_h + GAP), L->size, err);
  return st;
}

cs_status
cs_image_sheet_write (const cs_image_sheet *s, const char *path, cs_error *err)
{
  cs_sheet_format format;
  cs_status st = cs_sheet_format_from_path (path, &format, err);
  if (st != CS_OK)
    return st;
  if (s->n_images < 0 || (s->n_images > 0 && s->images == NULL))
    return cs_error_set (err, CS_ERR_ARGUMENT, "%s: a sheet's images are missing", path);
  for (int32_t i = 0; i < s->n_images; i++)
    {
      const cs_sheet_image *im = &s->images[i];
      if (im->image == NULL || im->channels < 1 || im->height < 1 || im->width < 1
          || (int64_t) im->height * im->width > CS_MAX_ELEMENTS || im->n_boxes < 0
          || (im->n_boxes > 0 && im->boxes == NULL))
        return cs_error_set (err, CS_ERR_ARGUMENT, "%s: panel %d (%s) has no valid image", path, i,
                             im->title ? im->title : "untitled");
      for (int32_t b = 0; b < im->n_boxes; b++)
        {
          const cs_sheet_box *r = &im->boxes[b];
          if (r->x0 < 0 || r->y0 < 0 || r->x1 > im->width || r->y1 > im->height || r->x0 >= r->x1 || r->y0 >= r->y1)
            return cs_error_set (err, CS_ERR_ARGUMENT, "%s: panel %d (%s): box [%d, %d, %d, %d) is not inside "
                                 "its %dx%d image", path, i, im->title ? im->title : "untitled", r->x0, r->y0,
                                 r->x1, r->y1, im->width, im->height);
        }
    }
  layout L = compute_image_layout (s);
  return write_surface (path, format, &L, draw_image_sheet, s, err);
}

void
cs_sheet_release_caches (void)
{
  cairo_debug_reset_static_data ();
  FcFini ();
}

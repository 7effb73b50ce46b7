/* Rendering: colormap ends and luminance order, the overlay blend and input display
 * arithmetic, colour bars, and the comparison and image sheets in PNG (decoded back), PDF and
 * SVG, written atomically (nothing left behind on failure). */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/duration.h"
#include "io/atomic_file.h"
#include "io/image.h"
#include "render/colorbar.h"
#include "render/colormap.h"
#include "render/overlay.h"
#include "render/sheet.h"
#include "render/ticks.h"
#include "testlib.h"

static double
linear (double c)
{
  return c <= 0.04045 ? c / 12.92 : pow ((c + 0.055) / 1.055, 2.4);
}

static double
luminance (const float rgb[3])
{
  return 0.2126 * linear (rgb[0]) + 0.7152 * linear (rgb[1]) + 0.0722 * linear (rgb[2]);
}

static bool
rgb_is (cs_colormap c, float v, int r, int g, int b)
{
  uint8_t p[3];
  cs_colormap_lookup (c, v, p);
  return p[0] == r && p[1] == g && p[2] == b;
}

static void
test_colormaps (void)
{
  /* matplotlib: viridis(0) = #440154, viridis(1) = #fde725; inferno(0) = #000004,
   * inferno(1) = #fcffa4; jet(0) = navy (0,0,0.5), jet(1) = dark red (0.5,0,0). */
  CHECK (rgb_is (CS_COLORMAP_VIRIDIS, 0, 68, 1, 84), "viridis(0) = #440154");
  CHECK (rgb_is (CS_COLORMAP_VIRIDIS, 1, 253, 231, 37), "viridis(1) = #fde725");
  CHECK (rgb_is (CS_COLORMAP_INFERNO, 0, 0, 0, 4), "inferno(0) = #000004");
  CHECK (rgb_is (CS_COLORMAP_INFERNO, 1, 252, 255, 164), "inferno(1) = #fcffa4");
  CHECK (rgb_is (CS_COLORMAP_GRAY, 0, 0, 0, 0) && rgb_is (CS_COLORMAP_GRAY, 1, 255, 255, 255), "gray ends");
  CHECK (rgb_is (CS_COLORMAP_JET, 0, 0, 0, 128) && rgb_is (CS_COLORMAP_JET, 1, 128, 0, 0), "jet ends");
  CHECK (rgb_is (CS_COLORMAP_JET, 0.5f, 128, 255, 128), "jet middle is green");
  CHECK (rgb_is (CS_COLORMAP_DIVERGING, 0, 255, 255, 255), "diverging 0 is white");
  uint8_t lo[3], hi[3];
  cs_colormap_lookup (CS_COLORMAP_DIVERGING, -1, lo);
  cs_colormap_lookup (CS_COLORMAP_DIVERGING, 1, hi);
  CHECK (lo[2] > lo[0] && hi[0] > hi[2], "diverging: -1 blue, +1 red");
  CHECK (rgb_is (CS_COLORMAP_VIRIDIS, -3, 68, 1, 84) && rgb_is (CS_COLORMAP_VIRIDIS, 7, 253, 231, 37),
         "values outside [0,1] clamp");
  CHECK (rgb_is (CS_COLORMAP_VIRIDIS, NAN, 68, 1, 84), "NaN gets the colour of 0");

  cs_colormap mono[3] = { CS_COLORMAP_VIRIDIS, CS_COLORMAP_INFERNO, CS_COLORMAP_GRAY };
  for (int m = 0; m < 3; m++)
    {
      bool ok = true;
      double prev = -1;
      for (int i = 0; i <= 1020; i++)
        {
          float rgb[3];
          cs_colormap_lookupf (mono[m], (float) i / 1020.0f, rgb);
          double l = luminance (rgb);
          ok = ok && l > prev;
          prev = l;
        }
      CHECK (ok, "%s: luminance strictly increases over [0,1]", cs_colormap_name (mono[m]));
    }
  for (int c = 0; c < CS_COLORMAP_COUNT; c++)
    CHECK ((int) cs_colormap_from_name (cs_colormap_name ((cs_colormap) c)) == c, "name round trip %s",
           cs_colormap_name ((cs_colormap) c));
  CHECK (cs_colormap_from_name ("parula") == CS_COLORMAP_COUNT, "unknown name");

  uint8_t bar[16 * 2 * 4];
  cs_colorbar_pixels (CS_COLORMAP_VIRIDIS, false, 16, 2, bar);
  CHECK (bar[0] == 68 && bar[1] == 1 && bar[2] == 84 && bar[3] == 255, "bar starts at viridis(0)");
  CHECK (bar[4 * 15] == 253 && bar[4 * 31] == 253, "bar ends at viridis(1) on every row");
  uint8_t vbar[2 * 8 * 4];
  cs_colorbar_pixels (CS_COLORMAP_GRAY, true, 2, 8, vbar);
  CHECK (vbar[0] == 255 && vbar[4 * 14] == 0, "vertical bar: high at the top");
}

static void
test_overlay (void)
{
  cs_error err = { 0 };
  /* [1,3,1,2]: normalised values that de-normalise to known bytes. */
  float mean[3] = { 0.5f, 0.25f, 0.0f }, std[3] = { 0.5f, 0.25f, 1.0f };
  float data[6] = { 1.0f, -1.0f, /* R: 1.0, 0.0 */ 0.0f, 3.0f, /* G: 0.25, 1.0 */ 0.2f, 0.6f /* B */ };
  cs_tensor x = cs_tensor_view (&(cs_shape) { 4, { 1, 3, 1, 2 } }, data);
  uint8_t rgba[8];
  CHECK (cs_render_input (&x, mean, std, false, rgba, &err) == CS_OK, "render input");
  CHECK (rgba[0] == 255 && rgba[1] == 64 && rgba[2] == 51 && rgba[3] == 255, "pixel 0 = (255,64,51)");
  CHECK (rgba[4] == 0 && rgba[5] == 255 && rgba[6] == 153, "pixel 1 = (0,255,153)");
  uint8_t gray[8];
  cs_render_input (&x, mean, std, true, gray, &err);
  int luma = (int) lrint (255 * (0.299 * 1.0 + 0.587 * 0.25 + 0.114 * 0.2));
  CHECK (gray[0] == luma && gray[1] == luma && gray[2] == luma, "grayscale: ITU-R 601 luma (%d)", gray[0]);

  /* A one-channel .npy-like tensor far outside [0,1] is min-max rescaled. */
  float wide[4] = { -10, 0, 10, 30 };
  cs_tensor w = cs_tensor_view (&(cs_shape) { 3, { 1, 2, 2 } }, wide);
  uint8_t wp[16];
  cs_render_input (&w, NULL, NULL, false, wp, &err);
  CHECK (wp[0] == 0 && wp[12] == 255 && wp[4] == 64 && wp[5] == 64, "out-of-range input rescaled");

  /* out = (1 - a)·base + a·colour: base (100, 50, 200), gray map value 1 (white), a = 0.25. */
  uint8_t base[4 * 4];
  for (int i = 0; i < 4; i++)
    {
      base[4 * i] = 100;
      base[4 * i + 1] = 50;
      base[4 * i + 2] = 200;
      base[4 * i + 3] = 255;
    }
  float map[4] = { 1, 0, 0.5f, 1 };
  cs_overlay_options o = { .colormap = CS_COLORMAP_GRAY, .alpha = 0.25f };
  uint8_t out[16];
  CHECK (cs_render_overlay (base, 2, 2, map, 2, 2, &o, out, &err) == CS_OK, "overlay");
  CHECK (out[0] == 139 && out[1] == 101 && out[2] == 214 && out[3] == 255, "blend with white: (139,101,214)");
  CHECK (out[4] == 75 && out[5] == 38 && out[6] == 150, "blend with black: (75,38,150)");
  CHECK (out[8] == 107 && out[9] == 70 && out[10] == 182, "blend with mid gray 128: (107,70,182)");
  o.alpha = 0;
  cs_render_overlay (base, 2, 2, map, 2, 2, &o, out, &err);
  CHECK (memcmp (out, base, 16) == 0, "alpha 0 leaves the picture");
  o.alpha = 1;
  o.colormap = CS_COLORMAP_VIRIDIS;
  cs_render_overlay (base, 2, 2, map, 2, 2, &o, out, &err);
  CHECK (out[4] == 68 && out[5] == 1 && out[6] == 84, "alpha 1 shows the colormap");

  /* A 1x1 map over a 2x2 picture: resampled (a constant). */
  float one = 1.0f;
  o.colormap = CS_COLORMAP_GRAY;
  o.alpha = 0.5f;
  cs_render_overlay (base, 2, 2, &one, 1, 1, &o, out, &err);
  CHECK (out[0] == out[12] && out[0] == 178, "resampled constant map (%d)", out[0]);
  CHECK (cs_render_overlay (base, 0, 2, map, 2, 2, &o, out, &err) == CS_ERR_SHAPE, "empty picture rejected");

  /* Signed plane: sum over channels, / p99 of |v|, clipped. */
  float raw[2 * 2 * 2] = { 1, -2, 0, 4, /* ch 1 */ 1, 0, 0, 4 };
  cs_tensor r = cs_tensor_view (&(cs_shape) { 3, { 2, 2, 2 } }, raw);
  cs_tensor plane = { 0 };
  CHECK (cs_render_signed_plane (&r, &plane, &err) == CS_OK, "signed plane");
  /* |v| sorted: 0, 2, 2, 8; p99 at 2.97 -> 2 + 0.97*6 = 7.82 */
  CHECK (CLOSE (plane.data[0], 2 / 7.82, 1e-5, 0) && CLOSE (plane.data[1], -2 / 7.82, 1e-5, 0)
           && plane.data[3] == 1.0f && plane.data[2] == 0,
         "signed plane values");
  cs_tensor_free (&plane);
}

static int
count_entries (const char *dir)
{
  DIR *d = opendir (dir);
  int n = 0;
  struct dirent *e;
  while (d && (e = readdir (d)) != NULL)
    if (strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0)
      n++;
  if (d)
    closedir (d);
  return n;
}

static void
test_sheet (void)
{
  char dir[] = "/tmp/cs-render-XXXXXX";
  if (mkdtemp (dir) == NULL)
    {
      CHECK (0, "mkdtemp");
      return;
    }
  cs_error err = { 0 };
  /* A 28x28 gray input and three maps: a ramp, a signed map and a failed method. */
  cs_tensor x = { 0 };
  cs_tensor_alloc (&x, &(cs_shape) { 4, { 1, 1, 28, 28 } }, &err);
  float ramp[28 * 28], sign[7 * 7];
  for (int i = 0; i < 28 * 28; i++)
    {
      x.data[i] = (float) ((i / 28 - 14) * (i % 28 - 14)) / 100.0f;
      ramp[i] = (float) (i % 28) / 27.0f;
    }
  for (int i = 0; i < 49; i++)
    sign[i] = (float) (i % 7 - 3) / 3.0f;
  cs_sheet_panel panels[3] = {
    { .title = "Saliency", .map = ramp, .map_h = 28, .map_w = 28, .min = 0, .max = 1, .milliseconds = 1.25 },
    { .title = "Gradient × Input", .subtitle = "signed", .map = sign, .map_h = 7, .map_w = 7,
      .is_signed = true, .min = -1, .max = 1, .milliseconds = 0.5 },
    { .title = "Grad-CAM", .error = "the model has no layer with a spatial output for a CAM",
      .milliseconds = -1 },
  };
  float mean = 0.5f, std = 0.25f;
  cs_sheet s = { .title = "tiny-cnn.onnx — digit-7.png", .input = &x, .mean = &mean, .std = &std,
                 .predicted_label = "7", .probability = 0.987f, .target_label = NULL,
                 .overlay = CS_OVERLAY_OPTIONS_DEFAULT, .panels = panels, .n_panels = 3 };

  char path[256];
  snprintf (path, sizeof path, "%s/sheet.png", dir);
  CHECK (cs_sheet_write (&s, path, &err) == CS_OK, "PNG sheet: %s", err.message);
  cs_image img = { 0 };
  CHECK (cs_image_load (path, &img, &err) == CS_OK && img.width > 4 * 192 && img.height > 192,
         "PNG decodes back (%dx%d)", img.width, img.height);
  /* The top-left corner is the white background. */
  CHECK (img.pixels != NULL && img.pixels[0] == 255 && img.pixels[1] == 255, "white background");
  cs_image_free (&img);

  uint8_t *data = NULL;
  size_t size = 0;
  snprintf (path, sizeof path, "%s/sheet.PDF", dir);
  CHECK (cs_sheet_write (&s, path, &err) == CS_OK, "PDF sheet: %s", err.message);
  CHECK (cs_file_read_all (path, 1 << 26, &data, &size, &err) == CS_OK && size > 1000
           && memcmp (data, "%PDF", 4) == 0,
         "PDF starts with %%PDF (%zu bytes)", size);
  CHECK (data != NULL && memmem (data, size, "/Font", 5) != NULL, "PDF text is text (has fonts)");
  free (data);
  data = NULL;

  snprintf (path, sizeof path, "%s/sheet.svg", dir);
  CHECK (cs_sheet_write (&s, path, &err) == CS_OK, "SVG sheet: %s", err.message);
  CHECK (cs_file_read_all (path, 1 << 26, &data, &size, &err) == CS_OK && size > 1000, "SVG read");
  if (data != NULL)
    {
      char *text = malloc (size + 1);
      memcpy (text, data, size);
      text[size] = '\0';
      char *root = strstr (text, "<svg");
      size_t end = size;
      while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == ' '))
        end--;
      CHECK (strncmp (text, "<?xml", 5) == 0 && root != NULL && end >= 6
               && strncmp (text + end - 6, "</svg>", 6) == 0,
             "SVG: an XML document whose root is <svg>");
      free (text);
    }
  free (data);
  CHECK (count_entries (dir) == 3, "three sheets, no temp files");

  /* Failures leave nothing: a bad extension, a missing input, an unwritable directory. */
  snprintf (path, sizeof path, "%s/sheet.jpg", dir);
  CHECK (cs_sheet_write (&s, path, &err) == CS_ERR_ARGUMENT, "unknown extension: %s", err.message);
  cs_sheet bad = s;
  bad.input = NULL;
  snprintf (path, sizeof path, "%s/bad.png", dir);
  CHECK (cs_sheet_write (&bad, path, &err) != CS_OK, "drawing failure reported");
  snprintf (path, sizeof path, "%s/bad.pdf", dir);
  CHECK (cs_sheet_write (&bad, path, &err) != CS_OK, "drawing failure reported (PDF)");
  CHECK (count_entries (dir) == 3, "nothing written on failure");
  snprintf (path, sizeof path, "%s/no-such-dir/sheet.png", dir);
  CHECK (cs_sheet_write (&s, path, &err) == CS_ERR_IO, "unwritable path: %s", err.message);
  CHECK (count_entries (dir) == 3, "still nothing written");

  const char *names[3] = { "sheet.png", "sheet.PDF", "sheet.svg" };
  for (int i = 0; i < 3; i++)
    {
      snprintf (path, sizeof path, "%s/%s", dir, names[i]);
      if (!getenv ("KEEP")) unlink (path);
    }
  if (!getenv ("KEEP")) rmdir (dir); else printf ("# kept %s\n", dir);
  cs_tensor_free (&x);
}

/* The bounding box of the pixels for which pred holds; false when there are none. */
static bool
find_pixels (const cs_image *img, bool (*pred) (const uint8_t *), int32_t *x0, int32_t *y0, int32_t *x1,
             int32_t *y1, int64_t *count)
{
  *x0 = *y0 = INT32_MAX;
  *x1 = *y1 = -1;
  *count = 0;
  for (int32_t y = 0; y < img->height; y++)
    for (int32_t x = 0; x < img->width; x++)
      if (pred (img->pixels + ((int64_t) y * img->width + x) * img->channels))
        {
          *x0 = x < *x0 ? x : *x0;
          *y0 = y < *y0 ? y : *y0;
          *x1 = x > *x1 ? x : *x1;
          *y1 = y > *y1 ? y : *y1;
          ++*count;
        }
  return *count > 0;
}

static bool
is_red (const uint8_t *p)
{
  return p[0] > 200 && p[1] < 60 && p[2] < 60;
}

static bool
is_green (const uint8_t *p)
{
  return p[1] > 200 && p[0] < 40 && p[2] < 40;
}

static bool
is_black (const uint8_t *p)
{
  return p[0] < 8 && p[1] < 8 && p[2] < 8;
}

static void
test_image_sheet (void)
{
  char dir[] = "/tmp/cs-render-XXXXXX";
  if (mkdtemp (dir) == NULL)
    {
      CHECK (0, "mkdtemp");
      return;
    }
  cs_error err = { 0 };
  /* A black 28x28 gray picture with a box [4, 12) x [4, 12), and a green 20x10 RGB one. */
  static float black[28 * 28], green[3 * 10 * 20];
  for (int i = 0; i < 200; i++)
    green[200 + i] = 1.0f;
  cs_sheet_box box = { 4, 4, 12, 12 };
  cs_sheet_image panels[2] = {
    { .title = "unit 3 \xC2\xB7 activation 4.21", .subtitle = "from 0.1", .image = black, .channels = 1,
      .height = 28, .width = 28, .boxes = &box, .n_boxes = 1 },
    { .title = "RGB", .image = green, .channels = 3, .height = 10, .width = 20 },
  };
  cs_image_sheet s = { .title = "tiny", .subtitle = "p", .panel_size = 112, .images = panels, .n_images = 2 };

  char path[256];
  snprintf (path, sizeof path, "%s/images.png", dir);
  CHECK (cs_image_sheet_write (&s, path, &err) == CS_OK, "image sheet PNG: %s", err.message);
  cs_image img = { 0 };
  CHECK (cs_image_load (path, &img, &err) == CS_OK && img.channels == 3 && img.width >= 2 * 112 + 14
           && img.width < 2 * 112 + 14 + 64 && img.height > 112 + 40,
         "image sheet PNG decodes back, two panels wide (%dx%d)", img.width, img.height);
  int32_t x0, y0, x1, y1;
  int64_t n;
  if (img.pixels != NULL)
    {
      CHECK (img.pixels[0] == 255 && img.pixels[1] == 255 && img.pixels[2] == 255, "white background");
      /* 112 px for 28 pixels: 4x, so the box is 32 px square, drawn inside its edges. */
      CHECK (find_pixels (&img, is_red, &x0, &y0, &x1, &y1, &n) && x1 - x0 + 1 >= 31 && x1 - x0 + 1 <= 33
               && y1 - y0 + 1 >= 31 && y1 - y0 + 1 <= 33 && x1 < img.width / 2,
             "the box: a %dx%d red outline on the first panel", x1 - x0 + 1, y1 - y0 + 1);
      int32_t bx0 = x0, by0 = y0, bx1 = x1, by1 = y1;
      CHECK (n < 4 * 33 * 3, "the box is an outline, not a fill (%lld red pixels)", (long long) n);
      /* The grey frame covers the outermost pixel row. */
      CHECK (find_pixels (&img, is_black, &x0, &y0, &x1, &y1, &n) && x1 - x0 + 1 >= 110 && x1 - x0 + 1 <= 112
               && y1 - y0 + 1 >= 110 && y1 - y0 + 1 <= 112
               && x0 < bx0 && y0 < by0 && x1 > bx1 && y1 > by1,
             "the gray picture: 112 px square, nearest-neighbour, around the box (%dx%d)", x1 - x0 + 1, y1 - y0 + 1);
      int32_t gx0 = x0;
      CHECK (find_pixels (&img, is_green, &x0, &y0, &x1, &y1, &n) && x1 - x0 + 1 >= 110 && x1 - x0 + 1 <= 112
               && y1 - y0 + 1 >= 54 && y1 - y0 + 1 <= 56 && x0 == gx0 + 112 + 14,
             "the RGB picture: 20x10 scaled to 112x56, aspect kept, one gap to the right (%dx%d at %d)",
             x1 - x0 + 1, y1 - y0 + 1, x0);
    }
  cs_image_free (&img);

  uint8_t *data = NULL;
  size_t size = 0;
  snprintf (path, sizeof path, "%s/images.pdf", dir);
  CHECK (cs_image_sheet_write (&s, path, &err) == CS_OK, "image sheet PDF: %s", err.message);
  CHECK (cs_file_read_all (path, 1 << 26, &data, &size, &err) == CS_OK && data != NULL && size > 1000
           && memcmp (data, "%PDF", 4) == 0 && memmem (data, size, "/Font", 5) != NULL
           && memmem (data + (size > 64 ? size - 64 : 0), size > 64 ? 64 : size, "%%EOF", 5) != NULL,
         "image sheet PDF: complete, text as fonts (%zu bytes)", size);
  free (data);
  data = NULL;
  snprintf (path, sizeof path, "%s/images.svg", dir);
  CHECK (cs_image_sheet_write (&s, path, &err) == CS_OK, "image sheet SVG: %s", err.message);
  CHECK (cs_file_read_all (path, 1 << 26, &data, &size, &err) == CS_OK && data != NULL && size > 1000
           && memmem (data, size, "<svg", 4) != NULL && memmem (data, size, "</svg>", 6) != NULL,
         "image sheet SVG: an <svg> document");
  free (data);

  /* A narrow sheet widens for its header; a long header shrinks beyond the limit. */
  cs_image_sheet one = { .title = "a model with a long name \xC2\xB7 layer /features/denseblock4/conv2",
                         .panel_size = 64, .images = panels, .n_images = 1 };
  snprintf (path, sizeof path, "%s/one.png", dir);
  CHECK (cs_image_sheet_write (&one, path, &err) == CS_OK && cs_image_load (path, &img, &err) == CS_OK
           && img.width > 300 && img.width <= 900,
         "one panel: the sheet widens to its header (%d px)", img.width);
  cs_image_free (&img);

  /* Bad panels are refused before anything is written. */
  CHECK (count_entries (dir) == 4, "four sheets, no temp files");
  cs_sheet_box outside = { 20, 20, 29, 28 };
  cs_image_sheet bad = s;
  cs_sheet_image bad_panels[2] = { panels[0], panels[1] };
  bad_panels[0].boxes = &outside;
  bad.images = bad_panels;
  snprintf (path, sizeof path, "%s/bad.png", dir);
  CHECK (cs_image_sheet_write (&bad, path, &err) == CS_ERR_ARGUMENT && strstr (err.message, "box") != NULL,
         "a box outside its image: %s", err.message);
  bad_panels[0] = panels[0];
  bad_panels[1].image = NULL;
  CHECK (cs_image_sheet_write (&bad, path, &err) == CS_ERR_ARGUMENT, "a panel without pixels: %s", err.message);
  snprintf (path, sizeof path, "%s/bad.tiff", dir);
  CHECK (cs_image_sheet_write (&s, path, &err) == CS_ERR_ARGUMENT, "unknown extension: %s", err.message);
  snprintf (path, sizeof path, "%s/no-such-dir/s.pdf", dir);
  CHECK (cs_image_sheet_write (&s, path, &err) == CS_ERR_IO, "unwritable path: %s", err.message);
  CHECK (count_entries (dir) == 4, "nothing written on failure");

  const char *names[4] = { "images.png", "images.pdf", "images.svg", "one.png" };
  for (int i = 0; i < 4; i++)
    {
      snprintf (path, sizeof path, "%s/%s", dir, names[i]);
      if (!getenv ("KEEP")) unlink (path);
    }
  if (!getenv ("KEEP")) rmdir (dir); else printf ("# kept %s\n", dir);
}

static bool
duration_is (double seconds, const char *want)
{
  char buf[32];
  cs_format_duration (seconds, buf, sizeof buf);
  if (strcmp (buf, want) != 0)
    printf ("# %g s: got \"%s\", want \"%s\"\n", seconds, buf, want);
  return strcmp (buf, want) == 0;
}

static void
test_durations (void)
{
  CHECK (duration_is (0.000592, "0.6 ms") && duration_is (0.0, "0.0 ms") && duration_is (0.00994, "9.9 ms"),
         "below 10 ms: one decimal");
  CHECK (duration_is (0.00996, "10 ms") && duration_is (0.84, "840 ms") && duration_is (0.9994, "999 ms"),
         "below a second: whole milliseconds");
  CHECK (duration_is (0.9996, "1.0 s") && duration_is (1.6, "1.6 s") && duration_is (12.34, "12.3 s"),
         "1.6 s, not 1.6e+03 ms");
  CHECK (duration_is (59.96, "1 min 00 s") && duration_is (125.2, "2 min 05 s") && duration_is (7260, "121 min 00 s"),
         "minutes and seconds above a minute");
  CHECK (duration_is (NAN, "?") && duration_is (-1, "?") && duration_is (INFINITY, "?"), "nonsense is ?");
  char small[4];
  cs_format_duration (1.6, small, sizeof small);
  CHECK (strcmp (small, "1.6") == 0, "truncated to the buffer, terminated");
}

static void
test_ticks (void)
{
  double first, step;
  int dec, n;

  /* The loss axis that read 2.49, 1.86, 1.24: now 0.0, 0.5 ... 2.0 (step 0.5). */
  n = cs_nice_ticks (0.0, 2.49, 6, &first, &step, &dec);
  CHECK (n == 5 && first == 0 && fabs (step - 0.5) < 1e-12 && dec == 1,
         "loss 0..2.49: 5 ticks from 0 by 0.5 (got %d from %g by %g, %d decimals)", n, first, step, dec);
  /* Accuracy in percent 3..99: step 20, ticks 20, 40, 60, 80. */
  n = cs_nice_ticks (3, 99, 6, &first, &step, &dec);
  CHECK (n == 4 && first == 20 && step == 20 && dec == 0, "3..99 %%: 20, 40, 60, 80 (got %d from %g by %g)",
         n, first, step);
  n = cs_nice_ticks (0, 100, 6, &first, &step, &dec);
  CHECK (n == 6 && first == 0 && step == 20, "0..100: 0 to 100 by 20 (got %d by %g)", n, step);
  n = cs_nice_ticks (0, 0.3, 4, &first, &step, &dec);
  CHECK (n == 4 && fabs (step - 0.1) < 1e-12 && dec == 1, "0..0.3 in 4: by 0.1, 0.3 included (got %d by %g)", n, step);
  n = cs_nice_ticks (-7, 13, 5, &first, &step, &dec);
  CHECK (n == 4 && first == -5 && step == 5, "-7..13: -5, 0, 5, 10 (got %d from %g by %g)", n, first, step);
  n = cs_nice_ticks (1000, 1600, 4, &first, &step, &dec);
  CHECK (n == 4 && step == 200 && first == 1000, "1000..1600: by 200 (got %d by %g)", n, step);
  /* Every step is 1, 2 or 5 × 10^k, whatever the range. */
  bool nice = true;
  for (int i = 1; i < 400; i++)
    {
      double hi = 0.0137 * i * i;
      n = cs_nice_ticks (0.001 * i, 0.001 * i + hi, 5, &first, &step, &dec);
      double m = step / pow (10, floor (log10 (step) + 1e-9));
      nice = nice && n >= 1 && n <= 5 && (fabs (m - 1) < 1e-9 || fabs (m - 2) < 1e-9 || fabs (m - 5) < 1e-9)
             && first >= 0.001 * i - 1e-9 && first + (n - 1) * step <= 0.001 * i + hi + 1e-9;
    }
  CHECK (nice, "steps are 1, 2 or 5 x 10^k, 1 to 5 ticks, all inside the range");
  CHECK (cs_nice_ticks (1, 1, 5, &first, &step, &dec) == 0, "an empty range has no ticks");
  CHECK (cs_nice_ticks (0, NAN, 5, &first, &step, &dec) == 0, "a NaN range has no ticks");
  CHECK (cs_nice_ticks (0, 1, 0, &first, &step, &dec) == 0, "max_ticks 0: no ticks");
}

int
main (void)
{
  test_ticks ();
  test_durations ();
  test_colormaps ();
  test_overlay ();
  test_sheet ();
  test_image_sheet ();
  cs_sheet_release_caches ();
  return test_done ();
}

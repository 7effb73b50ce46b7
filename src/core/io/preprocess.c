/* Input preprocessing as docs/formats/images.md describes it: channel conversion, bilinear resize with
 * half-pixel centres (PyTorch's F.interpolate(align_corners=False, antialias=False)), [0,1]
 * scaling and mean/std normalisation; and loading an INPUT argument (image or .npy). */
#include "io/image-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/atomic_file.h"
#include "io/npy.h"

#define INPUT_MAX_FILE ((size_t) 9 << 30)

/* Per output coordinate: the two source indices and their weights, as PyTorch computes them. */
typedef struct {
  int32_t i0, i1;
  float l0, l1;
} axis_tap;

static void
compute_taps (int32_t in, int32_t out, axis_tap *taps)
{
  float scale = (float) in / (float) out;
  for (int32_t d = 0; d < out; d++)
    {
      float src = scale * ((float) d + 0.5f) - 0.5f;
      if (src < 0)
        src = 0;
      int32_t i0 = (int32_t) src;
      if (i0 > in - 1)
        i0 = in - 1;
      taps[d].i0 = i0;
      taps[d].i1 = i0 < in - 1 ? i0 + 1 : i0;
      taps[d].l1 = src - (float) i0;
      taps[d].l0 = 1.0f - taps[d].l1;
    }
}

/* The source image as one float plane of the target channel c, in [0,1]. */
static float
source_value (const cs_image *img, int32_t channels, int32_t c, int32_t x, int32_t y)
{
  const uint8_t *p = img->pixels + ((size_t) y * (size_t) img->width + (size_t) x)
                                   * (size_t) img->channels;
  if (img->channels == channels)
    return (float) p[c] / 255.0f;
  if (img->channels == 1)
    return (float) p[0] / 255.0f; /* gray -> RGB: replicate */
  /* RGB -> gray: ITU-R 601 luma, as PIL's convert("L") but without its integer rounding */
  return 0.299f * ((float) p[0] / 255.0f) + 0.587f * ((float) p[1] / 255.0f)
         + 0.114f * ((float) p[2] / 255.0f);
}

/* The window of the resized image that the model sees: the image resized to rh x rw, then the
 * height x width window at (top, left). */
typedef struct {
  int32_t rh, rw, top, left;
} resize_plan;

/* torchvision's Resize(resize) + CenterCrop((height, width)): the shorter side becomes resize
 * (the longer one int(long * resize / short)), grown if needed so that the crop fits, and the
 * crop is centred with round((size - crop) / 2). resize 0: straight to height x width. */
static resize_plan
plan_resize (const cs_image *img, int32_t height, int32_t width, int32_t resize)
{
  resize_plan p = { height, width, 0, 0 };
  if (resize <= 0)
    return p;
  bool tall = img->height > img->width;
  int64_t shorter = tall ? img->width : img->height, longer = tall ? img->height : img->width;
  int64_t new_short = resize, new_long = (int64_t) resize * longer / shorter;
  /* Grown (rarely: a crop larger than the resized image) so that the crop fits. */
  while ((tall ? new_long : new_short) < height || (tall ? new_short : new_long) < width)
    {
      if (new_short > CS_IMAGE_MAX_SIDE)
        return p;
      new_short++;
      new_long = new_short * longer / shorter;
    }
  if (new_long > CS_IMAGE_MAX_SIDE * 2)
    return p;
  p.rh = (int32_t) (tall ? new_long : new_short);
  p.rw = (int32_t) (tall ? new_short : new_long);
  /* Python's round(): halves to even (CenterCrop of 341 to 224 starts at 58, not 59). */
  p.top = (int32_t) nearbyint ((p.rh - height) / 2.0);
  p.left = (int32_t) nearbyint ((p.rw - width) / 2.0);
  return p;
}

static cs_status
image_to_tensor_plan (const cs_image *img, int32_t channels, int32_t height, int32_t width,
                      const resize_plan *plan, const float *mean, const float *std,
                      cs_tensor *out, cs_error *err)
{
  memset (out, 0, sizeof *out);
  if (img == NULL || img->pixels == NULL || img->width <= 0 || img->height <= 0
      || (img->channels != 1 && img->channels != 3))
    return cs_error_set (err, CS_ERR_ARGUMENT, "invalid image");
  if ((channels != 1 && channels != 3) || height <= 0 || width <= 0 || height > CS_IMAGE_MAX_SIDE
      || width > CS_IMAGE_MAX_SIDE)
    return cs_error_set (err, CS_ERR_ARGUMENT, "cannot make a %dx%dx%d input from an image",
                         channels, height, width);
  for (int32_t c = 0; c < channels; c++)
    if (std != NULL && !(std[c] != 0.0f))
      return cs_error_set (err, CS_ERR_ARGUMENT, "std of channel %d is zero", c);
  cs_shape shape = cs_shape_4d (1, channels, height, width);
  axis_tap *ty = malloc (sizeof *ty * (size_t) plan->rh);
  axis_tap *tx = malloc (sizeof *tx * (size_t) plan->rw);
  cs_status st = CS_OK;
  if (ty == NULL || tx == NULL)
    st = cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  if (st == CS_OK)
    st = cs_tensor_alloc (out, &shape, err);
  if (st != CS_OK)
    {
      free (ty);
      free (tx);
      return st;
    }
  /* Taps of the whole resized axis, of which the crop reads a window. */
  compute_taps (img->height, plan->rh, ty);
  compute_taps (img->width, plan->rw, tx);
  for (int32_t c = 0; c < channels; c++)
    {
      float m = mean != NULL ? mean[c] : 0.0f;
      float s = std != NULL ? std[c] : 1.0f;
      float *dst = out->data + (size_t) c * (size_t) height * (size_t) width;
      for (int32_t y = 0; y < height; y++)
        for (int32_t x = 0; x < width; x++)
          {
            const axis_tap *a = &ty[plan->top + y], *b = &tx[plan->left + x];
            float v00 = source_value (img, channels, c, b->i0, a->i0);
            float v01 = source_value (img, channels, c, b->i1, a->i0);
            float v10 = source_value (img, channels, c, b->i0, a->i1);
            float v11 = source_value (img, channels, c, b->i1, a->i1);
            float v = a->l0 * (b->l0 * v00 + b->l1 * v01) + a->l1 * (b->l0 * v10 + b->l1 * v11);
            dst[(size_t) y * (size_t) width + (size_t) x] = (v - m) / s;
          }
    }
  free (ty);
  free (tx);
  return CS_OK;
}

cs_status
cs_image_to_tensor (const cs_image *img, int32_t channels, int32_t height, int32_t width,
                    const float *mean, const float *std, cs_tensor *out, cs_error *err)
{
  resize_plan plan = { height, width, 0, 0 };
  return image_to_tensor_plan (img, channels, height, width, &plan, mean, std, out, err);
}

cs_status
cs_image_for_model (const cs_image *img, const cs_model *m, const float *mean, const float *std,
                    cs_tensor *out, cs_error *err)
{
  if (img == NULL || img->width <= 0 || img->height <= 0)
    return cs_error_set (err, CS_ERR_ARGUMENT, "invalid image");
  resize_plan plan = plan_resize (img, m->height, m->width, m->resize);
  return image_to_tensor_plan (img, m->channels, m->height, m->width, &plan,
                               mean != NULL ? mean : m->mean, std != NULL ? std : m->std, out, err);
}

cs_status
cs_image_model_view (const cs_image *img, const cs_model *m, cs_image *out, cs_error *err)
{
  memset (out, 0, sizeof *out);
  cs_tensor t;
  if (img == NULL || img->width <= 0 || img->height <= 0)
    return cs_error_set (err, CS_ERR_ARGUMENT, "invalid image");
  resize_plan plan = plan_resize (img, m->height, m->width, m->resize);
  cs_status st = image_to_tensor_plan (img, m->channels, m->height, m->width, &plan, NULL, NULL,
                                       &t, err);
  if (st != CS_OK)
    return st;
  size_t hw = (size_t) m->height * (size_t) m->width;
  out->pixels = malloc (hw * (size_t) m->channels);
  if (out->pixels == NULL)
    {
      cs_tensor_free (&t);
      return cs_error_set (err, CS_ERR_MEMORY, "out of memory");
    }
  out->width = m->width;
  out->height = m->height;
  out->channels = m->channels;
  for (size_t i = 0; i < hw; i++)
    for (int32_t c = 0; c < m->channels; c++)
      {
        float v = t.data[(size_t) c * hw + i] * 255.0f + 0.5f;
        out->pixels[i * (size_t) m->channels + (size_t) c] = (uint8_t) (v < 0 ? 0 : v > 255 ? 255 : v);
      }
  cs_tensor_free (&t);
  return CS_OK;
}

bool
cs_image_describe_preprocessing (const cs_image *img, const cs_model *m, char *buf, size_t size)
{
  if (size > 0)
    buf[0] = '\0';
  if (img == NULL || img->width <= 0 || img->height <= 0)
    return false;
  resize_plan plan = plan_resize (img, m->height, m->width, m->resize);
  bool grey = img->channels == 3 && m->channels == 1, colour = img->channels == 1 && m->channels == 3;
  bool resized = plan.rh != img->height || plan.rw != img->width;
  bool cropped = plan.rh != m->height || plan.rw != m->width;
  if (!grey && !resized && !cropped)
    return false;
  char conv[64] = "", res[96] = "", crop[64] = "";
  if (grey)
    snprintf (conv, sizeof conv, ", converted to grey");
  else if (colour)
    snprintf (conv, sizeof conv, ", grey replicated to RGB");
  if (resized)
    snprintf (res, sizeof res, ", resized to %dx%d", plan.rw, plan.rh);
  if (cropped)
    snprintf (crop, sizeof crop, ", centre-cropped to %dx%d", m->width, m->height);
  snprintf (buf, size, "the model sees the %dx%d %s image%s%s%s", img->width, img->height,
            img->channels == 3 ? "RGB" : "grey", conv, res, crop);
  return true;
}

static cs_status
npy_input (const char *path, const uint8_t *data, size_t size, const cs_shape *want,
           cs_tensor *out, cs_error *err)
{
  cs_tensor t;
  cs_status st = cs_npy_parse (data, size, path, &t, err);
  if (st != CS_OK)
    return st;
  /* (C,H,W) or (1,C,H,W): equal to the model input with or without its batch dim. */
  bool fits = cs_shape_equal (&t.shape, want);
  if (!fits && t.shape.ndim == want->ndim - 1)
    {
      fits = true;
      for (int32_t i = 0; i < t.shape.ndim; i++)
        fits = fits && t.shape.dim[i] == want->dim[i + 1];
    }
  if (!fits)
    {
      char a[128], b[128];
      cs_shape chw = *want;
      if (chw.ndim > 0 && chw.dim[0] == 1)
        {
          chw.ndim--;
          memmove (chw.dim, chw.dim + 1, sizeof chw.dim[0] * (size_t) chw.ndim);
        }
      cs_error_set (err, CS_ERR_SHAPE, "%s: array of shape %s does not fit the model input %s",
                    path, cs_shape_format (&t.shape, a, sizeof a),
                    cs_shape_format (&chw, b, sizeof b));
      cs_tensor_free (&t);
      return CS_ERR_SHAPE;
    }
  t.shape = *want;
  *out = t;
  return CS_OK;
}

cs_status
cs_input_load (const char *path, const cs_model *m, const float *mean, const float *std,
               cs_tensor *out, cs_error *err)
{
  return cs_input_load_noted (path, m, mean, std, out, NULL, 0, err);
}

cs_status
cs_input_load_noted (const char *path, const cs_model *m, const float *mean, const float *std,
                     cs_tensor *out, char *note, size_t note_size, cs_error *err)
{
  if (note != NULL && note_size > 0)
    note[0] = '\0';
  memset (out, 0, sizeof *out);
  const cs_shape *want = &m->graph->nodes[m->graph->input_node].shape;
  uint8_t *data;
  size_t size;
  cs_status st = cs_file_read_all (path, INPUT_MAX_FILE, &data, &size, err);
  if (st != CS_OK)
    return st;
  if (size >= 6 && memcmp (data, "\x93NUMPY", 6) == 0)
    {
      st = npy_input (path, data, size, want, out, err);
      free (data);
      return st;
    }
  if (want->ndim != 4 || (want->dim[1] != 1 && want->dim[1] != 3))
    {
      free (data);
      char b[128];
      return cs_error_set (err, CS_ERR_SHAPE, "%s: the model input %s is not an image of 1 or 3 "
                           "channels; give a .npy array", path,
                           cs_shape_format (want, b, sizeof b));
    }
  cs_image img;
  st = cs_image_decode (data, size, path, &img, err);
  free (data);
  if (st != CS_OK)
    return st;
  cs_model geometry = *m; /* the input node's shape, which m's fields mirror */
  geometry.channels = (int32_t) want->dim[1];
  geometry.height = (int32_t) want->dim[2];
  geometry.width = (int32_t) want->dim[3];
  st = cs_image_for_model (&img, &geometry, mean, std, out, err);
  if (st == CS_OK && note != NULL)
    cs_image_describe_preprocessing (&img, &geometry, note, note_size);
  cs_image_free (&img);
  if (st != CS_OK && st != CS_ERR_MEMORY)
    cs_error_prefix (err, "%s", path);
  return st;
}

/* PNG through libpng: decoding from memory into 8-bit gray or RGB (alpha over white), and
 * atomic writing. libpng reports errors by longjmp; everything it may touch after setjmp lives
 * in a context struct so that its values survive the jump. */
#include "io/image-private.h"

#include <errno.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "io/atomic_file.h"

typedef struct {
  const uint8_t *data;
  size_t size, pos;
  char message[200];
  cs_status status;          /* what a longjmp means: CS_ERR_FORMAT unless set otherwise */
  uint8_t *pixels;           /* as libpng delivers them */
  png_bytep *rows;
} png_ctx;

static void
on_error (png_structp png, png_const_charp msg)
{
  png_ctx *ctx = png_get_error_ptr (png);
  snprintf (ctx->message, sizeof ctx->message, "%s", msg);
  png_longjmp (png, 1);
}

static void
on_warning (png_structp png, png_const_charp msg)
{
  /* Warnings (bad gamma, unknown chunks) do not stop decoding and must not reach stderr. */
}

static void
read_memory (png_structp png, png_bytep out, png_size_t n)
{
  png_ctx *ctx = png_get_io_ptr (png);
  if (n > ctx->size - ctx->pos)
    png_error (png, "truncated file");
  memcpy (out, ctx->data + ctx->pos, n);
  ctx->pos += n;
}

/* alpha over white, rounded */
static inline uint8_t
over_white (uint32_t c, uint32_t a)
{
  return (uint8_t) ((c * a + 255 * (255 - a) + 127) / 255);
}

cs_status
cs_png_decode (const uint8_t *data, size_t size, const char *name, cs_image *img, cs_error *err)
{
  memset (img, 0, sizeof *img);
  png_ctx ctx = { .data = data, .size = size, .status = CS_ERR_FORMAT };
  png_structp png = png_create_read_struct (PNG_LIBPNG_VER_STRING, &ctx, on_error, on_warning);
  png_infop info = png != NULL ? png_create_info_struct (png) : NULL;
  if (info == NULL)
    {
      png_destroy_read_struct (&png, NULL, NULL);
      return cs_error_set (err, CS_ERR_MEMORY, "%s: out of memory", name);
    }
  if (setjmp (png_jmpbuf (png)))
    {
      png_destroy_read_struct (&png, &info, NULL);
      free (ctx.rows);
      free (ctx.pixels);
      if (ctx.status == CS_ERR_FORMAT)
        cs_error_set (err, CS_ERR_FORMAT, "%s: invalid PNG: %s", name, ctx.message);
      return ctx.status;
    }
  png_set_read_fn (png, &ctx, read_memory);
  /* Our own cap (cs_image_check_size) reports CS_ERR_LIMIT; libpng's would say "format". */
  png_set_user_limits (png, 0x7fffffff, 0x7fffffff);
  png_read_info (png, info);
  png_uint_32 width, height;
  int depth, color, interlace;
  png_get_IHDR (png, info, &width, &height, &depth, &color, &interlace, NULL, NULL);
  if (color == PNG_COLOR_TYPE_PALETTE)
    png_set_palette_to_rgb (png);
  if (color == PNG_COLOR_TYPE_GRAY && depth < 8)
    png_set_expand_gray_1_2_4_to_8 (png);
  if (png_get_valid (png, info, PNG_INFO_tRNS))
    png_set_tRNS_to_alpha (png);
  if (depth == 16)
    png_set_strip_16 (png);
  (void) png_set_interlace_handling (png);
  png_read_update_info (png, info);
  uint32_t in_ch = png_get_channels (png, info);
  size_t rowbytes = png_get_rowbytes (png, info);
  if (in_ch < 1 || in_ch > 4 || rowbytes != (size_t) width * in_ch)
    {
      snprintf (ctx.message, sizeof ctx.message, "unexpected pixel layout");
      png_longjmp (png, 1);
    }
  /* Interlaced images hold pixels up to 7 times over; a deflate stream expands ~1000 times. */
  ctx.status = cs_image_check_size (width, height, in_ch, size, name, err);
  if (ctx.status != CS_OK)
    png_longjmp (png, 1);
  ctx.status = CS_ERR_FORMAT;
  ctx.pixels = malloc (rowbytes * height);
  ctx.rows = malloc (sizeof *ctx.rows * height);
  if (ctx.pixels == NULL || ctx.rows == NULL)
    {
      ctx.status = cs_error_set (err, CS_ERR_MEMORY, "%s: cannot allocate a %ux%u image", name,
                             (unsigned) width, (unsigned) height);
      png_longjmp (png, 1);
    }
  for (png_uint_32 y = 0; y < height; y++)
    ctx.rows[y] = ctx.pixels + y * rowbytes;
  png_read_image (png, ctx.rows);
  /* The trailing chunks are not needed: a file cut after its image data still decodes. */
  png_destroy_read_struct (&png, &info, NULL);
  free (ctx.rows);

  size_t n = (size_t) width * height;
  uint8_t *px = ctx.pixels;
  int out_ch = in_ch >= 3 ? 3 : 1;
  if (in_ch == 2)
    for (size_t i = 0; i < n; i++)
      px[i] = over_white (px[2 * i], px[2 * i + 1]);
  else if (in_ch == 4)
    for (size_t i = 0; i < n; i++)
      for (int c = 0; c < 3; c++)
        px[3 * i + c] = over_white (px[4 * i + c], px[4 * i + 3]);
  img->width = (int32_t) width;
  img->height = (int32_t) height;
  img->channels = out_ch;
  img->pixels = px;
  return CS_OK;
}

typedef struct {
  char message[200];
  png_bytep *rows;
} png_write_ctx;

cs_status
cs_png_save (const char *path, const uint8_t *pixels, int32_t width, int32_t height,
             int32_t channels, cs_error *err)
{
  if (width <= 0 || height <= 0 || width > CS_IMAGE_MAX_SIDE || height > CS_IMAGE_MAX_SIDE
      || (channels != 1 && channels != 3 && channels != 4) || pixels == NULL)
    return cs_error_set (err, CS_ERR_ARGUMENT, "%s: cannot write a %dx%d image of %d channels",
                         path, width, height, channels);
  png_write_ctx ctx = { "" };
  ctx.rows = malloc (sizeof *ctx.rows * (size_t) height);
  if (ctx.rows == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "%s: out of memory", path);
  for (int32_t y = 0; y < height; y++)
    ctx.rows[y] = (png_bytep) pixels + (size_t) y * (size_t) width * (size_t) channels;
  cs_atomic_file f;
  cs_status st = cs_atomic_open (&f, path, err);
  if (st != CS_OK)
    {
      free (ctx.rows);
      return st;
    }
  png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING, &ctx, on_error, on_warning);
  png_infop info = png != NULL ? png_create_info_struct (png) : NULL;
  if (info == NULL)
    {
      png_destroy_write_struct (&png, NULL);
      cs_atomic_abort (&f);
      free (ctx.rows);
      return cs_error_set (err, CS_ERR_MEMORY, "%s: out of memory", path);
    }
  if (setjmp (png_jmpbuf (png)))
    {
      png_destroy_write_struct (&png, &info);
      cs_atomic_abort (&f);
      free (ctx.rows);
      return cs_error_set (err, CS_ERR_IO, "%s: cannot write PNG: %s", path, ctx.message);
    }
  png_init_io (png, f.fp);
  int color = channels == 1 ? PNG_COLOR_TYPE_GRAY
              : channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_RGBA;
  png_set_IHDR (png, info, (png_uint_32) width, (png_uint_32) height, 8, color,
                PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info (png, info);
  png_write_image (png, ctx.rows);
  png_write_end (png, NULL);
  png_destroy_write_struct (&png, &info);
  free (ctx.rows);
  return cs_atomic_commit (&f, err);
}

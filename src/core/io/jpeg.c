/* JPEG through libjpeg-turbo's libjpeg API: gray, YCbCr/RGB and (Adobe) CMYK/YCCK into 8-bit gray
 * or RGB. libjpeg's default error handler calls exit(); ours longjmps back with the message. */
#include "io/image-private.h"

#include <setjmp.h>
#include <stdio.h> /* before jpeglib.h, which uses FILE */

#include <jerror.h>
#include <jpeglib.h>
#include <stdlib.h>
#include <string.h>

#define JPEG_MAX_SCANS 500 /* progressive files with thousands of scans are a known CPU bomb */

typedef struct {
  struct jpeg_error_mgr pub;
  struct jpeg_progress_mgr progress;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  cs_status status;
  uint8_t *pixels;
  uint8_t *row;
} jpeg_ctx;

static void
on_error_exit (j_common_ptr cinfo)
{
  jpeg_ctx *ctx = (jpeg_ctx *) cinfo->err;
  cinfo->err->format_message (cinfo, ctx->message);
  longjmp (ctx->jump, 1);
}

static void
on_output_message (j_common_ptr cinfo)
{
  /* Corrupt-data warnings: decoding goes on, and a library must not print. */
}

static void
on_emit_message (j_common_ptr cinfo, int level)
{
  /* A file cut short decodes as gray with only a warning; PIL refuses it, and so do we. */
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF)
    on_error_exit (cinfo);
}

static void
on_progress (j_common_ptr cinfo)
{
  j_decompress_ptr d = (j_decompress_ptr) cinfo;
  if (cinfo->is_decompressor && d->input_scan_number > JPEG_MAX_SCANS)
    {
      jpeg_ctx *ctx = (jpeg_ctx *) cinfo->err;
      snprintf (ctx->message, sizeof ctx->message, "more than %d scans", JPEG_MAX_SCANS);
      longjmp (ctx->jump, 1);
    }
}

cs_status
cs_jpeg_decode (const uint8_t *data, size_t size, const char *name, cs_image *img, cs_error *err)
{
  memset (img, 0, sizeof *img);
  struct jpeg_decompress_struct cinfo;
  jpeg_ctx ctx;
  memset (&ctx, 0, sizeof ctx);
  ctx.status = CS_ERR_FORMAT;
  cinfo.err = jpeg_std_error (&ctx.pub);
  ctx.pub.error_exit = on_error_exit;
  ctx.pub.output_message = on_output_message;
  ctx.pub.emit_message = on_emit_message;
  if (setjmp (ctx.jump))
    {
      jpeg_destroy_decompress (&cinfo);
      free (ctx.pixels);
      free (ctx.row);
      if (ctx.status == CS_ERR_FORMAT)
        cs_error_set (err, CS_ERR_FORMAT, "%s: invalid JPEG: %s", name, ctx.message);
      return ctx.status;
    }
  jpeg_create_decompress (&cinfo);
  ctx.progress.progress_monitor = on_progress;
  cinfo.progress = &ctx.progress;
  jpeg_mem_src (&cinfo, data, (unsigned long) size);
  jpeg_read_header (&cinfo, TRUE);
  int in_ch;
  switch (cinfo.jpeg_color_space)
    {
    case JCS_GRAYSCALE:
      cinfo.out_color_space = JCS_GRAYSCALE;
      in_ch = 1;
      break;
    case JCS_CMYK:
    case JCS_YCCK:
      cinfo.out_color_space = JCS_CMYK;
      in_ch = 4;
      break;
    default:
      cinfo.out_color_space = JCS_RGB;
      in_ch = 3;
      break;
    }
  jpeg_calc_output_dimensions (&cinfo);
  ctx.status = cs_image_check_size (cinfo.output_width, cinfo.output_height, (uint32_t) in_ch,
                                    size, name, err);
  if (ctx.status != CS_OK)
    longjmp (ctx.jump, 1);
  ctx.status = CS_ERR_FORMAT;
  jpeg_start_decompress (&cinfo);
  if (cinfo.output_components != in_ch)
    {
      snprintf (ctx.message, sizeof ctx.message, "unexpected %d components",
                cinfo.output_components);
      longjmp (ctx.jump, 1);
    }
  size_t w = cinfo.output_width, h = cinfo.output_height;
  int out_ch = in_ch == 1 ? 1 : 3;
  ctx.pixels = malloc (w * h * (size_t) out_ch);
  ctx.row = malloc (w * (size_t) in_ch);
  if (ctx.pixels == NULL || ctx.row == NULL)
    {
      ctx.status = cs_error_set (err, CS_ERR_MEMORY, "%s: cannot allocate a %zux%zu image", name,
                                 w, h);
      longjmp (ctx.jump, 1);
    }
  while (cinfo.output_scanline < cinfo.output_height)
    {
      size_t y = cinfo.output_scanline;
      JSAMPROW rows[1] = { ctx.row };
      if (jpeg_read_scanlines (&cinfo, rows, 1) != 1)
        {
          snprintf (ctx.message, sizeof ctx.message, "truncated data");
          longjmp (ctx.jump, 1);
        }
      uint8_t *dst = ctx.pixels + y * w * (size_t) out_ch;
      if (in_ch != 4)
        memcpy (dst, ctx.row, w * (size_t) in_ch);
      else
        /* Adobe writes CMYK inverted (as libjpeg returns it): R = C' * K' / 255. Files with an
         * Adobe marker are the only CMYK JPEGs seen in practice. */
        for (size_t x = 0; x < w; x++)
          {
            const uint8_t *p = ctx.row + 4 * x;
            for (int c = 0; c < 3; c++)
              dst[3 * x + c] = (uint8_t) ((p[c] * p[3] + 127) / 255);
          }
    }
  /* Skip jpeg_finish_decompress: trailing garbage after the image is not our concern. */
  jpeg_destroy_decompress (&cinfo);
  free (ctx.row);
  img->width = (int32_t) w;
  img->height = (int32_t) h;
  img->channels = out_ch;
  img->pixels = ctx.pixels;
  return CS_OK;
}

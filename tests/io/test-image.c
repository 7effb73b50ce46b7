/* Images: PNG/JPEG decoding of every colour type, PyTorch-equal preprocessing, INPUT loading,
 * PNG writing, and malformed files. */
#include <zlib.h>

#include "io/image.h"
#include "io/model_json.h"
#include "io/npy.h"
#include "iotest.h"
#include "testlib.h"

static const char *images[] = {
  "gray.png", "rgb.png", "rgba.png", "gray-alpha.png", "palette.png", "gray4.png", "rgb16.png",
  "gray16.png", "interlaced.png", "rgba16-interlaced.png", "rgb.jpg", "gray.jpg",
  "progressive.jpg", "cmyk.jpg",
};

static int
max_diff (const cs_image *img, const cs_tensor *want)
{
  if (want->shape.ndim != 3 || want->shape.dim[0] != img->height || want->shape.dim[1] != img->width
      || want->shape.dim[2] != img->channels)
    return 1000;
  int worst = 0;
  for (int64_t i = 0; i < cs_tensor_numel (want); i++)
    {
      int d = abs ((int) img->pixels[i] - (int) want->data[i]);
      worst = d > worst ? d : worst;
    }
  return worst;
}

static float
tensor_diff (const cs_tensor *a, const cs_tensor *b)
{
  if (!cs_shape_equal (&a->shape, &b->shape))
    return INFINITY;
  float worst = 0;
  for (int64_t i = 0; i < cs_tensor_numel (a); i++)
    worst = fmaxf (worst, fabsf (a->data[i] - b->data[i]));
  return worst;
}

/* A PNG of the given size whose IHDR is valid but whose data is tiny. */
static size_t
lying_png (uint8_t *buf, uint32_t w, uint32_t h)
{
  static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  memcpy (buf, sig, 8);
  uint8_t ihdr[17] = { 0, 0, 0, 13, 'I', 'H', 'D', 'R', w >> 24, w >> 16, w >> 8, w, h >> 24,
                       h >> 16, h >> 8, h, 8 };
  uint8_t rest[5] = { 2, 0, 0, 0 };
  memcpy (buf + 8, ihdr, 17);
  memcpy (buf + 25, rest, 4);
  uLong crc = crc32 (0, buf + 12, 17);
  buf[29] = crc >> 24, buf[30] = crc >> 16, buf[31] = crc >> 8, buf[32] = crc;
  memcpy (buf + 33, "\0\0\0\0IDAT\x35\xaf\x06\x1e", 12);
  return 45;
}

int
main (void)
{
  cs_error err = { 0 };
  cs_image img;
  for (size_t i = 0; i < sizeof images / sizeof images[0]; i++)
    {
      char expect[128];
      snprintf (expect, sizeof expect, "%s.expect.npy", images[i]);
      cs_tensor want;
      cs_status st = cs_image_load (data_path (images[i]), &img, &err);
      cs_npy_load (data_path (expect), &want, NULL);
      int d = st == CS_OK ? max_diff (&img, &want) : -1;
      CHECK (st == CS_OK && d <= 1, "%s: %dx%dx%d, max pixel difference %d (%s)", images[i],
             img.width, img.height, img.channels, d, st == CS_OK ? "ok" : err.message);
      cs_image_free (&img);
      cs_tensor_free (&want);
    }

  /* preprocessing against torch.nn.functional.interpolate(align_corners=False) */
  cs_image rgb, gray;
  cs_image_load (data_path ("rgb.png"), &rgb, NULL);
  cs_image_load (data_path ("gray.png"), &gray, NULL);
  const struct {
    const cs_image *img;
    int c, h, w;
    float mean[3], std[3];
    const char *ref;
  } cases[] = {
    { &rgb, 3, 7, 19, { 0.485f, 0.456f, 0.406f }, { 0.229f, 0.224f, 0.225f }, "rgb-7x19.npy" },
    { &rgb, 3, 23, 5, { 0, 0, 0 }, { 1, 1, 1 }, "rgb-23x5.npy" },
    { &gray, 3, 6, 6, { 0.5f, 0.5f, 0.5f }, { 0.25f, 0.25f, 0.25f }, "gray-to-rgb-6x6.npy" },
    { &rgb, 1, 10, 13, { 0.1f }, { 0.3f }, "rgb-to-gray-10x13.npy" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      cs_tensor t, ref;
      cs_status st = cs_image_to_tensor (cases[i].img, cases[i].c, cases[i].h, cases[i].w,
                                         cases[i].mean, cases[i].std, &t, &err);
      cs_npy_load (data_path (cases[i].ref), &ref, NULL);
      float d = st == CS_OK ? tensor_diff (&t, &ref) : INFINITY;
      CHECK (d < 2e-5f, "%s: max difference from PyTorch %g", cases[i].ref, (double) d);
      cs_tensor_free (&t);
      cs_tensor_free (&ref);
    }
  cs_tensor t;
  CHECK (cs_image_to_tensor (&rgb, 3, 4, 4, NULL, (float[]) { 1, 0, 1 }, &t, &err) == CS_ERR_ARGUMENT,
         "zero std rejected");
  CHECK (cs_image_to_tensor (&rgb, 2, 4, 4, NULL, NULL, &t, &err) == CS_ERR_ARGUMENT, "2 channels rejected");

  /* INPUT arguments against a model's input */
  /* a model of no operators (its input is its output): only the input shape matters here */
  cs_graph *g = cs_graph_new ();
  cs_shape in_shape = cs_shape_4d (1, 3, 8, 8);
  g->output_node = cs_graph_add_input (g, "input", &in_shape, &err);
  cs_model *m = cs_model_new (g, &err);
  cs_graph_unref (g);
  char *dir = scratch_dir ();
  if (m != NULL)
    {
      CHECK (cs_input_load (data_path ("rgb.png"), m, NULL, NULL, &t, &err) == CS_OK
             && t.shape.ndim == 4 && t.shape.dim[1] == 3 && t.shape.dim[2] == 8, "image input resized to the model");
      cs_tensor_free (&t);
      cs_shape s3 = cs_shape_make (3, (int64_t[]) { 3, 8, 8 }), s4 = cs_shape_4d (1, 3, 8, 8);
      cs_shape sbad = cs_shape_make (3, (int64_t[]) { 3, 8, 9 });
      const cs_shape *shapes[] = { &s3, &s4, &sbad };
      for (int k = 0; k < 3; k++)
        {
          cs_tensor a;
          cs_tensor_alloc (&a, shapes[k], NULL);
          a.data[5] = 7.0f;
          const char *p = join (dir, "in.npy");
          cs_npy_save (p, &a, NULL);
          cs_status st = cs_input_load (p, m, NULL, NULL, &t, &err);
          if (k < 2)
            CHECK (st == CS_OK && cs_shape_equal (&t.shape, &s4) && t.data[5] == 7.0f,
                   ".npy of %d dims used as is", shapes[k]->ndim);
          else
            CHECK (st == CS_ERR_SHAPE && names_file (&err, p), "wrong .npy shape: %s", err.message);
          cs_tensor_free (&t);
          cs_tensor_free (&a);
        }
      const char *notimg = join (dir, "fake.png");
      write_bytes (notimg, "hello, I am text", 16);
      CHECK (cs_input_load (notimg, m, NULL, NULL, &t, &err) == CS_ERR_FORMAT
             && names_file (&err, notimg), "a .png that is not one: %s", err.message);
      const char *missing = join (dir, "missing.png");
      CHECK (cs_input_load (missing, m, NULL, NULL, &t, &err) == CS_ERR_IO
             && strstr (err.message, "no such file") != NULL && names_file (&err, missing),
             "missing input: %s", err.message);
      cs_model_free (m);
    }
  else
    CHECK (false, "model: %s", err.message);

  /* PNG writing */
  uint8_t px[5 * 4 * 4];
  for (size_t i = 0; i < sizeof px; i++)
    px[i] = (uint8_t) (i * 37 + 11);
  for (int c = 1; c <= 4; c++)
    {
      if (c == 2)
        continue;
      if (c == 4)
        for (int i = 0; i < 20; i++)
          px[4 * i + 3] = 255;
      const char *p = join (dir, "out.png");
      cs_status st = cs_png_save (p, px, 5, 4, c, &err);
      st = st == CS_OK ? cs_image_load (p, &img, &err) : st;
      int out_c = c == 4 ? 3 : c;
      bool same = st == CS_OK && img.width == 5 && img.height == 4 && img.channels == out_c;
      for (int i = 0; same && i < 20; i++)
        for (int k = 0; k < out_c; k++)
          same = img.pixels[i * out_c + k] == px[i * c + k];
      CHECK (same, "PNG of %d channels written and read back", c);
      cs_image_free (&img);
    }
  mkdir (join (dir, "d.png"), 0755);
  int before = count_entries (dir);
  CHECK (cs_png_save (join (dir, "d.png"), px, 5, 4, 3, &err) == CS_ERR_IO
         && count_entries (dir) == before, "failed PNG save leaves nothing: %s", err.message);
  CHECK (cs_png_save (join (dir, "x.png"), px, 0, 4, 3, &err) == CS_ERR_ARGUMENT
         && count_entries (dir) == before, "empty image rejected");

  /* malformed files: every truncation is an error naming the file, never a crash */
  for (size_t i = 0; i < sizeof images / sizeof images[0]; i++)
    {
      size_t size;
      uint8_t *raw = read_bytes (data_path (images[i]), &size);
      size_t tail = strstr (images[i], ".png") ? 12 : 2; /* IEND chunk, EOI marker */
      int bad = 0;
      for (size_t k = 0; raw != NULL && k < size; k++)
        {
          cs_status st = cs_image_decode (raw, k, "cut.img", &img, &err);
          if (k + tail < size && (st != CS_ERR_FORMAT || !names_file (&err, "cut.img")))
            bad++;
          cs_image_free (&img);
        }
      CHECK (raw != NULL && bad == 0, "%s: every truncation fails cleanly (%d did not)", images[i], bad);
      /* and corrupted bytes never crash */
      for (size_t k = 0; raw != NULL && k < size; k += 3)
        {
          uint8_t *copy = malloc (size);
          memcpy (copy, raw, size);
          copy[k] ^= 0xa5;
          cs_image_decode (copy, size, "flip.img", &img, &err);
          cs_image_free (&img);
          free (copy);
        }
      free (raw);
    }
  CHECK (cs_image_decode ((const uint8_t *) "\x89PNG\r\n\x1a\ngarbage!", 16, "g.png", &img, &err)
         == CS_ERR_FORMAT && names_file (&err, "g.png"), "PNG signature then garbage: %s", err.message);
  CHECK (cs_image_decode ((const uint8_t *) "\xff\xd8\xff\xe0garbage", 11, "g.jpg", &img, &err)
         == CS_ERR_FORMAT, "JPEG magic then garbage: %s", err.message);
  CHECK (cs_image_decode ((const uint8_t *) "GIF89a", 6, "a.gif", &img, &err) == CS_ERR_FORMAT
         && strstr (err.message, "not a PNG or JPEG") != NULL, "other formats: %s", err.message);
  uint8_t lie[64];
  size_t n = lying_png (lie, 20000, 20000);
  CHECK (cs_image_decode (lie, n, "big.png", &img, &err) == CS_ERR_LIMIT, "20000x20000 PNG: %s", err.message);
  n = lying_png (lie, 16000, 16000);
  CHECK (cs_image_decode (lie, n, "bomb.png", &img, &err) == CS_ERR_FORMAT,
         "16000x16000 PNG in 45 bytes is refused before allocating: %s", err.message);
  size_t size;
  uint8_t *jpg = read_bytes (data_path ("rgb.jpg"), &size);
  for (size_t k = 0; jpg != NULL && k + 9 < size; k++)
    if (jpg[k] == 0xff && jpg[k + 1] == 0xc0)
      {
        jpg[k + 5] = 0x75, jpg[k + 6] = 0x30, jpg[k + 7] = 0x75, jpg[k + 8] = 0x30; /* 30000 */
        break;
      }
  CHECK (jpg != NULL && cs_image_decode (jpg, size, "big.jpg", &img, &err) == CS_ERR_LIMIT,
         "30000x30000 JPEG: %s", err.message);
  free (jpg);
  const char *missing = join (dir, "missing.jpg");
  CHECK (cs_image_load (missing, &img, &err) == CS_ERR_IO && names_file (&err, missing),
         "missing image: %s", err.message);

  cs_image_free (&rgb);
  cs_image_free (&gray);
  remove_tree (dir);
  return test_done ();
}

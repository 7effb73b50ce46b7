/* Random crop and flip of a normalised batch. */
#include "training/augment.h"

#include <stdlib.h>
#include <string.h>

#include "base/rng.h"

cs_status
cs_augment_batch (float *x, int64_t n, int32_t c, int32_t h, int32_t w, const float *mean, const float *std,
                  uint64_t seed, cs_error *err)
{
  int64_t plane = (int64_t) h * w, per = plane * c;
  float *src = malloc ((size_t) per * sizeof *src);
  if (src == NULL)
    return cs_error_set (err, CS_ERR_MEMORY, "out of memory");
  cs_rng rng;
  cs_rng_seed (&rng, seed);
  for (int64_t s = 0; s < n; s++)
    {
      int32_t dy = (int32_t) cs_rng_below (&rng, 2 * CS_AUGMENT_PAD + 1) - CS_AUGMENT_PAD;
      int32_t dx = (int32_t) cs_rng_below (&rng, 2 * CS_AUGMENT_PAD + 1) - CS_AUGMENT_PAD;
      int flip = (int) cs_rng_below (&rng, 2);
      float *img = x + s * per;
      memcpy (src, img, (size_t) per * sizeof *src);
      for (int32_t ch = 0; ch < c; ch++)
        {
          float pad = std[ch] != 0.0f ? -mean[ch] / std[ch] : 0.0f;
          for (int32_t y = 0; y < h; y++)
            for (int32_t xx = 0; xx < w; xx++)
              {
                /* Output (y, xx) reads the padded image at (y + dy, xx' + dx), xx' mirrored when
                 * flipped: crop first, then flip, as the torchvision composition does. */
                int32_t sx = (flip ? w - 1 - xx : xx) + dx, sy = y + dy;
                img[ch * plane + (int64_t) y * w + xx]
                  = sy >= 0 && sy < h && sx >= 0 && sx < w ? src[ch * plane + (int64_t) sy * w + sx] : pad;
              }
        }
    }
  free (src);
  return CS_OK;
}

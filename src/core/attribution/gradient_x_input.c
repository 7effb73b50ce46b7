/* Gradient x Input (Shrikumar et al. 2016): x * d score / dx, element by element. */
#include "attribution/map.h"
#include "attribution/score.h"

cs_status
cs_method_gradient_x_input (const cs_method_ctx *ctx, cs_attribution *out, cs_error *err)
{
  cs_status st = cs_score_gradient (ctx, CS_RELU_RULE_GRADIENT, &out->raw, err);
  if (st == CS_OK)
    {
      int64_t n = cs_tensor_numel (&out->raw);
      for (int64_t i = 0; i < n; i++)
        out->raw.data[i] *= ctx->input->data[i];
      st = cs_map_from_pixels (&out->raw, CS_REDUCE_SUM_ABS, &out->map, err);
    }
  if (st != CS_OK)
    cs_tensor_free (&out->raw);
  out->raw_is_signed = true;
  out->passes = 1;
  return st;
}

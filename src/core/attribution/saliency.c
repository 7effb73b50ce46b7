/* Saliency (Simonyan et al. 2013): the signed gradient of the score w.r.t. the input. */
#include "attribution/map.h"
#include "attribution/score.h"

cs_status
cs_method_saliency (const cs_method_ctx *ctx, cs_attribution *out, cs_error *err)
{
  cs_status st = cs_score_gradient (ctx, CS_RELU_RULE_GRADIENT, &out->raw, err);
  if (st == CS_OK)
    st = cs_map_from_pixels (&out->raw, CS_REDUCE_MAX_ABS, &out->map, err);
  if (st != CS_OK)
    cs_tensor_free (&out->raw);
  out->raw_is_signed = true;
  out->passes = 1;
  return st;
}

/* Saliency (Simonyan et al. 2013): the signed gradient of the score w.r.t. the input. */
#include "attribution/score.h"

cs_status
cs_method_saliency (const cs_method_ctx *ctx, cs_attribution *out, cs_error *err)
{
  return cs_score_gradient_attribution (ctx, CS_RELU_RULE_GRADIENT, out, err);
}

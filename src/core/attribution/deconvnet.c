/* DeconvNet (Zeiler & Fergus 2014): the backward pass with every ReLU applied to the gradient
 * itself, ignoring where its forward input was positive. */
#include "attribution/score.h"

cs_status
cs_method_deconvnet (const cs_method_ctx *ctx, cs_attribution *out, cs_error *err)
{
  return cs_score_gradient_attribution (ctx, CS_RELU_RULE_DECONVNET, out, err);
}

/* Guided backpropagation (Springenberg et al. 2014): the gradient with every ReLU passing back
 * only positive gradients where its input was positive. */
#include "attribution/score.h"

cs_status
cs_method_guided_backprop (const cs_method_ctx *ctx, cs_attribution *out, cs_error *err)
{
  return cs_score_gradient_attribution (ctx, CS_RELU_RULE_GUIDED, out, err);
}

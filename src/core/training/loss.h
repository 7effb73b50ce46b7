/* Softmax cross-entropy over logits [N, K], averaged over the batch (PyTorch's default). */
#pragma once

#include "base/tensor.h"

/* loss = mean_i (logsumexp(z_i) - z_i[y_i]). When dlogits is non-NULL (shape [N, K]) it receives
 * d loss / d z = (softmax(z) - onehot(y)) / N, the seed of the backward pass. *correct counts
 * the samples whose first largest logit is the label. Labels outside [0, K) are an error. */
cs_status cs_cross_entropy (const cs_tensor *logits, const int32_t *labels, double *loss, int32_t *correct,
                            cs_tensor *dlogits, cs_error *err);

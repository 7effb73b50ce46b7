/* Softmax cross-entropy and its gradient, computed in double for a stable log-sum-exp. */
#include "training/loss.h"

#include <math.h>

cs_status
cs_cross_entropy (const cs_tensor *logits, const int32_t *labels, double *loss, int32_t *correct,
                  cs_tensor *dlogits, cs_error *err)
{
  char buf[128];
  if (logits->shape.ndim != 2 || logits->shape.dim[0] < 1 || logits->shape.dim[1] < 1)
    return cs_error_set (err, CS_ERR_SHAPE, "the model's output %s is not [batch, classes] logits",
                         cs_shape_format (&logits->shape, buf, sizeof buf));
  int64_t n = logits->shape.dim[0], k = logits->shape.dim[1];
  if (dlogits != NULL && !cs_shape_equal (&dlogits->shape, &logits->shape))
    return cs_error_set (err, CS_ERR_SHAPE, "loss gradient buffer does not match the logits");
  for (int64_t i = 0; i < n; i++)
    if (labels[i] < 0 || labels[i] >= k)
      return cs_error_set (err, CS_ERR_ARGUMENT, "label %d of sample %lld is not one of the model's %lld "
                           "classes", labels[i], (long long) i, (long long) k);
  double total = 0.0;
  int32_t right = 0;
  for (int64_t i = 0; i < n; i++)
    {
      const float *z = logits->data + i * k;
      int64_t best = 0;
      for (int64_t j = 1; j < k; j++)
        if (z[j] > z[best])
          best = j;
      right += best == labels[i];
      double zmax = z[best], sum = 0.0;
      for (int64_t j = 0; j < k; j++)
        sum += exp ((double) z[j] - zmax);
      double lse = zmax + log (sum);
      total += lse - (double) z[labels[i]];
      if (dlogits != NULL)
        {
          float *d = dlogits->data + i * k;
          for (int64_t j = 0; j < k; j++)
            d[j] = (float) ((exp ((double) z[j] - lse) - (j == labels[i])) / (double) n);
        }
    }
  if (!isfinite (total))
    return cs_error_set (err, CS_ERR_ARGUMENT, "the loss is not finite (the training diverged; try a "
                         "smaller learning rate)");
  *loss = total / (double) n;
  if (correct != NULL)
    *correct = right;
  return CS_OK;
}

/* Measures of each example's history, each from its paper: dataset cartography, forgetting
 * events, area under the margin, the epoch learned for good; likely label errors ranked from
 * them; and how well early epochs anticipate the final model's mistakes. */
#pragma once

#include "analysis/history.h"

typedef struct {
  /* Swayamdipta et al. 2020, "Dataset Cartography": over the training epochs (the
   * initialisation, epoch 0, left out), the mean and the population standard deviation of the
   * label's probability, and the fraction of epochs the prediction is right. */
  float confidence, variability, correctness;
  /* Pleiss et al. 2020, "Identifying Mislabeled Data using the Area Under the Margin Ranking":
   * the margin (label logit minus the largest other) averaged over the training epochs. */
  float aum;
  /* Toneva et al. 2019, "An Empirical Study of Example Forgetting": right at one epoch and
   * wrong at the next, counted over consecutive training epochs. */
  int32_t forgetting;
  bool ever_learned;         /* right at some training epoch (never-learned examples are the
                              * "unforgettable"'s opposite, ranked as most forgettable) */
  /* The first epoch number from which every later epoch is right; -1 when the last is wrong. */
  int32_t learned_at;
  /* The class the model most often ranks first among the others (mode over training epochs,
   * lowest class on ties): the label it would give in place of a wrong one. */
  int32_t likely_label;
} cs_example_measures;

/* Measures of every example of one split, malloc'ed (h->split[s].n of them). */
cs_example_measures *cs_history_measures (const cs_history *h, cs_history_split s, cs_error *err);

/* Training examples most likely mislabelled first: ascending AUM, then ascending confidence,
 * then index. order receives n positions into the split. */
cs_status cs_history_rank_suspects (const cs_example_measures *m, int64_t n, int64_t *order, cs_error *err);

/* From epochs 0..k only (k an index into h->epochs), each validation example's risk of being
 * wrong at the last epoch is its negated mean margin over those epochs; auroc[k] is the area
 * under the ROC curve of that ranking against the last epoch's errors (Mann-Whitney, ties half),
 * NaN when the last epoch has no errors or no right answers. auroc has h->n_epochs entries. */
void cs_history_early_auroc (const cs_history *h, double *auroc);

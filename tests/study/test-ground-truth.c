/* Prechelt's criteria, the best-epoch truths and the validation-free signals on constructed
 * curves whose answers are worked out by hand in the comments. */
#include <math.h>
#include <string.h>

#include "analysis/ground_truth.h"
#include "analysis/signals.h"
#include "testlib.h"

#define N 31

/* Validation loss (t - 10)^2 / 100 + 1: minimum 1 at epoch 10. */
static void
valley (double *v)
{
  for (int t = 0; t < N; t++)
    v[t] = (t - 10.0) * (t - 10.0) / 100.0 + 1.0;
}

static void
test_prechelt (void)
{
  double v[N], tr[N];
  valley (v);
  /* GL(11) = 100 (1.01 - 1) = 1, GL(12) = 4 > 2: GL2 stops at 12. */
  CHECK (cs_truth_gl (v, N, 2.0) == 12, "GL2 on the valley stops at epoch 12 (got %d)", cs_truth_gl (v, N, 2.0));
  /* GL(13) = 9, GL(12) = 4: GL5 at 13. */
  CHECK (cs_truth_gl (v, N, 5.0) == 13, "GL5 stops at epoch 13");
  /* Strip ends 5, 10, 15, 20: v(15) = 1.25 > v(10) = 1, v(10) < v(5): one rise at 15; at 20
   * v(20) = 2 > v(15) > v(10): two successive rises. */
  CHECK (cs_truth_up (v, N, 5, 1) == 15, "UP1 stops at epoch 15");
  CHECK (cs_truth_up (v, N, 5, 2) == 20, "UP2 stops at epoch 20 (got %d)", cs_truth_up (v, N, 5, 2));
  CHECK (cs_truth_best_smoothed (v, N, 3) == 10, "the smoothed valley's minimum is epoch 10");
  CHECK (cs_truth_argmin (v, N) == 10, "argmin is epoch 10");
  /* Training loss 1/t until epoch 10, then flat at 0.1: at t = 10 the strip 6..10 still
   * progresses (P = 1000 (0.6456 / 0.5 - 1) = 291) and GL(10) = 0; at t = 15 the strip is flat,
   * P = 0, GL(15) = 25 > 0: PQ stops at 15 whatever alpha. */
  tr[0] = NAN;
  for (int t = 1; t < N; t++)
    tr[t] = t <= 10 ? 1.0 / t : 0.1;
  CHECK (cs_truth_pq (tr, v, N, 5, 1.0) == 15, "PQ1 stops at epoch 15 (got %d)", cs_truth_pq (tr, v, N, 5, 1.0));
  /* Training loss halving every epoch: every strip sums 31 times its minimum, P = 1000 (31 / 5 - 1)
   * = 5200, and GL is at most GL(30) = 400: GL / P <= 0.077 < 0.5, PQ0.5 never fires. */
  for (int t = 1; t < N; t++)
    tr[t] = pow (0.5, t);
  CHECK (cs_truth_pq (tr, v, N, 5, 0.5) == -1, "PQ0.5 never fires while training progresses fast");
  /* A validation curve that only falls: no criterion fires, the best epoch is the last. */
  double down[N];
  for (int t = 0; t < N; t++)
    down[t] = 2.0 - t / 30.0;
  CHECK (cs_truth_gl (down, N, 0.1) == -1 && cs_truth_up (down, N, 5, 1) == -1, "a falling curve never stops");
  CHECK (cs_truth_best_smoothed (down, N, 3) == 30, "the best smoothed epoch of a falling curve is the last");
  /* NaN entries are skipped, a curve of NaN has no truth. */
  double nan_v[N];
  for (int t = 0; t < N; t++)
    nan_v[t] = NAN;
  CHECK (cs_truth_argmin (nan_v, N) == -1 && cs_truth_best_smoothed (nan_v, N, 3) == -1
           && cs_truth_gl (nan_v, N, 2.0) == -1,
         "all-NaN curves give no truth");
  int32_t truths[CS_N_TRUTHS];
  cs_truths_compute (tr, v, v, N, truths);
  CHECK (truths[CS_TRUTH_GL] == 12 && truths[CS_TRUTH_UP] == 20 && truths[CS_TRUTH_TEST_OPTIMAL] == 10,
         "cs_truths_compute gathers the criteria with the study's parameters");
}

static void
test_signals (void)
{
  double eb[N], score[N], train[N];
  cs_signal_inputs in = { .n_epochs = N, .eb_criterion = eb, .train_loss = train };
  /* EB rising linearly, -1 at epoch 1 by 0.1 an epoch: EB(t) = -1.1 + 0.1 t. Its 3-epoch
   * trailing mean at t is EB(t - 1) = -1.2 + 0.1 t, >= 0 first at t = 12. */
  eb[0] = NAN;
  for (int t = 1; t < N; t++)
    eb[t] = -1.1 + 0.1 * t;
  cs_signal_score (CS_SIGNAL_EB, &in, score);
  CHECK (CLOSE (score[5], -0.7, 1e-12, 0), "the EB score is the trailing mean (%.3f)", score[5]);
  CHECK (cs_signal_onset (CS_SIGNAL_EB, &in, score, 0.0) == 12, "EB crosses 0 at epoch 12 (got %d)",
         cs_signal_onset (CS_SIGNAL_EB, &in, score, 0.0));
  CHECK (cs_signal_onset (CS_SIGNAL_EB, &in, score, 5.0) == -1, "an unreachable threshold never fires");
  /* Training loss 0.9^t: relative improvement 0.1 every epoch, never below 2%; then flat from 20:
   * improvements at 21, 22, 23 are 0, the trailing mean at 21 is (0.1 + 0.1 + 0) / 3 = 0.067,
   * at 22 it is 0.033, at 23 it is 0 > -0.02 fires: onset 23 with threshold -0.02. */
  train[0] = NAN;
  for (int t = 1; t < N; t++)
    train[t] = pow (0.9, t <= 20 ? t : 20);
  cs_signal_score (CS_SIGNAL_TRAIN_SATURATION, &in, score);
  CHECK (cs_signal_onset (CS_SIGNAL_TRAIN_SATURATION, &in, score, -0.02) == 23,
         "training-loss saturation fires at epoch 23 (got %d)", cs_signal_onset (CS_SIGNAL_TRAIN_SATURATION, &in,
                                                                                  score, -0.02));
  /* Distance from init t up to epoch 9, then 3 sqrt(t) (diffusive): the growth exponent over two
   * epochs is 1 until 9, log(9.487/8)/log(10/8) = 0.764 at 10, 0.4998 at 11: with threshold
   * -0.75 (exponent <= 0.75) the onset is 11. */
  double dist[N], dummy[N];
  float filter_change[N];
  for (int t = 0; t < N; t++)
    {
      dist[t] = t <= 9 ? t : 3.0 * sqrt ((double) t);
      dummy[t] = NAN;
      filter_change[t] = NAN;
    }
  cs_layer_series layer = { .name = "fc", .op = "linear", .n_filters = 1, .norm = dummy,
                            .relative_change = dummy, .cosine_to_previous = dummy, .distance_from_init = dist,
                            .rotation = dummy, .alpha = dummy, .stable_rank = dummy, .filter_change = filter_change };
  int32_t numbers[N];
  for (int t = 0; t < N; t++)
    numbers[t] = t;
  cs_run_stats stats = { .n_epochs = N, .epochs = numbers, .n_layers = 1, .layers = &layer };
  in.stats = &stats;
  cs_signal_score (CS_SIGNAL_DISTANCE_GROWTH, &in, score);
  CHECK (CLOSE (score[5], -1.0, 1e-12, 0), "ballistic growth scores -1 (%.4f)", score[5]);
  CHECK (cs_signal_onset (CS_SIGNAL_DISTANCE_GROWTH, &in, score, -0.75) == 11,
         "the diffusive regime starts at epoch 11 (got %d)",
         cs_signal_onset (CS_SIGNAL_DISTANCE_GROWTH, &in, score, -0.75));
  /* Missing inputs: NaN scores, no onset. */
  cs_signal_inputs none = { .n_epochs = N };
  cs_signal_score (CS_SIGNAL_UPDATE_COSINE, &none, score);
  CHECK (isnan (score[10]) && cs_signal_onset (CS_SIGNAL_UPDATE_COSINE, &none, score, -1.0) == -1,
         "a signal without its input never fires");
  cs_signal_kind k;
  CHECK (cs_signal_parse ("eb", &k) && k == CS_SIGNAL_EB && !cs_signal_parse ("nope", &k),
         "signal names parse");
}

int
main (void)
{
  test_prechelt ();
  test_signals ();
  return test_done ();
}

/* The thirteen attribution methods: ids (as docs/methods.md lists them), titles, citations, and the
 * exact conventions of each, shown in tooltips and --help. */
#include <string.h>

#include "attribution/attribution.h"

typedef struct {
  const char *id, *title, *citation, *conventions;
  bool cam;
} method_info;

/* Said once per family, so that every paragraph states the same rule the same way. */
#define SCORE_LOGIT "The explained score is the target class's logit (pre-softmax); target auto is the predicted class. "
#define PIXEL_GRAD_MAP "Map: max |.| over channels, scaled by its 99th percentile, clipped to [0,1]."
#define PIXEL_INPUT_MAP "Map: sum of |.| over channels, scaled by its 99th percentile, clipped to [0,1]."
#define CAM_LAYER "Layer: --layer, default the last node whose output is spatial (H,W > 1). "
#define CAM_MAP "Raw: (h,w) at the layer's resolution, after the ReLU, before upsampling. Map: upsampled bilinearly with half-pixel centres (like align_corners=False), min-max normalised."

static const method_info methods[CS_METHOD_COUNT] = {
  [CS_METHOD_SALIENCY] = { "saliency", "Saliency", "Simonyan et al. 2013",
    "Vanilla gradient. " SCORE_LOGIT
    "Raw: the signed gradient of the score w.r.t. the input tensor, (C,H,W). " PIXEL_GRAD_MAP, false },
  [CS_METHOD_GUIDED_BACKPROP] = { "guided-backprop", "Guided Backpropagation", "Springenberg et al. 2014",
    SCORE_LOGIT "Backward through every ReLU passes dy where both its input and dy are positive. "
    "Raw: the signed result at the input, (C,H,W). " PIXEL_GRAD_MAP, false },
  [CS_METHOD_DECONVNET] = { "deconvnet", "DeconvNet", "Zeiler & Fergus 2014",
    SCORE_LOGIT "Backward through every ReLU passes dy where dy is positive, whatever its forward input. "
    "Raw: the signed result at the input, (C,H,W). " PIXEL_GRAD_MAP, false },
  [CS_METHOD_GRADIENT_X_INPUT] = { "gradient-x-input", "Gradient \xC3\x97 Input", "Shrikumar et al. 2016",
    SCORE_LOGIT "Raw: x \xC2\xB7 \xE2\x88\x82y/\xE2\x88\x82x element by element, (C,H,W). " PIXEL_INPUT_MAP, false },
  [CS_METHOD_SMOOTHGRAD] = { "smoothgrad", "SmoothGrad", "Smilkov et al. 2017",
    SCORE_LOGIT "--samples (default 50) noisy copies of the input, Gaussian noise whose standard deviation is "
    "--noise (default 0.15) times the input tensor's value range (max \xE2\x88\x92 min), drawn from --seed; "
    "raw: the mean of their signed gradients, (C,H,W). " PIXEL_GRAD_MAP, false },
  [CS_METHOD_INTEGRATED_GRADIENTS] = { "integrated-gradients", "Integrated Gradients", "Sundararajan et al. 2017",
    SCORE_LOGIT "Baseline x\xE2\x80\xB2 from --baseline (default zero: the all-zero input tensor; blur: Gaussian of "
    "sigma max(H,W)/20; uniform: noise over the input's range from --seed). --steps (default 50) midpoint "
    "Riemann sum at alphas (k+\xC2\xBD)/steps for k = 0 \xE2\x80\xA6 steps\xE2\x88\x92" "1. "
    "Raw: (x\xE2\x88\x92x\xE2\x80\xB2) \xC2\xB7 mean gradient, (C,H,W); it sums to about f(x) \xE2\x88\x92 f(x\xE2\x80\xB2). "
    PIXEL_INPUT_MAP, false },
  [CS_METHOD_GRADCAM] = { "gradcam", "Grad-CAM", "Selvaraju et al. 2017",
    SCORE_LOGIT CAM_LAYER "w_k = mean over positions of g = \xE2\x88\x82S/\xE2\x88\x82" "A_k; "
    "map = ReLU(\xCE\xA3_k w_k A_k). " CAM_MAP, true },
  [CS_METHOD_GRADCAM_PP] = { "gradcam++", "Grad-CAM++", "Chattopadhay et al. 2018",
    SCORE_LOGIT CAM_LAYER "\xCE\xB1 = g\xC2\xB2 / (2g\xC2\xB2 + (\xCE\xA3_positions A_k)\xC2\xB7g\xC2\xB3), "
    "\xCE\xB1 = 0 where g = 0; w_k = \xCE\xA3_positions \xCE\xB1\xC2\xB7ReLU(g); map = ReLU(\xCE\xA3_k w_k A_k) "
    "(S is the logit; the paper's exp factor cancels). " CAM_MAP, true },
  [CS_METHOD_GUIDED_GRADCAM] = { "guided-gradcam", "Guided Grad-CAM", "Selvaraju et al. 2017",
    SCORE_LOGIT CAM_LAYER "Raw: guided backpropagation \xC3\x97 the displayed Grad-CAM map (upsampled "
    "bilinearly, half-pixel centres), (C,H,W). " PIXEL_GRAD_MAP, true },
  [CS_METHOD_SCORECAM] = { "scorecam", "Score-CAM", "Wang et al. 2020",
    "The channel weights are the target's softmax probability on the masked input, as in the paper; target "
    "auto is the predicted class. " CAM_LAYER "Each channel's map is upsampled to the input, min-max "
    "normalised to [0,1] and multiplied into the input tensor; w_k = softmax probability of the target on that "
    "masked input (channels whose upsampled map is constant get 0); map = ReLU(\xCE\xA3_k w_k A_k). " CAM_MAP, true },
  [CS_METHOD_LAYERCAM] = { "layercam", "Layer-CAM", "Jiang et al. 2021",
    SCORE_LOGIT CAM_LAYER "map = ReLU(\xCE\xA3_k ReLU(g_k) \xE2\x8A\x99 A_k) with g = \xE2\x88\x82S/\xE2\x88\x82" "A. "
    CAM_MAP, true },
  [CS_METHOD_OCCLUSION] = { "occlusion", "Occlusion", "Zeiler & Fergus 2014",
    SCORE_LOGIT "A --window K\xC3\x97K patch (default 8) at --stride S (default 4), filled with the --baseline "
    "value (zero: 0; blur or uniform: that baseline's values under the patch), at every position from 0 to H\xE2\x88\x92K "
    "(and W\xE2\x88\x92K) in steps of S, plus a last position flush with the border when the steps miss it. "
    "Raw: (H,W), the mean drop of the target logit over the windows covering each pixel (0 where none does). "
    "Map: raw min-max normalised, like a CAM map.", false },
  [CS_METHOD_RISE] = { "rise", "RISE", "Petsiuk et al. 2018",
    "The score is the target's softmax probability on each masked input; target auto is the predicted class. "
    "--samples (default 4000) binary masks on a 7\xC3\x97" "7 grid with keep probability 0.5, upsampled bilinearly "
    "with a random shift as in the paper, applied to the input, drawn from --seed; "
    "map = \xCE\xA3 p_target\xC2\xB7mask / (samples \xC2\xB7 0.5). Raw: (H,W) before normalisation. "
    "Map: min-max normalised.", false },
};

const char *
cs_method_id (cs_method m)
{
  return m >= 0 && m < CS_METHOD_COUNT ? methods[m].id : NULL;
}

cs_method
cs_method_from_id (const char *id)
{
  if (id == NULL)
    return CS_METHOD_COUNT;
  for (int m = 0; m < CS_METHOD_COUNT; m++)
    if (strcmp (methods[m].id, id) == 0)
      return (cs_method) m;
  return CS_METHOD_COUNT;
}

const char *
cs_method_title (cs_method m)
{
  return m >= 0 && m < CS_METHOD_COUNT ? methods[m].title : NULL;
}

const char *
cs_method_citation (cs_method m)
{
  return m >= 0 && m < CS_METHOD_COUNT ? methods[m].citation : NULL;
}

const char *
cs_method_conventions (cs_method m)
{
  return m >= 0 && m < CS_METHOD_COUNT ? methods[m].conventions : NULL;
}

bool
cs_method_is_cam (cs_method m)
{
  return m >= 0 && m < CS_METHOD_COUNT && methods[m].cam;
}

bool
cs_method_is_sampling (cs_method m)
{
  return m == CS_METHOD_SMOOTHGRAD || m == CS_METHOD_INTEGRATED_GRADIENTS || m == CS_METHOD_SCORECAM
         || m == CS_METHOD_OCCLUSION || m == CS_METHOD_RISE;
}

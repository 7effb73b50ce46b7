/* The operator table: op enum -> cs_op_info, and op names as model.json and inspect spell them. */
#include <string.h>

#include "graph/ops.h"



static const cs_op_info input_info = { .name = "input", .min_inputs = 0, .max_inputs = 0 };
static const cs_op_info param_info = { .name = "parameter", .min_inputs = 0, .max_inputs = 0 };
static const cs_op_info const_info = { .name = "constant", .min_inputs = 0, .max_inputs = 0 };

const cs_op_info *
cs_op_get (cs_op op)
{
  switch (op)
    {
    case CS_OP_INPUT: return &input_info;
    case CS_OP_PARAM: return &param_info;
    case CS_OP_CONST: return &const_info;
    case CS_OP_CONV2D: return &cs_op_conv2d_info;
    case CS_OP_GEMM: return &cs_op_gemm_info;
    case CS_OP_MATMUL: return &cs_op_matmul_info;
    case CS_OP_RELU: return &cs_op_relu_info;
    case CS_OP_LEAKY_RELU: return &cs_op_leaky_relu_info;
    case CS_OP_CLIP: return &cs_op_clip_info;
    case CS_OP_SIGMOID: return &cs_op_sigmoid_info;
    case CS_OP_HARD_SIGMOID: return &cs_op_hard_sigmoid_info;
    case CS_OP_HARD_SWISH: return &cs_op_hard_swish_info;
    case CS_OP_TANH: return &cs_op_tanh_info;
    case CS_OP_ERF: return &cs_op_erf_info;
    case CS_OP_SQRT: return &cs_op_sqrt_info;
    case CS_OP_EXP: return &cs_op_exp_info;
    case CS_OP_NEG: return &cs_op_neg_info;
    case CS_OP_IDENTITY: return &cs_op_identity_info;
    case CS_OP_DROPOUT: return &cs_op_dropout_info;
    case CS_OP_ADD: return &cs_op_add_info;
    case CS_OP_SUB: return &cs_op_sub_info;
    case CS_OP_MUL: return &cs_op_mul_info;
    case CS_OP_DIV: return &cs_op_div_info;
    case CS_OP_POW: return &cs_op_pow_info;
    case CS_OP_MAXPOOL: return &cs_op_maxpool_info;
    case CS_OP_AVGPOOL: return &cs_op_avgpool_info;
    case CS_OP_GLOBAL_AVGPOOL: return &cs_op_global_avgpool_info;
    case CS_OP_REDUCE_MEAN: return &cs_op_reduce_mean_info;
    case CS_OP_BATCHNORM: return &cs_op_batchnorm_info;
    case CS_OP_SOFTMAX: return &cs_op_softmax_info;
    case CS_OP_FLATTEN: return &cs_op_flatten_info;
    case CS_OP_RESHAPE: return &cs_op_reshape_info;
    case CS_OP_TRANSPOSE: return &cs_op_transpose_info;
    case CS_OP_SLICE: return &cs_op_slice_info;
    case CS_OP_CONCAT: return &cs_op_concat_info;
    case CS_OP_PAD: return &cs_op_pad_info;
    case CS_OP_COUNT: break;
    }
  return NULL;
}

cs_op
cs_op_from_name (const char *name)
{
  for (int op = 0; op < CS_OP_COUNT; op++)
    {
      const cs_op_info *info = cs_op_get ((cs_op) op);
      if (info != NULL && info->name != NULL && strcmp (info->name, name) == 0)
        return (cs_op) op;
    }
  return CS_OP_COUNT;
}

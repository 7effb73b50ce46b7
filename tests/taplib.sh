# TAP helpers for the shell tests (sourced): check, finish, and the tiny CNN they train.
n=0
failed=0

# check 'SHELL CONDITION' 'description': one TAP line.
check () { n=$((n + 1)); if eval "$1"; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi; }

# Prints the plan and exits with the result.
finish () { echo "1..$n"; exit $failed; }

# write_tiny_arch FILE: a 4-filter CNN for 28x28 Fashion-MNIST that trains in seconds.
write_tiny_arch () {
  cat > "$1" <<'JSON'
{"format": "convscope-model/1", "input": [1, 28, 28], "nodes": [
  {"name": "conv1", "op": "conv2d", "out_channels": 4, "kernel": 3, "padding": 1},
  {"name": "relu1", "op": "relu"},
  {"name": "pool1", "op": "maxpool2d", "kernel": 4},
  {"name": "flat", "op": "flatten"},
  {"name": "fc", "op": "linear", "out_features": 10}]}
JSON
}

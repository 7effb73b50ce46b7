#!/bin/sh
# Ctrl-C during `convscope-cli train`: the command stops after the current batch with one error
# line, the run lists only complete epochs, and --resume finishes it. TAP output.
set -u
cli="${CONVSCOPE_BUILD_DIR:-build}/src/cli/convscope-cli"
if [ ! -x "$cli" ]; then
  echo "1..1"; echo "not ok 1 - convscope-cli is built at $cli"; exit 1
fi
if [ ! -r /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  echo "1..0 # SKIP dataset-fashion-mnist is not installed"; exit 0
fi
dir=$(mktemp -d /tmp/cs-test-sigint-XXXXXX)
trap 'rm -rf "$dir"' EXIT
n=0; failed=0
check () { n=$((n + 1)); if eval "$1"; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi; }

cat > "$dir/arch.json" <<'JSON'
{"format": "convscope-model/1", "input": [1, 28, 28], "nodes": [
  {"name": "conv1", "op": "conv2d", "out_channels": 4, "kernel": 3, "padding": 1},
  {"name": "relu1", "op": "relu"},
  {"name": "pool1", "op": "maxpool2d", "kernel": 4},
  {"name": "flat", "op": "flatten"},
  {"name": "fc", "op": "linear", "out_features": 10}]}
JSON
"$cli" train --arch "$dir/arch.json" --dataset fashion-mnist --out "$dir/run" --epochs 1000 \
  --train-subset 2000 --val-subset 100 --threads 1 >"$dir/out" 2>"$dir/err" &
pid=$!
i=0
while [ $i -lt 600 ] && ! grep -q '^epoch 1/' "$dir/out" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
kill -INT $pid
wait $pid
code=$?
check '[ $code -eq 1 ]' "interrupted train exits with 1 (got $code)"
check '[ "$(wc -l <"$dir/err")" -eq 1 ] && grep -q "^convscope-cli: error: .*interrupted; the run is complete up to epoch [0-9]* (--resume continues it)$" "$dir/err"' \
  "one error line: $(cat "$dir/err")"
last=$(sed -n 's/.*complete up to epoch \([0-9]*\).*/\1/p' "$dir/err")
check '[ -n "$last" ] && [ "$last" -ge 1 ] && [ "$last" -lt 1000 ]' "some epochs complete ($last)"
check '/usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if [e[\"epoch\"] for e in r[\"epochs\"]] == list(range($last + 1)) else 1)" "$dir/run/run.json"' \
  "run.json lists epochs 0..$last"
check '! ls "$dir/run" "$dir/run/checkpoints" | grep -q "tmp-"' "no temporary files left"
"$cli" train --out "$dir/run" --epochs $((last + 1)) --resume --threads 1 >"$dir/out2" 2>"$dir/err2"
code=$?
check '[ $code -eq 0 ] && grep -q "^epoch $((last + 1))/" "$dir/out2"' "--resume completes epoch $((last + 1)) (exit $code)"
echo "1..$n"
exit $failed

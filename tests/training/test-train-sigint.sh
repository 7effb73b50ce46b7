#!/bin/sh
# Ctrl-C during `convscope-cli train`: the command stops after the current batch with one error
# line, the run lists only complete epochs, and --resume finishes it. TAP output.
set -u
cli="${CONVSCOPE_BUILD_DIR:-build}/src/cli/convscope-cli"
. "$(dirname "$0")/../taplib.sh"
check '[ -x "$cli" ]' "convscope-cli is built at $cli"
check '[ -r /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]' \
  "dataset-fashion-mnist is installed (tools/install-deps)"
[ $failed -eq 0 ] || finish
dir=$(mktemp -d /tmp/cs-test-sigint-XXXXXX)
trap 'rm -rf "$dir"' EXIT

write_tiny_arch "$dir/arch.json"
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
finish

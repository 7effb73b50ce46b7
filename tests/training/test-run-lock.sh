#!/bin/sh
# Two writers on one run directory: while `train` writes a run, a second `train` (new or
# --resume) into it exits 1 at once naming the writer's process, and readers (run-info) keep
# working. After a SIGKILL, the lock left behind blocks nobody and --resume removes the
# writer's temporary files (but not a reader's). TAP output.
set -u
cli="${CONVSCOPE_BUILD_DIR:-build}/src/cli/convscope-cli"
dir=$(mktemp -d /tmp/cs-test-lock-XXXXXX)
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$dir"' EXIT
. "$(dirname "$0")/../taplib.sh"

write_tiny_arch "$dir/arch.json"
run="$dir/run"
"$cli" train --arch "$dir/arch.json" --dataset fashion-mnist --out "$run" --epochs 1000 \
  --train-subset 500 --val-subset 100 --threads 1 --seed 0 >"$dir/out" 2>"$dir/err" &
pid=$!
i=0
while [ $i -lt 1200 ] && ! grep -q '^epoch 1/' "$dir/out" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
check 'grep -q "^epoch 1/" "$dir/out"' "the first writer is training (pid $pid)"
check '[ "$(cat "$run/run.lock")" = "$pid" ]' "run.lock names the writer ($(cat "$run/run.lock" 2>/dev/null))"

"$cli" train --arch "$dir/arch.json" --dataset fashion-mnist --out "$run" --epochs 2 \
  --train-subset 500 --val-subset 100 --threads 1 --seed 7 >"$dir/out2" 2>"$dir/err2"
code=$?
check '[ $code -eq 1 ] && kill -0 $pid' "a second train exits 1 while the first still runs (got $code)"
check '[ "$(cat "$dir/err2")" = "convscope-cli: error: $run: run is being written by process $pid" ]' \
  "one line naming the writer: $(cat "$dir/err2")"
"$cli" train --out "$run" --epochs 3 --resume --threads 1 >"$dir/out3" 2>"$dir/err3"
code=$?
check '[ $code -eq 1 ] && kill -0 $pid && grep -q "run is being written by process $pid" "$dir/err3"' \
  "a second --resume is refused too (exit $code): $(cat "$dir/err3")"
"$cli" run-info "$run" >"$dir/info" 2>"$dir/info-err"
code=$?
check '[ $code -eq 0 ] && kill -0 $pid' "run-info reads the run while it is written (exit $code) $(head -c 200 "$dir/info-err")"
check '/usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r[\"train\"][\"seed\"] == 0 else 1)" "$run/run.json"' \
  "run.json is still the first writer's (seed 0)"

# A kill mid-write leaves the lock file and temporary files behind.
kill -9 $pid
wait $pid 2>/dev/null
pid=
last=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['epochs'][-1]['epoch'])" "$run/run.json")
: >"$run/checkpoints/epoch-$(printf %04d $((last + 1))).safetensors.tmp-Ab12Cd"
: >"$run/checkpoints/optimizer-$(printf %04d $((last + 1)))-momentum.safetensors.tmp-xY34zW"
: >"$run/run.json.tmp-Qr56St"
: >"$run/analysis.json.tmp-Uv78Wx"
check '[ -e "$run/run.lock" ]' "the killed writer's run.lock is still there"
"$cli" train --out "$run" --epochs $((last + 1)) --resume --threads 1 >"$dir/out4" 2>"$dir/err4"
code=$?
check '[ $code -eq 0 ]' "--resume after the kill is not blocked by the stale lock file (exit $code) $(cat "$dir/err4")"
check '! ls "$run" "$run/checkpoints" | grep -q "safetensors.tmp-\|run.json.tmp-"' \
  "--resume removed the writer's temporary files: $(ls "$run" "$run/checkpoints" | grep tmp- | tr '\n' ' ')"
check '[ -e "$run/analysis.json.tmp-Uv78Wx" ]' "a reader's temporary file is left alone"
check '[ ! -e "$run/run.lock" ]' "the lock file goes when the writer is done"
check '/usr/bin/python3 -c "import json,sys; e=[x[\"epoch\"] for x in json.load(open(sys.argv[1]))[\"epochs\"]]; sys.exit(0 if e == list(range($last + 2)) else 1)" "$run/run.json"' \
  "the resumed run lists epochs 0..$((last + 1))"

# A train that fails before its first epoch leaves no directory behind.
"$cli" train --arch "$dir/arch.json" --dataset "mnist:$dir/nothing" --out "$dir/fresh" --epochs 1 \
  >/dev/null 2>"$dir/err5"
code=$?
check '[ $code -eq 1 ] && [ ! -e "$dir/fresh" ]' "a failed train leaves no directory (exit $code) $(cat "$dir/err5")"
finish

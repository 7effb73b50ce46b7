#!/bin/sh
# Reproduces the weights-bet study: trains the grid (resumable; run again after an interruption),
# then writes the report, the per-run CSV and the JSON beside this script.
# Usage: studies/weights-bet/reproduce.sh [STUDY_DIR] [JOBS]   (default /tmp/weights-bet, 1 job)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cli=${CONVSCOPE_CLI:-convscope-cli}
out=${1:-/tmp/weights-bet}
jobs=${2:-1}
"$cli" study run "$here/spec.json" --out "$out" --jobs "$jobs" --threads 1
"$cli" study report "$out" --csv "$here/runs.csv" --out "$here/report.pdf" > "$here/report.txt"
"$cli" study report "$out" --json > "$here/report.json"

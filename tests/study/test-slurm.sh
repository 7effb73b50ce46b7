#!/bin/sh
# `study submit --slurm` on a real one-node Slurm cluster started here: munged, slurmctld and
# slurmd on localhost with a private configuration, ports and state directory, stopped at the
# end. The job array trains a tiny study, the dependent job writes its report. TAP output.
set -u
cli="${1:-${CONVSCOPE_BUILD_DIR:-build}/src/cli/convscope-cli}"
. "$(dirname "$0")/../taplib.sh"
for prog in munged slurmctld slurmd sbatch squeue sinfo; do
  if ! command -v "$prog" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$prog" ]; then
    check false "$prog is installed (slurm-wlm and munge, tools/install-deps)"; finish
  fi
done
PATH="$PATH:/usr/sbin"
tmp=$(mktemp -d /tmp/cs-test-slurm-XXXXXX)
chmod 755 "$tmp"
pids=""
cleanup () {
  for p in $pids; do kill "$p" 2>/dev/null; done
  sleep 1
  for p in $pids; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# munge: a private key and socket (munged refuses to run as root without --force).
mkdir -p "$tmp/munge" && chmod 711 "$tmp/munge"
dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 2>/dev/null
chmod 400 "$tmp/munge/munge.key"
munged --force --foreground --socket="$tmp/munge/sock" --key-file="$tmp/munge/munge.key" \
  --pid-file="$tmp/munge/pid" --log-file="$tmp/munge/log" --seed-file="$tmp/munge/seed" 2>"$tmp/munged.err" &
pids="$pids $!"

# Ports from the test's process id, so that two test runs (or a site's Slurm) do not collide.
base=$((20000 + $$ % 20000))
host=$(hostname -s)
mkdir -p "$tmp/state" "$tmp/spool"
cat > "$tmp/slurm.conf" <<CONF
ClusterName=convscope-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$base
SlurmdPort=$((base + 1))
SlurmUser=$(id -un)
SlurmdUser=$(id -un)
AuthType=auth/munge
AuthInfo=socket=$tmp/munge/sock
CredType=cred/munge
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
SchedulerParameters=sched_interval=1
NodeName=$host NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=10 State=UP
CONF
export SLURM_CONF="$tmp/slurm.conf"
i=0; while [ $i -lt 50 ] && [ ! -S "$tmp/munge/sock" ]; do sleep 0.1; i=$((i + 1)); done
check '[ -S "$tmp/munge/sock" ]' "munged is up"
slurmctld -D -i -f "$tmp/slurm.conf" >/dev/null 2>&1 &
pids="$pids $!"
slurmd -D -f "$tmp/slurm.conf" >/dev/null 2>&1 &
pids="$pids $!"
i=0
while [ $i -lt 300 ] && ! sinfo -h -o %T 2>/dev/null | grep -q idle; do sleep 0.1; i=$((i + 1)); done
if ! check 'sinfo -h -o %T 2>/dev/null | grep -q idle' "the one-node cluster is idle"; then
  sed 's/^/# /' "$tmp/slurmctld.log" "$tmp/slurmd.log" 2>/dev/null | tail -20
  finish
fi

write_tiny_arch "$tmp/arch.json"
cat > "$tmp/spec.json" <<'JSON'
{"dataset": "fashion-mnist", "arch": "arch.json", "train_subset": 100, "val_subset": 100,
 "test_subset": 100, "optimizer": ["sgd", "adam"], "seeds": [0, 1], "epochs": 6, "batch": 32}
JSON
"$cli" study submit "$tmp/spec.json" --out "$tmp/study" --slurm --shards 2 -- --time=5 >"$tmp/out" 2>"$tmp/err"
rc=$?
check '[ $rc -eq 0 ] && grep -q "submitted job array" "$tmp/out"' "study submit --slurm submits the array and the report job"
sed 's/^/# /' "$tmp/out" "$tmp/err"
check 'grep -q "^#SBATCH --array=0-1" "$tmp/study/slurm/array.sh"' "the array has one task per shard"
i=0
while [ $i -lt 900 ] && [ -n "$(squeue -h 2>/dev/null)" ]; do sleep 0.1; i=$((i + 1)); done
check '[ -z "$(squeue -h 2>/dev/null)" ]' "every job left the queue within 90 s"
check '[ -f "$tmp/study/slurm/shard-0.log" ] && [ -f "$tmp/study/slurm/shard-1.log" ]' "both array tasks ran"
grep -h "done\|runs" "$tmp/study/slurm/shard-0.log" 2>/dev/null | sed 's/^/# /'
done_runs=0
for r in "$tmp"/study/run-*/run.json; do
  grep -q '"epoch":[[:space:]]*6' "$r" 2>/dev/null && done_runs=$((done_runs + 1))
done
check '[ $done_runs -eq 4 ]' "the array trained all 4 runs to epoch 6 ($done_runs)"
check 'head -c 5 "$tmp/study/report.pdf" 2>/dev/null | grep -q "%PDF"' "the report job wrote report.pdf"
check 'python3 -c "import json,sys; r=json.load(open(sys.argv[1])); sys.exit(r[\"n_runs\"] != 4)" "$tmp/study/report.json"' \
  "the report job's JSON covers the 4 runs"
check '[ $(wc -l < "$tmp/study/runs.csv") -eq 5 ]' "runs.csv has a row per run"
"$cli" study submit "$tmp/spec.json" --out "$tmp/study2" >/dev/null 2>"$tmp/err2"
rc=$?
check '[ $rc -eq 2 ] && grep -q -- "--slurm" "$tmp/err2"' "submit without --slurm is a usage error"
finish

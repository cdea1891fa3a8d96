#!/usr/bin/env bash
# Every GPU check of the project in one call of the lent device machine (docs/gpu.md):
#   phase A, alone on the card: the trainer benchmark (timings);
#   phase B, side by side: the largest presets of the pruning and Bayes-by-Backprop
#   studies that fit in five minutes (prune-rethink/lottery --preset large on MNIST-1D,
#   bbb-classify on the 5,000-digit MNIST subset; MNIST and CIFAR-10 files are not
#   on that machine, which reaches no network).
# Run folders come back as $OUT/runs.tar.gz; the summary table is printed last.
# Wheels missing from the device image travel in .whl (see the device README).
set -u
export PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false
OUT=${OUT:-/tmp/gpu-out}
mkdir -p "$OUT" runs-gpu
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:.
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/card.txt"
python3 -c "import jax; print('jax', jax.__version__, jax.devices())" | tee -a "$OUT/card.txt"

step() {  # step NAME SECONDS ARGS...: one run with a limit; log, wall time and exit code
  local name=$1 limit=$2; shift 2
  local t0=$(date +%s)
  timeout "$limit" python3 run.py "$@" --out "runs-gpu/$name" >"runs-gpu/$name.log" 2>&1
  local rc=$?
  echo "$name rc=$rc wall=$(( $(date +%s) - t0 ))s" >>runs-gpu/summary.txt
}

# Phase A: alone on the card.
step bench 120 bench --repeats 5

# Phase B: side by side (each process takes GPU memory as it needs it).
step prune-rethink-large 270 prune-rethink --preset large &
step prune-lottery-large 270 prune-lottery --preset large &
step bbb-classify-subset 270 bbb-classify --preset subset &
step bbb-classify-subset-1200 270 bbb-classify --preset subset --width 1200 --steps 12000 --chunk 2000 &
wait

tar czf "$OUT/runs.tar.gz" --exclude=checkpoints runs-gpu
for f in runs-gpu/*.log; do echo "== $f"; tail -n 20 "$f"; done
echo "== summary =="
cat "$OUT/card.txt" runs-gpu/summary.txt

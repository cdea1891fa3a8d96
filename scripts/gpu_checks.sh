#!/usr/bin/env bash
# Every GPU check of the project, in two calls of the lent device machine (docs/gpu.md):
#   scripts/gpu_checks.sh studies   the trainer benchmark alone on the card, then side by side
#       the largest presets of the pruning and Bayes-by-Backprop studies that fit in five
#       minutes (MNIST-1D and the 5,000-digit MNIST subset: MNIST and CIFAR-10 files are not
#       on that machine, which reaches no network), and their follow-ups;
#   scripts/gpu_checks.sh paper     the autodiff timing presets alone on the card, then side
#       by side the paper presets that need no data files.
# Run folders come back as $OUT/runs.tar.gz (no checkpoints, arrays or metric logs);
# the summary table is printed last. Wheels missing from the device image travel in .whl
# (see the device README).
set -u
case "${1:-studies}" in
  studies|paper) ;;
  *) echo "usage: scripts/gpu_checks.sh [studies|paper]" >&2; exit 2 ;;
esac
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

case "${1:-studies}" in
  studies)
    step trainer-bench 240 trainer-bench --preset paper
    step prune-rethink-large 270 prune-rethink --preset large &
    step prune-lottery-large 270 prune-lottery --preset large &
    step bbb-classify-subset 270 bbb-classify --preset subset &
    step bbb-classify-subset-1200 270 bbb-classify --preset subset --width 1200 --steps 12000 --chunk 2000 &
    # Follow-ups of the first run: fine-tuning at 10x the schedule's final lr; width 400 for 12k steps.
    step prune-rethink-large-ft0.1 270 prune-rethink --preset large --finetune-lr-factor 0.1 &
    step bbb-classify-subset-12k 270 bbb-classify --preset subset --steps 12000 --chunk 2000 &
    wait ;;
  paper)
    step ad-jacobian-paper 90 ad-jacobian --preset paper
    step ad-cost-paper 90 ad-cost --preset paper
    step bbb-regression-paper 150 bbb-regression --preset paper &
    step gan-mixture-paper 150 gan-mixture --preset paper &
    step selu-training-subset 150 selu-training --preset subset &
    step mnist1d-baselines-paper 150 mnist1d-baselines --preset paper &
    wait ;;
esac

tar czf "$OUT/runs.tar.gz" --exclude=checkpoints --exclude="*.npz" --exclude=metrics.jsonl runs-gpu
for f in runs-gpu/*.log; do echo "== $f"; tail -n 12 "$f"; done
echo "== summary =="
cat "$OUT/card.txt" runs-gpu/summary.txt

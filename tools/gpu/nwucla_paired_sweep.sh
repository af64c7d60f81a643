#!/usr/bin/env bash
# Paired GPU check of CSRE (issue 15): CTR-GCN baseline vs CTR-GCN + CSRE in
# the official code's regime on NW-UCLA, paired seeds trained concurrently on
# one GPU by tools/run_sweep.py, then compared by compare_runs.py. Writes to
# $OUT: summary.md (per-seed table, CI, power), compare.json, compare.png,
# sweep.log and results.tar.gz (every run's validation dumps, done.json and
# training log).
#
#   bash tools/gpu/nwucla_paired_sweep.sh [--dry-run] [--seeds N]
#        [--batch B] [--budget SECONDS] [--jobs J]
#
# Recipe: configs/ctrgcn/ctrgcn_1xb16-joint-65e_nwucla-official-keypoint-3d.py
# and configs/csre/ctrgcn-csre-official_1xb16-joint-65e_...: 65 epochs of the
# training list x5 with CTR-GCN's schedule. A CTR-GCN training iteration is
# ~6,000 small kernels, launch-bound on any GPU (docs/results.md, "GPU
# check": measured op counts and dispatch times), so the batch-16 recipe's
# 20,735 iterations take ~17 min per run; the default --batch 64 (learning
# rate scaled linearly, 0.4; 5,184 iterations) fits 2 paired seeds in ~9 min.
# --batch 16 runs the recipe unchanged, for a longer lease.
#
# --dry-run: 2 epochs on 16 samples per run (a CPU check of the whole
# script). --budget: the sweep is stopped after this many seconds and what
# finished is still collected (default 540).
#
# On the device machine (no internet): carry .whl (tools/gpu/fetch_wheels.sh)
# and data/skeleton (tools/data/nwucla/nwucla_to_pkl.py); for example
#   run(command='bash tools/gpu/nwucla_paired_sweep.sh', carry=['.whl',
#       'data/skeleton'], timeout_s=600)
set -uo pipefail
cd "$(dirname "$0")/../.."
REPO=$(pwd)
SEEDS=2 BATCH=64 BUDGET=540 JOBS='' DRY=''
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY=--dry-run ;;
    --seeds) SEEDS=$2; shift ;;
    --batch) BATCH=$2; shift ;;
    --budget) BUDGET=$2; shift ;;
    --jobs) JOBS=$2; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
OUT=${OUT:-$REPO/work_dirs/gpu_check_out}
WORK=${WORK:-$REPO/work_dirs/nwucla_paired_gpu}
PYTHON=${PYTHON:-python3}
mkdir -p "$OUT" "$WORK"
export PYTHONUNBUFFERED=1

# 1. OpenMMLab packages: installed, or wheels carried in .whl/
if ! "$PYTHON" -c 'import mmaction, mmengine, mmcv' 2>/dev/null; then
  if ! ls .whl/*.whl >/dev/null 2>&1; then
    echo 'error: mmaction2/mmengine/mmcv-lite missing and no .whl/ wheels' \
      '(run tools/gpu/fetch_wheels.sh here and carry .whl)' >&2
    exit 2
  fi
  "$PYTHON" -m pip install -q --no-index --no-deps --no-compile \
    --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 2
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"

# 2. data
if [ ! -f data/skeleton/nwucla_3d.pkl ]; then
  "$PYTHON" tools/data/nwucla/nwucla_to_pkl.py \
    ../shared/data/nw-ucla/all_sqe.zip data/skeleton/nwucla_3d.pkl || exit 2
fi

# 3. the sweep: every run of every arm at once (2 arms x SEEDS)
JOBS=${JOBS:-$((2 * SEEDS))}
LR=$("$PYTHON" -c "print(0.1 * $BATCH / 16)")
SEED_LIST=$(seq -s ' ' 0 $((SEEDS - 1)))
"$PYTHON" -c 'import torch; print("torch", torch.__version__, "cuda",
  torch.cuda.is_available() and torch.cuda.get_device_name(0))' |
  tee "$OUT/sweep.log"
echo "seeds $SEED_LIST, batch $BATCH, lr $LR, $JOBS jobs, budget" \
  "${BUDGET}s $DRY" | tee -a "$OUT/sweep.log"
timeout --kill-after=15 "$BUDGET" "$PYTHON" tools/run_sweep.py \
  --work-dir "$WORK" \
  --arms base=configs/ctrgcn/ctrgcn_1xb16-joint-65e_nwucla-official-keypoint-3d.py \
  csre=configs/csre/ctrgcn-csre-official_1xb16-joint-65e_nwucla-official-keypoint-3d.py \
  --seeds $SEED_LIST --jobs "$JOBS" --threads 1 --last-k 5 \
  --no-deterministic --poll 30 $DRY \
  --cfg-options "train_dataloader.batch_size=$BATCH" \
  "optim_wrapper.optimizer.lr=$LR" 2>&1 | tee -a "$OUT/sweep.log"
STATUS=${PIPESTATUS[0]}
[ "$STATUS" = 124 ] && echo "stopped at the ${BUDGET}s budget" |
  tee -a "$OUT/sweep.log"

# 4. collect, whatever finished
SWEEP_DIR="$WORK"
[ -n "$DRY" ] && SWEEP_DIR="$WORK/dry_run"
if [ -d "$SWEEP_DIR/compare_csre" ]; then
  cp "$SWEEP_DIR"/compare_csre/compare.{md,json,png} "$OUT"/ 2>/dev/null
  mv "$OUT/compare.md" "$OUT/summary.md" 2>/dev/null
fi
(cd "$SWEEP_DIR" && find . \( -name 'iter_*.pkl' -o -name done.json -o \
  -name train.log -o -path './compare_*' \) -print0 |
  tar --null -czf "$OUT/results.tar.gz" -T -)
ls -l "$OUT"
exit "$STATUS"

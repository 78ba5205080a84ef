#!/usr/bin/env bash
# Measures every target of issue 16 in one call to the GPU machine (≤ 9 minutes), unchanged by whoever runs it:
#   1. bench train-step, memory-fed, one table: flash-3M, flash-20M, flash-120M compiled (CUDA graphs), flash-3M
#      eager for comparison, sl-XS and sl-M (our AdamCPR) — samples/s, tokens/s, MFU vs a matmul peak of this run;
#   2. bench pipeline --device cuda --modes train: flash-3M fed by N generator producers vs fed from memory
#      (samples/s, the trainer's wait share, producer-fed as a share of memory-fed);
#   2b. bench train-step --ddp: the data-parallel learner's step (DistributedDataParallel, NCCL, a group of one) beside
#      the plain step, flash-3M compiled (issue 31: no loss of samples/s);
#   3. bench pipeline --modes sizing: producer cores per GPU per flash preset from the rates measured in 1 and this
#      host's generator rate per core (the sl-* presets' scaling-laws generator first builds its exhaustive base set,
#      minutes on a fresh machine, so it is left out here).
# Results: $OUT/gpu-check.jsonl (one JSON object per row, each with "benchmark"), log: $OUT/gpu-check.log.
#
# On the GPU machine (Ray is not installed there): first, here, `bash ../shared/tools/device-wheels.sh`, then
#   run(command="bash deploy/gpu-check.sh", carry=[".whl"], timeout_s=600)
# Smoke test on any CPU box with tiny presets (1-2 minutes):  GPU_CHECK_SMOKE=1 bash deploy/gpu-check.sh
# Every step has a `timeout` cut from a budget computed from the clock, so the script ends inside BUDGET_S even when
# a step hangs; a step that fails or times out is logged and the next one runs.
set -uo pipefail

cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu-check-out}
mkdir -p "$OUT"
RESULTS=$OUT/gpu-check.jsonl
LOG=$OUT/gpu-check.log
: >"$RESULTS"
: >"$LOG"
export PYTHONUNBUFFERED=1 RAY_USAGE_STATS_ENABLED=0
SMOKE=${GPU_CHECK_SMOKE:-0}
BUDGET_S=${BUDGET_S:-$([ "$SMOKE" = 1 ] && echo 170 || echo 530)}
START=$(date +%s)

log() { echo "[gpu-check $(($(date +%s) - START))s] $*" | tee -a "$LOG"; }
note() {  # one JSON line of context into the results
    python3 - "$RESULTS" "$@" <<'PY'
import json, sys
path, pairs = sys.argv[1], sys.argv[2:]
with open(path, "a") as handle:
    handle.write(json.dumps({"benchmark": "gpu-check", **dict(p.split("=", 1) for p in pairs)}) + "\n")
PY
}
# step NAME SECONDS CMD...: run CMD with a timeout of SECONDS, cut to what is left of the budget (minus a reserve).
step() {
    local name=$1 want=$2; shift 2
    local left=$((BUDGET_S - ($(date +%s) - START) - 10))
    local limit=$((want < left ? want : left))
    if [ "$limit" -lt 20 ]; then
        log "SKIP $name: ${left}s of the budget left"; note step="$name" status=skipped; return 0
    fi
    log "START $name (timeout ${limit}s): $*"
    local t0=$(date +%s)
    timeout --kill-after=10 "$limit" "$@" >>"$LOG" 2>&1
    local rc=$?
    log "END $name rc=$rc after $(($(date +%s) - t0))s"
    note step="$name" rc="$rc" seconds="$(($(date +%s) - t0))" timeout="$limit"
}

# Ray: from the carried wheels when this machine lacks it.
if ! python3 -c "import ray" 2>/dev/null; then
    if ls .whl/*.whl >/dev/null 2>&1; then
        step install-ray 90 python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
            --target /tmp/site .whl/*.whl
        export PYTHONPATH=/tmp/site:$PWD
    else
        log "Ray is missing and no .whl/ was carried: run ../shared/tools/device-wheels.sh here and carry .whl"
    fi
else
    export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
fi

python3 - "$RESULTS" <<'PY' 2>>"$LOG" | tee -a "$LOG"
import json, os, subprocess, sys
import torch
info = {"benchmark": "environment", "torch": torch.__version__, "cuda": torch.cuda.is_available(),
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu", "cpus": os.cpu_count(),
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()}
try:
    import ray
    info["ray"] = ray.__version__
except ImportError:
    info["ray"] = None
open(sys.argv[1], "a").write(json.dumps(info) + "\n")
print(json.dumps(info))
PY

CPUS=$(nproc)
if [ "$SMOKE" = 1 ]; then
    # Same commands, tiny presets and short windows, on whatever this box is (the trainer stays on the CPU).
    step train-step 60 python3 -m lawfinder bench train-step --preset flash-tiny,sl-tiny --batch-size 16 \
        --n-points 64 --steps 5 --compile auto --jsonl "$RESULTS"
    step train-step-ddp 40 python3 -m lawfinder bench train-step --preset flash-tiny --batch-size 16 \
        --n-points 64 --steps 5 --compile auto --ddp --jsonl "$RESULTS"
    step pipeline 80 python3 -m lawfinder bench pipeline --modes train --preset flash-tiny --batch-size 16 \
        --producers 1 --seconds 10 --warmup 4 --set-data max_points=64 --jsonl "$RESULTS"
    step sizing 40 python3 -m lawfinder bench pipeline --modes sizing --sizing-presets flash-tiny \
        --seconds 2 --trainer-rates "$RESULTS" --jsonl "$RESULTS"
else
    PRODUCERS=${PRODUCERS:-$((CPUS - 2))}
    # Compiled rows first: their compilation dominates. One eager flash-3M row shows what compile buys.
    step train-step-compiled 170 python3 -m lawfinder bench train-step --preset flash-3M,flash-20M,flash-120M \
        --compile on --steps 30 --jsonl "$RESULTS"
    step train-step-eager 60 python3 -m lawfinder bench train-step --preset flash-3M,sl-XS,sl-M --compile off \
        --steps 20 --jsonl "$RESULTS"
    step train-step-ddp 60 python3 -m lawfinder bench train-step --preset flash-3M --compile on --steps 30 --ddp \
        --jsonl "$RESULTS"
    step pipeline 200 python3 -m lawfinder bench pipeline --device cuda --modes train --preset flash-3M \
        --producers "$PRODUCERS" --trainer-cpus 2 --seconds 40 --warmup 50 --jsonl "$RESULTS"
    step sizing 30 python3 -m lawfinder bench pipeline --modes sizing --sizing-presets flash-3M,flash-20M,flash-120M \
        --seconds 4 --trainer-rates "$RESULTS" --jsonl "$RESULTS"
fi
log "done in $(($(date +%s) - START))s; results $RESULTS"
python3 - "$RESULTS" <<'PY' | tee -a "$LOG"
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
for r in rows:
    if r["benchmark"] == "train-step" and "samples_per_s" in r:
        print(f"train-step {r['preset']:<11} compile {str(r['compile']):<5}{' ddp' if r.get('ddp') else '    '} "
              f"{r['samples_per_s']:>9.0f} samples/s "
              f"MFU {100 * r['mfu']:5.1f} %  peak {r['peak_memory_mib']:.0f} MiB")
    elif r["benchmark"] == "train-step":
        print(f"train-step {r['preset']:<11} FAILED {r.get('error')}")
    elif r["benchmark"] == "pipeline":
        print(f"pipeline   {r['feed']:<8} producers {r['producers']:>2} {r['samples_per_s']:>9.0f} samples/s "
              f"wait {100 * r['wait_share']:4.1f} %" + (f"  = {100 * r['share_of_memory_fed']:.0f} % of memory-fed"
                                                       if "share_of_memory_fed" in r else ""))
    elif r["benchmark"] == "sizing":
        print(f"sizing     {r['preset']:<11} {r['producer_cores']:>3} producer cores per GPU ({r['trainer_source']})")
    elif r["benchmark"] == "gpu-check" and r.get("rc", "0") != "0":
        print(f"step {r['step']} rc={r.get('rc')} ({r.get('status', '')})")
PY

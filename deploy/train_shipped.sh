#!/usr/bin/env bash
# The GPU recipe for the shipped model (lawfinder/model/weights/default.pt): one call to the GPU machine trains it
# on the full Flash-ANSR prior (17 variables, every operator, decontaminated against FastSRB) and brings back a
# candidate in bf16; `lawfinder bench promote` (on the CPU, after the call) decides whether it replaces the shipped one.
#
#   bash deploy/train_shipped.sh [RUN_DIR]          (exact device `run` command: docs/model-card.md, "Retraining")
#
# Preset: flash-3M, chosen from the H200 measurements in ../shared/GPU.md and issue 17:
#   - samples per lease: flash-3M trains at 2,000 samples/s fed by 14 producers (memory-fed 3,875); flash-20M
#     memory-fed reaches only 2,010 (5,064 with --compile, whose compile time a 9-minute call cannot amortise), so in
#     one call the 3M sees at least as many samples, and 6.5x more per parameter;
#   - the gate and every user run it on a CPU: at 512 samples the 3M took 17.8 s per FastSRB problem on 2 cores
#     (sampling 27 % of it); the 20M decodes ~7x more FLOPs per token, which breaks the ~15-minute gate budget;
#   - the file: 6.4 MB in bf16, one file; the 20M is 46 MB (three 16 MiB shards in git per promotion).
#   Revisit (PRESET=flash-20M) once the fast trainer of issue 16 lands and the 20M trains at >= 35 % MFU.
# Length: the step count comes from the time left in the call (TIME_BUDGET, default 510 s of the 540 s a ≤ 9-minute
#   call allows) and a samples/s rate (the previous lease's measured rate, stored in the shipped weights' history;
#   else GPU.md's), so warmup -> stable -> decay ends inside the call; --max-time is only a safety cut.
# Resume: when the shipped weights have the preset's architecture, training starts from them (--init-from: fresh
#   AdamW, short warmup); otherwise it starts fresh and says why (true for the 1.4M 3-variable CPU model).
# Output: RUN_DIR keeps full checkpoints (they stay on the machine); $OUT (the device's return folder, else
#   RUN_DIR/export) receives only candidate.pt (bf16; shards <= 16 MiB if larger), lease.json, metrics.jsonl and the
#   log tail.
# Environment knobs (tests use tiny values): PRESET, BATCH, PRODUCERS, TIME_BUDGET, RATE, LR, OVERHEAD_S,
#   SHIPPED (weights to continue from), EXTRA_TRAIN_ARGS (more `lawfinder train` flags, e.g. --set-data ...).
set -euo pipefail
T0=$(date +%s)
cd "$(dirname "$0")/.."
RUN=${1:-runs/shipped}
PRESET=${PRESET:-flash-3M}
BATCH=${BATCH:-128}
PRODUCERS=${PRODUCERS:-$(( $(nproc) > 3 ? $(nproc) - 2 : 1 ))}
TIME_BUDGET=${TIME_BUDGET:-510}
LR=${LR:-3e-4}
SHIPPED=${SHIPPED:-lawfinder/model/weights/default.pt}
EXPORT=${OUT:-$RUN/export}
PY=${PYTHON:-python3}
export RAY_USAGE_STATS_ENABLED=0
say() { echo "train_shipped: $*" >&2; }

# Ray is not installed on the GPU machine: install it from the carried wheels (../shared/tools/device-wheels.sh).
if ! "$PY" -c "import ray" 2>/dev/null; then
    [[ -d .whl ]] || { say "Ray is missing and no .whl/ was carried (run bash ../shared/tools/device-wheels.sh, carry .whl)"; exit 2; }
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl
    export PYTHONPATH=/tmp/site:$PWD${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH=${PYTHONPATH:-$PWD}
DEVICE=$("$PY" -c "import torch; print(torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'cpu')")

left=$(( TIME_BUDGET - ($(date +%s) - T0) ))
plan=$("$PY" -m lawfinder.actors.shipping plan --preset "$PRESET" --seconds-left "$left" --batch-size "$BATCH" \
    --shipped "$SHIPPED" ${RATE:+--rate "$RATE"} ${OVERHEAD_S:+--overhead-seconds "$OVERHEAD_S" --min-train-seconds 1}) \
    || exit 2
eval "$plan"
say "$PLAN_NOTE"
say "$PRESET on $DEVICE: $PLAN_MAX_STEPS steps x $BATCH at ${PLAN_RATE} samples/s ($PLAN_RATE_SOURCE), cut at ${PLAN_TRAIN_SECONDS}s"
# A continued model re-warms briefly; a fresh one warms up as Flash-ANSR's recipe does. 20 % of the steps decay.
if [[ -n "$PLAN_INIT_FROM" ]]; then warmup=0.02; init=(--init-from "$PLAN_INIT_FROM"); else warmup=0.05; init=(); fi
stable=$("$PY" -c "print(round(0.8 - $warmup, 4))")
mkdir -p "$RUN" "$EXPORT"
# A failed or cut-off run still brings back its log and, if it wrote one, its newest intact checkpoint.
set +e
# shellcheck disable=SC2086  # EXTRA_TRAIN_ARGS is a list of flags
timeout --signal=INT $(( ${PLAN_TRAIN_SECONDS%.*} + 120 )) \
"$PY" -m lawfinder train --preset "$PRESET" --producers "$PRODUCERS" --batch-size "$BATCH" \
    --max-steps "$PLAN_MAX_STEPS" --max-time "$PLAN_TRAIN_SECONDS" --out "$RUN" "${init[@]}" \
    --checkpoint-every $(( PLAN_MAX_STEPS / 4 > 0 ? PLAN_MAX_STEPS / 4 : 1 )) --keep 2 --report-every 30 \
    --set-train lr="$LR" --set-train warmup="$warmup" --set-train stable="$stable" ${EXTRA_TRAIN_ARGS:-} \
    2>&1 | tee "$RUN/train.log"
train_rc=${PIPESTATUS[0]}
set -e
tail -n 200 "$RUN/train.log" > "$EXPORT/train.log"
[[ -f "$RUN/metrics.jsonl" ]] && cp "$RUN/metrics.jsonl" "$EXPORT/metrics.jsonl"
(( train_rc == 0 )) || say "lawfinder train exited with status $train_rc; exporting its newest intact checkpoint, if any"

data_args=(); prev=""
for arg in ${EXTRA_TRAIN_ARGS:-}; do [[ $arg == *=* && $prev == --set-data ]] && data_args+=(--set-data "$arg"); prev=$arg; done
"$PY" -m lawfinder.actors.shipping export --run "$RUN" --target "$EXPORT/candidate.pt" --preset "$PRESET" \
    --batch-size "$BATCH" --gpu-seconds $(( $(date +%s) - T0 )) --device "$DEVICE" \
    ${PLAN_INIT_FROM:+--init-from "$PLAN_INIT_FROM"} "${data_args[@]}" > "$EXPORT/lease.json"
say "candidate in $EXPORT: $(cd "$EXPORT" && ls candidate*.pt | tr '\n' ' ')($(du -ch "$EXPORT"/candidate*.pt | tail -1 | cut -f1)); lease: $(cat "$EXPORT/lease.json")"
say "next, on the CPU: python -m lawfinder bench promote $EXPORT/candidate.pt --against default"

#!/usr/bin/env bash
# Grow the shipped model's lineage by one run, then gate the candidate: the one command every session starts early
# (in the background, on one core) and every GPU lease calls.
#
#   bash deploy/grow.sh [MINUTES]          (default 150; the gate's ~12 minutes come after)
#
# It continues the trunk committed in growing/ (lawfinder grow: trunk at the constant peak LR, saved every 10 minutes
# and at the end, then a cool-down branch exported as runs/grow/candidate.pt), then runs the promotion gate
# (lawfinder bench promote: all 115 FastSRB equations, 3 s per problem and model, paired), which replaces the shipped
# weights only if the candidate wins and appends its rows to docs/model-card.md. Commit growing/ and the card after
# it, promoted or not: the next run continues the trunk.
#
# On a CPU it trains on one core under nice (the other core stays free for work); on a GPU it uses the GPU, four
# threads and nproc-2 producer processes, and skips the gate (run it back on the CPU box, where users run the model),
# copying the trunk, its history and the candidate to $OUT when that is set (the device machine's return folder).
# Ctrl-C or SIGTERM saves the trunk and stops; a killed run loses at most the last 10 minutes.
#
# Environment: NICE (10), GATE (1 on a CPU, 0 on a GPU), GATE_SECONDS (3), STATE (growing), RUN (runs/grow),
#   INIT_FROM (weights a new lineage starts from; default none: a fresh start measured better than widening the
#   3-variable model, docs/model-card.md), THREADS, PRODUCERS, PYTHON, EXTRA_ARGS (more `lawfinder grow` flags, e.g.
#   --recipe FILE for a new lineage; the tests use a tiny one).
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${1:-150}
PY=${PYTHON:-python3}
STATE=${STATE:-growing}
RUN=${RUN:-runs/grow}
INIT_FROM=${INIT_FROM:-}
export RAY_USAGE_STATS_ENABLED=0
if "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
    THREADS=${THREADS:-4}; PRODUCERS=${PRODUCERS:-$(( $(nproc) > 3 ? $(nproc) - 2 : 1 ))}; GATE=${GATE:-0}
else
    THREADS=${THREADS:-1}; PRODUCERS=${PRODUCERS:-0}; GATE=${GATE:-1}
fi
export OMP_NUM_THREADS=$THREADS
rm -f "$RUN/candidate.pt"
nice -n "${NICE:-10}" "$PY" -m lawfinder grow --state "$STATE" --run-dir "$RUN" --minutes "$MINUTES" \
    ${INIT_FROM:+--init-from "$INIT_FROM"} --threads "$THREADS" --producers "$PRODUCERS" ${EXTRA_ARGS:-}
if [[ -n "${OUT:-}" ]]; then
    cp "$STATE"/trunk.pt "$STATE"/history.json "$OUT"/
    [[ -f "$RUN/candidate.pt" ]] && cp "$RUN/candidate.pt" "$OUT"/
fi
if [[ "$GATE" != 0 && -f "$RUN/candidate.pt" ]]; then
    "$PY" -m lawfinder bench promote "$RUN/candidate.pt" --against default --seconds "${GATE_SECONDS:-3}"
fi

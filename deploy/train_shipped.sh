#!/usr/bin/env bash
# Rebuilds the model shipped in lawfinder/model/weights/default.pt from scratch with one command:
#   deploy/train_shipped.sh [RUN_DIR]
# It trains through `lawfinder train` (local Ray, or the cluster in RAY_ADDRESS), decontaminated against FastSRB by the
# generator's default, then exports the newest checkpoint's weights (fp32, ~4 MB) into the package. Rerunning on the
# same RUN_DIR resumes. The recipe is a restricted Flash-ANSR prior (<= 3 variables, <= 7 operators, 9 unary
# operators, <= 256 points) sized for a CPU: see docs/model-card.md.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/shipped}
STEPS=${STEPS:-2400}
python -m lawfinder train --preset flash-3M --producers 1 --batch-size 64 --max-steps "$STEPS" --out "$OUT" \
  --checkpoint-every 100 --keep 2 --max-time "${MAXTIME:-0}" --report-every 30 \
  --set-model d_model=128 --set-model n_heads=2 --set-model ffn_hidden=384 --set-model n_inducing=32 \
  --set-model n_seeds=32 --set-model max_variables=3 --set-model max_len=48 --set-model dropout=0.0 \
  --set-train lr=1e-3 --set-train warmup=0.05 --set-train stable=0.65 \
  --set-data max_variables=3 --set-data max_operators=7 --set-data operator_count_scale=2.0 \
  --set-data min_points=32 --set-data max_points=256 --set-data max_skeleton_length=24 --set-data max_len=48 \
  --set-data 'unary_operators={"neg":1,"inv":1,"pow2":1,"pow3":1,"pow1_2":1,"sin":1,"cos":1,"exp":1,"log":1}'
python - "$OUT" <<'PY'
import sys
from pathlib import Path

from lawfinder.actors.checkpoints import newest_checkpoint
from lawfinder.model.checkpoint import load_checkpoint, save_model

run = Path(sys.argv[1])
trainer = load_checkpoint(newest_checkpoint(run))
target = Path("lawfinder/model/weights/default.pt")
target.parent.mkdir(parents=True, exist_ok=True)
save_model(target, trainer.model, recipe="deploy/train_shipped.sh", step=int(trainer.step_count))
print(f"exported step {trainer.step_count} of {run} to {target} ({target.stat().st_size / 1e6:.1f} MB)")
PY

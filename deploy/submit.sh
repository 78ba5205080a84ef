#!/usr/bin/env bash
# Submit `lawfinder train` to a running Ray cluster as a job, shipping this project folder as the working directory.
#
#   RAY_ADDRESS=http://HEAD:8265 deploy/submit.sh --preset flash-3M --producers 60 --max-steps 1000000 --out /shared/runs/3M
#   RAY_ADDRESS=http://HEAD:8265 LEARNERS=4 deploy/submit.sh --preset flash-3M --producers 60 --out /shared/runs/3M
#
# LEARNERS=N (or --learners N among the arguments) trains with N data-parallel learners, one per GPU (Ray Train).
# Arguments after the script name go to `lawfinder train` unchanged. RAY_ADDRESS is the head's dashboard (job) address
# (default http://127.0.0.1:8265); extra `ray job submit` flags go in SUBMIT_FLAGS (e.g. "--no-wait"). Inside the job,
# `lawfinder train` finds the cluster by itself (Ray sets RAY_ADDRESS for the job's driver). --out is a path on the
# trainer's node: use shared storage, or the GPU node's disk. `ray job submit` is Ray's job client, which comes with
# `pip install 'lawfinder[cluster]'` (ray[default]); plain `ray` does not have it.
set -euo pipefail
if ! python -c "import ray.dashboard.modules.job.sdk" 2>/dev/null; then
    echo "deploy/submit.sh: Ray's job client is missing: pip install 'lawfinder[cluster]'" >&2
    exit 2
fi
# Ray's `ray start` turns token authentication on by itself when a token exists; its job client does not, so say so.
if [[ -z "${RAY_AUTH_MODE:-}" && ( -n "${RAY_AUTH_TOKEN:-}" || -f "$HOME/.ray/auth_token" ) ]]; then
    export RAY_AUTH_MODE=token
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck disable=SC2086  # SUBMIT_FLAGS is a list of flags
exec ray job submit --address "${RAY_ADDRESS:-http://127.0.0.1:8265}" --working-dir . \
    --runtime-env deploy/runtime_env.yaml ${SUBMIT_FLAGS:-} -- python -m lawfinder train \
    ${LEARNERS:+--learners "$LEARNERS"} "$@"

#!/bin/bash
# Resume the from-scratch run's trunk in the background, or restart it from the bundled weights.
#
# The trunk (lr 3e-4, the rate-distortion loss only) is where the codec's gains come from
# (docs/results.md, "Does more training still pay?"); every bundled model is an ending branched
# from it (dev/branch_ending.sh). Its run directory is git-ignored, so a new checkout has none:
# then the trunk resumes from the committed snapshot dev/trunk/trunk.pt (dev/trunk_snapshot.py)
# or, without one, restarts from the bundled weights; either way the optimizer state is lost
# (a 1,000-step lr warm-up), and runs/v3/restarted_from says which model the run started from.
# Run it at the start of every session; it prints the pid (also in runs/v3/pid) to pause with
# kill -STOP / -CONT.
#
#   dev/trunk.sh            # 2 threads; THREADS=1 beside other work
set -euo pipefail
cd "$(dirname "$0")/.."
source dev/trunk_flags.sh
TRUNK=runs/v3
W=gan_compress_ros/weights/codec.safetensors
if [ -f "$TRUNK/pid" ] && kill -0 "$(cat "$TRUNK/pid")" 2>/dev/null; then
  echo "trunk already running: pid $(cat "$TRUNK/pid")"; exit 0
fi
mkdir -p "$TRUNK"
SNAPSHOT=dev/trunk/trunk.pt
# --warmup only acts where the optimizer state is missing (a snapshot, or --init); it is
# given on every start, since a trunk stopped before its first save still holds the snapshot
if [ -f "$TRUNK/checkpoint.pt" ]; then
  START=(--resume --warmup 1000)
elif [ -f "$SNAPSHOT" ]; then
  cat dev/trunk/restarted_from > "$TRUNK/restarted_from" 2>/dev/null || echo unknown > "$TRUNK/restarted_from"
  cp "$SNAPSHOT" "$TRUNK/checkpoint.pt"
  START=(--resume --warmup 1000)
  echo "no $TRUNK/checkpoint.pt: resuming the trunk from $SNAPSHOT (dev/trunk/README.md)"
else
  START=(--init "$W" --warmup 1000)
  .venv/bin/python -c "import sys; from gan_compress_ros.codec.api import Codec; \
print(Codec.load(sys.argv[1], backend='torch').model_id)" "$W" > "$TRUNK/restarted_from"
  echo "no $TRUNK/checkpoint.pt: restarting the trunk from $W ($(cat "$TRUNK/restarted_from"))"
fi
nohup .venv/bin/gan-compress-train "${RUN_DATA[@]}" "${RUN_MODEL[@]}" --out "$TRUNK" \
  --lmbda 3 --lmbda-q0 4000 --steps 400000 --gan-start 400000 --threads "${THREADS:-2}" \
  --seed 3 "${START[@]}" > "$TRUNK/train.log" 2>&1 &
echo $! > "$TRUNK/pid"
echo "trunk pid $(cat "$TRUNK/pid"), log $TRUNK/train.log, steps in $TRUNK/train_log.csv"

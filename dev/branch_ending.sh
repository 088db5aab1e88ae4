#!/bin/bash
# Branch an ending from the trunk (runs/v3, dev/trunk.sh) at its latest checkpoint, train it,
# measure it.
#
# Every bundled model of the from-scratch run is such an ending (gan_compress_ros/weights/codec.md,
# "Lineage"): this is model 5881's recipe -- a 10x lower learning rate, the MS-SSIM term and lambda
# 16000 at quality 0 from the branch point, the adversarial stage 2,000 steps later. The trunk
# writes its checkpoint atomically, so it may keep training while this copies it.
#
#   dev/branch_ending.sh runs/v3_ship6           # 16,000 steps, then the general eval
#   dev/branch_ending.sh runs/v3_ship6 6000      # a shorter ending
#   python dev/bd_between.py runs/v3_ship6/eval/rd.csv docs/results/general/rd.csv
#
# Run it again to resume (same RUN and LENGTH). Paths are relative to the project root; the data
# are ../shared/datasets (dev machines only). Threads: THREADS (default 1). A trunk restarted from
# bundled weights (runs/v3/restarted_from) counts its steps from the restart; the file is copied
# beside branch_step so the ending's lineage says so.
set -euo pipefail
cd "$(dirname "$0")/.."
source dev/trunk_flags.sh
RUN=${1:?usage: dev/branch_ending.sh RUN [LENGTH]}
LENGTH=${2:-16000}
V=.venv/bin
if [ ! -f "$RUN/checkpoint.pt" ]; then
  mkdir -p "$RUN"
  cp runs/v3/checkpoint.pt "$RUN/"
  if [ -f runs/v3/restarted_from ]; then cp runs/v3/restarted_from "$RUN/"; fi
  "$V/python" -c "import torch, sys; print(torch.load(sys.argv[1], map_location='cpu', weights_only=False)['step'])" \
    "$RUN/checkpoint.pt" > "$RUN/branch_step"
  # the trunk's log up to the checkpoint (it may have logged steps after it since)
  awk -F, -v s="$(cat "$RUN/branch_step")" 'NR == 1 || $1 <= s' runs/v3/train_log.csv > "$RUN/train_log.csv"
fi
S=$(cat "$RUN/branch_step")
echo "ending $RUN: branched at $S, to $((S + LENGTH))"
"$V/gan-compress-train" "${RUN_DATA[@]}" "${RUN_MODEL[@]}" --out "$RUN" \
  --lmbda 3 --lmbda-q0 16000 --steps $((S + LENGTH)) --lr-drop "$S" --gan-start $((S + 2000)) \
  --msssim-weight 1000 --threads "${THREADS:-1}" --seed 3 --resume
"$V/gan-compress-eval" --weights "$RUN/weights.safetensors" --data "${GENERAL_VAL[@]}" \
  --frame-stride 10 --crops multiscale --out "$RUN/eval"
"$V/python" dev/zero_latent.py "$RUN/weights.safetensors" || true  # bundleable only if it fits MIN_CAP

# The from-scratch run's data and model flags, shared by dev/trunk.sh and dev/branch_ending.sh
# (sourced, not run). Paths are relative to the project root; the data are ../shared/datasets
# (dev machines only): commercial-use sets only (gan_compress_ros/weights/DATA_CREDITS.md).
# Python dev tools read these arrays through dev/run_data.py.
# the general validation set (docs/results.md): the run's --val and the candidates' eval
GENERAL_VAL=(../shared/datasets/photos/val ../shared/datasets/wallpapers/val ../shared/datasets/video/val)
RUN_DATA=(--data ../shared/datasets/photos/train ../shared/datasets/wallpapers/train
  ../shared/datasets/video/train/intel ../shared/datasets/birds525/train --balance
  --val "${GENERAL_VAL[@]}")
RUN_MODEL=(--preset compact2 --preset-config '{"latent_channels":128,"context_hidden":96}'
  --beta 4 --batch 16 --checkpoint-every 250)

#!/bin/sh
# The CNN of example 05 trained for one epoch on MNIST (55,000 images, batch 64, AdamW + cosine)
# by tensorgraph and by PyTorch 1.13 (benchmarks/peers/cnn_torch.py), one after the other in the
# same run, for each thread count given. Prints the seconds of the epoch's training steps
# (PyTorch) and of the epoch with its validation pass (both), as JSON lines.
#
#   benchmarks/train/compare_cnn_torch.sh [DATA_DIR] [THREADS...]    (default: ../shared/data 1 2)
#
# Needs build/tensorgraph (Release) and /usr/bin/python3 with python3-torch and
# libopenblas0-pthread. PyTorch runs with OMP_WAIT_POLICY=PASSIVE, as its peer scripts do.
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
data=${1:-$here/../shared/data}
[ $# -gt 0 ] && shift
threads=${*:-1 2}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for t in $threads; do
  "$here/build/tensorgraph" train cnn --data "$data" --epochs 1 --threads "$t" --json \
      --out "$tmp/cnn.safetensors" 2>/dev/null |
    python3 -c "import json,sys; j=json.load(sys.stdin); print(json.dumps({'engine': 'tensorgraph', 'threads': $t, 'epoch_seconds_with_validation': j['seconds_per_epoch'], 'test_accuracy_after_1_epoch': j['test']['accuracy']}))"
  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 "$here/benchmarks/peers/cnn_torch.py" \
      --data "$data" --epochs 1 --threads "$t" |
    python3 -c "
import json, sys
lines = [json.loads(l) for l in sys.stdin]
e = [l for l in lines if 'epoch' in l][0]
t = [l for l in lines if 'test_accuracy' in l][0]
print(json.dumps({'engine': 'pytorch ' + lines[0]['version'], 'threads': $t, 'epoch_train_seconds': e['train_seconds'], 'epoch_seconds_with_validation': e['seconds'], 'test_accuracy_after_1_epoch': t['test_accuracy']}))"
done

#!/usr/bin/env bash
# Downloads models into models/ with `tensorgraph download` (building it first if needed).
#   models/download_models.sh                 the default model -> models/distilbert-sentiment/
#   models/download_models.sh --force         download it again
#   models/download_models.sh acme/tiny ...   any arguments of `tensorgraph download`
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec "$root/scripts/run" download "$@"

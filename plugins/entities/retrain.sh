#!/bin/sh
# Rebuild plugins/entities/model.bin (the default model) from ../shared/ner-train.
# Usage: plugins/entities/retrain.sh BUILD_DIR     (e.g. build)
# Deterministic: the same inputs give the same bytes.
# gum.conll (Wikipedia/Wikinews, the closest to news) is listed twice: its
# sentences count twice and, with --domains, its corpus-specific weights are
# split over two copies, so the shared weights (the ones the stage uses)
# learn more of it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
data=${NER_TRAIN:-$here/../../../shared/ner-train}
exec "$build/plugins/entities/docproc-train" \
  --train "$data/gum.conll" "$data/sec-filings.conll" "$data/btc.conll" \
          "$data/wnut17.conll" "$data/re3d.conll" "$data/gum.conll" \
  --gazetteer "$here/data/gazetteer.tsv" --gazetteer "$here/data/wordclass.tsv" \
  --domains --epochs 6 --bits 18 --seed 1 --runs 5 \
  -o "$here/model.bin"

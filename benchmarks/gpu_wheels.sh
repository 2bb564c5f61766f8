#!/usr/bin/env bash
# Download the wheels benchmarks/gpu_check.sh installs offline on a GPU machine without network.
#
# Usage: bash benchmarks/gpu_wheels.sh [FOLDER]      (default: .gpu-wheels/ in the repo root, git-ignored)
#
# The GPU machine (python 3.12, linux x86_64) already has torch, transformers, accelerate, safetensors,
# tokenizers, numpy, pandas, pyarrow, rich, typer, pyyaml and pytest; xstilts also needs pydantic, datasets,
# tensorboardX, and for generation tasks sacrebleu and py3langid. Each is fetched here with --no-deps at the
# version this checkout is tested with (the versions of the active Python environment when it has them), with
# the pure-Python or small dependencies the GPU machine may lack. Big libraries it has (torch, pyarrow, numpy) stay behind: the working tree that travels
# to that machine is limited to 64 MiB, wheels included. xstilts itself travels as source (PYTHONPATH=src).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
folder="${1:-$root/.gpu-wheels}"
limit_mib=48   # the wheels' share of the 64 MiB: the repo's own files take a few MiB

# distribution name -> import check; versions come from this environment when installed there
packages=(pydantic pydantic-core annotated-types typing-inspection typing-extensions
          datasets dill multiprocess xxhash fsspec tensorboardX
          sacrebleu portalocker tabulate colorama lxml py3langid)  # generation: BLEU, the off-target share

version_here() {
    python3 - "$1" <<'EOF'
import importlib.metadata as metadata
import sys
try:
    print(metadata.version(sys.argv[1]))
except metadata.PackageNotFoundError:
    print("")
EOF
}

mkdir -p "$folder"
specs=()
for name in "${packages[@]}"; do
    version="$(version_here "$name")"
    specs+=("${name}${version:+==$version}")
done
echo "downloading into $folder: ${specs[*]}"
python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d "$folder" "${specs[@]}"

size_kib=$(du -sk "$folder" | cut -f1)
echo "wheels: $(find "$folder" -name "*.whl" | wc -l) files, $((size_kib / 1024)) MiB in $folder"
ls -1 "$folder"
if (( size_kib > limit_mib * 1024 )); then
    echo "too big: the wheels take more than $limit_mib MiB of the 64 MiB that travel; remove old versions" >&2
    exit 1
fi

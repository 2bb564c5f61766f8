#!/usr/bin/env bash
# One check of xstilts on a GPU machine without network, in well under 8 minutes on one H200:
#
#   1. install the wheels of .gpu-wheels/ that the machine lacks (offline; benchmarks/gpu_wheels.sh fetches
#      them beforehand where there is network), xstilts itself from source (PYTHONPATH=src);
#   2. the GPU (nvidia-smi, torch's view of it);
#   3. `pytest -m gpu` (tests/test_gpu.py, tests/test_gpu_path.py);
#   4. benchmarks/throughput.py at XLM-R-large shape (built from its config: no hub) on cuda in bf16;
#   5. a phang2020-shaped pipeline at that size: an intermediate stage (micro NLI) -> a target stage (micro
#      XNLI) -> zero-shot evaluation in every micro language, and retrieval (Tatoeba, BUCC) on the intermediate
#      encoder; 200 training steps in all;
#
# each step under its own time limit, then one summary (what passed, the numbers).
#
# Usage:   bash benchmarks/gpu_check.sh              on the GPU machine
#          bash benchmarks/gpu_check.sh --dry-run    the same steps at tiny size on this CPU (< 2 min on a quiet
#                                                    2-core machine); XSTILTS_GPU_CHECK_CPU=1 does the same
# Logs go to $OUT when it is set (the device tool brings that folder back), else to a temporary folder.
# Through the device tool: run bash benchmarks/gpu_wheels.sh here first, then
#   run(command="bash benchmarks/gpu_check.sh", carry=[".gpu-wheels"], timeout_s=540)
# shellcheck disable=SC2317  # the step functions run through `bash -c` under timeout
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root" || exit 1
cpu="${XSTILTS_GPU_CHECK_CPU:-0}"
[[ "${1:-}" == "--dry-run" ]] && cpu=1
python="${PYTHON:-python3}"
work="$(mktemp -d "${TMPDIR:-/tmp}/xstilts-gpu-check.XXXXXX")"
logs="${OUT:-$work/logs}"
mkdir -p "$logs"
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1
export XSTILTS_HOME="$work/home" PYTHONPATH="$root/src:$root/tests${PYTHONPATH:+:$PYTHONPATH}"

if [[ "$cpu" == 1 ]]; then
    # The same steps, tiny: an encoder of 2 layers, hidden 128, the micro-tiny tasks, a few steps.
    mode="CPU dry run (tiny size)"
    device=cpu precision=auto size=tiny prefix=micro-tiny-
    build="{architecture: xlm-roberta, hidden_size: 128, num_layers: 2, num_heads: 2, intermediate_size: 512, max_length: 256}"
    throughput_args=(--size tiny --device cpu --precision auto --steps 2 --rounds 1)
    intermediate_steps=10 target_steps=10 eval_examples=30
    limits=(install=60 gpu=15 pytest=60 throughput=300 pipeline=180)  # generous: CPUs here are shared
else
    mode="GPU (XLM-R-large shape, bf16)"
    device=cuda precision=bf16 size=large prefix=micro-
    build="{architecture: xlm-roberta, hidden_size: 1024, num_layers: 24, num_heads: 16, intermediate_size: 4096, max_length: 256}"
    throughput_args=(--size large --device cuda --precision bf16 --steps 30 --rounds 2 --batch-size 128)
    intermediate_steps=100 target_steps=100 eval_examples=200
    # 40 + 10 + 80 + 220 + 120 = 470 s at most: the whole check stays under 8 minutes
    limits=(install=40 gpu=10 pytest=80 throughput=220 pipeline=120)
fi
limit() { local pair; for pair in "${limits[@]}"; do [[ "${pair%%=*}" == "$1" ]] && echo "${pair#*=}"; done; }

names=() verdicts=()
# step NAME COMMAND...: run it under NAME's time limit, its output on the terminal and in $logs/NAME.log
step() {
    local name="$1" seconds start rc verdict
    shift
    seconds="$(limit "$name")"
    echo
    echo "=== $name (limit ${seconds} s)"
    start=$(date +%s)
    if declare -F "$1" >/dev/null; then  # a function of this script: timeout runs programs, so through bash
        timeout --kill-after=10 "$seconds" bash -c "$1" 2>&1 | tee "$logs/$name.log"
    else
        timeout --kill-after=10 "$seconds" "$@" 2>&1 | tee "$logs/$name.log"
    fi
    rc=${PIPESTATUS[0]}
    case $rc in
        0) verdict="passed" ;;
        124|137) verdict="TIMED OUT after ${seconds} s" ;;
        *) verdict="FAILED (exit $rc)" ;;
    esac
    names+=("$name")
    verdicts+=("$verdict in $(( $(date +%s) - start )) s")
}

install_wheels() {
    # Only what the machine lacks: its own torch, numpy and pyarrow builds must stay as they are.
    local missing
    read -ra missing <<< "$("$python" - <<'EOF'
import importlib.metadata as metadata
needed = ["pydantic", "pydantic-core", "annotated-types", "typing-inspection", "datasets", "dill",
          "multiprocess", "xxhash", "fsspec", "tensorboardX", "typing-extensions"]
missing = []
for name in needed:
    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        missing.append(name)
print(" ".join(missing))
EOF
)"
    if (( ${#missing[@]} == 0 )); then
        echo "every package xstilts needs is installed"
    elif [[ ! -d .gpu-wheels ]]; then
        echo "missing: ${missing[*]}, and no .gpu-wheels/ folder: run benchmarks/gpu_wheels.sh where there is network" \
             "and carry .gpu-wheels" >&2
        return 1
    else
        echo "installing from .gpu-wheels/: ${missing[*]}"
        # With dependencies first (pip checks versions against what is installed); where a pin cannot be met
        # offline (datasets' pyarrow or fsspec bounds, say), the wheels alone, then the imports decide.
        "$python" -m pip install -q --no-index --find-links .gpu-wheels "${missing[@]}" \
            || "$python" -m pip install -q --no-index --no-deps --find-links .gpu-wheels "${missing[@]}" || return 1
    fi
    "$python" - <<'EOF'
import importlib.metadata as metadata
import datasets, pydantic, tensorboardX, torch, transformers, accelerate  # noqa: F401
import xstilts.cli  # noqa: F401
names = ["torch", "transformers", "accelerate", "datasets", "pydantic", "pyarrow", "tokenizers", "safetensors"]
print("versions: " + ", ".join(f"{name} {metadata.version(name)}" for name in names))
EOF
}

show_gpu() {
    if [[ "$cpu" == 1 ]]; then
        echo "no GPU in a dry run"
    else
        nvidia-smi || return 1
    fi
    "$python" -c "
import torch
print(f'torch {torch.__version__}, cuda {torch.version.cuda}, available {torch.cuda.is_available()}')
if torch.cuda.is_available():
    p = torch.cuda.get_device_properties(0)
    print(f'{p.name}: {p.total_memory / 2**30:.0f} GiB, {p.multi_processor_count} SMs, bf16 {torch.cuda.is_bf16_supported()}')
elif '$cpu' != '1':
    raise SystemExit('torch sees no CUDA device')
"
}

run_pytest() {
    # On a CPU the gpu tests are skipped: the dry run checks that they are collected and import.
    "$python" -m pytest -p no:cacheprovider -m gpu -rs tests/test_gpu.py tests/test_gpu_path.py
}

run_pipeline() {
    local study="$work/pipeline.yaml" out="$work/pipeline-out"
    cat > "$study" <<EOF
# phang2020 in miniature at ${size} size: intermediate -> target -> zero-shot evaluation in every micro
# language, and retrieval on the intermediate encoder.
name: gpu-check-pipeline
model:
  label: xlmr-${size}-shape
  build: ${build}
  tokenizer: {train: {corpus: [${prefix}mlm], vocab_size: 8000}}
seeds: [0]
stages:
  nli:
    sources: [{task: ${prefix}nli}]
    steps: ${intermediate_steps}
    batch_size: 32
    max_length: 128
    optimizer: {lr: 5.0e-5}
    selection: {max_examples: ${eval_examples}}
  xnli:
    sources: [{task: ${prefix}xnli}]
    steps: ${target_steps}
    batch_size: 32
    max_length: 128
    optimizer: {lr: 5.0e-5}
    selection: {max_examples: ${eval_examples}}
pipelines:
  nli-xnli: [nli, xnli]
  nli-retrieval: {stages: [nli], evaluate: [${prefix}tatoeba, ${prefix}bucc]}
evaluate: {split: test, languages: all, max_examples: ${eval_examples}}
runtime: {device: ${device}, precision: ${precision}, progress: false, trackers: []}
store: ${work}/store
EOF
    "$python" -m xstilts run "$study" --out "$out" --quiet || return 1
    "$python" - "$out" "$work/store" <<'EOF'
import csv, json, sys
from pathlib import Path
out, store = Path(sys.argv[1]), Path(sys.argv[2])
rows = list(csv.DictReader(open(out / "results.csv")))
main = [r for r in rows if r.get("main") == "True"]
by_task = {}
for r in main:
    by_task.setdefault(r["task"], []).append(f"{r['language']} {float(r['value']):.1f}")
print(f"pipeline: {len(rows)} result rows")
for task, values in sorted(by_task.items()):
    print(f"pipeline: {task}: {', '.join(values)}")
for metrics in sorted(store.glob("*/metrics.json")):
    m = json.loads(metrics.read_text())
    print(f"pipeline: stage {m['stage']}: {m['steps']} steps, {m['train_examples_per_s']:.1f} examples/s")
if not main:
    raise SystemExit("pipeline: no results")
EOF
}

export -f install_wheels show_gpu run_pytest run_pipeline
export cpu python work size build prefix device precision intermediate_steps target_steps eval_examples
echo "xstilts GPU check: $mode; logs in $logs"
step install install_wheels
step gpu show_gpu
step pytest run_pytest
step throughput "$python" benchmarks/throughput.py "${throughput_args[@]}"
step pipeline run_pipeline

echo
echo "=== summary: $mode"
failed=0
for i in "${!names[@]}"; do
    printf '%-11s %s\n' "${names[$i]}" "${verdicts[$i]}"
    [[ "${verdicts[$i]}" == passed* ]] || failed=1
done
grep -h -E "^[A-Z].*(H200|H100|A100|GiB)" "$logs/gpu.log" 2>/dev/null | tail -1
grep -E "(passed|failed|skipped|error)" "$logs/pytest.log" 2>/dev/null | tail -1 | sed 's/^/pytest: /'
grep -h -E "^(model|precision|matmul peak):|MFU|^ratio" "$logs/throughput.log" 2>/dev/null
grep -h "^pipeline:" "$logs/pipeline.log" 2>/dev/null
rm -rf "${work:?}/store" "${work:?}/home"  # checkpoints at large size are gigabytes; the logs stay
exit $failed

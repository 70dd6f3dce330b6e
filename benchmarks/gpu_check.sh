#!/usr/bin/env bash
# The checks that need a GPU: the CUDA tests (training on CUDA, one GPU per
# Dask worker, data parallelism on two GPUs when there are two), then the
# IMDB benchmark of every peft_method on CUDA with bfloat16 autocast. Run from the
# repository root, in the project's environment, on a machine with CUDA:
#   bash benchmarks/gpu_check.sh [extra arguments for bench_finetune.py]
set -euo pipefail
export HF_HUB_OFFLINE=1
python -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'"
python -m pytest -q -p no:cacheprovider -m gpu tests/finetune tests/neural_network \
    tests/parallel
python benchmarks/bench_finetune.py --device cuda --mixed-precision bf16 \
    --n-train 2000 --n-test 1000 --max-length 256 --epochs 3 \
    --json bench_finetune_cuda.json "$@"

#!/usr/bin/env bash
# scripts/gpu-check.sh: the engine on CUDA (issue 20, execution providers).
# With an NVIDIA GPU: checks that onnxruntime-node's CUDA provider is installed, runs the engine's
# parity tests (greedy output identical alone / batched / paged, and against transformers.js) with
# every session on CUDA (PARLEY_ENGINE_DEVICE=cuda), then the throughput bench, whose results are kept
# as bench/results/engine-cuda.{json,md,svg} (the CPU results in engine.* are left as they were).
# Without a GPU: says that it skipped, and why, and exits 0 — it has checked nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

skip() {
  echo "gpu-check: SKIPPED — $1"
  echo "gpu-check: nothing was run on CUDA; the engine's CUDA path is untested on this machine."
  exit 0
}

command -v nvidia-smi >/dev/null 2>&1 || skip "no nvidia-smi on PATH (no NVIDIA driver: no GPU to test on)"
gpus=$(nvidia-smi -L 2>/dev/null || true)
[ -n "$gpus" ] || skip "nvidia-smi lists no GPU"
echo "gpu-check: GPU(s):"
echo "$gpus" | sed 's/^/  /'

# The CUDA provider files are not in the npm package; they come from NuGet at install time.
missing=$(node --import tsx -e "import('./inference/engine/execution-provider.ts').then((m) => console.log(m.cudaProviderMissing() ?? ''))")
if [ -n "$missing" ]; then
  echo "gpu-check: FAILED — $missing" >&2
  exit 1
fi

export PARLEY_ENGINE_DEVICE=cuda
echo "gpu-check: engine parity tests on CUDA"
node --import tsx --test --test-reporter=spec \
  tests/integration/engine-greedy.test.ts \
  tests/integration/model-parity.test.ts \
  tests/integration/engine-paged-model.test.ts \
  tests/integration/engine-api.test.ts

echo "gpu-check: throughput bench on CUDA"
backup=$(mktemp -d)
cp bench/results/engine.* "$backup"/ 2>/dev/null || true
npm run -s bench:engine
for f in bench/results/engine.json bench/results/engine.md bench/results/engine.svg; do
  [ -f "$f" ] && mv "$f" "${f/engine./engine-cuda.}"
done
cp "$backup"/engine.* bench/results/ 2>/dev/null || true
rm -rf "$backup"
echo "gpu-check: PASSED — parity tests green on CUDA; throughput in bench/results/engine-cuda.md"

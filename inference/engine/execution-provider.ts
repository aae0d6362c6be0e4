import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

// Which onnxruntime execution provider runs a model: 'cpu' (the default) or 'cuda' (PARLEY_MODELS
// `device`, or PARLEY_ENGINE_DEVICE for every session of a process: scripts/gpu-check.sh runs the
// engine's tests that way). CUDA needs onnxruntime-node's CUDA files (README: GPU workers); when they
// are missing, the session is refused with a message saying so, never quietly run on the CPU.
export type Device = 'cpu' | 'cuda';

export class CudaUnavailableError extends Error {
  readonly code = 'CUDA_UNAVAILABLE';
}

export function deviceOf(device?: Device): Device {
  return device ?? (process.env.PARLEY_ENGINE_DEVICE === 'cuda' ? 'cuda' : 'cpu');
}

export function executionProviders(device?: Device): string[] {
  if (deviceOf(device) === 'cpu') return ['cpu'];
  const missing = cudaProviderMissing();
  if (missing) throw new CudaUnavailableError(missing);
  // onnxruntime places nodes the CUDA provider cannot run on its CPU provider by itself.
  return ['cuda'];
}

/** why the CUDA provider cannot load (its library is not next to onnxruntime-node's binding), or null */
export function cudaProviderMissing(): string | null {
  const lib = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
  let bin: string;
  try {
    bin = path.join(path.dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json')), 'bin');
  } catch {
    return 'onnxruntime-node is not installed';
  }
  const dirs = existsSync(bin) ? readdirSync(bin).map((napi) => path.join(bin, napi, process.platform, process.arch)) : [];
  if (dirs.some((d) => existsSync(path.join(d, lib)))) return null;
  return `device "cuda" needs onnxruntime-node's CUDA provider (${lib} in ${dirs[0] ?? bin}), which is not installed: `
    + 'reinstall it with ONNXRUNTIME_NODE_INSTALL=cuda12 (README: GPU workers), or use device "cpu"';
}

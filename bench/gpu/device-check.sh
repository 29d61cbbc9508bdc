#!/usr/bin/env bash
# The GPU device check (issue 19; docs/BACKENDS.md "GPU execution"): Turbine's GPU build serves ResNet18 and MiniLM
# with ONNX Runtime's CUDA provider, then with TensorRT (FP16, engine cache), each model on KIND_GPU instances, and
# `turbine bench` measures throughput and latency while nvidia-smi samples GPU utilization and memory every second.
# Needs a machine with an NVIDIA GPU, its driver, CUDA 12 + cuDNN 9 (+ TensorRT 10 for the TensorRT runs) and the
# .NET 10 SDK with NuGet reachable (or the packages restored beforehand); the machines that build Turbine have no GPU.
#   bash bench/gpu/device-check.sh [OUT_FOLDER]        # then copy OUT_FOLDER/summary.md into docs/BENCHMARKS.md
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-${OUT:-/tmp/turbine-device-check}}
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader > "$out/gpu.csv"
echo "GPU: $(cat "$out/gpu.csv")"

dotnet build src/Turbine.Cli -c Release -p:TurbineGpu=true -v quiet -nologo
turbine=(dotnet src/Turbine.Cli/bin/Release/net10.0/turbine.dll)

# The demo repository holds both models (ResNet18 and all-MiniLM-L6-v2, from their NuGet packages); each run serves
# copies of them with a GPU configuration of its own.
# `turbine serve` without -m generates the demo repository (samples/models) before it serves it.
"${turbine[@]}" serve --host 127.0.0.1 --http-port 0 --grpc-port 0 --metrics-port -1 >/dev/null 2>&1 & demo_pid=$!
for _ in $(seq 1 120); do [ -f samples/models/minilm/1/model.onnx ] && [ -f samples/models/resnet18/1/model.onnx ] && break; sleep 1; done
kill "$demo_pid" 2>/dev/null || true

# A MiniLM request: "a man is playing a guitar" as BERT token ids, batch of one.
cat > "$out/minilm-request.json" <<'JSON'
{"inputs": [
  {"name": "input_ids", "datatype": "INT64", "shape": [1, 8], "data": [101, 1037, 2158, 2003, 2652, 1037, 2858, 102]},
  {"name": "attention_mask", "datatype": "INT64", "shape": [1, 8], "data": [1, 1, 1, 1, 1, 1, 1, 1]},
  {"name": "token_type_ids", "datatype": "INT64", "shape": [1, 8], "data": [0, 0, 0, 0, 0, 0, 0, 0]}]}
JSON

accelerator() {
  case "$1" in
    cuda) echo '"execution_accelerators": {"gpu_execution_accelerator": [{"name": "cuda"}]}' ;;
    tensorrt) echo "\"execution_accelerators\": {\"gpu_execution_accelerator\": [{\"name\": \"tensorrt\", \"parameters\": {\"precision_mode\": \"FP16\", \"max_workspace_size_bytes\": \"4294967296\", \"trt_engine_cache_enable\": \"1\", \"trt_engine_cache_path\": \"$out/trt-cache\", \"trt_timing_cache_enable\": \"1\", \"trt_timing_cache_path\": \"$out/trt-cache\"}}]}" ;;
  esac
}

echo "| model | provider | callers | requests/s | p50 ms | p99 ms | GPU utilization % (mean while loaded) | GPU memory MiB (max) |" > "$out/summary.md"
echo "|---|---|---:|---:|---:|---:|---:|---:|" >> "$out/summary.md"
for provider in cuda tensorrt; do
  repo="$out/repo-$provider"
  rm -rf "$repo" && mkdir -p "$repo" "$out/trt-cache"
  cp -r samples/models/resnet18 samples/models/minilm "$repo/"
  cat > "$repo/resnet18/config.json" <<JSON
{"name": "resnet18", "max_batch_size": 32, "instance_group": [{"kind": "KIND_GPU", "count": 2, "gpus": [0]}],
 "dynamic_batching": {"max_queue_delay_microseconds": 1000}, "optimization": {$(accelerator "$provider")}}
JSON
  cat > "$repo/minilm/config.json" <<JSON
{"name": "minilm", "max_batch_size": 32, "instance_group": [{"kind": "KIND_GPU", "count": 2, "gpus": [0]}],
 "input": [{"name": "input_ids", "data_type": "TYPE_INT64", "dims": [-1]}, {"name": "attention_mask", "data_type": "TYPE_INT64", "dims": [-1]}, {"name": "token_type_ids", "data_type": "TYPE_INT64", "dims": [-1]}],
 "output": [{"name": "last_hidden_state", "data_type": "TYPE_FP32", "dims": [-1, 384]}],
 "dynamic_batching": {"max_queue_delay_microseconds": 500}, "optimization": {$(accelerator "$provider")}}
JSON
  "${turbine[@]}" serve -m "$repo" --host 127.0.0.1 --http-port 18000 --grpc-port 18001 --metrics-port -1 --log-level Warning > "$out/serve-$provider.log" 2>&1 & server=$!
  for _ in $(seq 1 600); do curl -sf localhost:18000/v2/health/ready >/dev/null && break; sleep 1; done # TensorRT builds its engines at load
  for model in resnet18 minilm; do
    input=(); [ "$model" = minilm ] && input=(--input-file "$out/minilm-request.json")
    nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader,nounits -l 1 > "$out/smi-$model-$provider.csv" & smi=$!
    "${turbine[@]}" bench "$model" --url http://127.0.0.1:18000 --concurrency 1,8,32 --window 5 "${input[@]}" --json "$out/bench-$model-$provider.json" > "$out/bench-$model-$provider.txt"
    kill "$smi"
    python3 - "$out/bench-$model-$provider.json" "$out/smi-$model-$provider.csv" "$model" "$provider" >> "$out/summary.md" <<'PY'
import json, sys
steps = json.load(open(sys.argv[1]))
samples = [line.split(",") for line in open(sys.argv[2]) if line.strip()]
busy = [float(u) for u, _ in samples if float(u) > 0] or [0.0]
memory = max(float(m) for _, m in samples) if samples else 0
for step in steps:
    print(f"| {sys.argv[3]} | {sys.argv[4]} | {step['load']} | {step['throughput_rps']:.0f} | {step['p50_ms']:.2f} | {step['p99_ms']:.2f} | {sum(busy) / len(busy):.0f} | {memory:.0f} |")
PY
  done
  kill "$server"; wait "$server" 2>/dev/null || true
done
cat "$out/summary.md"

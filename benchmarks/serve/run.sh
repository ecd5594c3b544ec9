#!/usr/bin/env bash
# Load test of `tensorgraph serve` with wrk (Debian package `wrk`): starts the server on a free
# loopback port, warms it up, drives POST /predict with real sentences for a fixed time, scrapes
# /metrics before and after, stops the server with SIGTERM (it must exit 0), and reports
# requests/s, sentences/s, p50/p90/p99 latency, socket errors, non-2xx answers and the batch
# sizes the dynamic batcher reached.
#
#   benchmarks/serve/run.sh --model lexicon
#   benchmarks/serve/run.sh --model distilbert --model-dir models/distilbert-random
#   benchmarks/serve/run.sh --model distilbert --duration 30 --connections 64 --max-batch 32
#
# Options (defaults in brackets):
#   --model auto|distilbert|lexicon [lexicon]   --model-dir DIR (DistilBERT folder)
#   --duration S [30]     --connections N [64]  --threads N [2] (wrk threads)
#   --max-batch N [32]    --max-wait-ms MS [5]  --inputs N [1] (sentences per request)
#   --sentences FILE [../shared/data/sst2/dev.tsv] (one text per line; a .tsv's first column)
#   --warmup S [5]        --binary PATH [build/tensorgraph]   --json (one JSON object)
#   -- ARGS...            more arguments for `tensorgraph serve`
# The full-size random DistilBERT: tensorgraph make-random-model --vocab
#   ../shared/fixtures/bert-base-uncased/vocab.txt   (writes models/distilbert-random)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

model=lexicon model_dir="" duration=30 connections=64 threads=2 max_batch=32 max_wait_ms=5
inputs=1 sentences="../shared/data/sst2/dev.tsv" warmup=5 binary="build/tensorgraph" json=0
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model="$2"; shift 2 ;;
    --model-dir) model_dir="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --max-batch) max_batch="$2"; shift 2 ;;
    --max-wait-ms) max_wait_ms="$2"; shift 2 ;;
    --inputs) inputs="$2"; shift 2 ;;
    --sentences) sentences="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --binary) binary="$2"; shift 2 ;;
    --json) json=1; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "run.sh: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
[ -x "$binary" ] || { echo "run.sh: $binary not built (cmake --build build --target tensorgraph_cli)" >&2; exit 1; }
[ -f "$sentences" ] || { echo "run.sh: no sentence file $sentences" >&2; exit 1; }

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then kill -KILL "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# One JSON body per line: {"inputs": "sentence"} (or a list of `inputs` sentences).
python3 - "$sentences" "$inputs" > "$work/bodies.jsonl" <<'PY'
import json, sys
path, per = sys.argv[1], int(sys.argv[2])
texts = []
with open(path, encoding="utf-8") as f:
    for i, line in enumerate(f):
        line = line.rstrip("\n")
        if path.endswith(".tsv"):
            if i == 0 and line.startswith("sentence\t"):
                continue
            line = line.split("\t")[0]
        line = line.strip()
        if line:
            texts.append(line)
for i in range(0, len(texts) - per + 1, per):
    chunk = texts[i:i + per]
    print(json.dumps({"inputs": chunk[0] if per == 1 else chunk}, ensure_ascii=False))
PY
sentence_count=$(wc -l < "$work/bodies.jsonl")

args=(serve --model "$model" --port 0 --max-batch "$max_batch" --max-wait-ms "$max_wait_ms")
[ -n "$model_dir" ] && args+=(--model-dir "$model_dir")
args+=("${extra[@]}")
"$binary" "${args[@]}" 2> "$work/server.log" &
server_pid=$!
port=""
for _ in $(seq 1 600); do
  port="$(grep -o 'listening on http://[^;]*' "$work/server.log" 2>/dev/null | sed 's/.*://' || true)"
  [ -n "$port" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; echo "run.sh: the server did not start" >&2; exit 1; }
  sleep 0.2
done
[ -n "$port" ] || { echo "run.sh: the server did not start within 120 s" >&2; exit 1; }
url="http://127.0.0.1:$port"

scrape() { curl -s "$url/metrics" > "$1"; }
if [ "$warmup" != "0" ]; then
  wrk -t"$threads" -c"$connections" -d"${warmup}s" --timeout 30s -s benchmarks/serve/predict.lua "$url" -- "$work/bodies.jsonl" > /dev/null
fi
# The warm-up's clients are gone: let the server drop or finish what they left queued.
for _ in $(seq 1 600); do
  curl -s "$url/metrics" | grep -q '^tensorgraph_queue_depth 0$' && break
  sleep 0.1
done
scrape "$work/before.prom"
wrk -t"$threads" -c"$connections" -d"${duration}s" --timeout 30s --latency \
    -s benchmarks/serve/predict.lua "$url" -- "$work/bodies.jsonl" > "$work/wrk.out"
scrape "$work/after.prom"
kill -TERM "$server_pid"
server_status=0
wait "$server_pid" || server_status=$?
server_pid=""

python3 - "$work" "$model" "$inputs" "$connections" "$duration" "$max_batch" "$max_wait_ms" \
    "$server_status" "$json" "$sentence_count" <<'PY'
import json, re, sys
work, model, inputs, connections, duration, max_batch, max_wait_ms, status, as_json, count = sys.argv[1:]
inputs, connections, status = int(inputs), int(connections), int(status)

def metrics(path):
    values = {}
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        name, value = line.rsplit(" ", 1)
        values[name] = float(value)
    return values

before, after = metrics(f"{work}/before.prom"), metrics(f"{work}/after.prom")
delta = lambda k: after.get(k, 0.0) - before.get(k, 0.0)
wrk_out = open(f"{work}/wrk.out").read()
m = re.search(r"^RESULT (.*)$", wrk_out, re.M)
if not m:
    sys.exit("run.sh: no RESULT line from wrk:\n" + wrk_out)
r = {k: float(v) for k, v in (kv.split("=") for kv in m.group(1).split())}

batches = delta("tensorgraph_batch_size_count")
texts = delta("tensorgraph_batch_size_sum")
buckets, previous = [], 0.0
for le in ["1", "2", "4", "8", "16", "32", "64", "128", "256", "512", "1024", "+Inf"]:
    c = delta(f'tensorgraph_batch_size_bucket{{le="{le}"}}')
    if c - previous > 0:
        buckets.append((le, int(c - previous)))
    previous = c
tokens, padded = delta("tensorgraph_tokens_total"), delta("tensorgraph_padded_tokens_total")
queue_n = delta("tensorgraph_queue_duration_seconds_count")
infer_n = delta("tensorgraph_inference_duration_seconds_count")
result = {
    "model": model,
    "connections": connections,
    "duration_s": r["seconds"],
    "inputs_per_request": inputs,
    "max_batch": int(max_batch),
    "max_wait_ms": float(max_wait_ms),
    "requests": int(r["requests"]),
    "requests_per_s": round(r["rps"], 1),
    "sentences_per_s": round(r["rps"] * inputs, 1),
    "latency_ms": {"p50": r["p50_ms"], "p90": r["p90_ms"], "p99": r["p99_ms"], "max": r["max_ms"]},
    "socket_errors": int(r["connect"] + r["read"] + r["write"] + r["timeout"]),
    "non_2xx": int(r["non2xx"]),
    "batches": int(batches),
    "mean_batch_size": round(texts / batches, 2) if batches else 0,
    "batch_sizes": {le: n for le, n in buckets},
    "padding_efficiency": round(tokens / padded, 3) if padded else None,
    "mean_queue_ms": round(1000 * delta("tensorgraph_queue_duration_seconds_sum") / queue_n, 2) if queue_n else None,
    "mean_forward_ms": round(1000 * delta("tensorgraph_inference_duration_seconds_sum") / infer_n, 2) if infer_n else None,
    "server_exit_status": status,
    "sentences_in_file": int(count),
}
if as_json == "1":
    print(json.dumps(result))
else:
    lat = result["latency_ms"]
    print(f"model {model}: {connections} connections, {result['duration_s']:.0f} s, "
          f"{inputs} sentence(s) per request, max batch {max_batch}, max wait {max_wait_ms} ms")
    print(f"  requests/s   {result['requests_per_s']:.1f}   sentences/s {result['sentences_per_s']:.1f}   "
          f"({result['requests']} requests)")
    print(f"  latency ms   p50 {lat['p50']:.2f}   p90 {lat['p90']:.2f}   p99 {lat['p99']:.2f}   max {lat['max']:.2f}")
    print(f"  errors       socket {result['socket_errors']}   non-2xx {result['non_2xx']}")
    sizes = "  ".join(f"<={le}: {n}" for le, n in buckets)
    print(f"  batches      {result['batches']}, mean size {result['mean_batch_size']}   [{sizes}]")
    if result["padding_efficiency"] is not None:
        print(f"  padding      {result['padding_efficiency']:.3f} of computed tokens are real")
    print(f"  mean queue {result['mean_queue_ms']} ms, mean forward pass {result['mean_forward_ms']} ms")
    print(f"  server exit status {status} after SIGTERM")
sys.exit(0 if status == 0 and result["socket_errors"] == 0 and result["non_2xx"] == 0 else 1)
PY

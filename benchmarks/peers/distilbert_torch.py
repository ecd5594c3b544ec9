#!/usr/bin/python3
"""PyTorch peer for tensorgraph benchmarks: DistilBERT for sequence classification written in
plain PyTorch (Debian's python3-torch 1.13 has no transformers/safetensors packages), with a small
SafeTensors reader. It must reproduce the tiny fixtures' HuggingFace logits before any timing.

Modes:
  distilbert_torch.py verify FIXTURE_DIR...          check logits.jsonl / batch_logits.jsonl
  distilbert_torch.py serve --model DIR --threads N  line protocol on stdin/stdout (below)
  distilbert_torch.py export-onnx --model DIR --out FILE.onnx

Line protocol (one JSON object per line; the peer answers each request with one line):
  <- {"ready": true, "load_s": ..., "peer": "pytorch", "version": ..., "threads": N, "env": {...}}
  -> {"op": "logits", "input_ids": [[...]], "attention_mask": [[...]]}
  <- {"logits": [[...], ...]}
  -> {"op": "time", "input_ids": [[...]], "attention_mask": [[...]], "iters": K, "warmup": W}
  <- {"times_ms": [...]}     (model forward only, each iteration timed separately)
  -> {"op": "quit"}
A request that fails is answered {"error": "..."} and the peer goes on. Peers that take other
inputs say so in their ready line ("inputs": ["ids", "text"], as `tensorgraph bench-peer`);
without it, `tensorgraph bench` sends this peer ids only ({"texts": ...} cases are "not
supported"). The ready line also lists the BLAS libraries loaded ("blas"), which decide speed.
"""
import json
import math
import os
import struct
import sys
import time

T_START = time.perf_counter()

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
          "F64": torch.float64, "I64": torch.int64, "I32": torch.int32,
          "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        dtype = DTYPES[info["dtype"]]
        buf = bytearray(data[base + begin:base + end])
        t = torch.frombuffer(buf, dtype=dtype) if end > begin else torch.empty(0, dtype=dtype)
        tensors[name] = t.reshape(info["shape"]).to(torch.float32 if dtype.is_floating_point else dtype)
    return tensors, header.get("__metadata__", {})


class DistilBert(torch.nn.Module):
    """DistilBertForSequenceClassification (eval mode) from HF tensor names."""

    def __init__(self, config, weights):
        super().__init__()
        self.dim = config["dim"]
        self.n_heads = config["n_heads"]
        self.n_layers = config["n_layers"]
        self.activation = config.get("activation", "gelu")
        self.w = {k: torch.nn.Parameter(v, requires_grad=False) for k, v in weights.items()}
        for i, (k, v) in enumerate(self.w.items()):
            self.register_parameter("p%d" % i, v)

    def lin(self, x, name):
        return F.linear(x, self.w[name + ".weight"], self.w[name + ".bias"])

    def ln(self, x, name):
        return F.layer_norm(x, (self.dim,), self.w[name + ".weight"], self.w[name + ".bias"], eps=1e-12)

    def forward(self, input_ids, attention_mask):
        w = self.w
        bs, seq = input_ids.shape
        pos = torch.arange(seq, dtype=torch.long).unsqueeze(0)
        x = F.embedding(input_ids, w["distilbert.embeddings.word_embeddings.weight"]) + \
            F.embedding(pos, w["distilbert.embeddings.position_embeddings.weight"])
        x = self.ln(x, "distilbert.embeddings.LayerNorm")
        dh = self.dim // self.n_heads
        neg = torch.tensor(torch.finfo(torch.float32).min)
        mask = (attention_mask == 0).view(bs, 1, 1, seq)
        for i in range(self.n_layers):
            p = "distilbert.transformer.layer.%d." % i

            def shape(t):
                return t.view(bs, -1, self.n_heads, dh).transpose(1, 2)

            q = shape(self.lin(x, p + "attention.q_lin")) / math.sqrt(dh)
            k = shape(self.lin(x, p + "attention.k_lin"))
            v = shape(self.lin(x, p + "attention.v_lin"))
            scores = torch.matmul(q, k.transpose(2, 3))
            scores = scores.masked_fill(mask.expand_as(scores), neg)
            weights = torch.softmax(scores, dim=-1)
            ctx = torch.matmul(weights, v).transpose(1, 2).contiguous().view(bs, -1, self.dim)
            sa = self.ln(self.lin(ctx, p + "attention.out_lin") + x, p + "sa_layer_norm")
            h = self.lin(sa, p + "ffn.lin1")
            h = F.gelu(h) if self.activation == "gelu" else F.relu(h)
            x = self.ln(self.lin(h, p + "ffn.lin2") + sa, p + "output_layer_norm")
        pooled = F.relu(self.lin(x[:, 0], "pre_classifier"))
        return self.lin(pooled, "classifier")


def load_model(model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        config = json.load(f)
    weights, meta = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    model = DistilBert(config, weights).eval()
    return model, config, meta


def verify(dirs):
    worst = 0.0
    for d in dirs:
        model, _, _ = load_model(d)
        with torch.inference_mode():
            for line in open(os.path.join(d, "logits.jsonl"), encoding="utf-8"):
                row = json.loads(line)
                ids = torch.tensor([row["input_ids"]])
                out = model(ids, torch.ones_like(ids))[0].tolist()
                worst = max(worst, max(abs(a - b) for a, b in zip(out, row["logits"])))
            path = os.path.join(d, "batch_logits.jsonl")
            if os.path.exists(path):
                for line in open(path, encoding="utf-8"):
                    row = json.loads(line)
                    out = model(torch.tensor(row["input_ids"]), torch.tensor(row["attention_mask"])).tolist()
                    for o, e in zip(out, row["logits"]):
                        worst = max(worst, max(abs(a - b) for a, b in zip(o, e)))
    ok = worst <= 1e-4
    print(json.dumps({"ok": ok, "max_abs_diff": worst, "dirs": dirs}))
    return 0 if ok else 1


def peer_env():
    keys = ["OMP_NUM_THREADS", "OMP_WAIT_POLICY", "OPENBLAS_CORETYPE", "MALLOC_MMAP_THRESHOLD_",
            "MALLOC_TRIM_THRESHOLD_", "MKL_NUM_THREADS", "GOMP_SPINCOUNT"]
    return {k: os.environ.get(k) for k in keys if os.environ.get(k) is not None}


def loaded_blas():
    """The BLAS libraries this process mapped (Debian's torch uses libblas.so.3, which is the
    reference BLAS, 20x slower, unless libopenblas0-pthread provides it)."""
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1] if len(line.split()) >= 6 else ""
                if "blas" in os.path.basename(path) or "lapack" in os.path.basename(path):
                    libs.add(os.path.realpath(path))
    except OSError:
        pass
    return sorted(libs)


def serve(model_dir, threads):
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    model, config, meta = load_model(model_dir)
    with torch.inference_mode():  # warm the kernels once so "ready" means ready
        ids = torch.tensor([[101, 102]])
        model(ids, torch.ones_like(ids))
    hello = {"ready": True, "load_s": time.perf_counter() - T_START, "peer": "pytorch",
             "version": torch.__version__, "threads": torch.get_num_threads(),
             "interop_threads": torch.get_num_interop_threads(), "env": peer_env(),
             "blas": loaded_blas()}
    print(json.dumps(hello), flush=True)
    answer_requests(lambda op, req: handle(model, op, req))
    return 0


def answer_requests(handle):
    """The peer line protocol after the hello line: one JSON request per line on stdin, one JSON
    answer per line on stdout, until {"op": "quit"} or end of input. handle(op, req) -> dict; a
    request that raises gets an error answer and the peer goes on."""
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            op = req.get("op")
            if op == "quit":
                break
            out = handle(op, req)
        except Exception as e:  # a bad request gets an error answer; the peer goes on
            out = {"error": "%s: %s" % (type(e).__name__, e)}
        print(json.dumps(out), flush=True)


def handle(model, op, req):
    if "input_ids" not in req:
        return {"error": "this peer takes input_ids only (no tokenizer)"}
    ids = torch.tensor(req["input_ids"], dtype=torch.long)
    mask = torch.tensor(req.get("attention_mask") or [[1] * ids.shape[1]] * ids.shape[0], dtype=torch.long)
    with torch.inference_mode():
        if op == "logits":
            return {"logits": model(ids, mask).tolist()}
        if op == "time":
            for _ in range(int(req.get("warmup", 0))):
                model(ids, mask)
            times = []
            for _ in range(int(req["iters"])):
                t0 = time.perf_counter()
                model(ids, mask)
                times.append((time.perf_counter() - t0) * 1e3)
            return {"times_ms": times}
    return {"error": "unknown op %r" % op}


def export_onnx(model_dir, out):
    model, _, _ = load_model(model_dir)
    ids = torch.tensor([[101, 7592, 2088, 102]])
    mask = torch.ones_like(ids)
    tmp = out + ".tmp"
    torch.onnx.export(model, (ids, mask), tmp, input_names=["input_ids", "attention_mask"],
                      output_names=["logits"], opset_version=14,
                      dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                                    "attention_mask": {0: "batch", 1: "sequence"},
                                    "logits": {0: "batch"}})
    os.replace(tmp, out)
    print(json.dumps({"ok": True, "out": out}))
    return 0


def main(argv):
    if len(argv) >= 2 and argv[1] == "verify":
        return verify(argv[2:])
    if len(argv) >= 2 and argv[1] in ("serve", "export-onnx"):
        args = dict(zip(argv[2::2], argv[3::2]))
        if argv[1] == "serve":
            return serve(args["--model"], int(args.get("--threads", "1")))
        return export_onnx(args["--model"], args["--out"])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

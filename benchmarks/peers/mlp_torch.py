#!/usr/bin/python3
"""PyTorch peer for the MLP benchmark (benchmarks/04_mlp_regression): example 04's regressor in
plain PyTorch from the weight file `tensorgraph train mlp` writes (fc1..fcN as torch.nn.Linear,
ReLU between them, the scaler "scaler.mean" / "scaler.scale" applied first), read with the small
SafeTensors reader of distilbert_torch.py.

  mlp_torch.py serve --weights FILE --threads N   the peer line protocol (distilbert_torch.py)
  mlp_torch.py predict --weights FILE             features as JSON rows on stdin -> predictions

Requests carry {"features": [[8 raw features], ...]}; "logits" answers one prediction per row
([[y], ...], units of $100,000); "time" times the forward pass alone (standardisation included,
as in tensorgraph's graph), each iteration separately.
"""
import json
import os
import sys
import time

T_START = time.perf_counter()

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from distilbert_torch import answer_requests, loaded_blas, peer_env, read_safetensors  # noqa: E402


class Mlp(torch.nn.Module):
    def __init__(self, tensors, layers):
        super().__init__()
        self.register_buffer("mean", tensors["scaler.mean"])
        self.register_buffer("scale", tensors["scaler.scale"])
        self.fcs = torch.nn.ModuleList()
        for i in range(len(layers) - 1):
            fc = torch.nn.Linear(layers[i], layers[i + 1])
            fc.weight.data.copy_(tensors["fc%d.weight" % (i + 1)])
            fc.bias.data.copy_(tensors["fc%d.bias" % (i + 1)])
            self.fcs.append(fc)

    def forward(self, x):
        h = (x - self.mean) / self.scale
        for i, fc in enumerate(self.fcs):
            h = fc(h)
            if i + 1 < len(self.fcs):
                h = F.relu(h)
        return h


def load(path):
    tensors, meta = read_safetensors(path)
    if meta.get("model") != "mlp-regressor":
        raise SystemExit("%s: not an MLP regressor weight file" % path)
    layers = [int(x) for x in meta["layers"].split(",")]
    return Mlp(tensors, layers).eval()


def serve(weights, threads):
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    model = load(weights)
    with torch.inference_mode():
        model(torch.zeros(1, model.mean.shape[0]))
    print(json.dumps({"ready": True, "load_s": time.perf_counter() - T_START, "peer": "pytorch",
                      "version": torch.__version__, "threads": torch.get_num_threads(),
                      "interop_threads": torch.get_num_interop_threads(), "env": peer_env(),
                      "blas": loaded_blas(), "inputs": ["features"]}), flush=True)
    answer_requests(lambda op, req: handle(model, op, req))
    return 0


def handle(model, op, req):
    if "features" not in req:
        return {"error": "this peer takes features only"}
    x = torch.tensor(req["features"], dtype=torch.float32)
    with torch.inference_mode():
        if op == "logits":
            return {"logits": model(x).tolist()}
        if op == "time":
            for _ in range(int(req.get("warmup", 0))):
                model(x)
            times = []
            for _ in range(int(req["iters"])):
                t0 = time.perf_counter()
                model(x)
                times.append((time.perf_counter() - t0) * 1e3)
            return {"times_ms": times}
    return {"error": "unknown op %r" % op}


def main(argv):
    if len(argv) >= 2 and argv[1] in ("serve", "predict"):
        args = dict(zip(argv[2::2], argv[3::2]))
        if argv[1] == "serve":
            return serve(args["--weights"], int(args.get("--threads", "1")))
        model = load(args["--weights"])
        with torch.inference_mode():
            print(json.dumps(model(torch.tensor(json.load(sys.stdin))).flatten().tolist()))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

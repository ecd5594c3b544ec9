#!/usr/bin/python3
"""PyTorch peer for the CNN training benchmark: the network of example 05 trained on MNIST in
plain PyTorch (Debian's python3-torch 1.13), on the same data read from the same IDX files, with
the same settings as `tensorgraph train cnn`: the same normalisation, AdamW with a per-step cosine
schedule, batch 64, 55,000 training images (5,000 held out), cross-entropy from logits. It prints
one JSON line per epoch with the seconds of the epoch (training steps only, and with the
validation pass) and the final test accuracy.

  OMP_WAIT_POLICY=PASSIVE benchmarks/peers/cnn_torch.py --data ../shared/data --epochs 1 --threads 1

Run with /usr/bin/python3 (libopenblas0-pthread must be installed: without it Debian's torch
falls back to the reference BLAS and is about 20x slower).

As a benchmark peer (benchmarks/05_cnn_mnist, the line protocol of distilbert_torch.py):

  cnn_torch.py serve --weights cnn.safetensors --data DIR --threads N

loads the weights `tensorgraph train cnn` wrote (PyTorch's names) and answers requests
{"images": {"split": "test", "start": S, "count": N}} ("logits": the logits of those images;
"time": their forward pass, normalisation included) and training requests {"train": {"batch",
"steps", "images", "learning_rate", "weight_decay", "total_steps", "check_steps",
"check_batch"}}: "logits" trains check_steps steps of check_batch images from the weights, the
classifier (fc2) zeroed, with a fresh AdamW and answers [[their losses]]; "time" runs `steps` training steps per iteration
(batch `batch`, consecutive batches of the first `images` training images, lr per step from the
cosine schedule over total_steps), continuing the same model and optimiser from one request to
the next (created, with two untimed steps, on the first).
"""
import argparse
import gzip
import json
import math
import os
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path):
    """An IDX file (gzip-compressed or not) as a uint8 tensor of its shape."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, code, rank = struct.unpack(">HBB", data[:4])
    if zero != 0 or code != 0x08:
        raise SystemExit(f"{path}: not a u8 IDX file")
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    body = data[4 + 4 * rank:]
    return torch.frombuffer(bytearray(body), dtype=torch.uint8).reshape(dims)


def mnist(data_dir, split):
    prefix = "train" if split == "train" else "t10k"
    folder = os.path.join(data_dir, "mnist")

    def find(stem):
        gz = os.path.join(folder, stem + ".gz")
        return gz if os.path.exists(gz) else os.path.join(folder, stem)

    images = read_idx(find(f"{prefix}-images-idx3-ubyte"))
    labels = read_idx(find(f"{prefix}-labels-idx1-ubyte")).long()
    return images, labels


class Cnn(nn.Module):
    """conv 1->32 3x3 pad 1, ReLU, max-pool 2 -> conv 32->64 3x3 pad 1, ReLU, max-pool 2 ->
    fc 3136->128, ReLU -> fc 128->10 (the original project's network)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc1 = nn.Linear(3136, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc1(torch.flatten(x, 1)))
        return self.fc2(x)


def normalise(images_u8):
    return ((images_u8.float() / 255.0 - 0.1307) / 0.3081).unsqueeze(1)


def accuracy(model, images, labels, batch=500):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(images), batch):
            logits = model(normalise(images[i:i + batch]))
            correct += (logits.argmax(1) == labels[i:i + batch]).sum().item()
    model.train()
    return correct / len(images)


class Peer:
    def __init__(self, weights, data_dir):
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from distilbert_torch import read_safetensors
        self.weights, _ = read_safetensors(weights)
        self.data_dir = data_dir
        self.sets = {}
        self.model = self.fresh_model().eval()
        self.timed = {}  # training case (json of its settings) -> [model, optimizer, step]

    def fresh_model(self):
        model = Cnn()
        model.load_state_dict({k: v.clone() for k, v in self.weights.items()})
        return model

    def split(self, name):
        if name not in self.sets:
            self.sets[name] = mnist(self.data_dir, name)
        return self.sets[name]

    def images(self, spec):
        images, _ = self.split(spec.get("split", "test"))
        start, count = int(spec.get("start", 0)), int(spec["count"])
        if start + count > len(images):
            raise ValueError("images %d..%d: the set has %d" % (start, start + count, len(images)))
        return images[start:start + count]

    def train_step(self, state, t, batch):
        model, optimizer, step = state
        images, labels = self.split("train")
        idx = (torch.arange(batch) + step * batch) % int(t["images"])
        total = int(t["total_steps"])
        lr = t["learning_rate"] * 0.5 * (1 + math.cos(math.pi * min(step, total) / total))
        for group in optimizer.param_groups:
            group["lr"] = lr
        loss = F.cross_entropy(model(normalise(images[idx])), labels[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        state[2] = step + 1
        return loss.item()

    def fresh_state(self, t, check=False):
        model = self.fresh_model().train()
        if check:  # the classifier zeroed: the loss starts at ln 10 and the steps have work to do
            with torch.no_grad():
                model.fc2.weight.zero_()
                model.fc2.bias.zero_()
        optimizer = torch.optim.AdamW(model.parameters(), lr=t["learning_rate"],
                                      weight_decay=t.get("weight_decay", 0.0))
        return [model, optimizer, 0]

    def handle(self, op, req):
        if "train" in req:
            t = req["train"]
            if op == "logits":
                state = self.fresh_state(t, check=True)
                return {"logits": [[self.train_step(state, t, int(t["check_batch"]))
                                    for _ in range(int(t["check_steps"]))]]}
            if op == "time":
                key = json.dumps(t, sort_keys=True)
                if key not in self.timed:
                    self.timed[key] = self.fresh_state(t)
                    for _ in range(2):
                        self.train_step(self.timed[key], t, int(t["batch"]))
                state = self.timed[key]
                for _ in range(int(req.get("warmup", 0))):
                    for _ in range(int(t["steps"])):
                        self.train_step(state, t, int(t["batch"]))
                times = []
                for _ in range(int(req["iters"])):
                    t0 = time.perf_counter()
                    for _ in range(int(t["steps"])):
                        self.train_step(state, t, int(t["batch"]))
                    times.append((time.perf_counter() - t0) * 1e3)
                return {"times_ms": times}
        elif "images" in req:
            x = self.images(req["images"])
            with torch.inference_mode():
                if op == "logits":
                    return {"logits": self.model(normalise(x)).tolist()}
                if op == "time":
                    for _ in range(int(req.get("warmup", 0))):
                        self.model(normalise(x))
                    times = []
                    for _ in range(int(req["iters"])):
                        t0 = time.perf_counter()
                        self.model(normalise(x))
                        times.append((time.perf_counter() - t0) * 1e3)
                    return {"times_ms": times}
        else:
            return {"error": "this peer takes images or train requests"}
        return {"error": "unknown op %r" % op}


def serve(argv):
    started = time.perf_counter()
    args = dict(zip(argv[0::2], argv[1::2]))
    threads = int(args.get("--threads", "1"))
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    peer = Peer(args["--weights"], args["--data"])
    with torch.inference_mode():  # warm the kernels once so "ready" means ready
        peer.model(normalise(peer.images({"split": "test", "count": 1})))
    from distilbert_torch import answer_requests, loaded_blas, peer_env
    print(json.dumps({"ready": True, "load_s": time.perf_counter() - started, "peer": "pytorch",
                      "version": torch.__version__, "threads": torch.get_num_threads(),
                      "interop_threads": torch.get_num_interop_threads(), "env": peer_env(),
                      "blas": loaded_blas(), "inputs": ["images", "train"]}), flush=True)
    answer_requests(peer.handle)
    return 0


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "serve":
        return serve(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="directory holding mnist/")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--weight-decay", type=float, default=0.0)
    parser.add_argument("--validation", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=0, help="first N training images (0: all)")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train_images, train_labels = mnist(args.data, "train")
    test_images, test_labels = mnist(args.data, "test")
    if args.limit:
        train_images, train_labels = train_images[:args.limit], train_labels[:args.limit]
    order = torch.randperm(len(train_images))
    val_idx, fit_idx = order[:args.validation], order[args.validation:]
    fit_images, fit_labels = train_images[fit_idx], train_labels[fit_idx]
    val_images, val_labels = train_images[val_idx], train_labels[val_idx]

    model = Cnn()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    steps_per_epoch = math.ceil(len(fit_images) / args.batch_size)
    total = args.epochs * steps_per_epoch
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * min(step, total) / total)))
    print(json.dumps({"peer": "pytorch", "version": torch.__version__,
                      "threads": torch.get_num_threads(),
                      "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
                      "train_images": len(fit_images)}), flush=True)
    for epoch in range(args.epochs):
        started = time.perf_counter()
        perm = torch.randperm(len(fit_images))
        total_loss = 0.0
        for step in range(steps_per_epoch):
            idx = perm[step * args.batch_size:(step + 1) * args.batch_size]
            x = normalise(fit_images[idx])
            y = fit_labels[idx]
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total_loss += loss.item() * len(idx)
        train_seconds = time.perf_counter() - started
        val = accuracy(model, val_images, val_labels)
        print(json.dumps({"epoch": epoch + 1, "train_loss": total_loss / len(fit_images),
                          "val_accuracy": val, "train_seconds": round(train_seconds, 2),
                          "seconds": round(time.perf_counter() - started, 2)}), flush=True)
    print(json.dumps({"test_accuracy": accuracy(model, test_images, test_labels)}), flush=True)


if __name__ == "__main__":
    sys.exit(main())

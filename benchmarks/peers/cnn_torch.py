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


def main():
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

#!/usr/bin/env python3
"""A fake benchmark peer for the tests: speaks the peer line protocol of
benchmarks/peers/distilbert_torch.py without any model.

  fake_peer.py [--replay FIXTURE_DIR] [--perturb X] [--mode MODE] [--log FILE] [--name NAME]

Logits: with --replay, the HuggingFace logits of the fixture's logits.jsonl / batch_logits.jsonl
for inputs found there; otherwise (and for unknown inputs) [s, -s] per row with
s = (sum of the row's ids % 97) / 10. --perturb X adds X to every logit (a wrong implementation).
Times: "time" answers iters durations of 1.0, 1.1, 1.2, ... ms without working.
Modes: ok; skipped (not ready, "skipped: not installed"); broken (not ready, another error);
garbage (not JSON instead of ready); crash-on-time (exits at the first "time" request);
silent (never says ready); error-on-logits (answers {"error": ...}).
--log FILE appends one line per request ("logits" / "time") for order checks.
--inputs a,b declares the inputs it takes in its ready line (default: ids only); requests with
{"features": rows} (the MLP) answer one [0 + X] per row, {"images": {"count": N}} (the CNN) N
rows of ten X, {"train": ...} one row of check_steps X, where X is --perturb (wrong outputs).
"""
import json
import os
import sys
import time


def arg(name, default=None):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def load_replay(d):
    table = {}
    if not d:
        return table
    for line in open(os.path.join(d, "logits.jsonl"), encoding="utf-8"):
        row = json.loads(line)
        table[json.dumps(row["input_ids"])] = row["logits"]
    path = os.path.join(d, "batch_logits.jsonl")
    if os.path.exists(path):
        for line in open(path, encoding="utf-8"):
            row = json.loads(line)
            for ids, mask, logits in zip(row["input_ids"], row["attention_mask"], row["logits"]):
                n = sum(mask)
                table.setdefault(json.dumps(ids[:n]), logits)
    return table


def main():
    mode = arg("--mode", "ok")
    perturb = float(arg("--perturb", "0"))
    log = arg("--log")
    name = arg("--name", "fake")
    table = load_replay(arg("--replay"))
    if mode == "skipped":
        print(json.dumps({"ready": False, "error": "skipped: not installed (fake)"}), flush=True)
        return 3
    if mode == "broken":
        print(json.dumps({"ready": False, "error": "cannot load the model"}), flush=True)
        return 1
    if mode == "garbage":
        print("this is not json", flush=True)
        return 1
    if mode == "silent":
        time.sleep(60)
        return 0
    sys.stderr.write("fake peer %s starting\n" % name)
    print(json.dumps({"ready": True, "load_s": 0.01, "peer": name, "version": "9.9",
                      "threads": int(arg("--threads", "1")),
                      "inputs": arg("--inputs", "ids").split(","),
                      "env": {k: os.environ.get(k) for k in ("FAKE_SET", "FAKE_UNSET")}}),
          flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        op = req.get("op")
        if op == "quit":
            break
        if log:
            with open(log, "a") as f:
                f.write("%s %s\n" % (name, op))
        if op == "logits":
            if mode == "error-on-logits":
                print(json.dumps({"error": "no logits today"}), flush=True)
                continue
            if "features" in req:
                print(json.dumps({"logits": [[perturb] for _ in req["features"]]}), flush=True)
                continue
            if "images" in req:
                rows = [[perturb] * 10 for _ in range(int(req["images"]["count"]))]
                print(json.dumps({"logits": rows}), flush=True)
                continue
            if "train" in req:
                rows = [[perturb] * int(req["train"]["check_steps"])]
                print(json.dumps({"logits": rows}), flush=True)
                continue
            rows = []
            for ids, mask in zip(req["input_ids"], req.get("attention_mask") or req["input_ids"]):
                n = sum(mask) if "attention_mask" in req else len(ids)
                key = json.dumps(ids[:n])
                if key in table:
                    rows.append([x + perturb for x in table[key]])
                else:
                    s = (sum(ids[:n]) % 97) / 10.0
                    rows.append([s + perturb, -s + perturb])
            print(json.dumps({"logits": rows}), flush=True)
        elif op == "time":
            if mode == "crash-on-time":
                sys.stderr.write("fake peer %s: crashing on purpose\n" % name)
                sys.stderr.flush()
                os._exit(7)
            iters = int(req["iters"])
            print(json.dumps({"times_ms": [1.0 + 0.1 * i for i in range(iters)]}), flush=True)
        else:
            print(json.dumps({"error": "unknown op %r" % op}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

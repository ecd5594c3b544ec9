#!/usr/bin/env node
// ONNX Runtime peer for tensorgraph benchmarks (onnxruntime-node, CPU execution provider).
// Same line protocol as distilbert_torch.py (see there):
//   node ort_peer.js --model MODEL.onnx --threads N
// Install once (offline-safe; the package carries its CPU library):
//   npm install --prefix benchmarks/peers --ignore-scripts onnxruntime-node@1.20.1
'use strict';
const t0 = process.hrtime.bigint();
const path = require('path');
const readline = require('readline');

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

function toTensor(ort, rows) {
  const b = rows.length;
  const s = b ? rows[0].length : 0;
  const data = new BigInt64Array(b * s);
  rows.forEach((r, i) => r.forEach((v, j) => { data[i * s + j] = BigInt(v); }));
  return new ort.Tensor('int64', data, [b, s]);
}

async function main() {
  let ort;
  try {
    ort = require(path.join(__dirname, 'node_modules', 'onnxruntime-node'));
  } catch (e) {
    console.log(JSON.stringify({ ready: false, error: 'skipped: not installed (onnxruntime-node)' }));
    return 3;
  }
  const threads = parseInt(arg('--threads', '1'), 10);
  const session = await ort.InferenceSession.create(arg('--model'), {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const feeds = (req) => {
    const ids = req.input_ids;
    const mask = req.attention_mask || ids.map((r) => r.map(() => 1));
    return { input_ids: toTensor(ort, ids), attention_mask: toTensor(ort, mask) };
  };
  await session.run(feeds({ input_ids: [[101, 102]] }));
  const pkg = require(path.join(__dirname, 'node_modules', 'onnxruntime-node', 'package.json'));
  console.log(JSON.stringify({
    ready: true, load_s: Number(process.hrtime.bigint() - t0) / 1e9, peer: 'onnxruntime',
    version: pkg.version, threads, env: { intraOpNumThreads: threads, interOpNumThreads: 1 },
  }));
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  for await (const line of rl) {
    if (!line.trim()) continue;
    let req;
    try {
      req = JSON.parse(line);
    } catch (e) {
      console.log(JSON.stringify({ error: `not JSON: ${e.message}` }));
      continue;
    }
    if (req.op === 'quit') break;
    let out;
    try {
      out = await handle(session, feeds, req);
    } catch (e) {  // a bad request gets an error answer; the peer goes on
      out = { error: String(e && e.message || e) };
    }
    console.log(JSON.stringify(out));
  }
  return 0;
}

async function handle(session, feeds, req) {
  if (!req.input_ids) return { error: 'this peer takes input_ids only (no tokenizer)' };
  const f = feeds(req);
  if (req.op === 'logits') {
    const l = (await session.run(f)).logits;
    const rows = [];
    for (let i = 0; i < l.dims[0]; i++) rows.push(Array.from(l.data.slice(i * l.dims[1], (i + 1) * l.dims[1])));
    return { logits: rows };
  }
  if (req.op === 'time') {
    for (let i = 0; i < (req.warmup || 0); i++) await session.run(f);
    const times = [];
    for (let i = 0; i < req.iters; i++) {
      const a = process.hrtime.bigint();
      await session.run(f);
      times.push(Number(process.hrtime.bigint() - a) / 1e6);
    }
    return { times_ms: times };
  }
  return { error: `unknown op ${req.op}` };
}

main().then((code) => process.exit(code), (e) => {
  console.log(JSON.stringify({ ready: false, error: String(e && e.message || e) }));
  process.exit(1);
});

-- wrk script for `tensorgraph serve`: POST /predict with real sentences, one JSON body per line of
-- the file given after `--` (made by benchmarks/serve/run.sh), each thread starting at its own
-- offset and cycling through the file. At the end it prints one machine-readable line:
--   RESULT requests=N seconds=S rps=R non2xx=N connect=N read=N write=N timeout=N p50_ms=...
--   wrk -t2 -c64 -d30s -s benchmarks/serve/predict.lua http://127.0.0.1:8080 -- bodies.jsonl
local bodies = {}
local next_body = 1
local threads = {}

function setup(thread)
  thread:set("offset", #threads)
  table.insert(threads, thread)
end

function init(args)
  local path = args[1]
  if path == nil then error("predict.lua: give the bodies file after --") end
  for line in io.lines(path) do
    if #line > 0 then bodies[#bodies + 1] = line end
  end
  if #bodies == 0 then error("predict.lua: no bodies in " .. path) end
  -- Threads start far apart in the file so that they do not send the same sentences together.
  next_body = (offset * 7919) % #bodies + 1
end

function request()
  local body = bodies[next_body]
  next_body = next_body % #bodies + 1
  return wrk.format("POST", "/predict", {["Content-Type"] = "application/json"}, body)
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f rps=%.1f non2xx=%d connect=%d read=%d write=%d timeout=%d " ..
    "p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f\n",
    summary.requests, seconds, summary.requests / seconds, e.status, e.connect, e.read, e.write,
    e.timeout, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end

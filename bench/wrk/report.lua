-- Shared by every script here (loaded with dofile): numbers each wrk thread, lets scripts
-- count answers with an unexpected status (from their response() hook), and prints one machine-readable summary line
-- that bench/harness.py parses (latencies in microseconds).

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

-- Per thread (each has its own Lua state): call from a script's response() hook.
unexpected = 0
sample = ""

function expect(status, wanted, body)
   if status ~= wanted then
      unexpected = unexpected + 1
      if sample == "" then
         sample = status .. ": " .. string.sub(body or "", 1, 200):gsub("%s+", " ")
      end
   end
end

function done(summary, latency, requests)
   local bad, first = 0, ""
   for _, thread in ipairs(threads) do
      bad = bad + (thread:get("unexpected") or 0)
      if first == "" then first = thread:get("sample") or "" end
   end
   local e = summary.errors
   io.write(string.format(
      "peerpath-wrk requests=%d duration_us=%d p50=%d p90=%d p95=%d p99=%d max=%d " ..
      "connect=%d read=%d write=%d timeout=%d status=%d unexpected=%d checked=%d\n",
      summary.requests, summary.duration,
      latency:percentile(50), latency:percentile(90), latency:percentile(95),
      latency:percentile(99), latency.max,
      e.connect, e.read, e.write, e.timeout, e.status, bad, response and 1 or 0))
   if first ~= "" then io.write("peerpath-wrk-sample " .. first .. "\n") end
end

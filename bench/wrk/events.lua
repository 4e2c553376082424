-- Shared by single.lua and batch.lua (which set PER_REQUEST and load this file): POST unique
-- canonical events to /api/v1/events.
--
--   wrk -t2 -c32 -d10s -s bench/wrk/single.lua http://127.0.0.1:PORT/api/v1/events -- TOKEN RUN
--
-- wrk runs one Lua state per thread (plus one for setup and done), so an event id is
-- RUN-THREAD-COUNTER: RUN is unique to the run, THREAD is set per thread in setup(), COUNTER
-- counts in that thread. Events are shaped like bench/load.py make_event: eight a call
-- (call.received, then call.answered), agency BENCH, timed an hour back so no alert fires.
-- done() prints one line "WRK_JSON {...}" that bench/wrk.py reads.

local threads = {}

function setup(thread)
   thread:set("tid", #threads)
   table.insert(threads, thread)
end

function init(args)
   local token, run = args[1], args[2]
   if token == nil or run == nil then
      error("script arguments: TOKEN RUN")
   end
   prefix = run .. "-" .. tid .. "-"
   at = os.date("!%Y-%m-%dT%H:%M:%S+00:00", os.time() - 3600)
   headers = {
      ["Authorization"] = "Bearer " .. token,
      ["Content-Type"] = "application/json",
   }
   n = 0        -- events made in this thread
   ok = 0       -- responses with status 200
   refused = 0  -- responses with status >= 400
   other = 0    -- any other status
end

local function event(i)
   local kind = (i % 8 == 0) and "call.received" or "call.answered"
   return string.format(
      '{"event_id":"%s%d","call_id":"%sC%d","agency":"BENCH","kind":"%s","at":"%s",'
         .. '"data":{"psap":"BENCH"}}',
      prefix, i, prefix, math.floor(i / 8), kind, at)
end

function request()
   local body
   if PER_REQUEST == 1 then
      body = event(n)
      n = n + 1
   else
      local parts = {}
      for k = 1, PER_REQUEST do
         parts[k] = event(n)
         n = n + 1
      end
      body = "[" .. table.concat(parts, ",") .. "]"
   end
   return wrk.format("POST", "/api/v1/events", headers, body)
end

function response(status, headers, body)
   if status == 200 then
      ok = ok + 1
   elseif status >= 400 then
      refused = refused + 1
   else
      other = other + 1
   end
end

function done(summary, latency, requests)
   local ok_, refused_, other_, made = 0, 0, 0, 0
   for _, thread in ipairs(threads) do
      ok_ = ok_ + thread:get("ok")
      refused_ = refused_ + thread:get("refused")
      other_ = other_ + thread:get("other")
      made = made + thread:get("n")
   end
   local e = summary.errors
   io.write(string.format(
      'WRK_JSON {"per_request":%d,"threads":%d,"requests":%d,"duration_us":%d,"ok":%d,'
         .. '"refused":%d,"other":%d,"events_made":%d,'
         .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
         .. '"latency_us":{"mean":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
      PER_REQUEST, #threads, summary.requests, summary.duration, ok_, refused_, other_, made,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.mean, latency.max, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency:percentile(99.9)))
end

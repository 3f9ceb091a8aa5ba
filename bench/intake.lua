-- wrk script for bench/intake.py: POSTs Mackerel alert webhooks, a new alert ID each time,
-- round-robin over several organizations, and keeps count of every answer by status.
--
-- Configured through the environment because wrk's done() runs in a Lua state that never
-- sees init()'s arguments:
--   BENCH_TEMPLATES  file with one "<path>\t<body>" line per organization; the body holds
--                    the placeholder @ID@ wherever the alert ID goes
--   BENCH_TAG        prefix of the alert IDs, unique per wrk run, so runs never collide
--   BENCH_OUT        file that done() writes its JSON summary to
-- Without BENCH_TEMPLATES it sends wrk's default request (used for the GET /livez baseline),
-- still counting statuses the same way so both runs pay the same Lua cost per answer.

local templates = {}
local tag = os.getenv("BENCH_TAG") or "b"
local counter = 0
-- Globals, not locals: done() reads them from each thread with thread:get(), which sees
-- only a thread's global variables.
ok = 0
statuses = {}
receipts = {}

local threads = {}
local thread_count = 0

function setup(thread)
   thread:set("thread_id", thread_count)
   thread_count = thread_count + 1
   table.insert(threads, thread)
end

local function split(text, sep)
   local parts = {}
   local start = 1
   while true do
      local first, last = string.find(text, sep, start, true)
      if not first then
         table.insert(parts, string.sub(text, start))
         return parts
      end
      table.insert(parts, string.sub(text, start, first - 1))
      start = last + 1
   end
end

function init(args)
   local path = os.getenv("BENCH_TEMPLATES")
   if not path or path == "" then
      return
   end
   for line in io.lines(path) do
      local url_path, body = string.match(line, "^([^\t]+)\t(.*)$")
      if url_path then
         table.insert(templates, { path = url_path, parts = split(body, "@ID@") })
      end
   end
   if #templates == 0 then
      error("no templates in " .. path)
   end
end

local headers = { ["Content-Type"] = "application/json", ["User-Agent"] = "Mackerel-Webhook" }

function request()
   if #templates == 0 then
      return wrk.format(nil)
   end
   counter = counter + 1
   local template = templates[(counter % #templates) + 1]
   -- Mackerel's alert IDs are short alphanumerics; this one is unique per run, thread and request.
   local alert_id = tag .. "t" .. thread_id .. "n" .. counter
   return wrk.format("POST", template.path, headers, table.concat(template.parts, alert_id))
end

function response(status, headers, body)
   if status >= 200 and status < 300 then
      ok = ok + 1
      -- The intake answers {"status": "accepted", "receipt": <pk>}; keep the pk so the
      -- benchmark can prove every acknowledged webhook is really in the database.
      local pk = string.match(body, '"receipt":%s*(%d+)')
      if pk then
         receipts[#receipts + 1] = pk
      end
   else
      statuses[status] = (statuses[status] or 0) + 1
   end
end

function done(summary, latency, requests)
   local total_ok = 0
   local other = {}
   local out_path = os.getenv("BENCH_OUT")
   local file = assert(io.open(out_path, "w"))
   local pk_path = out_path .. ".receipts"
   local pk_file = assert(io.open(pk_path, "w"))
   for _, thread in ipairs(threads) do
      total_ok = total_ok + thread:get("ok")
      for status, count in pairs(thread:get("statuses")) do
         other[status] = (other[status] or 0) + count
      end
      for _, pk in ipairs(thread:get("receipts")) do
         pk_file:write(pk, "\n")
      end
   end
   pk_file:close()
   local parts = {}
   for status, count in pairs(other) do
      table.insert(parts, string.format('"%d": %d', status, count))
   end
   local percentiles = {}
   for _, p in ipairs({ 50, 90, 95, 99, 99.9 }) do
      table.insert(percentiles, string.format('"%s": %d', p, latency:percentile(p)))
   end
   file:write(string.format(
      '{"requests": %d, "duration_us": %d, "ok": %d, "other_statuses": {%s}, '
         .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
         .. '"latency_us": {"min": %d, "mean": %.1f, "max": %d, "percentiles": {%s}}, '
         .. '"receipts_file": "%s"}\n',
      summary.requests, summary.duration, total_ok, table.concat(parts, ", "),
      summary.errors.connect, summary.errors.read, summary.errors.write,
      summary.errors.status, summary.errors.timeout,
      latency.min, latency.mean, latency.max, table.concat(percentiles, ", "), pk_path
   ))
   file:close()
end

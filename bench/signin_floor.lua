-- wrk script for bench.signin_floor: each request posts the next line of the
-- bodies file ("<path> <form body>"), used once. A sign-in counts only as a
-- 302 to /console/ that sets the session cookie; anything else is an error.
-- wrk keeps the last of repeated headers: the session cookie is set last.
local threads = {}
local lines = {}
local index = 0
ok, bad, exhausted = 0, 0, 0

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   local file = args[1]
   local count = 0
   for line in io.lines(file) do
      local space = string.find(line, " ", 1, true)
      table.insert(lines, {string.sub(line, 1, space - 1), string.sub(line, space + 1)})
   end
   cookie = args[2] or "sessionid="
end

local headers = {["Content-Type"] = "application/x-www-form-urlencoded"}

function request()
   index = index + 1
   if index > #lines then
      -- Out of fresh bodies: this one is a replay and will count as an error.
      exhausted = 1
      index = #lines
   end
   local entry = lines[index]
   return wrk.format("POST", entry[1], headers, entry[2])
end

function response(status, headers, body)
   local location = headers["Location"] or ""
   local set_cookie = headers["Set-Cookie"] or ""
   if status == 302 and string.find(location, "/console/", 1, true)
      and string.find(set_cookie, cookie, 1, true) == 1 then
      ok = ok + 1
   else
      bad = bad + 1
   end
end

function done(summary, latency, requests)
   local good, errors, out = 0, 0, 0
   for _, thread in ipairs(threads) do
      good = good + thread:get("ok")
      errors = errors + thread:get("bad")
      out = math.max(out, thread:get("exhausted"))
   end
   local e = summary.errors
   io.write(string.format(
      "RESULT {\"ok\": %d, \"bad\": %d, \"exhausted\": %d, \"requests\": %d, " ..
      "\"duration_us\": %d, \"p50_us\": %d, \"p99_us\": %d, \"socket_errors\": %d}\n",
      good, errors, out, summary.requests, summary.duration,
      latency:percentile(50), latency:percentile(99),
      e.connect + e.read + e.write + e.timeout))
end

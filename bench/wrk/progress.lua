-- Trainees saving progress through the JSON API: a bearer token per trainee (no CSRF for
-- bearer requests) and an Idempotency-Key unique per request (run nonce, thread, counter).
-- Arguments: programme id, a file of tokens (one a line), a file of "module_id lesson_id"
-- lines, and a nonce that differs between runs against the same database. Optionally a rate
-- (requests/s) and wrk's thread count (its -t) to pace the load (pacing.lua) instead of
-- saturating the server.
--   wrk ... -s progress.lua http://127.0.0.1:PORT -- programme tokens.txt lessons.txt nonce
--   wrk -t2 -c100 ... -s progress.lua http://127.0.0.1:PORT -- p tokens.txt lessons.txt n 1000 2
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")
dofile(here .. "pacing.lua")

local path, tokens, lessons, nonce, n = "/", {}, {}, "", 0

function init(args)
   path = "/api/v1/enrolments/" .. args[1] .. "/progress"
   for line in io.lines(args[2]) do table.insert(tokens, line) end
   for line in io.lines(args[3]) do
      local module_id, lesson_id = line:match("^(%S+)%s+(%S+)$")
      table.insert(lessons, { module_id, lesson_id })
   end
   nonce = args[4] .. "-" .. (id or 0)
   pace(args[5], args[6])
end

function request()
   n = n + 1
   local lesson = lessons[n % #lessons + 1]
   local ids = string.format('"module_id": "%s", "lesson_id": "%s"', lesson[1], lesson[2])
   local body = string.format(
      '{"completed": [{%s}], "time": [{%s, "seconds": 5}]}', ids, ids)
   return wrk.format("POST", path, {
      ["Authorization"] = "Bearer " .. tokens[n % #tokens + 1],
      ["Content-Type"] = "application/json",
      ["Idempotency-Key"] = nonce .. "-" .. n,
   }, body)
end

function response(status, headers, body)
   expect(status, 200, body)
end

-- A signed-in trainee reading a lesson page. Arguments: the page's path and a file with one
-- Cookie header value per trainee; each request takes the next trainee's cookies. Optionally a
-- rate (requests/s) and wrk's thread count (its -t) to pace the load (pacing.lua) instead of
-- saturating the server.
--   wrk ... -s lesson.lua http://127.0.0.1:PORT -- /learn/p/m/l cookies.txt
--   wrk -t2 -c100 ... -s lesson.lua http://127.0.0.1:PORT -- /learn/p/m/l cookies.txt 600 2
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")
dofile(here .. "pacing.lua")

local path, cookies, n = "/", {}, 0

function init(args)
   path = args[1]
   for line in io.lines(args[2]) do table.insert(cookies, line) end
   n = id or 0 -- threads start at different trainees
   pace(args[3], args[4])
end

function request()
   n = n + 1
   return wrk.format("GET", path, { ["Cookie"] = cookies[n % #cookies + 1] })
end

function response(status, headers, body)
   expect(status, 200, body) -- a 303 to /login would mean the session was not accepted
end

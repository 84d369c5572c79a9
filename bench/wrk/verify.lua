-- A certifying body verifying certificates with its verifier API key (so the per-address
-- limit on anonymous verification does not apply). Arguments: a file of paths (one a line,
-- taken in turn: the JSON API or the HTML page) and the key.
--   wrk ... -s verify.lua http://127.0.0.1:PORT -- paths.txt ppv_...
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local paths, key, n = {}, "", 0

function init(args)
   for line in io.lines(args[1]) do table.insert(paths, line) end
   key = args[2]
   n = id or 0
end

function request()
   n = n + 1
   return wrk.format("GET", paths[n % #paths + 1], { ["Authorization"] = "Bearer " .. key })
end

function response(status, headers, body)
   expect(status, 200, body)
end

-- A plain GET of the URL given to wrk (nginx's static file, the bare FastAPI app): no
-- per-request Lua, so wrk runs at full speed. Errors are wrk's own (sockets, status >= 400).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

-- Paced load (loaded with dofile by lesson.lua and progress.lua): instead of sending the next
-- request as soon as an answer arrives (saturation), every connection waits for its turn in a
-- Poisson arrival schedule of `rate` requests/s, so wrk's connections act as users with think
-- time who together offer `rate`. Each wrk thread keeps its own schedule at rate / threads,
-- drawn from its own seeded random numbers.
--
-- wrk calls delay() before every request on a connection (the first one included) and starts
-- the latency clock only when the request is written, so the wait is not counted. A connection
-- that is waiting for its answer cannot take the next arrival: when the server falls behind,
-- arrivals are sent late and their latency hides the delay (coordinated omission); the
-- shortfall shows as an achieved rate below `rate`, which bench/load.py checks.
--
-- Each connection's wait is the time to the next free arrival, about users / rate minus its
-- own response time, so the offered load stays at `rate` however fast the server answers.

local ffi = require("ffi")
ffi.cdef [[
   typedef struct { long tv_sec; long tv_nsec; } pacing_timespec;
   int clock_gettime(int clock, pacing_timespec *now);
]]
local CLOCK_MONOTONIC, now_buffer = 1, ffi.new("pacing_timespec")

local function now_ms()
   ffi.C.clock_gettime(CLOCK_MONOTONIC, now_buffer)
   return tonumber(now_buffer.tv_sec) * 1000 + tonumber(now_buffer.tv_nsec) / 1e6
end

-- From a script's init(): with a rate (requests/s over all threads) and the number of wrk
-- threads, define wrk's delay() hook; without them, leave the script at saturation.
function pace(rate, threads)
   rate, threads = tonumber(rate), tonumber(threads)
   if not rate then return end
   math.randomseed(8 + (id or 0)) -- report.lua numbers the threads: one stream per thread
   local mean_gap_ms = 1000 * threads / rate
   local next_arrival = nil
   function delay()
      local now = now_ms()
      next_arrival = next_arrival or now
      local wait = next_arrival - now
      -- Exponential gaps between arrivals (1 - random() is in (0, 1], so log() is finite).
      next_arrival = next_arrival - mean_gap_ms * math.log(1 - math.random())
      return wait > 0 and math.floor(wait + 0.5) or 0
   end
end

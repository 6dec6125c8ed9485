-- wrk script: GET random 1 MiB ranges of one file. The same seed gives reel
-- and nginx the same sequence of ranges. Env: BENCH_PATH, BENCH_SIZE, BENCH_TOKEN.
local path = os.getenv("BENCH_PATH")
local size = tonumber(os.getenv("BENCH_SIZE"))
local token = os.getenv("BENCH_TOKEN") or ""
local chunk = 1024 * 1024
local chunks = math.floor(size / chunk)
math.randomseed(42)
request = function()
  local first = math.random(0, chunks - 1) * chunk
  return wrk.format("GET", path, {
    ["Range"] = "bytes=" .. first .. "-" .. (first + chunk - 1),
    ["Authorization"] = "Bearer " .. token,
  })
end

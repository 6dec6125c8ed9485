-- wrk script: POST /api/auth/register, a new email every request (each
-- wrk thread and connection numbers its own), so every request hashes.
local counter, thread_id = 0, math.random(1, 1e9)
function setup(thread) thread:set("thread_id", math.random(1, 1e9)) end
request = function()
  counter = counter + 1
  local body = string.format(
    '{"email":"r%d-%d@example.com","password":"correct horse battery","name":"Bench","organizationName":"Bench"}',
    thread_id, counter)
  return wrk.format("POST", "/api/auth/register", {["Content-Type"] = "application/json"}, body)
end

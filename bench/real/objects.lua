-- Real program: an interpreter running an allocation-heavy script. Records (tables with
-- strings, a tag list and a closure) are built, indexed by a string key, summarised, sorted
-- and partly dropped, round after round. Lua allocates everything through realloc and free.
-- Usage: lua5.4 objects.lua [scale]. Deterministic: prints one checksum.
local scale = tonumber(arg and arg[1]) or 1.0
local rounds = math.max(1, math.floor(15 * scale))
local checksum = 0
for round = 1, rounds do
  local records = {}
  for i = 1, 20000 do
    local r = { id = i, name = "item" .. i .. ":" .. round, tags = {} }
    for t = 1, i % 8 do r.tags[t] = string.rep("t", t) .. i end
    r.score = function() return i * round end
    records[#records + 1] = r
  end
  local index = {}
  for _, r in ipairs(records) do
    local key = r.name:sub(1, 6)
    local bucket = index[key]
    if not bucket then
      bucket = {}
      index[key] = bucket
    end
    bucket[#bucket + 1] = r
  end
  local parts = {}
  for k, bucket in pairs(index) do
    parts[#parts + 1] = k .. "=" .. #bucket
    checksum = checksum + bucket[1].score() % 1000
  end
  table.sort(parts)
  checksum = checksum + #table.concat(parts, ",")
  for i = 1, #records, 3 do records[i] = nil end
end
print(checksum)

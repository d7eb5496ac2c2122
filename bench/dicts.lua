-- dicts: hash-table-heavy work: insert 200,000 integer keys, look them all up (and as
-- many missing ones), count key classes in a second table; 25 times; prints a checksum.
local function key(i) return (i * 7919) % 1000003 end

local function run(n)
  local d = {}
  for i = 0, n - 1 do
    d[key(i)] = i
  end
  local sum = 0
  for i = 0, n - 1 do
    local k = key(i)
    local v = d[k]
    local m = d[k + 1000003]   -- always missing
    if m ~= nil then sum = sum + v + m else sum = sum + v end
  end
  local c = {}
  for i = 0, n - 1 do
    local b = key(i) % 1000
    c[b] = (c[b] or 0) + 1
  end
  for b = 0, 999 do
    sum = sum + b * (c[b] or 0)
  end
  return sum
end

local r = 0
for i = 1, 25 do r = run(200000) end
print(string.format("%d", r))

-- strbuild: build strings from number->string pieces collected in a list and joined,
-- 3000 rows of 1000 pieces; prints the total length of the joined rows.
local function row(k, n)
  local parts = {}
  for i = 0, n - 1 do
    parts[#parts + 1] = tostring(k * n + i) .. ","
  end
  return table.concat(parts)
end

local total = 0
for k = 0, 2999 do
  total = total + #row(k, 1000)
end
print(string.format("%d", total))

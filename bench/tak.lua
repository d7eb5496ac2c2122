-- tak: Takeuchi function, (tak 18 12 6) repeated 2000 times.
local function tak(x, y, z)
  if not (y < x) then return z end
  return tak(tak(x - 1, y, z), tak(y - 1, z, x), tak(z - 1, x, y))
end

local r = 0
for i = 1, 2000 do r = tak(18, 12, 6) end
print(string.format("%d", r))

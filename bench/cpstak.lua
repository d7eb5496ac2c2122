-- cpstak: continuation-passing-style Takeuchi, (cpstak 18 12 6) repeated 300 times.
local function tak(x, y, z, k)
  if not (y < x) then return k(z) end
  return tak(x - 1, y, z, function(v1)
    return tak(y - 1, z, x, function(v2)
      return tak(z - 1, x, y, function(v3)
        return tak(v1, v2, v3, k)
      end)
    end)
  end)
end

local function cpstak(x, y, z)
  return tak(x, y, z, function(a) return a end)
end

local r = 0
for i = 1, 300 do r = cpstak(18, 12, 6) end
print(string.format("%d", r))

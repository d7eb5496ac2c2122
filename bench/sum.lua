-- sum: sum the integers 0 .. N-1 in a loop, N = 50,000,000; done 5 times.
local function sum(n)
  local s = 0
  for i = 0, n - 1 do s = s + i end
  return s
end

local r = 0
for k = 1, 5 do r = sum(50000000) end
print(string.format("%d", r))

-- sumfp: sum the floats 0.0 .. N-1 in a loop, N = 20,000,000; done 6 times;
-- prints the sum as an integer.
local function sumfp(n)
  local s = 0.0
  local i = 0.0
  while i < n do
    s = s + i
    i = i + 1.0
  end
  return s
end

local r = 0.0
for k = 1, 6 do r = sumfp(20000000.0) end
print(string.format("%d", r))

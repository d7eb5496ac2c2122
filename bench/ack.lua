-- ack: Ackermann function, deep non-tail recursion (about 4,000 frames), (ack 3 9) x10.
local function ack(m, n)
  if m == 0 then return n + 1 end
  if n == 0 then return ack(m - 1, 1) end
  return ack(m - 1, ack(m, n - 1))
end

local r = 0
for i = 1, 10 do r = ack(3, 9) end
print(string.format("%d", r))

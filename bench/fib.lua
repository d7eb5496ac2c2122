-- fib: doubly recursive Fibonacci, fib(30) computed 20 times.
local function fib(n)
  if n < 2 then return n end
  return fib(n - 1) + fib(n - 2)
end

local r = 0
for i = 1, 20 do r = fib(30) end
print(string.format("%d", r))

-- primes: sieve of Eratosthenes up to 1,000,000 in an array, count the primes, 20 times.
local function sieve(n)
  local v = {}
  for i = 0, n do v[i] = true end
  local count = 0
  for i = 2, n do
    if v[i] then
      count = count + 1
      for j = i * i, n, i do v[j] = false end
    end
  end
  return count
end

local r = 0
for i = 1, 20 do r = sieve(1000000) end
print(string.format("%d", r))

-- nqueens: count the solutions of 8 queens, Gabriel-style with lists, repeated 2000 times.
-- Lists are cons cells {car, cdr}; nil is the empty list.

local function cons(a, d) return {a, d} end

local function iota1(n)
  local l = nil
  local i = n
  while i > 0 do l = cons(i, l); i = i - 1 end
  return l
end

local function append(x, y)
  if x == nil then return y end
  return cons(x[1], append(x[2], y))
end

local function ok(row, dist, placed)
  if placed == nil then return true end
  return placed[1] ~= row + dist and placed[1] ~= row - dist
    and ok(row, dist + 1, placed[2])
end

local function try(x, y, z)
  if x == nil then
    if y == nil then return 1 else return 0 end
  end
  local a = 0
  if ok(x[1], 1, z) then a = try(append(x[2], y), nil, cons(x[1], z)) end
  return a + try(x[2], cons(x[1], y), z)
end

local function queens(n) return try(iota1(n), nil, nil) end

local r = 0
for i = 1, 2000 do r = queens(8) end
print(string.format("%d", r))

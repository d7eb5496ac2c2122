-- deriv: Gabriel's symbolic derivative benchmark, repeated 500,000 times;
-- prints the number of atoms in the result.
-- Lists are cons cells {car, cdr}; nil is the empty list; symbols are strings.

local function cons(a, d) return {a, d} end

-- (list a b c) and (list a b c d), as Scheme's list primitive builds them
local function list3(a, b, c) return {a, {b, {c, nil}}} end
local function list4(a, b, c, d) return {a, {b, {c, {d, nil}}}} end

local function map(f, l)
  if l == nil then return nil end
  return cons(f(l[1]), map(f, l[2]))
end

local function count(a)               -- number of atoms (leaves) in a tree
  if type(a) ~= "table" then return 1 end
  local n = 0
  while a ~= nil do n = n + count(a[1]); a = a[2] end
  return n
end

local function deriv(a)
  if type(a) ~= "table" then
    if a == "x" then return 1 else return 0 end
  end
  local op = a[1]
  if op == "+" then return cons("+", map(deriv, a[2])) end
  if op == "-" then return cons("-", map(deriv, a[2])) end
  if op == "*" then return list3("*", a, cons("+", map(function(b) return list3("/", deriv(b), b) end, a[2]))) end
  if op == "/" then
    local u, v = a[2][1], a[2][2][1]
    return list3("-", list3("/", deriv(u), v), list3("/", u, list4("*", v, v, deriv(v))))
  end
  error("no derivation method available: " .. tostring(op))
end

-- '(+ (* 3 x x) (* a x x) (* b x) 5)
local expr = cons("+", cons(list4("*", 3, "x", "x"), cons(list4("*", "a", "x", "x"),
               cons(list3("*", "b", "x"), cons(5, nil)))))

local r = nil
for i = 1, 500000 do r = deriv(expr) end
print(string.format("%d", count(r)))

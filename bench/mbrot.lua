-- mbrot: Mandelbrot iteration counts over a 200x200 grid of floats (max 100 iterations),
-- 30 times; prints the total iteration count of one grid.
local function count(cr, ci, maxit)
  local zr, zi = 0.0, 0.0
  local i = 0
  while i < maxit do
    if zr * zr + zi * zi > 4.0 then return i end
    local nzr = zr * zr - zi * zi + cr
    zi = 2.0 * (zr * zi) + ci
    zr = nzr
    i = i + 1
  end
  return i
end

local function mbrot(n, maxit)
  local step = 2.5 / n
  local total = 0
  for y = 0, n - 1 do
    local ci = y * step - 1.25
    for x = 0, n - 1 do
      total = total + count(x * step - 2.0, ci, maxit)
    end
  end
  return total
end

local r = 0
for i = 1, 30 do r = mbrot(200, 100) end
print(string.format("%d", r))

-- wrk script for the mixed run of bench/run: reads the list, detail, home and ledger pages in
-- turn and makes every tenth request a write (a key-person visit, POSTed with the session's
-- CSRF token). The session cookie comes from wrk's -H; the key person and the token from the
-- environment (BENCH_KP, BENCH_CSRF).
local kp = os.getenv("BENCH_KP")
local csrf = os.getenv("BENCH_CSRF")
local reads = { "/", "/persons?q=%E5%BC%A0", "/persons/1000", "/ledgers/safety_check?year=2023" }
local n = 0
local post_headers = nil

-- wrk.format uses the headers it is given instead of wrk.headers: copy the cookie over
local function form_headers()
  if not post_headers then
    post_headers = {}
    for k, v in pairs(wrk.headers) do post_headers[k] = v end
    post_headers["Content-Type"] = "application/x-www-form-urlencoded"
  end
  return post_headers
end

request = function()
  n = n + 1
  if n % 10 == 0 then
    return wrk.format("POST", "/key-persons/" .. kp .. "/visits", form_headers(),
      "csrf=" .. csrf .. "&note=bench")
  end
  return wrk.format("GET", reads[n % #reads + 1])
end

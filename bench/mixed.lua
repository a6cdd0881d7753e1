-- A shop's traffic in one run (issue 14): each request picks its kind at
-- random, 80% reads (GET /orders/books, GET /orders, GET /user/me, a third
-- each), 15% POST /orders/new (the books BENCH_BOOKS "FIRST-LAST") and 5%
-- POST /payment/pay-order (each unpaid order of BENCH_PAIRS once, by its
-- owner; thread k of BENCH_THREADS takes the lines k, k+n, ...). The users
-- are those of BENCH_COOKIES in turn. A thread out of orders to pay counts
-- "exhausted" and stops (the run then does not count, as in pay.lua).
-- wrk tells Lua nothing per request, so scripts/bench.sh takes the per-kind
-- counts and latencies from nginx's access log of the run.
dofile(os.getenv("BENCH_DIR") .. "/common.lua")

local cookies, reads, news, pays = {}, {}, {}, {}
local ic, ib, ip = 0, 0, 0

function init(args)
	local n = tonumber(bench_env("BENCH_THREADS", "1"))
	local k = (thread_no or 1) - 1
	local lo, hi = string.match(bench_env("BENCH_BOOKS", "1-1"), "^(%d+)-(%d+)$")
	local form = "application/x-www-form-urlencoded"

	cookies = bench_cookies()
	assert(#cookies > 0, "BENCH_COOKIES is empty")
	for _, c in ipairs(cookies) do
		table.insert(reads, {
			wrk.format("GET", "/orders/books"),
			wrk.format("GET", "/orders", { Cookie = c }),
			wrk.format("GET", "/user/me", { Cookie = c }),
		})
		local per = {}
		for b = tonumber(lo), tonumber(hi) do
			table.insert(per, wrk.format("POST", "/orders/new",
				{ Cookie = c, ["Content-Type"] = form }, "bookId=" .. b))
		end
		table.insert(news, per)
	end
	for no, line in ipairs(bench_lines(bench_env("BENCH_PAIRS", nil))) do
		if (no - 1) % n == k then
			local id, cookie = string.match(line, "^(%d+) (.+)$")
			table.insert(pays, wrk.format("POST", "/payment/pay-order",
				{ Cookie = cookie, ["Content-Type"] = form }, "orderId=" .. id))
		end
	end
	assert(#pays > 0, "no orders to pay")
	math.randomseed(os.time() * 7919 + (thread_no or 1))
	ic = (thread_no or 1) * 17
end

function request()
	local r = math.random(100)
	ic = ic % #cookies + 1
	if r <= 80 then
		return reads[ic][r % 3 + 1]
	elseif r <= 95 then
		ib = ib + 1
		local per = news[ic]
		return per[ib % #per + 1]
	end
	ip = ip + 1
	if ip > #pays then
		exhausted = exhausted + 1
		wrk.thread:stop()
		return pays[#pays]
	end
	return pays[ip]
end

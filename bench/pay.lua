-- POST /payment/pay-order, each unpaid order once, by its owner. BENCH_PAIRS
-- is a file of "orderId cookie" lines; thread k of BENCH_THREADS takes the
-- lines k, k+n, k+2n, ... When a thread runs out it counts "exhausted",
-- re-sends its last request (a 409 that counts as an error) and stops:
-- the run then had too few orders and its figures do not count.
dofile(os.getenv("BENCH_DIR") .. "/common.lua")

local reqs, i = {}, 0

function init(args)
	local n = tonumber(bench_env("BENCH_THREADS", "1"))
	local k = (thread_no or 1) - 1
	for no, line in ipairs(bench_lines(bench_env("BENCH_PAIRS", nil))) do
		if (no - 1) % n == k then
			local id, cookie = string.match(line, "^(%d+) (.+)$")
			table.insert(reqs, wrk.format("POST", "/payment/pay-order", {
				["Cookie"] = cookie,
				["Content-Type"] = "application/x-www-form-urlencoded",
			}, "orderId=" .. id))
		end
	end
	assert(#reqs > 0, "no orders to pay")
end

function request()
	i = i + 1
	if i > #reqs then
		exhausted = exhausted + 1
		wrk.thread:stop()
		return reqs[#reqs]
	end
	return reqs[i]
end

-- GET wrk.path, with the cookies of BENCH_COOKIES in turn when given
-- (authenticated GETs), or without a cookie (GET /orders/books, the floors).
dofile(os.getenv("BENCH_DIR") .. "/common.lua")

local reqs, i = {}, 0

function init(args)
	for _, c in ipairs(bench_cookies()) do
		table.insert(reqs, wrk.format("GET", wrk.path, { Cookie = c }))
	end
	if #reqs == 0 then
		reqs[1] = wrk.format("GET", wrk.path)
	end
	i = (thread_no or 1) * 17 -- threads start at different users
end

function request()
	i = i % #reqs + 1
	return reqs[i]
end

-- POST /orders/new (form body bookId=N) as the users of BENCH_COOKIES in turn,
-- for the books BENCH_BOOKS: "ID" (one hot book) or "FIRST-LAST" (spread).
dofile(os.getenv("BENCH_DIR") .. "/common.lua")

local reqs, i = {}, 0

function init(args)
	local cookies = bench_cookies()
	local spec = bench_env("BENCH_BOOKS", "1")
	local lo, hi = string.match(spec, "^(%d+)-(%d+)$")
	local books = {}
	if lo then
		for b = tonumber(lo), tonumber(hi) do
			table.insert(books, b)
		end
	else
		books[1] = tonumber(spec)
	end
	assert(#cookies > 0, "BENCH_COOKIES is empty")
	-- every (user, book) pair once; consecutive requests differ in both
	local n = math.max(#cookies, #books)
	if #cookies ~= #books then
		n = #cookies * #books
	end
	for k = 0, n - 1 do
		local c = cookies[k % #cookies + 1]
		local b = books[(k * 7 + math.floor(k / #cookies)) % #books + 1]
		table.insert(reqs, wrk.format("POST", "/orders/new", {
			["Cookie"] = c,
			["Content-Type"] = "application/x-www-form-urlencoded",
		}, "bookId=" .. b))
	end
	i = (thread_no or 1) * 31
end

function request()
	i = i % #reqs + 1
	return reqs[i]
end

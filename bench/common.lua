-- Shared by the bench/*.lua wrk scripts (loaded with dofile): counts answers
-- per HTTP status in each thread and prints one machine-readable RESULT line
-- in done(), which scripts/bench.sh parses. Settings come from the
-- environment (BENCH_*), set by scripts/bench.sh.
--   BENCH_ALLOW  comma-separated non-2xx statuses that are expected (e.g. "409")
--   BENCH_COOKIES file with one "Cookie:" value per line (mb_session=...)

local threads = {}

function setup(thread)
	table.insert(threads, thread)
	thread:set("thread_no", #threads)
end

-- in each thread's own Lua state
statuses = {}
exhausted = 0

function response(status, headers, body)
	statuses[status] = (statuses[status] or 0) + 1
end

function bench_env(name, default)
	local v = os.getenv(name)
	if v == nil or v == "" then
		return default
	end
	return v
end

function bench_lines(path)
	local t = {}
	if path == nil then
		return t
	end
	local f = assert(io.open(path, "r"), "cannot open " .. path)
	for line in f:lines() do
		if line ~= "" then
			table.insert(t, line)
		end
	end
	f:close()
	return t
end

function bench_cookies()
	return bench_lines(bench_env("BENCH_COOKIES", nil))
end

function done(summary, latency, requests)
	local allow = {}
	for s in string.gmatch(bench_env("BENCH_ALLOW", ""), "%d+") do
		allow[tonumber(s)] = true
	end
	local all, ex = {}, 0
	for _, t in ipairs(threads) do
		for s, n in pairs(t:get("statuses") or {}) do
			all[s] = (all[s] or 0) + n
		end
		ex = ex + (t:get("exhausted") or 0)
	end
	local keys, parts, unexpected = {}, {}, 0
	for s, _ in pairs(all) do
		table.insert(keys, s)
	end
	table.sort(keys)
	for _, s in ipairs(keys) do
		table.insert(parts, s .. ":" .. all[s])
		if (s < 200 or s > 299) and not allow[s] then
			unexpected = unexpected + all[s]
		end
	end
	local e = summary.errors
	local sock = e.connect + e.read + e.write + e.timeout
	io.write(string.format("RESULT requests=%d duration_us=%d rps=%.1f p50_ms=%.2f p99_ms=%.2f " ..
		"max_ms=%.2f statuses=%s unexpected=%d socket_errors=%d exhausted=%d\n",
		summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
		latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
		#parts > 0 and table.concat(parts, ",") or "-", unexpected + sock, sock, ex))
end

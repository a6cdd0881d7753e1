-- POST /user/login as BENCH_USER_PREFIX0001 .. BENCH_USER_PREFIX<BENCH_USERS>
-- in turn, all with the password BENCH_PASSWORD (a real PBKDF2 verify each).
dofile(os.getenv("BENCH_DIR") .. "/common.lua")

local reqs, i = {}, 0

function init(args)
	local prefix = bench_env("BENCH_USER_PREFIX", "bench")
	local pwd = bench_env("BENCH_PASSWORD", "bench-password-1")
	for u = 1, tonumber(bench_env("BENCH_USERS", "64")) do
		table.insert(reqs, wrk.format("POST", "/user/login", {
			["Content-Type"] = "application/x-www-form-urlencoded",
		}, string.format("userName=%s%04d&pwd=%s", prefix, u, pwd)))
	end
	i = (thread_no or 1) * 13
end

function request()
	i = i % #reqs + 1
	return reqs[i]
end

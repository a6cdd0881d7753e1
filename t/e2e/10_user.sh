#!/usr/bin/env bash
# The user service through nginx: register, login, me, logout, revocation,
# and the HTTP conventions of API.md (405, 415, 413, 403, 400, JSON bodies).
source "$(dirname "$0")/lib.sh"
J=$TMP/jar
name="e2e$(date +%s%N | tail -c 10)"

api POST /user/register -d "userName=$name" -d "pwd=correct-horse"
expect "register answers 201" 201
check "register returns the user" [ "$(jqb .data.userName)" = "$name" ]
uid=$(jqb .data.userId)

api POST /user/register -d "userName=$name" -d "pwd=correct-horse"
expect "duplicate register is 409 USER_EXISTS" 409 USER_EXISTS

api POST /user/register -d "userName=x" -d "pwd=short"
expect "a 5-byte password is 400" 400 INVALID_ARGUMENT
check "the 400 names the field" grep -q pwd <<<"$(jqb .error.detail)"

api POST /user/register --data-urlencode "userName=a' OR '1'='1" -d "pwd=password123"
expect "an SQL-looking user name is 400" 400 INVALID_ARGUMENT
check "no such user was stored" [ "$(sql "SELECT COUNT(*) FROM users WHERE name LIKE 'a%OR%'")" = 0 ]

api POST /user/register -H 'Content-Type: application/json' \
	-d "{\"userName\":\"${name}j\",\"pwd\":\"json-password\"}"
expect "a JSON body is accepted" 201

api POST /user/login -c "$J" -d "userName=$name" -d "pwd=wrong-password"
expect "wrong password is 401 BAD_CREDENTIALS" 401 BAD_CREDENTIALS
wrong_pw=$(jqb '.error | keys | join(",")'):$(jqb .error.detail)
api POST /user/login -c "$J" -d "userName=nobody$name" -d "pwd=wrong-password"
expect "unknown user is 401 BAD_CREDENTIALS" 401 BAD_CREDENTIALS
check "unknown user and wrong password get the same answer" \
	[ "$(jqb '.error | keys | join(",")'):$(jqb .error.detail)" = "$wrong_pw" ]

api POST /user/login -c "$J" -d "userName=$name" -d "pwd=correct-horse"
expect "login is 200" 200
check "login sets an HttpOnly SameSite=Lax cookie" \
	grep -qi '^set-cookie: mb_session=.*; HttpOnly; SameSite=Lax' "$HDRS"
first_cookie=$(awk '$6 == "mb_session" {print $7}' "$J")

api GET /user/me -b "$J"
expect "me with the session is 200" 200
check "me names the user" [ "$(jqb .data.userName):$(jqb .data.userId)" = "$name:$uid" ]
length_ok "me with the session (200)"

api GET /user/me
expect "me without a session is 401" 401 UNAUTHENTICATED

tampered=$(printf '%s' "$first_cookie" | sed 's/^\(.\{10\}\)./\1X/')
[ "$tampered" = "$first_cookie" ] && tampered=$(printf '%s' "$first_cookie" | sed 's/^\(.\{10\}\)./\1Y/')
api GET /user/me -H "Cookie: mb_session=$tampered"
expect "me with a tampered cookie is 401" 401 UNAUTHENTICATED

api GET /user/me -H "Cookie: mb_session=$first_cookie; mb_session=$first_cookie"
expect "a duplicated session cookie is refused" 401 UNAUTHENTICATED

api GET /user/me -H "Cookie: other=1; mb_session=$first_cookie; theme=dark"
expect "other cookies beside the session are ignored" 200

api POST /user/login -c "$TMP/jar2" -d "userName=$name" -d "pwd=correct-horse"
second_cookie=$(awk '$6 == "mb_session" {print $7}' "$TMP/jar2")
check "every login issues a new session" [ -n "$second_cookie" -a "$second_cookie" != "$first_cookie" ]

# Warm every worker's session cache (each service runs several workers), so
# the replay below proves that logout reaches the caches of all of them.
for i in $(seq 24); do
	curl -s -o /dev/null -b "$J" "$BASE/user/me" &
	curl -s -o /dev/null -b "$J" "$BASE/orders" &
	curl -s -o /dev/null -b "$J" -d orderId=1 "$BASE/payment/pay-order" &
done
wait
api POST /user/logout -b "$J"
expect "logout is 200" 200
for i in $(seq 24); do
	curl -s -o /dev/null -w '%{http_code}\n' -H "Cookie: mb_session=$first_cookie" "$BASE/user/me" &
	curl -s -o /dev/null -w '%{http_code}\n' -H "Cookie: mb_session=$first_cookie" "$BASE/orders" &
	curl -s -o /dev/null -w '%{http_code}\n' -H "Cookie: mb_session=$first_cookie" -d orderId=1 "$BASE/payment/pay-order" &
done >"$TMP/replays"
wait
check "after logout, 72 replays on every worker of the three services are all 401" \
	[ "$(grep -c '^401$' "$TMP/replays")" = 72 ]
check "logout clears the cookie" grep -qi '^set-cookie: mb_session=;.*Max-Age=0' "$HDRS"
api GET /user/me -H "Cookie: mb_session=$first_cookie"
expect "the logged-out cookie replayed is 401" 401 UNAUTHENTICATED
api GET /user/me -b "$TMP/jar2"
expect "the other session of the same user still works" 200

api GET /user/login
expect "GET on a POST endpoint is 405" 405 METHOD_NOT_ALLOWED
check "405 carries Allow: POST" [ "$(header Allow)" = POST ]
api DELETE /user/me
expect "DELETE /user/me is 405" 405 METHOD_NOT_ALLOWED
check "405 carries Allow: GET" [ "$(header Allow)" = GET ]

api POST /user/login -H 'Content-Type: text/plain' -d "userName=$name"
expect "text/plain is 415" 415 UNSUPPORTED_MEDIA_TYPE

head -c 20480 /dev/zero | tr '\0' a >"$TMP/big"
api POST /user/login --data-binary @"$TMP/big"
expect "a 20 KB body is 413" 413 PAYLOAD_TOO_LARGE

api POST /user/login -H 'Origin: http://evil.example' -d "userName=$name" -d "pwd=correct-horse"
expect "a cross-site Origin is 403" 403 FORBIDDEN
api POST /user/login -H "Origin: $BASE" -d "userName=$name" -d "pwd=correct-horse"
expect "our own Origin passes" 200
api POST /user/login -H 'Referer: http://evil.example/page' -d "userName=$name" -d "pwd=correct-horse"
expect "a cross-site Referer is 403" 403 FORBIDDEN

api GET /user/nowhere
expect "an unknown route is 404" 404 NOT_FOUND

api POST /user/login -d "userName=$name" -d "userName=$name" -d "pwd=correct-horse"
expect "a duplicated field is 400" 400 INVALID_ARGUMENT

# Sessions past their absolute lifetime are purged by the orders-listener.
# (a 32-character id, as the column; the row must be there before the purge)
old_sid=$(printf '0ld%029d' "$RANDOM")
sql "INSERT INTO sessions (id, user_id, created_at) VALUES
     ('$old_sid', $uid, UTC_TIMESTAMP(3) - INTERVAL 3 DAY)"
check "an old session is planted" [ "$(sql "SELECT COUNT(*) FROM sessions WHERE id = '$old_sid'")" = 1 ]
restart_daemon orders-listener
gone() { [ "$(sql "SELECT COUNT(*) FROM sessions WHERE created_at < UTC_TIMESTAMP(3) - INTERVAL 2 DAY")" = 0 ]; }
check "sessions older than SESSION_MAX are purged" wait_for 5 gone
check "live sessions are kept" [ "$(sql "SELECT COUNT(*) FROM sessions WHERE user_id = $uid AND revoked_at IS NULL")" -ge 1 ]

api GET /user/health
expect "health is 200" 200
check "health says db ok" [ "$(jqb .data.db)" = ok ]

# Rate limit on login: a burst far above LOGIN_BURST, sent by one curl over
# parallel connections (cheap GETs answered 405 when let through), gets 429s;
# one of those 429s (from the same burst, so machine speed does not matter)
# is checked like any answer: envelope, code, ref = X-Request-Id, media type.
# shellcheck disable=SC2016
curl -s --parallel --parallel-max 32 -o "$TMP/rl_#1" \
	-w '%{http_code}\t%header{x-request-id}\t%{content_type}\t%{filename_effective}\n' \
	"$BASE/user/login?n=[1-400]" >"$TMP/codes" 2>/dev/null
check "a login storm is rate limited with 429 ($(grep -c '^429' "$TMP/codes") of 400)" grep -q '^429' "$TMP/codes"
IFS=$'\t' read -r STATUS rl_id rl_type rl_file < <(grep '^429' "$TMP/codes" | head -1)
BODY=$(cat "$rl_file" 2>/dev/null)
if [ "$STATUS" = 429 ] && [ "$(jqb .error.code)" = RATE_LIMITED ] && [ "$(jqb .ref)" = "$rl_id" ] \
	&& printf '%s' "$rl_type" | grep -qi '^application/json; charset=utf-8$'; then
	ok "429 is RATE_LIMITED in the envelope"
else
	fail "429 is RATE_LIMITED in the envelope" "status $STATUS, ref $(jqb .ref) vs $rl_id, type $rl_type; body: ${BODY:0:300}"
fi
sleep 2

finish

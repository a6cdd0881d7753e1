#!/usr/bin/env bash
# Malformed requests of every kind: each gets its documented 4xx in the
# envelope, nothing is written, and the stack stays healthy afterwards.
source "$(dirname "$0")/lib.sh"
J=$TMP/jar
new_user "$J"
book=$(sql "INSERT INTO books (title, unit_price, stock, initial_stock) VALUES ('bad $RANDOM', 100, 50, 50); SELECT LAST_INSERT_ID();")
api POST /orders/new -b "$J" -d "bookId=$book"
oid=$(jqb .data.orderId)
rows() { sql "SELECT (SELECT COUNT(*) FROM orders) + (SELECT COUNT(*) FROM payments) + (SELECT COUNT(*) FROM inventory_history) + (SELECT COUNT(*) FROM users)"; }
before=$(rows)

# bad NAME STATUS CODE METHOD PATH [curl args...]
bad() { local n=$1 st=$2 code=$3; shift 3; api "$@"; expect "$n" "$st" "$code"; }

key=$(cat "$VAR_DIR/session.key")
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
# cookie KEY PAYLOAD: a session cookie for PAYLOAD signed with KEY
cookie() {
	local p
	p=$(printf '%s' "$2" | b64url)
	printf '%s.%s' "$p" "$(printf '%s' "$p" | openssl dgst -sha256 -hmac "$1" -binary | b64url)"
}
now=$(date +%s)
forged_other_key=$(cookie "an-old-key-that-was-removed-0001" "1|0123456789abcdef0123456789abcdef|$UID_|$now|$((now + 600))")
forged_no_session=$(cookie "$key" "1|0123456789abcdef0123456789abcdef|$UID_|$now|$((now + 600))")
forged_expired=$(cookie "$key" "1|0123456789abcdef0123456789abcdef|$UID_|$((now - 100))|$((now - 10))")
forged_bad_payload=$(cookie "$key" "2|not-a-session")
long=$(head -c 8000 /dev/zero | tr '\0' A)
deep=$(printf '%.0s[' $(seq 1000))1$(printf '%.0s]' $(seq 1000))
deepobj=$(printf '%.0s{"a":' $(seq 1000))1$(printf '%.0s}' $(seq 1000))
many=$(for i in $(seq 40); do printf 'f%d=1&' "$i"; done)

# cookies
bad "a session signed with a removed key"        401 UNAUTHENTICATED GET /user/me -H "Cookie: mb_session=$forged_other_key"
bad "a validly signed unknown session"           401 UNAUTHENTICATED GET /user/me -H "Cookie: mb_session=$forged_no_session"
bad "a validly signed expired session"           401 UNAUTHENTICATED GET /orders -H "Cookie: mb_session=$forged_expired"
bad "a validly signed garbage payload"           401 UNAUTHENTICATED GET /user/me -H "Cookie: mb_session=$forged_bad_payload"
bad "an 8 KB session cookie"                     401 UNAUTHENTICATED GET /user/me -H "Cookie: mb_session=$long"
bad "an 8 KB cookie beside no session"           401 UNAUTHENTICATED GET /user/me -H "Cookie: other=$long"
bad "a cookie header of 20 KB"                   400 INVALID_ARGUMENT GET /user/me -H "Cookie: a=$long; b=$long; c=$long"
bad "a second Cookie header with the session"                 401 UNAUTHENTICATED GET /orders -b "$J" -H "Cookie: mb_session=x"
bad "an empty session cookie"                    401 UNAUTHENTICATED GET /user/me -H "Cookie: mb_session="
bad "a cookie without '='"                       401 UNAUTHENTICATED GET /user/me -H "Cookie: mb_session"
bad "cookie garbage ;;;==="                      401 UNAUTHENTICATED GET /user/me -H "Cookie: ;;;===;mb_session=;;"
# bodies
bad "a NUL byte in a field"                      400 INVALID_ARGUMENT POST /user/register -d "userName=nul%00x" -d "pwd=password123"
bad "invalid UTF-8 in a user name"               400 INVALID_ARGUMENT POST /user/register -d "userName=%ff%fe" -d "pwd=password123"
bad "invalid UTF-8 in a JSON body"               400 INVALID_ARGUMENT POST /orders/new -b "$J" -H 'Content-Type: application/json' --data-binary $'{"bookId":"\xff"}'
bad "an overlong UTF-8 sequence in JSON"         400 INVALID_ARGUMENT POST /orders/new -b "$J" -H 'Content-Type: application/json' --data-binary $'{"bookId":"\xc0\xaf"}'
bad "a \\u0000 escape in JSON"                   400 INVALID_ARGUMENT POST /orders/new -b "$J" -H 'Content-Type: application/json' -d '{"bookId":"1\u0000"}'
bad "1000-deep JSON arrays"                      400 INVALID_ARGUMENT POST /orders/new -b "$J" -H 'Content-Type: application/json' -d "$deep"
bad "1000-deep JSON objects"                     400 INVALID_ARGUMENT POST /orders/new -b "$J" -H 'Content-Type: application/json' -d "$deepobj"
bad "a JSON array body"                          400 INVALID_ARGUMENT POST /orders/new -b "$J" -H 'Content-Type: application/json' -d '[1,2]'
bad "a JSON string body"                         400 INVALID_ARGUMENT POST /orders/new -b "$J" -H 'Content-Type: application/json' -d '"bookId"'
bad "a JSON null body"                           400 INVALID_ARGUMENT POST /orders/new -b "$J" -H 'Content-Type: application/json' -d 'null'
bad "truncated JSON"                             400 INVALID_ARGUMENT POST /orders/new -b "$J" -H 'Content-Type: application/json' -d '{"bookId": 1'
bad "a float id in JSON"                         400 INVALID_ARGUMENT POST /orders/new -b "$J" -H 'Content-Type: application/json' -d '{"bookId": 1.5}'
bad "a boolean id in JSON"                       400 INVALID_ARGUMENT POST /orders/new -b "$J" -H 'Content-Type: application/json' -d '{"bookId": true}'
bad "an object id in JSON"                       400 INVALID_ARGUMENT POST /orders/new -b "$J" -H 'Content-Type: application/json' -d '{"bookId": {"$gt": 0}}'
bad "a negative JSON id"                         400 INVALID_ARGUMENT POST /orders/new -b "$J" -H 'Content-Type: application/json' -d '{"bookId": -5}'
bad "an overflowing JSON number"                 400 INVALID_ARGUMENT POST /orders/new -b "$J" -H 'Content-Type: application/json' -d '{"bookId": 99999999999999999999999}'
bad "duplicated JSON keys"                       400 INVALID_ARGUMENT POST /orders/new -b "$J" -H 'Content-Type: application/json' -d "{\"bookId\":$book,\"bookId\":$book}"
bad "an empty JSON object"                       400 INVALID_ARGUMENT POST /orders/new -b "$J" -H 'Content-Type: application/json' -d '{}'
bad "duplicated form parameters"                 400 INVALID_ARGUMENT POST /orders/new -b "$J" -d "bookId=$book&bookId=$book"
bad "40 form parameters"                         400 INVALID_ARGUMENT POST /orders/new -b "$J" -d "${many}bookId=$book"
bad "a bad percent escape"                       400 INVALID_ARGUMENT POST /orders/new -b "$J" -d "bookId=%zz"
bad "a truncated percent escape"                 400 INVALID_ARGUMENT POST /orders/new -b "$J" -d "bookId=1%4"
bad "a missing body"                             400 INVALID_ARGUMENT POST /orders/new -b "$J" -X POST
bad "a field without a value"                    400 INVALID_ARGUMENT POST /payment/pay-order -b "$J" -d "orderId"
bad "JSON sent as a form"                        400 INVALID_ARGUMENT POST /orders/new -b "$J" -H 'Content-Type: application/x-www-form-urlencoded' -d "{\"bookId\":$book}"
# ids
bad "id 2^63 (one past the edge)"                400 INVALID_ARGUMENT POST /orders/new -b "$J" -d "bookId=9223372036854775808"
bad "id 2^63-1 is valid but unknown"             404 NOT_FOUND        POST /orders/new -b "$J" -d "bookId=9223372036854775807"
bad "id with a leading zero"                     400 INVALID_ARGUMENT POST /orders/new -b "$J" -d "bookId=0$book"
bad "id with a plus sign"                        400 INVALID_ARGUMENT POST /orders/new -b "$J" --data-urlencode "bookId=+$book"
bad "id with spaces"                             400 INVALID_ARGUMENT POST /orders/new -b "$J" --data-urlencode "bookId= $book"
bad "id in hex"                                  400 INVALID_ARGUMENT POST /orders/new -b "$J" -d "bookId=0x10"
bad "order id 2^64 in the path"                  400 INVALID_ARGUMENT GET /orders/18446744073709551616 -b "$J"
# SQL and shell metacharacters
bad "SQL in an id"                               400 INVALID_ARGUMENT POST /orders/new -b "$J" --data-urlencode "bookId=1; DROP TABLE books"
bad "SQL in an order id"                         400 INVALID_ARGUMENT POST /payment/pay-order -b "$J" --data-urlencode "orderId=$oid OR 1=1"
bad "SQL in a user name (login)"                 401 BAD_CREDENTIALS  POST /user/login --data-urlencode "userName=' OR '1'='1" -d "pwd=x"
bad "shell in a user name"                       400 INVALID_ARGUMENT POST /user/register --data-urlencode 'userName=$(reboot)' -d "pwd=password123"
bad "SQL in a query parameter"                   400 INVALID_ARGUMENT GET "/orders?limit=1%20OR%201=1" -b "$J"
bad "a bad escape in the query string"           400 INVALID_ARGUMENT GET "/orders?limit=%zz" -b "$J"
bad "before=0"                                   400 INVALID_ARGUMENT GET "/orders?before=0" -b "$J"
# content types and methods
bad "text/plain"                                 415 UNSUPPORTED_MEDIA_TYPE POST /orders/new -b "$J" -H 'Content-Type: text/plain' -d "bookId=$book"
bad "multipart/form-data"                        415 UNSUPPORTED_MEDIA_TYPE POST /orders/new -b "$J" -F "bookId=$book"
bad "application/xml"                            415 UNSUPPORTED_MEDIA_TYPE POST /payment/pay-order -b "$J" -H 'Content-Type: application/xml' -d "<orderId>$oid</orderId>"
bad "application/jsonx"                          415 UNSUPPORTED_MEDIA_TYPE POST /orders/new -b "$J" -H 'Content-Type: application/jsonx' -d "{\"bookId\":$book}"
bad "a body without a content type"              415 UNSUPPORTED_MEDIA_TYPE POST /orders/new -b "$J" -H 'Content-Type:' -d "bookId=$book"
bad "PUT on an endpoint"                         405 METHOD_NOT_ALLOWED PUT /orders/new -b "$J" -d "bookId=$book"
bad "PATCH on an order"                          405 METHOD_NOT_ALLOWED PATCH "/orders/$oid" -b "$J"
bad "DELETE on pay-order"                        405 METHOD_NOT_ALLOWED DELETE /payment/pay-order -b "$J"
bad "a path below an order"                      404 NOT_FOUND GET "/orders/$oid/items" -b "$J"
bad "/payment alone"                             404 NOT_FOUND GET /payment
bad "a 17 KB body"                               413 PAYLOAD_TOO_LARGE POST /orders/new -b "$J" -d "bookId=$book&pad=$(head -c 17000 /dev/zero | tr '\0' a)"
# Idempotency-Key
bad "a 65-character Idempotency-Key"             400 INVALID_ARGUMENT POST /orders/new -b "$J" -H "Idempotency-Key: $(head -c 65 /dev/zero | tr '\0' k)" -d "bookId=$book"
bad "a 4 KB Idempotency-Key"                     400 INVALID_ARGUMENT POST /orders/new -b "$J" -H "Idempotency-Key: ${long:0:4000}" -d "bookId=$book"
bad "an Idempotency-Key with a tab"              400 INVALID_ARGUMENT POST /orders/new -b "$J" -H $'Idempotency-Key: a\tb' -d "bookId=$book"
bad "a non-ASCII Idempotency-Key"                400 INVALID_ARGUMENT POST /orders/new -b "$J" -H $'Idempotency-Key: cl\xc3\xa9' -d "bookId=$book"
# cross-site and field limits
bad "Origin: null"                               403 FORBIDDEN POST /payment/pay-order -b "$J" -H 'Origin: null' -d "orderId=$oid"
bad "an Origin that only starts like ours"       403 FORBIDDEN POST /orders/cancel -b "$J" -H "Origin: $BASE.evil.example" -d "orderId=$oid"
bad "a 21-character user name"                   400 INVALID_ARGUMENT POST /user/register -d "userName=abcdefghijklmnopqrstu" -d "pwd=password123"
bad "an empty user name"                         400 INVALID_ARGUMENT POST /user/register -d "userName=" -d "pwd=password123"
bad "a 129-byte password"                        400 INVALID_ARGUMENT POST /user/register -d "userName=okname$RANDOM" -d "pwd=$(head -c 129 /dev/zero | tr '\0' p)"

check "nothing was written by the bad requests" [ "$(rows)" = "$before" ]
api GET /user/health
expect "user service healthy afterwards" 200
api GET /orders/health
expect "orders service healthy afterwards" 200
api GET /payment/health
expect "payment service healthy afterwards" 200
api POST /payment/pay-order -b "$J" -H 'Content-Type: application/json; charset=utf-8' -d "{\"orderId\":\"$oid\"}"
expect "a good request still works (JSON with charset, id as a string)" 200

finish

#!/usr/bin/env bash
# The real clients: the Postman collection run by newman, and the browser
# page driven in Debian's chromium by playwright-core (log in, order, pay,
# see it paid, log out). A screenshot after paying goes to the output folder.
source "$(dirname "$0")/lib.sh"
OUT=${CHECK_OUT:-$ROOT/t/out}/clients-$(basename "${BUILD:-build}")
mkdir -p "$OUT"
cd "$ROOT"

if [ ! -x node_modules/.bin/newman ] || [ ! -d node_modules/playwright-core ]; then
	fail "node tools" "node_modules is missing: run npm ci (make check does, through scripts/deps.sh)"
	exit 1
fi

# newman: one line per assertion, from its JSON report
if node_modules/.bin/newman run docs/postman_collection.json --env-var "baseUrl=$BASE" \
	--reporters cli,json --reporter-json-export "$OUT/newman.json" >"$OUT/newman.log" 2>&1; then
	ok "newman ran the Postman collection"
else
	fail "newman ran the Postman collection" "see $OUT/newman.log"
	tail -30 "$OUT/newman.log" | sed 's/^/# /'
fi
if [ -s "$OUT/newman.json" ]; then
	jq -r '.run.executions[] | .item.name as $req | (.assertions // [])[] |
		if .error then "not ok - postman \($req): \(.assertion): \(.error.message)"
		else "ok - postman \($req): \(.assertion)" end' "$OUT/newman.json"
fi

# the browser page
timeout 120 node t/browser/flow.js "$BASE/" "$OUT" >"$OUT/browser.log" 2>&1
sed -n 's/^\(not \)\{0,1\}ok - /&browser: /p' "$OUT/browser.log"
check "browser flow finished (screenshot $OUT/after-pay.png)" [ -s "$OUT/after-pay.png" ]

finish

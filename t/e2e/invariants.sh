#!/usr/bin/env bash
# The invariants of API.md, straight from the database. Those that hold
# "eventually" (the listener applying a payment, the sweep releasing a
# reservation) are polled for up to 8 s before they count as broken.
source "$(dirname "$0")/lib.sh"
GRACE=${SWEEP_GRACE:-5}

# Each query counts the rows that break the rule; 0 means it holds.
declare -A rule=(
	["1 stock never negative"]="SELECT COUNT(*) FROM books WHERE stock < 0"
	["2 stock + reserved + sold = initial + restocked"]="SELECT COUNT(*) FROM books b WHERE b.stock +
	   (SELECT COUNT(*) FROM inventory_history h WHERE h.book_id = b.id AND h.state IN (1, 2))
	   <> b.initial_stock + b.restocked"
	["3 every order has exactly one existing history row"]="SELECT COUNT(*) FROM orders o
	   LEFT JOIN inventory_history h ON h.id = o.history_id WHERE h.id IS NULL"
	["3 every paid order has one payment and its copy is out"]="SELECT COUNT(*) FROM orders o
	   LEFT JOIN payments p ON p.order_id = o.id JOIN inventory_history h ON h.id = o.history_id
	   WHERE o.state = 'paid' AND (p.id IS NULL OR h.state <> 2)"
	["3 no payment for a cancelled or expired order"]="SELECT COUNT(*) FROM payments p
	   JOIN orders o ON o.id = p.order_id WHERE o.state IN ('cancelled', 'expired')"
	["3 a payment's order becomes paid"]="SELECT COUNT(*) FROM payments p
	   JOIN orders o ON o.id = p.order_id WHERE o.state <> 'paid'"
	["3 every payment's order names it (orders.payment_id)"]="SELECT COUNT(*) FROM payments p
	   JOIN orders o ON o.id = p.order_id WHERE NOT (o.payment_id <=> p.id)"
	["3 every payment has its recorded event"]="SELECT COUNT(*) FROM payments p
	   LEFT JOIN payment_events e ON e.payment_id = p.id WHERE e.id IS NULL"
	["4 no reservation without its order (after the sweep)"]="SELECT COUNT(*) FROM inventory_history h
	   LEFT JOIN orders o ON o.history_id = h.id WHERE h.state = 1 AND o.id IS NULL
	   AND h.created_at < UTC_TIMESTAMP(3) - INTERVAL $((GRACE + 3)) SECOND"
	["4 a closed order's copy goes back to stock"]="SELECT COUNT(*) FROM orders o
	   JOIN inventory_history h ON h.id = o.history_id
	   WHERE o.state IN ('cancelled', 'expired') AND h.state <> 3"
	["4 an unpaid order still holds its reservation"]="SELECT COUNT(*) FROM orders o
	   JOIN inventory_history h ON h.id = o.history_id WHERE o.state = 'unpaid' AND h.state <> 1
	   AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id)"
)

holds() { [ "$(sql "$1" 2>/dev/null)" = 0 ]; }
for name in $(printf '%s\n' "${!rule[@]}" | sort | tr ' ' '\001'); do
	name=${name//$'\001'/ }
	if wait_for 8 holds "${rule[$name]}"; then
		ok "invariant $name"
	else
		fail "invariant $name" "$(sql "${rule[$name]}" 2>&1) rows break it"
	fi
done
[ "$FAILS" -eq 0 ]

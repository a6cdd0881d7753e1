/*
 * states: the states of a reservation and of an order, named once for C and
 * for the SQL that C builds. The schema keeps its own copy (sql/001_schema.sql:
 * inventory_history.state, a TINYINT, and orders.state, an ENUM); change
 * both together.
 *
 * A reservation (inventory_history.state) moves only forward, each move once:
 * RESERVED -> SOLD (Confirm) or RESERVED -> RELEASED (Release).
 * An order (orders.state) starts UNPAID and ends PAID, CANCELLED or EXPIRED.
 *
 * The _SQL forms are SQL literals to paste into a statement by string
 * concatenation: "... WHERE state = " HIST_RESERVED_SQL.
 */
#ifndef MB_STATES_H
#define MB_STATES_H

#define HIST_RESERVED      1
#define HIST_SOLD          2
#define HIST_RELEASED      3
#define HIST_RESERVED_SQL  "1"
#define HIST_SOLD_SQL      "2"
#define HIST_RELEASED_SQL  "3"

#define ORDER_UNPAID          "unpaid"
#define ORDER_PAID            "paid"
#define ORDER_CANCELLED       "cancelled"
#define ORDER_EXPIRED         "expired"
#define ORDER_UNPAID_SQL      "'unpaid'"
#define ORDER_PAID_SQL        "'paid'"
#define ORDER_CANCELLED_SQL   "'cancelled'"
#define ORDER_EXPIRED_SQL     "'expired'"

#endif

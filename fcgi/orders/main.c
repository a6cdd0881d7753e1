/* orders: the catalogue and a user's orders, behind /orders. */
#include "orders.h"

static const app_route orders_routes[] = {
	{ "GET",  "/orders/books",  orders_books },
	{ "POST", "/orders/new",    orders_new },
	{ "GET",  "/orders",        orders_list },
	{ "POST", "/orders/cancel", orders_cancel },
	{ "GET",  "/orders/health", orders_health },
	{ "GET",  "/orders/:id",    orders_get },
};

int
main(void)
{
	return app_main("orders", orders_routes,
	    (int)(sizeof orders_routes / sizeof orders_routes[0]), orders_init);
}

/* payment: pays an order and announces it on the bus, behind /payment/. */
#include "payment.h"

static const app_route payment_routes[] = {
	{ "POST", "/payment/pay-order", payment_pay },
	/* the database only: a PUB socket cannot tell whether anyone listens */
	{ "GET",  "/payment/health",    app_health_db },
};

int
main(void)
{
	return app_main("payment", payment_routes,
	    (int)(sizeof payment_routes / sizeof payment_routes[0]), payment_init);
}

/* user: registration, login, logout and "who am I", behind /user/. */
#include "app.h"
#include "user.h"

static const app_route user_routes[] = {
	{ "POST", "/user/register", user_register },
	{ "POST", "/user/login",    user_login },
	{ "POST", "/user/logout",   user_logout },
	{ "GET",  "/user/me",       user_me },
	{ "GET",  "/user/health",   app_health_db },
};

int
main(void)
{
	return app_main("user", user_routes, (int)(sizeof user_routes / sizeof user_routes[0]),
	    user_init);
}

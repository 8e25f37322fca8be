/*
 * config_example.c: prints the documented example configuration that is
 * shipped as etc/certfleetd.conf, so the file always follows the table in
 * config.c (a unit test checks that they agree).
 */
#include <stdio.h>

#include "daemon/config.h"

int
main(void)
{
	config_print_example(stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}

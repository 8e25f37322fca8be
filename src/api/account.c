/*
 * account.c: GetAccountConfiguration and PutAccountConfiguration: the
 * number of days before expiry at which expiry events begin (45 unless set).
 */
#include <errno.h>
#include <stdint.h>

#include <jansson.h>

#include "api/api.h"
#include "api/handlers.h"
#include "api/input.h"
#include "store/store.h"

int
handle_get_account_configuration(struct api_call *call, PGconn *conn)
{
	_cleanup_free_ char *err = NULL;
	int days, rc;

	if ((rc = store_account_get(conn, &days, &err)) < 0)
		return api_fail_store(call, rc, err);
	return api_ok(call, json_pack("{s:{s:i}}", "ExpiryEvents",
	    "DaysBeforeExpiry", days));
}

int
handle_put_account_configuration(struct api_call *call, PGconn *conn)
{
	_cleanup_free_ char *err = NULL;
	struct input in, sub;
	const json_t *expiry;
	const char *token;
	_cleanup_free_ char *where = NULL;
	int64_t days = -1;
	int rc, current;

	input_init(&in, call);
	token = input_string(&in, "IdempotencyToken", true, 1, 32);
	if (token != NULL) {
		where = input_where(&in, "IdempotencyToken");
		model_check_idempotency_token(call->env->rules, token, where,
		    &in.errors);
	}
	if ((expiry = input_object(&in, "ExpiryEvents", false)) != NULL) {
		input_init_nested(&sub, &in, expiry, "expiryEvents");
		input_int(&sub, "DaysBeforeExpiry", false, 1, INT32_MAX, &days);
		input_merge(&in, &sub);
	}
	if (input_finish(&in) < 0)
		return -1;
	if (days < 0) {
		/* Nothing to change: keep the current value, still honour the
		 * token so that a retry with other values conflicts. */
		if ((rc = store_account_get(conn, &current, &err)) < 0)
			return api_fail_store(call, rc, err);
		days = current;
	}
	rc = store_account_put(conn, (int)days, token, &err);
	if (rc == -EEXIST)
		return api_fail(call, "ConflictException",
		    "IdempotencyToken %s was used within the last hour with "
		    "different values", token);
	if (rc < 0)
		return api_fail_store(call, rc, err);
	return api_ok(call, NULL);
}

/*
 * events.c: CertFleet.LookupEvents, the audit trail read back in the shape
 * of CloudTrail's LookupEvents: StartTime, EndTime, at most one
 * LookupAttribute (EventName, ResourceName, Username, EventId, ReadOnly),
 * MaxResults (1..50) and NextToken; newest first.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "api/api.h"
#include "api/handlers.h"
#include "api/input.h"
#include "common/base64.h"
#include "common/xmalloc.h"
#include "store/store.h"

#define EVENTS_MAX 50

static const char *const attribute_keys[] = { "EventName", "ResourceName",
	"Username", "EventId", "ReadOnly", NULL };

/* The last second of 9999: later times are no use and PostgreSQL's
 * timestamps end not much later. */
#define LATEST_TIME 253402300799LL

/* A timestamp member: epoch seconds, integer or fractional; *out stays
 * -1 when it is absent. */
static void
input_time(struct input *in, const char *member, double *seconds,
    int64_t *out)
{
	const json_t *v = json_object_get(in->obj, member);

	if (v == NULL || json_is_null(v))
		return;
	if (!json_is_number(v)) {
		input_fatal(in, "SerializationException",
		    "%s must be a timestamp in epoch seconds", member);
		return;
	}
	*seconds = json_number_value(v);
	if (!(*seconds >= 0 && *seconds <= LATEST_TIME)) {
		input_fatal(in, "InvalidTimeRangeException",
		    "%s must lie between 0 and %lld (epoch seconds, "
		    "9999-12-31)", member, (long long)LATEST_TIME);
		return;
	}
	*out = (int64_t)llround(*seconds * 1e6);
}

static void
decode_attribute(struct input *in, struct store_audit_query *q)
{
	const json_t *attrs = input_array(in, "LookupAttributes", false, 0, 1);
	const json_t *a;
	struct input sub;

	if (attrs == NULL || json_array_size(attrs) == 0)
		return;
	a = json_array_get(attrs, 0);
	if (!json_is_object(a)) {
		input_fatal(in, "SerializationException",
		    "LookupAttributes must hold AttributeKey/AttributeValue "
		    "structures");
		return;
	}
	input_init_nested(&sub, in, a, "lookupAttributes.1.member");
	q->attribute = input_enum(&sub, "AttributeKey", true, attribute_keys);
	q->value = input_string(&sub, "AttributeValue", true, 1, 2000);
	input_merge(in, &sub);
}

static char *
token_encode(const struct store_audit_row *row)
{
	_cleanup_free_ char *raw = xasprintf("ev1:%lld:%s",
	    (long long)row->time_us, row->event_id);

	return base64_encode(raw, strlen(raw));
}

/* 8-4-4-4-12 hexadecimal digits, as event ids are. */
static bool
is_uuid(const char *s)
{
	static const char hex[] = "0123456789abcdefABCDEF";

	if (strlen(s) != 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : strchr(hex, s[i]) == NULL)
			return false;
	}
	return true;
}

static int
token_decode(const char *token, int64_t *time_us, char id[37])
{
	_cleanup_free_ unsigned char *raw = NULL;
	size_t len;
	long long t;

	if (base64_decode(token, strlen(token), &raw, &len) < 0 ||
	    sscanf((const char *)raw, "ev1:%lld:%36s", &t, id) != 2 ||
	    !is_uuid(id))
		return -EINVAL;
	*time_us = t;
	return 0;
}

static json_t *
event_json(const struct store_audit_row *row)
{
	json_t *record = json_loads(row->json, 0, NULL);
	json_t *ident, *e;

	if (record == NULL)
		return NULL;
	ident = json_object_get(record, "userIdentity");
	e = json_pack("{s:s, s:O, s:s, s:O, s:s, s:O, s:s}",
	    "EventId", row->event_id,
	    "EventName", json_object_get(record, "eventName"),
	    "ReadOnly", json_is_true(json_object_get(record, "readOnly")) ?
	    "true" : "false",
	    "EventTime", json_object_get(record, "eventTime"),
	    "EventSource", "acm.certfleet",
	    "Resources", json_object_get(record, "resources"),
	    "CloudTrailEvent", row->json);
	if (e != NULL && json_is_string(json_object_get(ident, "userName")))
		json_object_set(e, "Username",
		    json_object_get(ident, "userName"));
	json_decref(record);
	return e;
}

int
handle_lookup_events(struct api_call *call, PGconn *conn)
{
	struct store_audit_query q = { .max_results = EVENTS_MAX,
		.start_us = -1, .end_us = -1 };
	double start = 0, end = 0;
	struct store_audit_page *page = NULL;
	_cleanup_free_ char *err = NULL;
	const char *token;
	char before_id[37] = "";
	struct input in;
	int64_t max = EVENTS_MAX;
	json_t *events, *out;
	int r;

	input_init(&in, call);
	input_time(&in, "StartTime", &start, &q.start_us);
	input_time(&in, "EndTime", &end, &q.end_us);
	decode_attribute(&in, &q);
	input_int(&in, "MaxResults", false, 1, EVENTS_MAX, &max);
	token = input_string(&in, "NextToken", false, 1, 1000);
	if (input_finish(&in) < 0)
		return -1;
	if (q.start_us >= 0 && q.end_us >= 0 && start > end)
		return api_fail(call, "InvalidTimeRangeException",
		    "StartTime (%.6f) is after EndTime (%.6f)", start, end);
	q.max_results = (int)max;
	if (token != NULL) {
		if (token_decode(token, &q.before_us, before_id) < 0)
			return api_fail(call, "InvalidNextTokenException",
			    "The NextToken is not valid: pass the NextToken "
			    "of the previous response");
		q.before_id = before_id;
	}
	if ((r = store_audit_lookup(conn, &q, &page, &err)) < 0)
		return api_fail_store(call, r, err);
	events = json_array();
	for (size_t i = 0; i < page->n_rows; i++)
		json_array_append_new(events, event_json(&page->rows[i]));
	out = json_pack("{s:o}", "Events", events);
	if (page->more && page->n_rows > 0) {
		_cleanup_free_ char *next = token_encode(
		    &page->rows[page->n_rows - 1]);

		json_object_set_new(out, "NextToken", json_string(next));
	}
	store_audit_page_free(page);
	return api_ok(call, out);
}

/*
 * transport.c: the CLI's only network code. libcurl's easy interface does
 * HTTP/1.1 over the daemon's UNIX socket (CURLOPT_UNIX_SOCKET_PATH), POST
 * http://localhost/ with the AWS JSON 1.1 headers. Request and response
 * bodies can hold key material (import-certificate, export-certificate):
 * both are wiped before they are freed, and neither is logged.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cli/args.h"
#include "cli/transport.h"
#include "common/log.h"
#include "common/xmalloc.h"

/* The answer as it arrives. */
struct body {
	char *data;
	size_t len;
	size_t cap;
};

static size_t
body_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct body *b = userdata;
	size_t n = size * nmemb;

	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *bigger = xmalloc(cap);

		if (b->data)
			memcpy(bigger, b->data, b->len);
		secret_free(b->data, b->cap);
		b->data = bigger;
		b->cap = cap;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

void
service_error_clear(struct service_error *e)
{
	free(e->code);
	free(e->message);
	e->code = e->message = NULL;
}

void
transport_parse_error(long status, const char *body, size_t len,
    struct service_error *err)
{
	_cleanup_json_ json_t *j = json_loadb(body, len, 0, NULL);
	json_t *type = json_object_get(j, "__type");
	json_t *msg = json_object_get(j, "message");
	char *code, *p;

	if (!json_is_string(msg))
		msg = json_object_get(j, "Message");
	if (json_is_string(type))
		code = xstrdup(json_string_value(type));
	else
		code = xasprintf("%ld", status);
	if ((p = strchr(code, ':')))
		*p = '\0';
	if ((p = strrchr(code, '#')))
		memmove(code, p + 1, strlen(p + 1) + 1);
	err->code = code;
	err->message = xstrdup(json_is_string(msg) ? json_string_value(msg) :
						     "");
}

/* Why the socket cannot be reached, for the one message the user sees. */
static char *
connect_error(const char *path, const char *curl_msg)
{
	struct stat st;
	const char *why = curl_msg;

	if (stat(path, &st) < 0)
		why = strerror(errno);
	else if (!S_ISSOCK(st.st_mode))
		why = "Not a socket";
	else if (access(path, W_OK) < 0)
		why = strerror(errno);
	else
		why = "Connection refused";
	return xasprintf("Could not connect to the certfleet control socket "
			 "\"%s\": %s\nIs certfleetd running? Check with: "
			 "systemctl status certfleetd",
	    path, why);
}

static inline void
curl_easy_cleanupp(CURL **c)
{
	curl_easy_cleanup(*c);
}

static inline void
curl_slist_free_allp(struct curl_slist **l)
{
	curl_slist_free_all(*l);
}

static int
perform(const struct transport *t, const char *target, const char *data,
    size_t len, long *status, struct body *b, char **reterr_msg)
{
	_cleanup_(curl_easy_cleanupp) CURL *c = curl_easy_init();
	_cleanup_(curl_slist_free_allp) struct curl_slist *h = NULL;
	_cleanup_free_ char *th = xasprintf("X-Amz-Target: %s", target);
	char errbuf[CURL_ERROR_SIZE] = "";
	CURLcode rc;

	if (c == NULL) {
		*reterr_msg = xstrdup("Could not initialise libcurl");
		return -ENOMEM;
	}
	h = curl_slist_append(h, th);
	h = curl_slist_append(h, "Content-Type: application/x-amz-json-1.1");
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, t->socket_path);
	curl_easy_setopt(c, CURLOPT_URL, "http://localhost/");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, data);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "certfleet/" PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, t->connect_timeout);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, t->read_timeout);
	rc = curl_easy_perform(c);
	if (rc == CURLE_COULDNT_CONNECT) {
		*reterr_msg = connect_error(t->socket_path, errbuf);
		return -ECONNREFUSED;
	}
	if (rc != CURLE_OK) {
		*reterr_msg = xasprintf("Request to %s over \"%s\" failed: %s",
		    target, t->socket_path,
		    *errbuf ? errbuf : curl_easy_strerror(rc));
		return rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	return 0;
}

int
transport_call(const struct transport *t, const char *prefix,
    const char *action, const json_t *body, json_t **response,
    struct service_error *err, char **reterr_msg)
{
	_cleanup_free_ char *target = xasprintf("%s.%s", prefix, action);
	struct body b = { 0 };
	json_error_t je;
	long status = 0;
	char *data;
	size_t len;
	int r;

	data = json_dumps(body, JSON_COMPACT);
	len = strlen(data);
	log_debug("POST %s to %s (%zu bytes)", target, t->socket_path, len);
	r = perform(t, target, data, len, &status, &b, reterr_msg);
	secret_free(data, len);
	if (r < 0) {
		secret_free(b.data, b.cap);
		return r;
	}
	log_debug("%s answered HTTP %ld (%zu bytes)", target, status, b.len);
	if (status != 200) {
		transport_parse_error(status, b.data ? b.data : "", b.len, err);
		secret_free(b.data, b.cap);
		return -EREMOTEIO;
	}
	*response = b.len ? json_loadb(b.data, b.len, 0, &je) : json_object();
	secret_free(b.data, b.cap);
	if (!json_is_object(*response)) {
		json_decref(*response);
		*response = NULL;
		*reterr_msg = xasprintf("Unable to parse the response to %s: "
					"not a JSON object",
		    target);
		return -EBADMSG;
	}
	return 0;
}

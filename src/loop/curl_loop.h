/*
 * curl_loop.h: libcurl's multi interface driven by the libevent loop, so
 * SMTP deliveries and HTTP fetches (RDAP) never block it.
 */
#ifndef CERTFLEET_LOOP_CURL_LOOP_H
#define CERTFLEET_LOOP_CURL_LOOP_H

#include <curl/curl.h>

struct event_base;
struct curl_loop;

/* Runs on the loop thread once the transfer ended, whatever the outcome.
 * The easy handle is no longer in the multi handle; the callback owns it. */
typedef void (*curl_loop_done_fn)(CURL *easy, CURLcode result, void *arg);

struct curl_loop *curl_loop_new(struct event_base *base);
/* Cancels every transfer (their callbacks run with CURLE_ABORTED_BY_CALLBACK)
 * and frees the loop. Accepts NULL. */
void curl_loop_free(struct curl_loop *loop);

/* Starts a configured easy transfer. */
void curl_loop_add(struct curl_loop *loop, CURL *easy, curl_loop_done_fn done,
    void *arg);
/* Transfers in progress. */
unsigned curl_loop_active(const struct curl_loop *loop);

#endif

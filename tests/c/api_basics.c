/*
 * The API without a server: versions, result names, bad configurations, NULL and
 * non-UTF-8 arguments, out-parameters left alone on failure, *_free(NULL), and the life of
 * a client that is never started.
 *
 * Usage: api_basics EXPECTED_VERSION
 */
#define _POSIX_C_SOURCE 200809L

#include "check.h"

static void bad_configs(void) {
    /* Not JSON at all. */
    tw_client *c = tw_client_new("{not json");
    CHECK(c == NULL);
    CHECK(tw_last_error_code() == TW_ERR_CONFIG);
    CHECK(strstr(tw_last_error(), "not valid JSON") != NULL);
    printf("bad json: %s\n", tw_last_error());

    /* Valid JSON, invalid fields: every problem is named. */
    c = tw_client_new("{\"url\": 42, \"jitter\": \"lots\", \"no_such_field\": 1}");
    CHECK(c == NULL);
    CHECK(tw_last_error_code() == TW_ERR_CONFIG);
    CHECK(strstr(tw_last_error(), "url") != NULL);
    CHECK(strstr(tw_last_error(), "jitter") != NULL);
    CHECK(strstr(tw_last_error(), "no_such_field") != NULL);
    printf("bad fields: %s\n", tw_last_error());

    /* The preset that is not available yet is a configuration error too. */
    c = tw_client_new("{\"preset\": \"nonsense\"}");
    CHECK(c == NULL);
    CHECK(tw_last_error_code() == TW_ERR_CONFIG);

    /* compression: "deflate" (the default) or null (off); anything else is refused. */
    c = tw_client_new("{\"url\": \"ws://127.0.0.1:1\", \"compression\": null}");
    CHECK(c != NULL);
    tw_client_free(c);
    c = tw_client_new("{\"url\": \"ws://127.0.0.1:1\", \"compression\": \"deflate\"}");
    CHECK(c != NULL);
    tw_client_free(c);
    c = tw_client_new("{\"url\": \"ws://127.0.0.1:1\", \"compression\": \"gzip\"}");
    CHECK(c == NULL);
    CHECK(tw_last_error_code() == TW_ERR_CONFIG);
    CHECK(strstr(tw_last_error(), "compression") != NULL);

    /* NULL and invalid UTF-8 are argument errors, reported in words. */
    c = tw_client_new(NULL);
    CHECK(c == NULL);
    CHECK(tw_last_error_code() == TW_ERR_INVALID_ARGUMENT);
    CHECK(strstr(tw_last_error(), "NULL") != NULL);
    c = tw_client_new("{\"url\": \"ws://h\xff\xfe\"}");
    CHECK(c == NULL);
    CHECK(tw_last_error_code() == TW_ERR_INVALID_ARGUMENT);
    CHECK(strstr(tw_last_error(), "UTF-8") != NULL);
}

static void null_arguments(void) {
    /* Out-parameters hold sentinels that a failing call must not overwrite. */
    static char dummy;
    tw_event *const sentinel = (tw_event *)(void *)&dummy;
    tw_event *ev = sentinel;
    char sentinel_text[] = "sentinel";
    char *json = sentinel_text;
    size_t len = 12345;

    CHECK_RC(tw_client_start(NULL), TW_ERR_INVALID_ARGUMENT);
    CHECK(strstr(tw_last_error(), "tw_client_start") != NULL);
    CHECK_RC(tw_client_next_event(NULL, 0, &ev), TW_ERR_INVALID_ARGUMENT);
    CHECK(ev == sentinel);
    CHECK_RC(tw_client_send_text(NULL, "x"), TW_ERR_INVALID_ARGUMENT);
    CHECK_RC(tw_client_send_binary(NULL, NULL, 0), TW_ERR_INVALID_ARGUMENT);
    CHECK_RC(tw_client_request(NULL, "e", NULL, 10, &json), TW_ERR_INVALID_ARGUMENT);
    CHECK(strcmp(json, "sentinel") == 0);
    CHECK_RC(tw_client_set_callback(NULL, NULL, NULL), TW_ERR_INVALID_ARGUMENT);
    CHECK_RC(tw_client_reconnect(NULL), TW_ERR_INVALID_ARGUMENT);
    CHECK_RC(tw_client_close(NULL), TW_ERR_INVALID_ARGUMENT);
    CHECK(tw_client_status_json(NULL) == NULL);
    CHECK(tw_event_kind(NULL) == NULL);
    CHECK(tw_event_type(NULL) == NULL);
    CHECK(tw_event_data_json(NULL) == NULL);
    CHECK(tw_event_raw(NULL) == NULL);
    CHECK(tw_event_account_id(NULL) == NULL);
    CHECK(tw_event_raw_bytes(NULL, &len) == NULL);
    CHECK(len == 12345);
    CHECK(tw_event_to_json(NULL) == NULL);
    CHECK(tw_event_clone(NULL) == NULL);
    CHECK(tw_event_epoch(NULL) == 0);
    CHECK(strstr(tw_last_error(), "`event` is NULL") != NULL);

    /* Freeing NULL does nothing. */
    tw_client_free(NULL);
    tw_event_free(NULL);
    tw_string_free(NULL);
}

static void unstarted_client(void) {
    /* Nothing listens on port 9 of 127.0.0.1, but nothing connects either: no start(). */
    tw_client *c = tw_client_new("{\"url\": \"ws://127.0.0.1:9\", \"preset\": \"daemon\"}");
    CHECK(c != NULL);

    /* Waiting for events on a client never started would wait for ever: a usage error
     * that says to start it (the same rule in every binding). */
    tw_event *ev = NULL;
    CHECK_RC(tw_client_next_event(c, 0, &ev), TW_ERR_USAGE);
    CHECK(strstr(tw_last_error(), "tw_client_start") != NULL);
    CHECK(ev == NULL);
    CHECK_RC(tw_client_next_event(c, 50, &ev), TW_ERR_USAGE);
    CHECK(ev == NULL);
    CHECK_RC(tw_client_next_event(c, 0, NULL), TW_ERR_INVALID_ARGUMENT);

    CHECK_RC(tw_client_send_text(c, "hello"), TW_ERR_NOT_CONNECTED);
    CHECK(strstr(tw_last_error(), "start") != NULL);
    CHECK_RC(tw_client_send_text(c, NULL), TW_ERR_INVALID_ARGUMENT);
    CHECK_RC(tw_client_send_text(c, "bad \xc3\x28 utf-8"), TW_ERR_INVALID_ARGUMENT);
    CHECK(strstr(tw_last_error(), "UTF-8") != NULL);
    CHECK_RC(tw_client_send_binary(c, NULL, 3), TW_ERR_INVALID_ARGUMENT);
    CHECK_RC(tw_client_reconnect(c), TW_ERR_NOT_CONNECTED);
    CHECK_RC(tw_client_set_callback(c, NULL, NULL), TW_ERR_INVALID_ARGUMENT);

    char *status = tw_client_status_json(c);
    CHECK(status != NULL);
    CHECK(strstr(status, "\"state\":\"idle\"") != NULL);
    printf("status: %s\n", status);
    tw_string_free(status);

    CHECK_RC(tw_client_close(c), TW_OK);
    CHECK_RC(tw_client_close(c), TW_OK); /* idempotent */
    CHECK_RC(tw_client_next_event(c, TW_NO_TIMEOUT, &ev), TW_CLOSED);
    CHECK(ev == NULL);
    CHECK_RC(tw_client_start(c), TW_ERR_CLOSED);
    CHECK_RC(tw_client_send_text(c, "late"), TW_ERR_CLOSED);
    status = tw_client_status_json(c);
    CHECK(status != NULL && strstr(status, "\"state\":\"closed\"") != NULL);
    tw_string_free(status);
    tw_client_free(c);

    /* Freeing a client that was never closed closes it. */
    c = tw_client_new("{\"url\": \"ws://127.0.0.1:9\"}");
    CHECK(c != NULL);
    tw_client_free(c);
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    CHECK(str_eq(tw_version(), argv[1]));
    CHECK(strcmp(tw_last_error(), "") == 0); /* nothing failed yet on this thread */
    CHECK(tw_last_error_code() == TW_OK);

    CHECK(str_eq(tw_result_name(TW_OK), "TW_OK"));
    CHECK(str_eq(tw_result_name(TW_ERR_PANIC), "TW_ERR_PANIC"));
    CHECK(str_eq(tw_result_name(-1000), "TW_UNKNOWN_RESULT"));
    CHECK(TW_OK == 0 && TW_TIMEOUT == 1 && TW_CLOSED == 2 && TW_ERR_INVALID_ARGUMENT == -1);

    bad_configs();
    null_arguments();
    unstarted_client();
    printf("api_basics: ok\n");
    return 0;
}

/*
 * After `gave_up` the event stream ends: tw_client_next_event returns the queued events,
 * then TW_CLOSED (at once, even without a time limit); tw_client_reconnect starts a new
 * stream. And tw_last_error() is cleared by the next successful call on the thread, but not
 * by the functions that cannot fail.
 *
 * Usage: gave_up URL
 *
 * The harness stops the server once the program is connected; the client then tries once
 * more and gives up. Prints every event as a JSON line and `streams=N` at the end.
 */
#include "check.h"

/* Takes events until TW_CLOSED, printing them; returns the kind of the last one. */
static void read_to_the_end(tw_client *client, char *last_kind, size_t size) {
    double deadline = now_s() + SOON_S;
    last_kind[0] = '\0';
    for (;;) {
        CHECK(now_s() < deadline);
        tw_event *ev = NULL;
        tw_result rc = tw_client_next_event(client, 200, &ev);
        if (rc == TW_TIMEOUT) {
            continue;
        }
        if (rc == TW_CLOSED) {
            CHECK(ev == NULL);
            CHECK(strcmp(tw_last_error(), "") == 0);
            return;
        }
        CHECK_RC(rc, TW_OK);
        print_event(ev);
        snprintf(last_kind, size, "%s", tw_event_kind(ev));
        tw_event_free(ev);
    }
}

int main(int argc, char **argv) {
    CHECK(argc == 2);

    /* A failure sets the last error; calls that cannot fail keep it. */
    CHECK(tw_client_new("{") == NULL);
    CHECK(tw_last_error_code() == TW_ERR_CONFIG);
    CHECK(strcmp(tw_last_error(), "") != 0);
    CHECK(tw_version() != NULL);
    CHECK(str_eq(tw_result_name(TW_ERR_CONFIG), "TW_ERR_CONFIG"));
    tw_event_free(NULL);
    tw_string_free(NULL);
    tw_client_free(NULL);
    CHECK(tw_last_error_code() == TW_ERR_CONFIG);
    CHECK(strstr(tw_last_error(), "JSON") != NULL);

    /* The next successful call clears it. */
    char config[512];
    int n = snprintf(config, sizeof config,
                     "{\"url\": \"%s\", \"preset\": \"json\", \"max_reconnect_attempts\": 1, "
                     "\"backoff_initial\": 0.01, \"backoff_max\": 0.05, \"jitter\": 0}",
                     argv[1]);
    CHECK(n > 0 && (size_t)n < sizeof config);
    tw_client *client = tw_client_new(config);
    CHECK(client != NULL);
    CHECK(tw_last_error_code() == TW_OK);
    CHECK(strcmp(tw_last_error(), "") == 0);

    CHECK_RC(tw_client_send_text(client, "early"), TW_ERR_NOT_CONNECTED);
    CHECK(strcmp(tw_last_error(), "") != 0);
    CHECK_RC(tw_client_start(client), TW_OK);
    CHECK(strcmp(tw_last_error(), "") == 0);
    CHECK(tw_last_error_code() == TW_OK);

    CHECK_RC(tw_client_next_event(client, 0, NULL), TW_ERR_INVALID_ARGUMENT);
    CHECK(tw_last_error_code() == TW_ERR_INVALID_ARGUMENT);
    char *status = tw_client_status_json(client);
    CHECK(status != NULL);
    tw_string_free(status);
    CHECK(tw_last_error_code() == TW_OK);

    /* First stream: connected, (the server stops) disconnected, reconnecting, gave_up. */
    char last[64];
    read_to_the_end(client, last, sizeof last);
    CHECK(str_eq(last, "gave_up"));
    /* Ended: TW_CLOSED again, at once, also without a time limit. */
    double t0 = now_s();
    tw_event *ev = NULL;
    CHECK_RC(tw_client_next_event(client, 0, &ev), TW_CLOSED);
    CHECK_RC(tw_client_next_event(client, TW_NO_TIMEOUT, &ev), TW_CLOSED);
    CHECK(ev == NULL);
    CHECK(now_s() - t0 < SOON_S);
    printf("ended=1\n");

    /* reconnect() starts a new stream, which (the server is still down) gives up again. */
    CHECK_RC(tw_client_reconnect(client), TW_OK);
    read_to_the_end(client, last, sizeof last);
    CHECK(str_eq(last, "gave_up"));
    printf("ended=2\n");

    CHECK_RC(tw_client_close(client), TW_OK);
    CHECK_RC(tw_client_next_event(client, TW_NO_TIMEOUT, &ev), TW_CLOSED);
    /* Closed for good: reconnect fails, and sets the last error. */
    CHECK_RC(tw_client_reconnect(client), TW_ERR_CLOSED);
    CHECK(tw_last_error_code() == TW_ERR_CLOSED);
    tw_client_free(client);
    printf("streams=2\n");
    return 0;
}

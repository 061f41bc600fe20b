/*
 * tw_client_disconnect closes with the application's code and reason, stops reconnecting and
 * leaves the client usable; tw_client_start connects again with the next epoch.
 *
 * Usage: disconnect URL
 *
 * The harness serves URL with the testkit and checks the close frame it received.
 */
#define _POSIX_C_SOURCE 200809L

#include "check.h"

static void expect_in(const char *text, const char *part) {
    if (strstr(text, part) == NULL) {
        fprintf(stderr, "expected %s in %s\n", part, text);
        exit(1);
    }
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    char config[512];
    int n = snprintf(config, sizeof config,
                     "{\"url\": \"%s\", \"backoff_initial\": 0.05, \"backoff_max\": 0.2,"
                     " \"jitter\": 0}",
                     argv[1]);
    CHECK(n > 0 && (size_t)n < sizeof config);

    tw_client *client = tw_client_new(config);
    CHECK(client != NULL);
    /* Never started: nothing to disconnect. */
    CHECK_RC(tw_client_disconnect(client, 1000, NULL), TW_ERR_NOT_CONNECTED);
    CHECK_RC(tw_client_start(client), TW_OK);
    tw_event *ev = wait_for_kind(client, "connected");
    tw_event_free(ev);

    /* Codes that cannot be sent are refused, with a message naming the code. */
    CHECK_RC(tw_client_disconnect(client, 1006, ""), TW_ERR_USAGE);
    expect_in(tw_last_error(), "1006");
    /* Running: start again is a usage error. */
    CHECK_RC(tw_client_start(client), TW_ERR_USAGE);

    CHECK_RC(tw_client_disconnect(client, 4001, "end of session"), TW_OK);
    char *status = tw_client_status_json(client);
    CHECK(status != NULL);
    expect_in(status, "\"state\":\"disconnected\"");
    tw_string_free(status);

    ev = wait_for_kind(client, "disconnected");
    char *json = tw_event_to_json(ev);
    CHECK(json != NULL);
    expect_in(json, "\"code\":4001");
    expect_in(json, "\"reason\":\"end of session\"");
    expect_in(json, "\"by_client\":true");
    printf("disconnected=%s\n", json);
    tw_string_free(json);
    tw_event_free(ev);

    /* Stays down: no event while the backoff would have retried many times. */
    tw_event *none = NULL;
    CHECK_RC(tw_client_next_event(client, 500, &none), TW_TIMEOUT);

    /* Start again: the next epoch. */
    CHECK_RC(tw_client_start(client), TW_OK);
    ev = wait_for_kind(client, "connected");
    CHECK(tw_event_epoch(ev) == 2);
    tw_event_free(ev);

    CHECK_RC(tw_client_close(client), TW_OK);
    tw_client_free(client);
    printf("ok\n");
    return 0;
}

/*
 * Subscriptions that survive reconnects, from C.
 *
 * Usage: subscriptions URL plain|tradovate
 *
 * The server is tests/peers/recording_server.py (Python `websockets`), which records what
 * each connection received; the harness reads it.
 *
 * plain: on_connect ["OC"]; subscribes A, B (key "b", unsubscribe "unsub B") and C, then
 * unsubscribes b, and prints `phase=1`. The harness drops the connection; while the client
 * waits to reconnect (backoff 0.5 s) the program subscribes D. On connection 2 it sends
 * "app" and prints the subscriptions. The harness expects connection 2 to have received
 * exactly OC, A, C, D, app, and "unsub B" once in all.
 *
 * tradovate: logs in with a static token, subscribes md/subscribeQuote {"symbol":"ESZ5"}
 * (unsubscribe md/unsubscribeQuote) and prints `phase=1`; after the drop it waits for the
 * login of connection 2 and unsubscribes. The harness checks the fresh request ids.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdbool.h>

#include "check.h"

static void expect_epoch(tw_client *client, const char *kind, uint64_t epoch) {
    for (;;) {
        tw_event *ev = wait_for_kind(client, kind);
        uint64_t got = tw_event_epoch(ev);
        tw_event_free(ev);
        if (got == epoch) {
            return;
        }
        CHECK(got < epoch);
    }
}

static void print_subscriptions(tw_client *client) {
    char *subs = tw_client_subscriptions(client);
    CHECK(subs != NULL);
    printf("subscriptions=%s\n", subs);
    fflush(stdout);
    tw_string_free(subs);
}

static void plain(const char *url) {
    char config[512];
    int n = snprintf(config, sizeof config,
                     "{\"url\": \"%s\", \"on_connect\": [\"OC\"], \"backoff_initial\": 0.5,"
                     " \"backoff_max\": 0.5, \"jitter\": 0}",
                     url);
    CHECK(n > 0 && (size_t)n < sizeof config);
    tw_client *client = tw_client_new(config);
    CHECK(client != NULL);
    CHECK_RC(tw_client_start(client), TW_OK);
    expect_epoch(client, "connected", 1);

    CHECK_RC(tw_client_subscribe(client, "A", NULL, NULL), TW_OK);
    CHECK_RC(tw_client_subscribe(client, "B", "b", "unsub B"), TW_OK);
    CHECK_RC(tw_client_subscribe(client, "C", NULL, NULL), TW_OK);
    bool removed = false;
    CHECK_RC(tw_client_unsubscribe(client, "b", &removed), TW_OK);
    CHECK(removed);
    CHECK_RC(tw_client_unsubscribe(client, "b", &removed), TW_OK);
    CHECK(!removed);
    CHECK_RC(tw_client_unsubscribe(client, "nothing", NULL), TW_OK);
    CHECK_RC(tw_client_subscribe(client, NULL, NULL, NULL), TW_ERR_INVALID_ARGUMENT);
    printf("phase=1\n");
    fflush(stdout);

    /* The harness drops the connection: subscribe while waiting to reconnect. */
    tw_event *ev = wait_for_kind(client, "reconnecting");
    tw_event_free(ev);
    CHECK_RC(tw_client_subscribe(client, "D", NULL, NULL), TW_OK);
    expect_epoch(client, "connected", 2);
    CHECK_RC(tw_client_send_text(client, "app"), TW_OK);
    print_subscriptions(client);

    char *status = tw_client_status_json(client);
    CHECK(status != NULL);
    CHECK(strstr(status, "\"subscriptions\":3") != NULL);
    printf("status=%s\n", status);
    tw_string_free(status);

    CHECK_RC(tw_client_close(client), TW_OK);
    CHECK_RC(tw_client_subscribe(client, "E", NULL, NULL), TW_ERR_CLOSED);
    tw_client_free(client);
}

static void tradovate(const char *url) {
    char config[512];
    int n = snprintf(config, sizeof config,
                     "{\"url\": \"%s\", \"preset\": \"tradovate\", \"token\": \"t\","
                     " \"backoff_initial\": 0.1, \"backoff_max\": 0.4, \"jitter\": 0}",
                     url);
    CHECK(n > 0 && (size_t)n < sizeof config);
    tw_client *client = tw_client_new(config);
    CHECK(client != NULL);
    CHECK_RC(tw_client_start(client), TW_OK);
    expect_epoch(client, "authenticated", 1);
    CHECK_RC(tw_client_subscribe_request(client, "md/subscribeQuote", "{\"symbol\":\"ESZ5\"}",
                                         "md/unsubscribeQuote", "ESZ5"),
             TW_OK);
    print_subscriptions(client);
    printf("phase=1\n");
    fflush(stdout);
    expect_epoch(client, "authenticated", 2);
    bool removed = false;
    CHECK_RC(tw_client_unsubscribe(client, "ESZ5", &removed), TW_OK);
    CHECK(removed);
    printf("phase=2\n");
    fflush(stdout);
    CHECK_RC(tw_client_close(client), TW_OK);
    tw_client_free(client);
}

int main(int argc, char **argv) {
    CHECK(argc == 3);
    if (str_eq(argv[2], "tradovate")) {
        tradovate(argv[1]);
    } else {
        plain(argv[1]);
    }
    printf("ok\n");
    return 0;
}

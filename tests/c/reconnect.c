/*
 * Reconnects by itself after the server restarts, and on demand with tw_client_reconnect.
 *
 * Usage: reconnect URL
 *
 * The harness waits for the connection, stops the server, restarts it on the same port,
 * waits for the new connection and broadcasts a message of type "after_restart". The
 * program checks the epochs of the lifecycle events around it, then asks for a reconnect
 * itself and checks that a third connection follows.
 */
#define _POSIX_C_SOURCE 200809L

#include "check.h"

static void expect_epoch(tw_client *client, const char *kind, uint64_t epoch) {
    tw_event *ev = wait_for_kind(client, kind);
    if (tw_event_epoch(ev) != epoch) {
        fprintf(stderr, "`%s` has epoch %llu, expected %llu\n", kind,
                (unsigned long long)tw_event_epoch(ev), (unsigned long long)epoch);
        exit(1);
    }
    tw_event_free(ev);
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    char config[512];
    int n = snprintf(config, sizeof config,
                     "{\"url\": \"%s\", \"preset\": \"daemon\", \"backoff_initial\": 0.05,"
                     " \"backoff_max\": 0.2, \"jitter\": 0}",
                     argv[1]);
    CHECK(n > 0 && (size_t)n < sizeof config);

    tw_client *client = tw_client_new(config);
    CHECK(client != NULL);
    CHECK_RC(tw_client_start(client), TW_OK);

    expect_epoch(client, "connected", 1);
    /* The server stops: the connection ends, the client retries until it is back. */
    expect_epoch(client, "disconnected", 1);
    expect_epoch(client, "connected", 2);

    tw_event *msg = wait_for_kind(client, "message");
    CHECK(str_eq(tw_event_type(msg), "after_restart"));
    CHECK(tw_event_epoch(msg) == 2);
    tw_event_free(msg);

    char *status = tw_client_status_json(client);
    CHECK(status != NULL);
    CHECK(strstr(status, "\"state\":\"live\"") != NULL);
    CHECK(strstr(status, "\"epoch\":2") != NULL);
    printf("status=%s\n", status);
    tw_string_free(status);

    /* A reconnect asked for by the application. */
    CHECK_RC(tw_client_reconnect(client), TW_OK);
    expect_epoch(client, "disconnected", 2);
    expect_epoch(client, "connected", 3);

    CHECK_RC(tw_client_close(client), TW_OK);
    tw_client_free(client);
    printf("reconnect: ok\n");
    return 0;
}

/*
 * tw_client_close from another thread wakes a tw_client_next_event blocked in the main
 * thread, which then returns TW_CLOSED; afterwards every call reports the closed client.
 *
 * Usage: close_blocked URL
 *
 * The server (from the harness) accepts the connection and sends nothing, so the main
 * thread stays blocked until the closer thread closes the client. Done twice: blocked
 * without a time limit (TW_NO_TIMEOUT) and blocked with a long timeout.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>

#include "check.h"

struct closer {
    tw_client *client;
    double closed_at; /* written by the closer thread before it exits; read after join */
};

static void *close_soon(void *arg) {
    struct closer *c = arg;
    /* Give the main thread time to block; it does not matter if it has not yet. */
    sleep_ms(300);
    c->closed_at = now_s();
    CHECK_RC(tw_client_close(c->client), TW_OK);
    return NULL;
}

static void run(const char *url, uint32_t timeout_ms, const char *inline_reads) {
    char config[256];
    int n = snprintf(config, sizeof config, "{\"url\": \"%s\", \"inline_reads\": %s}", url,
                     inline_reads);
    CHECK(n > 0 && (size_t)n < sizeof config);
    tw_client *client = tw_client_new(config);
    CHECK(client != NULL);
    CHECK_RC(tw_client_start(client), TW_OK);
    tw_event *connected = wait_for_kind(client, "connected");
    tw_event_free(connected);

    /* The server is quiet: a short wait times out. */
    tw_event *ev = NULL;
    CHECK_RC(tw_client_next_event(client, 100, &ev), TW_TIMEOUT);
    CHECK(ev == NULL);

    struct closer closer = {client, 0.0};
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, close_soon, &closer) == 0);

    /* Blocks until the other thread closes the client. A `disconnected` event may come
     * first (the close is reported in the stream); then the stream ends. */
    double started = now_s();
    tw_result rc;
    for (;;) {
        ev = NULL;
        rc = tw_client_next_event(client, timeout_ms, &ev);
        if (rc != TW_OK) {
            break;
        }
        print_event(ev);
        tw_event_free(ev);
    }
    double returned = now_s();
    CHECK_RC(rc, TW_CLOSED);
    CHECK(ev == NULL);
    CHECK(pthread_join(thread, NULL) == 0);
    printf("timeout_ms=%u blocked %.3f s, returned %.3f s after the close\n", timeout_ms,
           returned - started, returned - closer.closed_at);
    /* Generous bound: "promptly", far below the 60 s timeout, on a busy machine. */
    CHECK(returned - closer.closed_at < 10.0);

    /* Everything now reports the closed client, at once. */
    CHECK_RC(tw_client_next_event(client, TW_NO_TIMEOUT, &ev), TW_CLOSED);
    CHECK_RC(tw_client_next_event(client, 0, &ev), TW_CLOSED);
    CHECK_RC(tw_client_send_text(client, "too late"), TW_ERR_CLOSED);
    CHECK(strstr(tw_last_error(), "closed") != NULL);
    CHECK_RC(tw_client_reconnect(client), TW_ERR_CLOSED);
    CHECK_RC(tw_client_close(client), TW_OK);
    tw_client_free(client);
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    run(argv[1], TW_NO_TIMEOUT, "false");
    run(argv[1], 60000, "false");
    /* inline_reads: the thread blocked in tw_client_next_event is the one reading the socket. */
    run(argv[1], TW_NO_TIMEOUT, "true");
    run(argv[1], 60000, "true");
    printf("close_blocked: ok\n");
    return 0;
}

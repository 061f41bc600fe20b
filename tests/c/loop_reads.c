/*
 * An event loop of its own that reads the socket on its thread: tw_client_read_events never
 * waits; on TW_TIMEOUT the loop waits in poll() on the readiness fd and, while the
 * connection is lent to it, on the connection's poller fd (tw_client_io_fd).
 *
 * Usage: loop_reads URL N
 *
 * The harness sends N sequenced messages ({"seq": i}, i = 0 .. N-1) once the client is
 * connected, in bursts with pauses. Every message must come once, in order (20 s without a
 * wake-up fails: a lost one). Then tw_client_stop_reading (the I/O thread takes the
 * connection back), then tw_client_close: the end of the stream wakes the loop and the next
 * take is TW_CLOSED. Prints "lent=<n>" (takes that ran the connection on this thread: with
 * inline reads, the default, at least one) and "waits=<n>", exits 0.
 */
#define _POSIX_C_SOURCE 200809L

#include <poll.h>
#include <stdbool.h>

#include "check.h"

#define CAPACITY 64

int main(int argc, char **argv) {
    CHECK(argc == 3);
    const char *url = argv[1];
    long expected = atol(argv[2]);
    CHECK(expected > 0);

    char config[256];
    int n = snprintf(config, sizeof config, "{\"url\": \"%s\"}", url);
    CHECK(n > 0 && (size_t)n < sizeof config);
    tw_client *client = tw_client_new(config);
    CHECK(client != NULL);

    int ready = -1, io = -1;
    CHECK_RC(tw_client_ready_fd(client, &ready), TW_OK);
    CHECK_RC(tw_client_io_fd(client, &io), TW_OK);
    CHECK(ready >= 0 && io >= 0 && io != ready);
    CHECK_RC(tw_client_io_fd(client, NULL), TW_ERR_INVALID_ARGUMENT);
    CHECK_RC(tw_client_io_fd(NULL, &io), TW_ERR_INVALID_ARGUMENT);
    CHECK_RC(tw_client_start(client), TW_OK);

    tw_event *slots[CAPACITY];
    size_t count = 0;
    bool lent = false;
    CHECK_RC(tw_client_read_events(client, slots, 0, &count, &lent), TW_ERR_INVALID_ARGUMENT);
    CHECK_RC(tw_client_read_events(client, slots, CAPACITY, &count, NULL),
             TW_ERR_INVALID_ARGUMENT);

    long next_seq = 0, waits = 0, lent_seen = 0;
    int connected = 0;
    while (next_seq < expected) {
        tw_result rc = tw_client_read_events(client, slots, CAPACITY, &count, &lent);
        lent_seen += lent;
        if (rc == TW_TIMEOUT) {
            CHECK(count == 0);
            struct pollfd p[2] = {{.fd = ready, .events = POLLIN, .revents = 0},
                                  {.fd = io, .events = POLLIN, .revents = 0}};
            waits++;
            CHECK(poll(p, lent ? 2 : 1, (int)(SOON_S * 1000)) >= 1); /* 0: a lost wake-up */
            continue;
        }
        CHECK_RC(rc, TW_OK);
        CHECK(count >= 1 && count <= CAPACITY);
        for (size_t i = 0; i < count; i++) {
            const char *kind = tw_event_kind(slots[i]);
            if (str_eq(kind, "connected")) {
                connected = 1;
                printf("connected\n");
                fflush(stdout);
            } else if (str_eq(kind, "message")) {
                char want[64];
                snprintf(want, sizeof want, "{\"seq\":%ld}", next_seq);
                CHECK(str_eq(tw_event_data_json(slots[i]), want));
                next_seq++;
            }
            tw_event_free(slots[i]);
        }
    }
    CHECK(connected);
    CHECK_RC(tw_client_stop_reading(client), TW_OK);
    CHECK_RC(tw_client_stop_reading(NULL), TW_ERR_INVALID_ARGUMENT);

    /* The end of the stream wakes the loop. */
    CHECK_RC(tw_client_close(client), TW_OK);
    struct pollfd p = {.fd = ready, .events = POLLIN, .revents = 0};
    CHECK(poll(&p, 1, (int)(SOON_S * 1000)) == 1);
    tw_result rc;
    while ((rc = tw_client_read_events(client, slots, CAPACITY, &count, &lent)) == TW_OK) {
        for (size_t i = 0; i < count; i++) {
            CHECK(!str_eq(tw_event_kind(slots[i]), "message"));
            tw_event_free(slots[i]);
        }
    }
    CHECK_RC(rc, TW_CLOSED);
    CHECK(count == 0 && !lent);

    printf("lent=%ld\n", lent_seen);
    printf("waits=%ld\n", waits);
    tw_client_free(client);
    return 0;
}

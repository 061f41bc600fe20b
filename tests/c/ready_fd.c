/*
 * Takes events without ever blocking in the library: an event loop of its own, on poll(),
 * woken by tw_client_ready_fd.
 *
 * Usage: ready_fd URL N
 *
 * The harness sends N sequenced messages ({"seq": i}, i = 0 .. N-1) once the client is
 * connected, in bursts with pauses, so that the loop both finds events queued and waits for
 * them. The loop takes batches with tw_client_next_events(client, 0, ...), which never
 * waits; on TW_TIMEOUT it waits in poll() on the ready fd alone (a lost wake-up would leave
 * it there: 20 s without one fails). Every message must come once, in order. Then
 * tw_client_close from the same thread: the fd is readable and the next take is TW_CLOSED.
 * Prints "waits=<n>" (poll() calls) and "empty_wakeups=<n>" (wake-ups that found nothing),
 * exits 0.
 */
#define _POSIX_C_SOURCE 200809L

#include <poll.h>

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

    int fd = -1;
    CHECK_RC(tw_client_ready_fd(client, &fd), TW_OK);
    CHECK(fd >= 0);
    int again = -1;
    CHECK_RC(tw_client_ready_fd(client, &again), TW_OK);
    CHECK(again == fd); /* one fd per client */
    CHECK_RC(tw_client_ready_fd(client, NULL), TW_ERR_INVALID_ARGUMENT);
    CHECK_RC(tw_client_ready_fd(NULL, &again), TW_ERR_INVALID_ARGUMENT);
    CHECK_RC(tw_client_start(client), TW_OK);

    tw_event *slots[CAPACITY];
    long next_seq = 0;
    long waits = 0;
    long empty_wakeups = 0;
    int woken = 0;
    int connected = 0;
    while (next_seq < expected) {
        size_t count = 0;
        tw_result rc = tw_client_next_events(client, 0, slots, CAPACITY, &count);
        if (rc == TW_TIMEOUT) {
            CHECK(count == 0);
            if (woken) {
                empty_wakeups++;
            }
            struct pollfd p = {.fd = fd, .events = POLLIN, .revents = 0};
            waits++;
            CHECK(poll(&p, 1, (int)(SOON_S * 1000)) == 1); /* 0: a wake-up was lost */
            CHECK(p.revents & POLLIN);
            woken = 1;
            continue;
        }
        CHECK_RC(rc, TW_OK);
        woken = 0;
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

    /* The end of the stream wakes the loop too. */
    CHECK_RC(tw_client_close(client), TW_OK);
    struct pollfd p = {.fd = fd, .events = POLLIN, .revents = 0};
    CHECK(poll(&p, 1, (int)(SOON_S * 1000)) == 1);
    size_t count = 1;
    tw_result rc;
    while ((rc = tw_client_next_events(client, 0, slots, CAPACITY, &count)) == TW_OK) {
        for (size_t i = 0; i < count; i++) {
            CHECK(!str_eq(tw_event_kind(slots[i]), "message"));
            tw_event_free(slots[i]);
        }
    }
    CHECK_RC(rc, TW_CLOSED);
    CHECK(count == 0);

    printf("waits=%ld\n", waits);
    printf("empty_wakeups=%ld\n", empty_wakeups);
    tw_client_free(client);
    return 0;
}

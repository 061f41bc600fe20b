/*
 * Reads a burst of messages in batches with tw_client_next_events.
 *
 * Usage: next_events URL N CAPACITY
 *
 * The harness sends N sequenced messages ({"seq": i}, i = 0 .. N-1) once the client is
 * connected. The program waits (polling the status, not the clock) until all N are queued,
 * so that the first batch is full: exactly CAPACITY events. Then it takes the rest, batch by
 * batch, and checks that every message came once, in order, each batch between 1 and
 * CAPACITY events with the slots after them untouched. Then an empty queue gives TW_TIMEOUT
 * with a count of 0, and after tw_client_close the stream ends with TW_CLOSED and a count of
 * 0. Prints "batches=<n>" and "first_batch=<n>", exits 0.
 */
#define _POSIX_C_SOURCE 200809L

#include "check.h"

#define MAX_CAPACITY 64

/* The number after `"events_delivered":` in the status JSON. */
static unsigned long events_delivered(tw_client *client) {
    char *status = tw_client_status_json(client);
    CHECK(status != NULL);
    const char *field = strstr(status, "\"events_delivered\":");
    CHECK(field != NULL);
    unsigned long n = strtoul(field + strlen("\"events_delivered\":"), NULL, 10);
    tw_string_free(status);
    return n;
}

int main(int argc, char **argv) {
    CHECK(argc == 4);
    const char *url = argv[1];
    long expected = atol(argv[2]);
    long capacity = atol(argv[3]);
    CHECK(expected > 0 && capacity > 0 && capacity <= MAX_CAPACITY && capacity < expected);

    char config[256];
    int n = snprintf(config, sizeof config,
                     "{\"url\": \"%s\", \"backoff_initial\": 0.05, \"backoff_max\": 0.2}", url);
    CHECK(n > 0 && (size_t)n < sizeof config);
    tw_client *client = tw_client_new(config);
    CHECK(client != NULL);
    CHECK_RC(tw_client_start(client), TW_OK);

    tw_event *connected = wait_for_kind(client, "connected");
    tw_event_free(connected);

    /* Every message queued: `connected` (taken) plus the N messages. */
    double deadline = now_s() + SOON_S;
    while (events_delivered(client) < (unsigned long)expected + 1) {
        CHECK(now_s() < deadline);
        sleep_ms(10);
    }

    tw_event *slots[MAX_CAPACITY + 1];
    long next_seq = 0;
    long batches = 0;
    long first_batch = -1;
    while (next_seq < expected) {
        for (int i = 0; i <= MAX_CAPACITY; i++) {
            slots[i] = NULL;
        }
        size_t count = 12345;
        CHECK_RC(tw_client_next_events(client, 5000, slots, (size_t)capacity, &count), TW_OK);
        CHECK(count >= 1 && count <= (size_t)capacity);
        CHECK(slots[count] == NULL); /* nothing written after the events */
        if (first_batch < 0) {
            first_batch = (long)count;
        }
        batches++;
        for (size_t i = 0; i < count; i++) {
            CHECK(slots[i] != NULL);
            CHECK(str_eq(tw_event_kind(slots[i]), "message"));
            char want[64];
            snprintf(want, sizeof want, "{\"seq\":%ld}", next_seq);
            CHECK(str_eq(tw_event_data_json(slots[i]), want));
            next_seq++;
            tw_event_free(slots[i]);
        }
    }
    CHECK(first_batch == capacity);

    /* Nothing queued: a timeout, with a count of 0 and no slot written. */
    size_t count = 12345;
    slots[0] = NULL;
    CHECK_RC(tw_client_next_events(client, 0, slots, (size_t)capacity, &count), TW_TIMEOUT);
    CHECK(count == 0 && slots[0] == NULL);
    CHECK_RC(tw_client_next_events(client, 20, slots, (size_t)capacity, &count), TW_TIMEOUT);
    CHECK(count == 0 && slots[0] == NULL);

    /* The arguments are checked; on an error the count is not written. */
    count = 12345;
    CHECK_RC(tw_client_next_events(client, 0, slots, 0, &count), TW_ERR_INVALID_ARGUMENT);
    CHECK_RC(tw_client_next_events(client, 0, NULL, 4, &count), TW_ERR_INVALID_ARGUMENT);
    CHECK_RC(tw_client_next_events(client, 0, slots, 4, NULL), TW_ERR_INVALID_ARGUMENT);
    CHECK_RC(tw_client_next_events(NULL, 0, slots, 4, &count), TW_ERR_INVALID_ARGUMENT);
    CHECK(count == 12345);

    /* After the close the remaining events (the disconnect), then the end of the stream. */
    CHECK_RC(tw_client_close(client), TW_OK);
    for (;;) {
        tw_result rc = tw_client_next_events(client, TW_NO_TIMEOUT, slots, (size_t)capacity,
                                             &count);
        if (rc == TW_CLOSED) {
            CHECK(count == 0);
            break;
        }
        CHECK_RC(rc, TW_OK);
        for (size_t i = 0; i < count; i++) {
            CHECK(!str_eq(tw_event_kind(slots[i]), "message"));
            tw_event_free(slots[i]);
        }
    }
    tw_client_free(client);
    printf("batches=%ld\nfirst_batch=%ld\n", batches, first_batch);
    printf("next_events: ok\n");
    return 0;
}

/*
 * Receives daemon events filtered to one account and reads them with every accessor.
 *
 * Usage: events_filtered URL ACCOUNT
 *
 * The harness broadcasts events for ACCOUNT, for another account and for no account, then
 * one of type "done" for ACCOUNT. The program prints every event as a JSON line, checks
 * that each message is for ACCOUNT or for no account (the daemon preset's filter), prints
 * "types=<type>,<type>,..." and the status JSON, closes, and exits 0.
 */
#define _POSIX_C_SOURCE 200809L

#include "check.h"

static void check_message(const tw_event *ev, const char *account) {
    const char *type = tw_event_type(ev);
    const char *acc = tw_event_account_id(ev);
    const char *data = tw_event_data_json(ev);
    const char *raw = tw_event_raw(ev);
    size_t len = 0;
    const uint8_t *bytes = tw_event_raw_bytes(ev, &len);

    CHECK(type != NULL);
    CHECK(acc == NULL || strcmp(acc, account) == 0);
    CHECK(data != NULL && data[0] == '{');
    CHECK(raw != NULL && strstr(raw, data) != NULL);
    CHECK(bytes != NULL && len == strlen(raw) && memcmp(bytes, raw, len) == 0);
    CHECK(tw_event_epoch(ev) == 1);

    /* Borrowed pointers are stable for the event's life. */
    CHECK(tw_event_type(ev) == type);
    CHECK(tw_event_raw(ev) == raw);

    /* A clone outlives the original. */
    tw_event *copy = tw_event_clone(ev);
    CHECK(copy != NULL);
    CHECK(str_eq(tw_event_type(copy), type));
    tw_event_free(copy);
}

int main(int argc, char **argv) {
    /* An optional third argument, "inline", turns inline_reads on; "spin" also sets
       busy_poll (the waiting thread polls without sleeping while the feed is active). */
    CHECK(argc == 3 || (argc == 4 && (strcmp(argv[3], "inline") == 0 || strcmp(argv[3], "spin") == 0)));
    const char *url = argv[1];
    const char *account = argv[2];
    const char *inline_reads = argc == 4 ? "true" : "false";
    const char *busy_poll = argc == 4 && strcmp(argv[3], "spin") == 0 ? "0.5" : "0";

    char config[512];
    int n = snprintf(config, sizeof config,
                     "{\"url\": \"%s\", \"preset\": \"daemon\", \"account_id\": %s,"
                     " \"backoff_initial\": 0.05, \"backoff_max\": 0.2, \"inline_reads\": %s,"
                     " \"busy_poll\": %s}",
                     url, account, inline_reads, busy_poll);
    CHECK(n > 0 && (size_t)n < sizeof config);

    tw_client *client = tw_client_new(config);
    CHECK(client != NULL);
    CHECK_RC(tw_client_start(client), TW_OK);
    CHECK_RC(tw_client_start(client), TW_ERR_USAGE); /* only once */

    tw_event *connected = wait_for_kind(client, "connected");
    CHECK(tw_event_epoch(connected) == 1);
    CHECK(tw_event_type(connected) == NULL); /* lifecycle events have no message fields */
    CHECK(tw_event_data_json(connected) == NULL);
    tw_event_free(connected);

    char types[1024] = "";
    for (;;) {
        tw_event *ev = wait_for_kind(client, "message");
        check_message(ev, account);
        const char *type = tw_event_type(ev);
        if (types[0] != '\0') {
            strncat(types, ",", sizeof types - strlen(types) - 1);
        }
        strncat(types, type, sizeof types - strlen(types) - 1);
        int done = str_eq(type, "done");
        tw_event_free(ev);
        if (done) {
            break;
        }
    }
    printf("types=%s\n", types);

    char *status = tw_client_status_json(client);
    CHECK(status != NULL);
    printf("status=%s\n", status);
    tw_string_free(status);

    CHECK_RC(tw_client_close(client), TW_OK);
    /* Events queued before the close stay readable, then the stream ends. */
    for (;;) {
        tw_event *ev = NULL;
        tw_result rc = tw_client_next_event(client, TW_NO_TIMEOUT, &ev);
        if (rc == TW_CLOSED) {
            break;
        }
        CHECK_RC(rc, TW_OK);
        print_event(ev);
        tw_event_free(ev);
    }
    tw_client_free(client);
    printf("events_filtered: ok\n");
    return 0;
}

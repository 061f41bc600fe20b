/*
 * Reads messages whose JSON the library must hand over unchanged: big integers, floats at
 * the edges of their range, deep nesting, accounts sent as numbers and as strings.
 *
 * Usage: json_values URL COUNT
 *
 * The harness broadcasts COUNT messages (json preset). For each, the program prints the
 * event as JSON (tw_event_to_json, by wait_for_kind), then
 *   account=<tw_event_account_id or NULL>
 *   account_json=<tw_event_account_id_json or NULL>
 *   data=<tw_event_data_json>
 * checks that the borrowed pointers are stable and that the data is a slice of the raw
 * frame, closes, and exits 0.
 */
#define _POSIX_C_SOURCE 200809L

#include "check.h"

static const char *or_null(const char *s) { return s != NULL ? s : "NULL"; }

int main(int argc, char **argv) {
    CHECK(argc == 3);
    const char *url = argv[1];
    int count = atoi(argv[2]);
    CHECK(count > 0);

    char config[512];
    int n = snprintf(config, sizeof config, "{\"url\": \"%s\", \"preset\": \"json\"}", url);
    CHECK(n > 0 && (size_t)n < sizeof config);
    tw_client *client = tw_client_new(config);
    CHECK(client != NULL);
    CHECK_RC(tw_client_start(client), TW_OK);
    tw_event *connected = wait_for_kind(client, "connected");
    CHECK(tw_event_account_id_json(connected) == NULL); /* lifecycle events have none */
    tw_event_free(connected);
    CHECK(tw_event_account_id_json(NULL) == NULL);

    for (int i = 0; i < count; i++) {
        tw_event *ev = wait_for_kind(client, "message");
        const char *account = tw_event_account_id(ev);
        const char *account_json = tw_event_account_id_json(ev);
        const char *data = tw_event_data_json(ev);
        const char *raw = tw_event_raw(ev);
        CHECK(data != NULL && raw != NULL && strstr(raw, data) != NULL);
        /* Both account accessors agree on whether there is one; the pointer is stable. */
        CHECK((account == NULL) == (account_json == NULL));
        CHECK(tw_event_account_id_json(ev) == account_json);
        /* A clone answers the same. */
        tw_event *copy = tw_event_clone(ev);
        CHECK(copy != NULL);
        CHECK(account_json == NULL || str_eq(tw_event_account_id_json(copy), account_json));
        tw_event_free(copy);
        printf("account=%s\naccount_json=%s\ndata=%s\n", or_null(account), or_null(account_json),
               data);
        tw_event_free(ev);
    }

    CHECK_RC(tw_client_close(client), TW_OK);
    tw_client_free(client);
    printf("json_values: ok\n");
    return 0;
}

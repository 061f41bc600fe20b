/*
 * The C part of the secret-canary suite: every string the C API hands out on a failure path
 * (tw_last_error after a bad configuration and after a refused send, every event as JSON and
 * through its accessors, the status JSON) is printed on stdout, where
 * ffi/tests/c_programs.rs searches it for any 8-character run of any form of any secret.
 *
 * Usage: secrets CONFIG_JSON BAD_CONFIG_JSON
 *   CONFIG_JSON      a client whose server refuses it with a body that echoes the request
 *   BAD_CONFIG_JSON  an invalid configuration that holds the same secrets
 */
#include "check.h"

static void print_everything(const tw_event *ev) {
    char *json = tw_event_to_json(ev);
    CHECK(json != NULL);
    printf("event: %s\n", json);
    tw_string_free(json);
    const char *fields[] = {tw_event_kind(ev), tw_event_type(ev), tw_event_raw(ev),
                            tw_event_data_json(ev), tw_event_account_id(ev)};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (fields[i] != NULL) {
            printf("field: %s\n", fields[i]);
        }
    }
}

int main(int argc, char **argv) {
    CHECK(argc == 3);
    setvbuf(stdout, NULL, _IOLBF, 0);

    CHECK(tw_client_new(argv[2]) == NULL);
    printf("bad config: %s\n", tw_last_error());

    tw_client *client = tw_client_new(argv[1]);
    CHECK(client != NULL);
    CHECK_RC(tw_client_start(client), TW_OK);
    int gave_up = 0;
    for (int i = 0; i < 100 && !gave_up; i++) {
        tw_event *ev = NULL;
        tw_result rc = tw_client_next_event(client, 20000, &ev);
        if (rc == TW_TIMEOUT) {
            break;
        }
        if (rc != TW_OK) {
            printf("next_event: %s: %s\n", tw_result_name(rc), tw_last_error());
            break;
        }
        print_everything(ev);
        gave_up = strcmp(tw_event_kind(ev), "gave_up") == 0;
        tw_event_free(ev);
    }
    CHECK(gave_up);
    CHECK(tw_client_send_text(client, "{}") != TW_OK);
    printf("send: %s\n", tw_last_error());
    char *status = tw_client_status_json(client);
    CHECK(status != NULL);
    printf("status: %s\n", status);
    tw_string_free(status);
    CHECK_RC(tw_client_close(client), TW_OK);
    tw_client_free(client);
    printf("ok\n");
    return 0;
}

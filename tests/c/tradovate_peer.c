/*
 * Document 000's calls from C through a server nobody here wrote: sockjs-node's raw
 * WebSocket endpoint (tests/peers/sockjs_server.js), answered by the harness as Tradovate
 * would. tw_client_wait_live returns once the login is accepted; tw_client_token_info gives
 * the token answer (from the testkit's token URL) without its tokens; a request with the
 * caller's id (tw_client_send_request_id) goes out with that id and its answer comes back as
 * a `response` event carrying it.
 *
 * Usage: tradovate_peer WS_URL AUTH_URL TOKEN_FILE
 *
 * Prints "sent 77" once the request is written, so that the harness answers it.
 */
#define _POSIX_C_SOURCE 200809L

#include "check.h"

int main(int argc, char **argv) {
    CHECK(argc == 4);
    char config[1024];
    int n = snprintf(config, sizeof config,
                     "{\"url\": \"%s\", \"preset\": \"tradovate\", \"auth_url\": \"%s\","
                     " \"token_file\": \"%s\", \"backoff_initial\": 0.05,"
                     " \"credentials\": {\"name\": \"trader\", \"password\": \"secret\","
                     " \"appId\": \"c-tests\", \"sec\": \"s\"}}",
                     argv[1], argv[2], argv[3]);
    CHECK(n > 0 && (size_t)n < sizeof config);
    tw_client *client = tw_client_new(config);
    CHECK(client != NULL);
    CHECK_RC(tw_client_start(client), TW_OK);
    CHECK_RC(tw_client_wait_live(client, 30000), TW_OK);
    printf("live\n");

    char *info = NULL;
    CHECK_RC(tw_client_token_info(client, &info), TW_OK);
    CHECK(info != NULL && strstr(info, "\"userId\":7") != NULL);
    CHECK(strstr(info, "ccessToken") == NULL);
    printf("token_info: %s\n", info);
    tw_string_free(info);

    CHECK_RC(tw_client_send_request_id(client, "account/list", NULL, 77), TW_OK);
    printf("sent 77\n");
    fflush(stdout);
    for (;;) {
        tw_event *ev = wait_for_kind(client, "response");
        char *json = tw_event_to_json(ev);
        CHECK(json != NULL);
        int mine = strstr(json, "\"id\":77,") != NULL;
        if (mine) {
            CHECK(strstr(json, "peer-answer") != NULL);
            printf("response: %s\n", json);
        }
        tw_string_free(json);
        tw_event_free(ev);
        if (mine) {
            break;
        }
    }
    CHECK_RC(tw_client_close(client), TW_OK);
    tw_client_free(client);
    printf("tradovate_peer: ok\n");
    return 0;
}

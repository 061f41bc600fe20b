/*
 * A tradovate-preset client: logs in with credentials at the token URL, then a
 * request/response round trip with tw_client_request, and one without waiting with
 * tw_client_send_request (its answer is a `response` event with the returned id), one with
 * the caller's id (tw_client_send_request_id), and the token answer (tw_client_token_info).
 * The token file is the default one: the harness points XDG_STATE_HOME at a temporary
 * directory and checks the file there.
 *
 * Usage: tradovate_request WS_URL AUTH_URL
 *
 * The harness runs the testkit's Tradovate server (user "trader"/"secret", accounts 101
 * and 202) and checks the exit code.
 */
#define _POSIX_C_SOURCE 200809L

#include "check.h"

int main(int argc, char **argv) {
    CHECK(argc == 3);
    char config[1024];
    int n = snprintf(config, sizeof config,
                     "{\"url\": \"%s\", \"preset\": \"tradovate\", \"auth_url\": \"%s\","
                     " \"credentials\": {\"name\": \"trader\", \"password\": \"secret\","
                     " \"appId\": \"c-tests\", \"appVersion\": \"1.0\", \"sec\": \"s\", \"cid\": 1}}",
                     argv[1], argv[2]);
    CHECK(n > 0 && (size_t)n < sizeof config);
    tw_client *client = tw_client_new(config);
    CHECK(client != NULL);
    CHECK_RC(tw_client_start(client), TW_OK);
    tw_event *ev = wait_for_kind(client, "authenticated");
    tw_event_free(ev);

    char *out = NULL;
    CHECK_RC(tw_client_request(client, "account/list", NULL, 5000, &out), TW_OK);
    CHECK(out != NULL && strstr(out, "ACC-101") != NULL && strstr(out, "ACC-202") != NULL);
    printf("account/list: %s\n", out);
    tw_string_free(out);

    out = NULL;
    CHECK_RC(tw_client_request(client, "user/find", "{\"name\":\"trader\"}", 5000, &out), TW_OK);
    CHECK(out != NULL);
    tw_string_free(out);

    uint64_t id = 0;
    CHECK_RC(tw_client_send_request(client, "account/list", NULL, &id), TW_OK);
    CHECK(id > 0);
    char want[64];
    snprintf(want, sizeof want, "\"id\":%llu,", (unsigned long long)id);
    for (;;) {
        ev = wait_for_kind(client, "response");
        char *json = tw_event_to_json(ev);
        CHECK(json != NULL);
        int mine = strstr(json, want) != NULL;
        if (mine) {
            CHECK(strstr(json, "ACC-101") != NULL);
            printf("send_request: %s\n", json);
        }
        tw_string_free(json);
        tw_event_free(ev);
        if (mine) {
            break;
        }
    }
    CHECK_RC(tw_client_send_request(client, "account/list", NULL, NULL), TW_ERR_INVALID_ARGUMENT);

    /* The caller's id, as document 000's send(endpoint, body, requestId). */
    CHECK_RC(tw_client_send_request_id(client, "account/list", NULL, 500), TW_OK);
    for (;;) {
        ev = wait_for_kind(client, "response");
        char *json = tw_event_to_json(ev);
        CHECK(json != NULL);
        int mine = strstr(json, "\"id\":500,") != NULL;
        if (mine) {
            CHECK(strstr(json, "ACC-101") != NULL);
            printf("send_request_id: %s\n", json);
        }
        tw_string_free(json);
        tw_event_free(ev);
        if (mine) {
            break;
        }
    }
    CHECK_RC(tw_client_send_request_id(client, "account/list", NULL, 0), TW_ERR_USAGE);
    CHECK_RC(tw_client_send_request_id(NULL, "account/list", NULL, 9), TW_ERR_INVALID_ARGUMENT);
    CHECK_RC(tw_client_send_request(client, "account/list", NULL, &id), TW_OK);
    CHECK(id > 500);

    /* The token answer, its tokens left out: userId is what requests need. */
    char *info = NULL;
    CHECK_RC(tw_client_token_info(client, &info), TW_OK);
    CHECK(info != NULL && strstr(info, "\"userId\":7") != NULL);
    CHECK(strstr(info, "\"orgName\":\"tradewire-test\"") != NULL);
    CHECK(strstr(info, "\"retrievedAt\":") != NULL);
    CHECK(strstr(info, "ccessToken") == NULL);
    printf("token_info: %s\n", info);
    tw_string_free(info);
    CHECK_RC(tw_client_token_info(client, NULL), TW_ERR_INVALID_ARGUMENT);

    char *status = tw_client_status_json(client);
    CHECK(status != NULL && strstr(status, "\"authenticated\":true") != NULL);
    CHECK(strstr(status, "token_expires_at") != NULL);
    tw_string_free(status);

    CHECK_RC(tw_client_close(client), TW_OK);
    tw_client_free(client);
    printf("tradovate_request: ok\n");
    return 0;
}

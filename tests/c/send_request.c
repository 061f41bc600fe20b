/*
 * A json-preset client: non-JSON and binary frames, sending text and binary,
 * tw_client_request's documented error on a preset that does not correlate by endpoint, and
 * a JSON request whose answer carries its id (tw_client_request_json).
 *
 * Usage: send_request URL
 *
 * The harness waits for the connection, then broadcasts three frames: the text
 * "plain text", the text "x\0y" (with a NUL character inside) and the binary bytes
 * 00 01 02 ff (which the json preset reports as an error event); then it answers the
 * request {"method":"c"} with {"id":<its id>,"answered":true}. After the program exits it
 * checks that the server received "hello from C".
 */
#define _POSIX_C_SOURCE 200809L

#include "check.h"

static void check_frames(tw_client *client) {
    /* Not JSON: a message with the text in raw and no data. */
    tw_event *ev = wait_for_kind(client, "message");
    CHECK(str_eq(tw_event_raw(ev), "plain text"));
    CHECK(tw_event_data_json(ev) == NULL);
    CHECK(tw_event_type(ev) == NULL);
    tw_event_free(ev);

    /* A NUL inside text: the C string stops there, the byte view has everything. */
    ev = wait_for_kind(client, "message");
    size_t len = 0;
    const uint8_t *bytes = tw_event_raw_bytes(ev, &len);
    CHECK(str_eq(tw_event_raw(ev), "x"));
    CHECK(bytes != NULL && len == 3 && memcmp(bytes, "x\0y", 3) == 0);
    CHECK(tw_event_raw_bytes(ev, NULL) == NULL);
    tw_event_free(ev);

    /* Binary where the json preset expects text: reported as an `error` event, and the
     * stream goes on. */
    ev = wait_for_kind(client, "error");
    CHECK(tw_event_epoch(ev) == 1);
    CHECK(tw_event_raw(ev) == NULL);
    char *json = tw_event_to_json(ev);
    CHECK(json != NULL && strstr(json, "\"error\":\"unexpected_binary\"") != NULL);
    tw_string_free(json);
    tw_event_free(ev);
}

static void check_request(tw_client *client) {
    char sentinel[] = "untouched";
    char *out = sentinel;

    /* Only the tradovate preset correlates requests (tradovate_request.c does a round trip). */
    CHECK_RC(tw_client_request(client, "account/list", NULL, 1000, &out), TW_ERR_USAGE);
    CHECK(out == sentinel);
    CHECK(strstr(tw_last_error(), "tradovate") != NULL);
    CHECK(strstr(tw_last_error(), "request_json") != NULL);
    printf("request: %s: %s\n", tw_result_name(tw_last_error_code()), tw_last_error());

    CHECK_RC(tw_client_request(client, NULL, NULL, 1000, &out), TW_ERR_INVALID_ARGUMENT);
    CHECK(strstr(tw_last_error(), "endpoint") != NULL);
    CHECK_RC(tw_client_request(client, "a", "{}", 1000, NULL), TW_ERR_INVALID_ARGUMENT);
    CHECK_RC(tw_client_request(client, "a", "{\"x\": \"\xff\"}", 1000, &out),
             TW_ERR_INVALID_ARGUMENT);
    CHECK(strstr(tw_last_error(), "body_json") != NULL);
    CHECK(strstr(tw_last_error(), "UTF-8") != NULL);
    CHECK(out == sentinel);

    /* Not a JSON object: refused before sending. */
    CHECK_RC(tw_client_request_json(client, "[1]", 1000, &out), TW_ERR_USAGE);
    CHECK(out == sentinel);
    /* A round trip: the id is filled in, the answer carrying it comes back here. */
    CHECK_RC(tw_client_request_json(client, "{\"method\":\"c\"}", 20000, &out), TW_OK);
    CHECK(out != sentinel && strstr(out, "\"answered\":true") != NULL);
    printf("request_json: %s\n", out);
    tw_string_free(out);
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    char config[256];
    int n = snprintf(config, sizeof config, "{\"url\": \"%s\", \"preset\": \"json\"}", argv[1]);
    CHECK(n > 0 && (size_t)n < sizeof config);
    tw_client *client = tw_client_new(config);
    CHECK(client != NULL);
    CHECK_RC(tw_client_start(client), TW_OK);
    tw_event *connected = wait_for_kind(client, "connected");
    tw_event_free(connected);

    CHECK_RC(tw_client_send_text(client, "hello from C"), TW_OK);
    static const uint8_t payload[] = {1, 2, 3};
    CHECK_RC(tw_client_send_binary(client, payload, sizeof payload), TW_OK);
    CHECK_RC(tw_client_send_binary(client, NULL, 0), TW_OK);

    check_frames(client);
    check_request(client);

    CHECK_RC(tw_client_close(client), TW_OK);
    tw_client_free(client);
    printf("send_request: ok\n");
    return 0;
}

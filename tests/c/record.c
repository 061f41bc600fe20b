/*
 * `record` from C: the config field of every binding, in the JSON string. The client records
 * its session to PATH; the harness checks the file (a received frame, the redacted URL, no
 * token).
 *
 * Usage: record URL PATH
 */
#define _POSIX_C_SOURCE 200809L

#include "check.h"

int main(int argc, char **argv) {
    CHECK(argc == 3);
    char config[1024];
    int n = snprintf(config, sizeof config,
                     "{\"url\": \"%s/\", \"preset\": \"json\", \"token\": \"c-Rec0rd-Tok3n-xyz\","
                     " \"token_query_param\": \"token\", \"record\": \"%s\"}",
                     argv[1], argv[2]);
    CHECK(n > 0 && (size_t)n < sizeof config);
    tw_client *client = tw_client_new(config);
    CHECK(client != NULL);
    CHECK_RC(tw_client_start(client), TW_OK);
    tw_event *ev = wait_for_kind(client, "connected");
    tw_event_free(ev);
    printf("connected\n");
    fflush(stdout);
    ev = wait_for_kind(client, "message");
    tw_event_free(ev);
    /* close() joins the recording's writer: the file is complete when it returns. */
    CHECK_RC(tw_client_close(client), TW_OK);
    tw_client_free(client);
    printf("ok\n");
    return 0;
}

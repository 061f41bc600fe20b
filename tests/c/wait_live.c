/*
 * tw_client_wait_live: TW_OK once live; the first attempt's error with
 * tw_last_error_reason() naming why (connection_refused, timed_out, dns, tls, handshake,
 * auth); TW_ERR_TIMEOUT with reason timed_out when the wait runs out; and the client keeps
 * reconnecting in the background, live once the server appears.
 *
 * Usage: wait_live LIVE_URL REFUSED_URL WSS_TO_PLAIN_URL WRONG_PATH_URL AUTH_401_URL SILENT_URL
 *
 * After the refused case the program prints `refused`; the harness then starts a server on
 * that port and the program waits until it is live.
 */
#include "check.h"

#define SOON_MS 20000u

/* A started client for `url` with a quick backoff; `extra` is more JSON members (or ""). */
static tw_client *started(const char *url, const char *extra) {
    char config[512];
    int n = snprintf(config, sizeof config,
                     "{\"url\": \"%s\", \"backoff_initial\": 0.05, \"backoff_max\": 0.2, "
                     "\"jitter\": 0%s}",
                     url, extra);
    CHECK(n > 0 && (size_t)n < sizeof config);
    tw_client *client = tw_client_new(config);
    CHECK(client != NULL);
    CHECK_RC(tw_client_start(client), TW_OK);
    return client;
}

/* wait_live fails with `code` and `reason`; the message says something. */
static void expect_failure(tw_client *client, unsigned timeout_ms, tw_result code,
                           const char *reason) {
    CHECK_RC(tw_client_wait_live(client, timeout_ms), code);
    CHECK(str_eq(tw_last_error_reason(), reason));
    CHECK(strcmp(tw_last_error(), "") != 0);
    printf("%s: %s\n", reason, tw_last_error());
    fflush(stdout);
}

static void expect_reason(const char *url, const char *extra, tw_result code,
                          const char *reason) {
    tw_client *client = started(url, extra);
    expect_failure(client, SOON_MS, code, reason);
    tw_client_close(client);
    tw_client_free(client);
}

int main(int argc, char **argv) {
    CHECK(argc == 7);
    const char *live_url = argv[1], *refused_url = argv[2], *wss_to_plain = argv[3];
    const char *wrong_path = argv[4], *auth_401 = argv[5], *silent = argv[6];

    CHECK_RC(tw_client_wait_live(NULL, 0), TW_ERR_INVALID_ARGUMENT);
    CHECK(tw_last_error_reason() == NULL);

    /* Never started: a usage error, no reason. */
    char config[256];
    snprintf(config, sizeof config, "{\"url\": \"%s\"}", live_url);
    tw_client *idle = tw_client_new(config);
    CHECK(idle != NULL);
    CHECK_RC(tw_client_wait_live(idle, 0), TW_ERR_USAGE);
    CHECK(tw_last_error_reason() == NULL);
    tw_client_free(idle);

    /* Live: TW_OK, and at once when already live; the reason is cleared. */
    tw_client *live = started(live_url, "");
    CHECK_RC(tw_client_wait_live(live, TW_NO_TIMEOUT), TW_OK);
    CHECK_RC(tw_client_wait_live(live, 0), TW_OK);
    CHECK(tw_last_error_reason() == NULL);
    tw_client_close(live);
    CHECK_RC(tw_client_wait_live(live, SOON_MS), TW_ERR_CLOSED);
    tw_client_free(live);

    /* Refused, then live once the server appears (the client kept trying). */
    tw_client *client = started(refused_url, "");
    expect_failure(client, SOON_MS, TW_ERR_CONNECT, "connection_refused");
    printf("refused\n");
    fflush(stdout);
    double deadline = now_s() + SOON_S;
    for (;;) {
        CHECK(now_s() < deadline);
        tw_result rc = tw_client_wait_live(client, SOON_MS);
        if (rc == TW_OK) {
            break;
        }
        CHECK_RC(rc, TW_ERR_CONNECT);
        CHECK(str_eq(tw_last_error_reason(), "connection_refused"));
    }
    printf("live after refused\n");
    tw_client_close(client);
    tw_client_free(client);

    expect_reason("ws://nonexistent.invalid:8765/", "", TW_ERR_CONNECT, "dns");
    expect_reason(wss_to_plain, "", TW_ERR_CONNECT, "tls");
    expect_reason(wrong_path, "", TW_ERR_CONNECT, "handshake");
    expect_reason(auth_401, ", \"token\": \"wrong\"", TW_ERR_AUTH, "auth");
    expect_reason(silent, ", \"connect_timeout\": 0.3", TW_ERR_CONNECT, "timed_out");

    /* The wait itself runs out first. */
    client = started(silent, ", \"connect_timeout\": 60");
    expect_failure(client, 200, TW_ERR_TIMEOUT, "timed_out");
    tw_client_close(client);
    tw_client_free(client);
    return 0;
}

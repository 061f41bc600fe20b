/*
 * Each reference system's documented defaults, from C (issue 20).
 *
 * Usage: presets REFUSED_URL BREAKOUT_URL
 *
 * 1. Reconnect schedules against a URL nobody listens on: the announced delays of the
 *    daemon (5 s: 002 retries a daemon never reached every 5 s), breakout (5 s) and
 *    tradovate (1 s) presets are within
 *    [d, 1.1 d] by default and exactly d with "jitter": 0.
 * 2. The breakout preset against BREAKOUT_URL (the harness publishes one SIGNAL after the
 *    connection): tw_event_server_time gives the message's `ts` (Unix ms) in seconds,
 *    false for other events, and the status has a feed_latency number.
 * 3. "agent_id" outside the agent preset is a configuration error that names it.
 */
#define _POSIX_C_SOURCE 200809L

#include "check.h"

/* The delay (seconds) of a reconnecting event, from its JSON form. */
static double delay_of(const tw_event *ev) {
    char *json = tw_event_to_json(ev);
    CHECK(json != NULL);
    const char *at = strstr(json, "\"delay\":");
    CHECK(at != NULL);
    double d = strtod(at + strlen("\"delay\":"), NULL);
    tw_string_free(json);
    return d;
}

/* Checks the first `n` announced delays of `preset` against `documented`. */
static void check_schedule(const char *url, const char *preset, const char *extra,
                           const double *documented, int n, int exact) {
    char config[512];
    int len = snprintf(config, sizeof config, "{\"url\": \"%s\", \"preset\": \"%s\"%s%s}", url,
                       preset, extra, exact ? ", \"jitter\": 0" : "");
    CHECK(len > 0 && (size_t)len < sizeof config);
    tw_client *client = tw_client_new(config);
    CHECK(client != NULL);
    CHECK_RC(tw_client_start(client), TW_OK);
    for (int i = 0; i < n; i++) {
        tw_event *ev = wait_for_kind(client, "reconnecting");
        double got = delay_of(ev);
        tw_event_free(ev);
        double d = documented[i];
        if (exact ? got != d : (got < d || got > d * 1.1 + 1e-9)) {
            fprintf(stderr, "%s%s: attempt %d announced %.6f s, documented %.1f s\n", preset,
                    exact ? " (jitter 0)" : "", i + 1, got, d);
            exit(1);
        }
        printf("schedule %s%s attempt %d: %.6f\n", preset, exact ? " exact" : "", i + 1, got);
    }
    CHECK_RC(tw_client_close(client), TW_OK);
    tw_client_free(client);
}

static void schedules(const char *refused_url) {
    const double daemon[] = {5.0};
    const double breakout[] = {5.0};
    const double tradovate[] = {1.0};
    for (int exact = 0; exact <= 1; exact++) {
        check_schedule(refused_url, "daemon", "", daemon, 1, exact);
        check_schedule(refused_url, "breakout", "", breakout, 1, exact);
        check_schedule(refused_url, "tradovate", ", \"token\": \"not-a-real-token\"", tradovate, 1,
                       exact);
    }
}

static void server_time(const char *breakout_url) {
    char config[512];
    int len = snprintf(config, sizeof config,
                       "{\"url\": \"%s\", \"preset\": \"breakout\", \"types\": [\"SIGNAL\"]}",
                       breakout_url);
    CHECK(len > 0 && (size_t)len < sizeof config);
    tw_client *client = tw_client_new(config);
    CHECK(client != NULL);
    CHECK_RC(tw_client_start(client), TW_OK);

    tw_event *connected = wait_for_kind(client, "connected");
    double t = -1.0;
    CHECK(!tw_event_server_time(connected, &t)); /* not a message */
    CHECK(t == -1.0);                            /* left as it was */
    CHECK(!tw_event_server_time(connected, NULL));
    CHECK(strstr(tw_last_error(), "unix_seconds") != NULL);
    CHECK(!tw_event_server_time(NULL, &t));
    tw_event_free(connected);
    printf("ready\n");
    fflush(stdout);

    tw_event *msg = wait_for_kind(client, "message");
    CHECK(str_eq(tw_event_type(msg), "SIGNAL"));
    const char *raw = tw_event_raw(msg);
    CHECK(raw != NULL);
    const char *ts_at = strstr(raw, "\"ts\":");
    CHECK(ts_at != NULL);
    unsigned long long ts = strtoull(ts_at + strlen("\"ts\":"), NULL, 10);
    CHECK(tw_event_server_time(msg, &t));
    /* ts is whole milliseconds: t is ts / 1000 to well within a microsecond. */
    double want = (double)ts / 1000.0;
    CHECK(t > want - 1e-6 && t < want + 1e-6);
    printf("server_time=%.3f\n", t);
    tw_event_free(msg);

    char *status = tw_client_status_json(client);
    CHECK(status != NULL);
    const char *lat = strstr(status, "\"feed_latency\":");
    CHECK(lat != NULL);
    lat += strlen("\"feed_latency\":");
    CHECK(*lat == '-' || (*lat >= '0' && *lat <= '9'));
    printf("status=%s\n", status);
    tw_string_free(status);

    CHECK_RC(tw_client_close(client), TW_OK);
    tw_client_free(client);
}

static void agent_id_needs_the_agent_preset(void) {
    tw_client *client = tw_client_new("{\"url\": \"ws://127.0.0.1:9/\", \"agent_id\": \"a1\"}");
    CHECK(client == NULL);
    CHECK(strstr(tw_last_error(), "agent_id") != NULL);
    client = tw_client_new("{\"url\": \"ws://127.0.0.1:9/ws\", \"preset\": \"agent\", \"agent_id\": \"a1\"}");
    CHECK(client != NULL);
    tw_client_free(client);
}

int main(int argc, char **argv) {
    CHECK(argc == 3);
    agent_id_needs_the_agent_preset();
    server_time(argv[2]);
    schedules(argv[1]);
    printf("presets: ok\n");
    return 0;
}

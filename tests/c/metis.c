/*
 * Document 004 (METIS WebSocketApi) from C: the {protocol, host, port} form selects the
 * metis preset (tw_client_config shows it, with 004's names); data is the whole message,
 * the text itself (as a JSON string) when it is not JSON, binary JSON parsed and other binary
 * delivered as bytes; a TW_KIND_CONNECTION_CHANGE listener gets connected and disconnected
 * events told apart by tw_event_is_connected; tw_client_clear_listeners removes it; a string
 * and an object (as JSON text) are sent.
 *
 * Usage: metis PORT
 *
 * The harness waits for the line "live", then sends, in order:
 *   {"type":"status-update","payload":{"status":"ok"}}   (text)
 *   plain text                                           (text)
 *   {"type":"alert","payload":{"message":"hot"}}        (binary)
 *   ff 00 7b 01                                          (binary)
 * and then closes every connection with 1001.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>

#include "check.h"

#define MESSAGES 4
#define MAX_CHANGES 16

struct state {
    pthread_mutex_t lock;
    char *data[MESSAGES]; /* data JSON of each message (NULL: none), copied */
    char *raw[MESSAGES];  /* raw text of each message (NULL: binary), copied */
    size_t raw_len[MESSAGES];
    char *type[MESSAGES];
    int nmessages;
    int message_is_connected; /* tw_event_is_connected of messages: -1 expected */
    int changes[MAX_CHANGES];  /* tw_event_is_connected of each connection-change */
    int nchanges;
    int wrong_kind;
};

static char *dup_or_null(const char *s) {
    if (s == NULL) {
        return NULL;
    }
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    CHECK(copy != NULL);
    memcpy(copy, s, n);
    return copy;
}

static void on_message(const tw_event *ev, void *user_data) {
    struct state *s = user_data;
    pthread_mutex_lock(&s->lock);
    if (s->nmessages < MESSAGES) {
        int i = s->nmessages++;
        s->data[i] = dup_or_null(tw_event_data_json(ev));
        s->raw[i] = dup_or_null(tw_event_raw(ev));
        s->type[i] = dup_or_null(tw_event_type(ev));
        size_t len = 0;
        CHECK(tw_event_raw_bytes(ev, &len) != NULL);
        s->raw_len[i] = len;
        if (tw_event_is_connected(ev) != -1) {
            s->message_is_connected = tw_event_is_connected(ev);
        }
    }
    pthread_mutex_unlock(&s->lock);
}

static void on_change(const tw_event *ev, void *user_data) {
    struct state *s = user_data;
    pthread_mutex_lock(&s->lock);
    int c = tw_event_is_connected(ev);
    const char *kind = tw_event_kind(ev);
    if ((c == 1 && !str_eq(kind, "connected")) || (c == 0 && !str_eq(kind, "disconnected")) ||
        c == -1) {
        s->wrong_kind = 1;
    }
    if (s->nchanges < MAX_CHANGES) {
        s->changes[s->nchanges++] = c;
    }
    pthread_mutex_unlock(&s->lock);
}

static int count_of(struct state *s, const int *field) {
    pthread_mutex_lock(&s->lock);
    int n = *field;
    pthread_mutex_unlock(&s->lock);
    return n;
}

static void wait_count(struct state *s, const int *field, int n) {
    double deadline = now_s() + SOON_S;
    while (count_of(s, field) < n) {
        CHECK(now_s() < deadline);
        sleep_ms(10);
    }
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    char config[256];
    int n = snprintf(config, sizeof config,
                     "{\"protocol\": \"ws\", \"host\": \"127.0.0.1\", \"port\": %s, "
                     "\"connectTimeout\": 5000, \"backoff_initial\": 0.1, \"jitter\": 0}",
                     argv[1]);
    CHECK(n > 0 && (size_t)n < sizeof config);
    tw_client *client = tw_client_new(config);
    CHECK(client != NULL);

    /* The resolved configuration, read-only, with 004's names. */
    CHECK(tw_client_config(NULL) == NULL);
    char *resolved = tw_client_config(client);
    CHECK(resolved != NULL);
    printf("config=%s\n", resolved);
    CHECK(strstr(resolved, "\"preset\":\"metis\"") != NULL);
    CHECK(strstr(resolved, "\"connectTimeout\":5000") != NULL);
    CHECK(strstr(resolved, "\"connect_timeout\":5.0") != NULL);
    CHECK(strstr(resolved, "\"rejectUnauthorized\":true") != NULL);
    tw_string_free(resolved);

    CHECK(TW_KIND_CONNECTION_CHANGE == (TW_KIND_CONNECTED | TW_KIND_DISCONNECTED));
    CHECK(tw_event_is_connected(NULL) == -1);

    struct state s;
    memset(&s, 0, sizeof s);
    CHECK(pthread_mutex_init(&s.lock, NULL) == 0);
    s.message_is_connected = -1;
    uint64_t change_id = 0, message_id = 0;
    CHECK_RC(tw_client_add_listener(client, TW_KIND_CONNECTION_CHANGE, on_change, &s, &change_id),
             TW_OK);
    CHECK_RC(tw_client_add_listener(client, TW_KIND_MESSAGE, on_message, &s, &message_id), TW_OK);
    CHECK_RC(tw_client_start(client), TW_OK);
    wait_count(&s, &s.nchanges, 1);
    printf("live\n");
    fflush(stdout);

    wait_count(&s, &s.nmessages, MESSAGES);
    pthread_mutex_lock(&s.lock);
    /* {type, payload}: the whole message. */
    CHECK(str_eq(s.data[0], "{\"type\":\"status-update\",\"payload\":{\"status\":\"ok\"}}"));
    CHECK(str_eq(s.type[0], "status-update"));
    /* Not JSON: the text itself, as a JSON string, and raw. */
    CHECK(str_eq(s.data[1], "\"plain text\""));
    CHECK(str_eq(s.raw[1], "plain text"));
    CHECK(s.type[1] == NULL);
    /* Binary JSON: parsed. */
    CHECK(str_eq(s.type[2], "alert"));
    CHECK(str_eq(s.data[2], "{\"type\":\"alert\",\"payload\":{\"message\":\"hot\"}}"));
    /* Other binary: its bytes, no data. */
    CHECK(s.data[3] == NULL && s.raw[3] == NULL && s.raw_len[3] == 4);
    CHECK(s.message_is_connected == -1);
    pthread_mutex_unlock(&s.lock);

    /* A string and an object (as JSON text). */
    CHECK_RC(tw_client_send_text(client, "Hello, WebSocket!"), TW_OK);
    CHECK_RC(tw_client_send_text(client, "{\"type\":\"command\",\"action\":\"execute\"}"), TW_OK);
    printf("sent\n");
    fflush(stdout);

    /* The harness closes the connection: disconnected (0), then connected again (1). */
    wait_count(&s, &s.nchanges, 3);
    pthread_mutex_lock(&s.lock);
    CHECK(s.changes[0] == 1 && s.changes[1] == 0 && s.changes[2] == 1);
    CHECK(!s.wrong_kind);
    pthread_mutex_unlock(&s.lock);

    /* clearEventListeners(['connection-change']): that listener is removed. */
    size_t removed = 0;
    CHECK_RC(tw_client_clear_listeners(client, TW_KIND_CONNECTION_CHANGE, &removed), TW_OK);
    CHECK(removed == 1);
    CHECK_RC(tw_client_clear_listeners(client, TW_KIND_ALL, &removed), TW_OK);
    CHECK(removed == 1);

    CHECK_RC(tw_client_close(client), TW_OK);
    tw_client_free(client);
    for (int i = 0; i < MESSAGES; i++) {
        free(s.data[i]);
        free(s.raw[i]);
        free(s.type[i]);
    }
    pthread_mutex_destroy(&s.lock);
    printf("ok\n");
    return 0;
}

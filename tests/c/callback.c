/*
 * Events delivered to a callback on the library's thread, with user data; nothing is
 * delivered after tw_client_close returns.
 *
 * Usage: callback URL COUNT
 *
 * The harness waits for the connection and broadcasts COUNT messages of type "tick".
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>

#include "check.h"

struct state {
    pthread_mutex_t lock;
    pthread_t main_thread;
    int calls;
    int messages;
    int connected_first; /* the first event was `connected` */
    int wrong_thread;    /* a call ran on the main thread */
    tw_event *kept;      /* a clone of the first message, kept beyond its call */
};

static void on_event(const tw_event *ev, void *user_data) {
    struct state *s = user_data;
    const char *kind = tw_event_kind(ev);
    int is_message = str_eq(kind, "message");
    if (is_message && !str_eq(tw_event_type(ev), "tick")) {
        fprintf(stderr, "unexpected message type %s\n", tw_event_type(ev));
        exit(1);
    }
    pthread_mutex_lock(&s->lock);
    if (s->calls == 0) {
        s->connected_first = str_eq(kind, "connected");
    }
    s->calls++;
    if (pthread_equal(pthread_self(), s->main_thread)) {
        s->wrong_thread = 1;
    }
    if (is_message) {
        s->messages++;
        if (s->kept == NULL) {
            s->kept = tw_event_clone(ev);
        }
    }
    pthread_mutex_unlock(&s->lock);
}

static int messages(struct state *s) {
    pthread_mutex_lock(&s->lock);
    int n = s->messages;
    pthread_mutex_unlock(&s->lock);
    return n;
}

int main(int argc, char **argv) {
    CHECK(argc == 3);
    int expected = atoi(argv[2]);
    CHECK(expected > 0);

    char config[256];
    int n = snprintf(config, sizeof config, "{\"url\": \"%s\", \"preset\": \"daemon\"}", argv[1]);
    CHECK(n > 0 && (size_t)n < sizeof config);
    tw_client *client = tw_client_new(config);
    CHECK(client != NULL);

    struct state s;
    memset(&s, 0, sizeof s);
    CHECK(pthread_mutex_init(&s.lock, NULL) == 0);
    s.main_thread = pthread_self();

    CHECK_RC(tw_client_set_callback(client, on_event, &s), TW_OK);
    CHECK_RC(tw_client_set_callback(client, on_event, &s), TW_ERR_USAGE); /* only one */
    CHECK_RC(tw_client_start(client), TW_OK);

    /* The callback takes every event: reading them as well is refused. */
    tw_event *ev = NULL;
    CHECK_RC(tw_client_next_event(client, 0, &ev), TW_ERR_USAGE);
    CHECK(ev == NULL);
    CHECK(strstr(tw_last_error(), "callback") != NULL); /* says why */
    tw_event *batch[4] = {NULL, NULL, NULL, NULL};
    size_t count = 99;
    CHECK_RC(tw_client_next_events(client, 0, batch, 4, &count), TW_ERR_USAGE);
    CHECK(count == 99 && batch[0] == NULL);

    double deadline = now_s() + SOON_S;
    while (messages(&s) < expected && now_s() < deadline) {
        sleep_ms(10);
    }
    CHECK(messages(&s) == expected);

    CHECK_RC(tw_client_close(client), TW_OK);
    pthread_mutex_lock(&s.lock);
    int calls_at_close = s.calls;
    pthread_mutex_unlock(&s.lock);
    sleep_ms(200);
    pthread_mutex_lock(&s.lock);
    CHECK(s.calls == calls_at_close); /* no call after close returned */
    CHECK(s.connected_first);
    CHECK(!s.wrong_thread);
    CHECK(s.kept != NULL);
    pthread_mutex_unlock(&s.lock);

    /* The clone is still readable after the callback returned and the client closed. */
    char *json = tw_event_to_json(s.kept);
    CHECK(json != NULL && strstr(json, "\"type\":\"tick\"") != NULL);
    printf("kept=%s\n", json);
    tw_string_free(json);
    tw_event_free(s.kept);

    tw_client_free(client);
    pthread_mutex_destroy(&s.lock);
    printf("callback: ok (%d calls, %d messages)\n", calls_at_close, expected);
    return 0;
}

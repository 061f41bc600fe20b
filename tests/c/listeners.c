/*
 * Listeners: several coexist, each called for its kinds, in registration order and event
 * order; one removes itself from inside its call; one removed from the main thread is not
 * called again once tw_client_remove_listener returns; reading is refused once a listener
 * exists.
 *
 * Usage: listeners URL COUNT
 *
 * The harness waits for the connection and broadcasts COUNT messages of type "tick"; once
 * the program prints "removed", it broadcasts 5 messages of type "tock".
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>

#include "check.h"

#define AFTER 5
#define MAX_TAGS 4096

struct state {
    pthread_mutex_t lock;
    tw_client *client;
    char tags[MAX_TAGS]; /* per message, one letter per listener call, in call order */
    size_t ntags;
    int ticks_in_order;  /* `messages` saw tick seq 0, 1, 2, ... */
    int next_seq;
    int message_calls;   /* calls of `messages` */
    int all_messages;    /* messages seen by `all` */
    int all_calls;       /* calls of `all` */
    int first_kind_connected;
    uint64_t once_id;
    int once_removed;
    int wrong_kind;      /* a listener got a kind it did not ask for */
};

static void tag(struct state *s, char c) {
    if (s->ntags + 1 < MAX_TAGS) {
        s->tags[s->ntags++] = c;
    }
}

static long seq_of(const tw_event *ev) {
    const char *data = tw_event_data_json(ev);
    const char *at = data != NULL ? strstr(data, "\"seq\":") : NULL;
    return at != NULL ? strtol(at + 6, NULL, 10) : -1;
}

/* `messages`: message events only. */
static void on_messages(const tw_event *ev, void *user_data) {
    struct state *s = user_data;
    pthread_mutex_lock(&s->lock);
    if (!str_eq(tw_event_kind(ev), "message")) {
        s->wrong_kind = 1;
    }
    if (str_eq(tw_event_type(ev), "tick")) {
        if (seq_of(ev) != s->next_seq) {
            s->ticks_in_order = 0;
        }
        s->next_seq++;
    }
    s->message_calls++;
    tag(s, 'M');
    pthread_mutex_unlock(&s->lock);
}

/* `all`: every kind. */
static void on_all(const tw_event *ev, void *user_data) {
    struct state *s = user_data;
    pthread_mutex_lock(&s->lock);
    if (s->all_calls == 0) {
        s->first_kind_connected = str_eq(tw_event_kind(ev), "connected");
    }
    s->all_calls++;
    if (str_eq(tw_event_kind(ev), "message")) {
        s->all_messages++;
        tag(s, 'A');
    }
    pthread_mutex_unlock(&s->lock);
}

/* `once`: message events; removes itself from inside its first call. */
static void on_once(const tw_event *ev, void *user_data) {
    struct state *s = user_data;
    pthread_mutex_lock(&s->lock);
    if (!str_eq(tw_event_kind(ev), "message")) {
        s->wrong_kind = 1;
    }
    tag(s, 'O');
    uint64_t id = s->once_id;
    pthread_mutex_unlock(&s->lock);
    /* No deadlock, and no further call. */
    int removed = tw_client_remove_listener(s->client, id) == TW_OK;
    pthread_mutex_lock(&s->lock);
    s->once_removed = removed;
    pthread_mutex_unlock(&s->lock);
}

static int get(struct state *s, const int *field) {
    pthread_mutex_lock(&s->lock);
    int n = *field;
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
    s.client = client;
    s.ticks_in_order = 1;

    uint64_t messages_id = 0, all_id = 0;
    CHECK_RC(tw_client_add_listener(client, TW_KIND_MESSAGE, on_messages, &s, &messages_id), TW_OK);
    CHECK_RC(tw_client_add_listener(client, TW_KIND_ALL, on_all, &s, &all_id), TW_OK);
    CHECK_RC(tw_client_add_listener(client, TW_KIND_MESSAGE, on_once, &s, &s.once_id), TW_OK);
    CHECK(messages_id != all_id && all_id != s.once_id);
    CHECK_RC(tw_client_start(client), TW_OK);

    /* The listeners take every event: reading them as well is refused, saying why. */
    tw_event *ev = NULL;
    CHECK_RC(tw_client_next_event(client, 0, &ev), TW_ERR_USAGE);
    CHECK(ev == NULL);
    CHECK(strstr(tw_last_error(), "listeners") != NULL);

    double deadline = now_s() + SOON_S;
    while (get(&s, &s.all_messages) < expected && now_s() < deadline) {
        sleep_ms(10);
    }
    CHECK(get(&s, &s.all_messages) == expected);
    CHECK(get(&s, &s.message_calls) == expected);

    /* Removed from this thread: once this returns, `messages` is neither running nor called. */
    CHECK_RC(tw_client_remove_listener(client, messages_id), TW_OK);
    int calls_at_removal = get(&s, &s.message_calls);
    CHECK_RC(tw_client_remove_listener(client, messages_id), TW_ERR_INVALID_ARGUMENT);
    printf("removed\n");
    fflush(stdout);

    deadline = now_s() + SOON_S;
    while (get(&s, &s.all_messages) < expected + AFTER && now_s() < deadline) {
        sleep_ms(10);
    }
    CHECK(get(&s, &s.all_messages) == expected + AFTER);
    CHECK(get(&s, &s.message_calls) == calls_at_removal);

    CHECK_RC(tw_client_close(client), TW_OK);
    /* close() removed the rest. */
    CHECK_RC(tw_client_remove_listener(client, all_id), TW_ERR_INVALID_ARGUMENT);
    /* Still refused after every listener is gone (the rule holds for the client's life). */
    CHECK_RC(tw_client_next_event(client, 0, &ev), TW_ERR_USAGE);

    /* Registration order for each message, event order across them: the first message
     * went to messages, all, once; the next ticks to messages and all; the tocks to all. */
    char want[MAX_TAGS];
    size_t w = 0;
    for (int i = 0; i < expected + AFTER && w + 4 < MAX_TAGS; i++) {
        if (i < expected) {
            want[w++] = 'M';
        }
        want[w++] = 'A';
        if (i == 0) {
            want[w++] = 'O';
        }
    }
    want[w] = '\0';
    pthread_mutex_lock(&s.lock);
    s.tags[s.ntags] = '\0';
    printf("tags=%s\n", s.tags);
    CHECK(str_eq(s.tags, want));
    CHECK(s.first_kind_connected);
    CHECK(s.ticks_in_order && s.next_seq == expected);
    CHECK(!s.wrong_kind);
    CHECK(s.once_removed);
    printf("listeners: ok (%d calls of the catch-all, %d messages)\n", s.all_calls, s.all_messages);
    pthread_mutex_unlock(&s.lock);

    tw_client_free(client);
    pthread_mutex_destroy(&s.lock);
    return 0;
}

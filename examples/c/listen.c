/*
 * listen: prints the events of a trading stream as JSON lines, until Ctrl-C.
 *
 *   listen PRESET ACCOUNT [URL]
 *
 *   ./listen daemon 123                          # the risk daemon at its default URL
 *   ./listen json ACC-1 ws://127.0.0.1:9000/feed
 *
 * Every event is printed, lifecycle events included (connected, disconnected,
 * reconnecting, ...): the client reconnects by itself. SIGINT or SIGTERM closes the client
 * and the program exits 0.
 *
 * Signals: SIGINT and SIGTERM are blocked in every thread (the library's threads inherit
 * the mask) and a watcher thread takes them with sigwait(). The watcher then calls
 * tw_client_close() as ordinary code, not from a signal handler, so nothing needs to be
 * async-signal-safe; the close wakes the main thread, blocked in tw_client_next_event(),
 * which returns TW_CLOSED.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "tradewire.h"

/* Appends `s` to `out` (of `size` bytes) as a JSON string. Returns 0, or -1 if it does not fit. */
static int append_json_string(char *out, size_t size, const char *s) {
    size_t n = strlen(out);
    if (n + 1 >= size) return -1;
    out[n++] = '"';
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        int wrote;
        if (c == '"' || c == '\\') {
            wrote = snprintf(out + n, size - n, "\\%c", c);
        } else if (c < 0x20) {
            wrote = snprintf(out + n, size - n, "\\u%04x", c);
        } else {
            wrote = snprintf(out + n, size - n, "%c", c);
        }
        if (wrote < 0 || (size_t)wrote >= size - n) return -1;
        n += (size_t)wrote;
    }
    if (n + 2 > size) return -1;
    out[n++] = '"';
    out[n] = '\0';
    return 0;
}

struct watcher {
    sigset_t signals;
    tw_client *client;
};

/* Waits for SIGINT or SIGTERM, then closes the client. */
static void *watch_signals(void *arg) {
    struct watcher *w = arg;
    int sig = 0;
    if (sigwait(&w->signals, &sig) == 0) {
        tw_client_close(w->client); /* any thread may close; wakes tw_client_next_event */
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s PRESET ACCOUNT [URL]\n", argv[0]);
        return 2;
    }

    /* {"preset": ..., "account_id": ..., "url": ...}: the same schema as every binding. */
    char config[1024] = "{\"preset\": ";
    int bad = append_json_string(config, sizeof config, argv[1]);
    strncat(config, ", \"account_id\": ", sizeof config - strlen(config) - 1);
    bad |= append_json_string(config, sizeof config, argv[2]);
    if (argc == 4) {
        strncat(config, ", \"url\": ", sizeof config - strlen(config) - 1);
        bad |= append_json_string(config, sizeof config, argv[3]);
    }
    strncat(config, "}", sizeof config - strlen(config) - 1);
    if (bad != 0) {
        fprintf(stderr, "arguments too long\n");
        return 2;
    }

    tw_client *client = tw_client_new(config);
    if (client == NULL) {
        fprintf(stderr, "listen: %s\n", tw_last_error());
        return 2;
    }

    /* Block the signals before any thread starts, then let the watcher take them. */
    struct watcher w;
    w.client = client;
    sigemptyset(&w.signals);
    sigaddset(&w.signals, SIGINT);
    sigaddset(&w.signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &w.signals, NULL);
    pthread_t watcher;
    if (pthread_create(&watcher, NULL, watch_signals, &w) != 0) {
        fprintf(stderr, "listen: could not start the signal watcher\n");
        tw_client_free(client);
        return 1;
    }

    int status = 0;
    if (tw_client_start(client) != TW_OK) {
        fprintf(stderr, "listen: %s\n", tw_last_error());
        status = 1;
    }
    while (status == 0) {
        tw_event *ev = NULL;
        tw_result rc = tw_client_next_event(client, TW_NO_TIMEOUT, &ev);
        if (rc == TW_CLOSED) break; /* closed by the watcher: a clean exit */
        if (rc != TW_OK) {
            fprintf(stderr, "listen: %s: %s\n", tw_result_name(rc), tw_last_error());
            status = 1;
            break;
        }
        char *json = tw_event_to_json(ev); /* ours: free with tw_string_free */
        if (json != NULL) {
            printf("%s\n", json);
            fflush(stdout);
        }
        tw_string_free(json);
        tw_event_free(ev);
    }

    /* Wake the watcher if it is still waiting (the loop ended on an error), then clean up. */
    pthread_kill(watcher, SIGTERM);
    pthread_join(watcher, NULL);
    tw_client_free(client);
    return status;
}

/*
 * Helpers shared by the C test programs: checks that exit with a message, a monotonic
 * clock, and waiting for events with generous bounds.
 *
 * The programs are run by ffi/tests/c_programs.rs, which starts the servers and passes
 * their URLs as arguments. A program exits 0 when every check passed.
 */
#ifndef TRADEWIRE_TEST_CHECK_H
#define TRADEWIRE_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tradewire.h"

/* Fails the program when `cond` is false, with the library's last error for context. */
#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n  tw_last_error(): %s\n", __FILE__, \
                    __LINE__, #cond, tw_last_error());                                   \
            exit(1);                                                                     \
        }                                                                                \
    } while (0)

/* Fails the program when `call` does not return `expected`. */
#define CHECK_RC(call, expected)                                                          \
    do {                                                                                  \
        tw_result check_rc_ = (call);                                                     \
        if (check_rc_ != (expected)) {                                                    \
            fprintf(stderr, "%s:%d: %s returned %s, expected %s\n  tw_last_error(): %s\n", \
                    __FILE__, __LINE__, #call, tw_result_name(check_rc_),                 \
                    tw_result_name(expected), tw_last_error());                           \
            exit(1);                                                                      \
        }                                                                                 \
    } while (0)

/* Generous bound for anything that should happen "soon" on a busy machine. */
#define SOON_S 20.0

/* Seconds on a monotonic clock. */
static inline double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void sleep_ms(long ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

static inline int str_eq(const char *a, const char *b) {
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* Prints an event as one JSON line on stdout (the harness reads these). */
static inline void print_event(const tw_event *ev) {
    char *json = tw_event_to_json(ev);
    CHECK(json != NULL);
    printf("%s\n", json);
    fflush(stdout);
    tw_string_free(json);
}

/*
 * Waits for the next event of `kind`, printing every event seen on the way. Returns the
 * event (the caller frees it); fails the program after SOON_S seconds or if the stream ends.
 */
static inline tw_event *wait_for_kind(tw_client *client, const char *kind) {
    double deadline = now_s() + SOON_S;
    while (now_s() < deadline) {
        tw_event *ev = NULL;
        tw_result rc = tw_client_next_event(client, 200, &ev);
        if (rc == TW_TIMEOUT) {
            CHECK(ev == NULL); /* out-parameters are written only on success */
            continue;
        }
        CHECK_RC(rc, TW_OK);
        CHECK(ev != NULL);
        print_event(ev);
        if (str_eq(tw_event_kind(ev), kind)) {
            return ev;
        }
        tw_event_free(ev);
    }
    fprintf(stderr, "no `%s` event within %.0f s\n", kind, SOON_S);
    exit(1);
}

#endif /* TRADEWIRE_TEST_CHECK_H */

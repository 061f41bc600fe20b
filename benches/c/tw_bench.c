/* tradewire's C API as an application uses it: the daemon preset with an account filter,
 * events taken on the main thread with tw_client_next_event (client tradewire-c) or, with
 * --batch, up to 1024 at a time with tw_client_next_events (client tradewire-c-batch, issue
 * 30's C figure), data.ts read from tw_event_data_json. Same protocol and report as every
 * bench client (benches/rust/src/lib.rs).
 *
 *   tw_bench [--batch] ws://127.0.0.1:PORT firehose|paced|idle
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "tradewire.h"

static uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct usage { double user_s, sys_s; long maxrss_kb; };

static struct usage usage_now(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    struct usage u = {
        ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
        ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6,
        ru.ru_maxrss,
    };
    return u;
}

/* The value of "ts": in the data (its first field); 0 when absent. */
static uint64_t ts_of(const char *data) {
    const char *p = strstr(data, "\"ts\":");
    return p ? strtoull(p + 5, NULL, 10) : 0;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void print_pct(const char *name, const uint64_t *v, size_t n, double p) {
    if (n == 0) { printf("\"%s\":null", name); return; }
    size_t i = (size_t)(p / 100.0 * (double)n + 0.999999999);
    if (i < 1) i = 1;
    if (i > n) i = n;
    printf("\"%s\":%.3f", name, (double)v[i - 1] / 1e3);
}

#define BATCH 1024

/* The run's bookkeeping, shared by both ways of taking events. */
struct run {
    const char *name;
    int paced, started;
    uint64_t matched, t0;
    size_t nlat, cap;
    uint64_t *lat;
    struct usage u0;
};

/* One event, which this function frees; 1 once bench_end is reported, -1 on a failure. */
static int handle(struct run *r, tw_event *ev) {
    const char *type = tw_event_type(ev);
    if (type == NULL) {                       /* lifecycle */
        int gone = strcmp(tw_event_kind(ev), "disconnected") == 0;
        tw_event_free(ev);
        if (gone) { fprintf(stderr, "disconnected\n"); return -1; }
        return 0;
    }
    const char *data = tw_event_data_json(ev);
    if (strncmp(type, "bench_", 6) == 0) {
        if (strcmp(type, "bench_begin") == 0) {
            r->started = 1; r->matched = 0; r->nlat = 0;
            r->t0 = mono_ns(); r->u0 = usage_now();
        } else if (strcmp(type, "bench_end") == 0) {
            uint64_t t1 = mono_ns();
            struct usage u1 = usage_now();
            const char *s = strstr(data, "\"sent\":");
            uint64_t sent = s ? strtoull(s + 7, NULL, 10) : 0;
            tw_event_free(ev);
            qsort(r->lat, r->nlat, sizeof *r->lat, cmp_u64);
            printf("{\"client\":\"%s\",\"sent\":%llu,\"matched\":%llu,\"elapsed_s\":%.9f,"
                   "\"cpu_user_s\":%.6f,\"cpu_sys_s\":%.6f,\"maxrss_kb\":%ld,\"latency_us\":{\"n\":%zu,",
                   r->name, (unsigned long long)sent, (unsigned long long)r->matched,
                   (double)(t1 - r->t0) / 1e9, u1.user_s - r->u0.user_s, u1.sys_s - r->u0.sys_s,
                   u1.maxrss_kb, r->nlat);
            print_pct("p50", r->lat, r->nlat, 50); printf(",");
            print_pct("p90", r->lat, r->nlat, 90); printf(",");
            print_pct("p99", r->lat, r->nlat, 99); printf(",");
            print_pct("p99.9", r->lat, r->nlat, 99.9); printf(",");
            print_pct("max", r->lat, r->nlat, 100); printf("}}\n");
            fflush(stdout);
            return 1;
        }
        tw_event_free(ev);
        return 0;
    }
    if (r->started) {
        r->matched++;
        uint64_t ts = ts_of(data);
        if (r->paced) {
            if (r->nlat == r->cap) {
                r->cap *= 2;
                uint64_t *grown = realloc(r->lat, r->cap * sizeof *grown);
                if (!grown) { fprintf(stderr, "out of memory\n"); tw_event_free(ev); return -1; }
                r->lat = grown;
            }
            r->lat[r->nlat++] = mono_ns() - ts;
        }
    }
    tw_event_free(ev);
    return 0;
}

int main(int argc, char **argv) {
    int batch = argc == 4 && strcmp(argv[1], "--batch") == 0;
    if (argc != 3 + batch) {
        fprintf(stderr, "usage: tw_bench [--batch] URL firehose|paced|idle\n");
        return 2;
    }
    const char *url = argv[1 + batch], *mode = argv[2 + batch];
    char config[512];
    snprintf(config, sizeof config, "{\"url\":\"%s\",\"preset\":\"daemon\",\"account_id\":123}", url);
    tw_client *client = tw_client_new(config);
    if (!client) { fprintf(stderr, "tw_client_new: %s\n", tw_last_error()); return 1; }
    if (tw_client_start(client) != TW_OK) { fprintf(stderr, "start: %s\n", tw_last_error()); return 1; }

    struct run r = {batch ? "tradewire-c-batch" : "tradewire-c", strcmp(mode, "paced") == 0, 0,
                    0, 0, 0, 1 << 16, NULL, {0, 0, 0}};
    r.lat = malloc(r.cap * sizeof *r.lat);
    if (!r.lat) { fprintf(stderr, "out of memory\n"); return 1; }
    static tw_event *events[BATCH];
    int done = 0;
    while (!done) {
        size_t n = 0;
        tw_result rc;
        if (batch) {
            rc = tw_client_next_events(client, 60000, events, BATCH, &n);
        } else {
            rc = tw_client_next_event(client, 60000, &events[0]);
            n = 1;
        }
        if (rc != TW_OK) { fprintf(stderr, "next_event%s: %s\n", batch ? "s" : "", tw_result_name(rc)); return 1; }
        for (size_t i = 0; i < n; i++) {
            if (done) { tw_event_free(events[i]); continue; }
            int h = handle(&r, events[i]);
            if (h < 0) return 1;
            done = h;
        }
    }
    free(r.lat);
    tw_client_close(client);
    tw_client_free(client);
    return 0;
}

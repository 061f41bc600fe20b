/* tradewire's C API as an application uses it: the daemon preset with an account filter,
 * events taken with tw_client_next_event on the main thread, data.ts read from
 * tw_event_data_json. Same protocol and report as every bench client (benches/rust/src/lib.rs).
 *
 *   tw_bench ws://127.0.0.1:PORT firehose|paced|idle
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

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: tw_bench URL firehose|paced|idle\n");
        return 2;
    }
    int paced = strcmp(argv[2], "paced") == 0;
    char config[512];
    snprintf(config, sizeof config, "{\"url\":\"%s\",\"preset\":\"daemon\",\"account_id\":123}", argv[1]);
    tw_client *client = tw_client_new(config);
    if (!client) { fprintf(stderr, "tw_client_new: %s\n", tw_last_error()); return 1; }
    if (tw_client_start(client) != TW_OK) { fprintf(stderr, "start: %s\n", tw_last_error()); return 1; }

    int started = 0;
    uint64_t matched = 0, last_ts = 0, t0 = 0, sent = 0;
    size_t nlat = 0, cap = 1 << 16;
    uint64_t *lat = malloc(cap * sizeof *lat);
    struct usage u0 = {0, 0, 0};
    for (;;) {
        tw_event *ev = NULL;
        tw_result rc = tw_client_next_event(client, 60000, &ev);
        if (rc != TW_OK) { fprintf(stderr, "next_event: %s\n", tw_result_name(rc)); return 1; }
        const char *type = tw_event_type(ev);
        if (type == NULL) {                       /* lifecycle */
            if (strcmp(tw_event_kind(ev), "disconnected") == 0) {
                fprintf(stderr, "disconnected\n");
                return 1;
            }
            tw_event_free(ev);
            continue;
        }
        const char *data = tw_event_data_json(ev);
        if (strncmp(type, "bench_", 6) == 0) {
            if (strcmp(type, "bench_begin") == 0) {
                started = 1; matched = 0; nlat = 0;
                t0 = mono_ns(); u0 = usage_now();
            } else if (strcmp(type, "bench_end") == 0) {
                uint64_t t1 = mono_ns();
                struct usage u1 = usage_now();
                const char *s = strstr(data, "\"sent\":");
                sent = s ? strtoull(s + 7, NULL, 10) : 0;
                tw_event_free(ev);
                qsort(lat, nlat, sizeof *lat, cmp_u64);
                printf("{\"client\":\"tradewire-c\",\"sent\":%llu,\"matched\":%llu,\"elapsed_s\":%.9f,"
                       "\"cpu_user_s\":%.6f,\"cpu_sys_s\":%.6f,\"maxrss_kb\":%ld,\"latency_us\":{\"n\":%zu,",
                       (unsigned long long)sent, (unsigned long long)matched, (double)(t1 - t0) / 1e9,
                       u1.user_s - u0.user_s, u1.sys_s - u0.sys_s, u1.maxrss_kb, nlat);
                print_pct("p50", lat, nlat, 50); printf(",");
                print_pct("p90", lat, nlat, 90); printf(",");
                print_pct("p99", lat, nlat, 99); printf(",");
                print_pct("p99.9", lat, nlat, 99.9); printf(",");
                print_pct("max", lat, nlat, 100); printf("}}\n");
                fflush(stdout);
                break;
            }
            tw_event_free(ev);
            continue;
        }
        if (started) {
            matched++;
            uint64_t ts = ts_of(data);
            if (paced) {
                if (nlat == cap) { cap *= 2; lat = realloc(lat, cap * sizeof *lat); }
                lat[nlat++] = mono_ns() - ts;
            } else {
                last_ts = ts;
            }
        }
        tw_event_free(ev);
    }
    (void)last_ts;
    free(lat);
    tw_client_close(client);
    tw_client_free(client);
    return 0;
}

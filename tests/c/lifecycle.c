/*
 * 1,000 create/start/close/free cycles leave no thread, file descriptor or memory behind.
 *
 * Usage: lifecycle URL
 *
 * Built without sanitizers (ASan keeps freed memory in quarantine, which would hide the
 * RSS figure). Prints one line with the figures; exits non-zero if anything grew.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <time.h>

#include "check.h"

static long count_entries(const char *dir) {
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.') {
            n++;
        }
    }
    closedir(d);
    return n;
}

static long rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    CHECK(f != NULL);
    char line[256];
    long kib = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
        }
    }
    fclose(f);
    return kib;
}

/*
 * pthread_join returns when the kernel clears the thread's id, which happens before the
 * kernel removes the thread from /proc/self/task; a thread joined a moment ago can still be
 * listed. Counts are therefore re-read for up to 5 s until they are back at the baseline.
 */
static long settled_count(const char *dir, long baseline) {
    long n = count_entries(dir);
    for (int i = 0; i < 500 && n > baseline; i++) {
        struct timespec pause = {0, 10 * 1000 * 1000};
        nanosleep(&pause, NULL);
        n = count_entries(dir);
    }
    return n;
}

static void cycle(const char *config) {
    tw_client *client = tw_client_new(config);
    CHECK(client != NULL);
    CHECK_RC(tw_client_start(client), TW_OK);
    CHECK_RC(tw_client_close(client), TW_OK);
    tw_client_free(client);
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    char config[256];
    int n = snprintf(config, sizeof config, "{\"url\": \"%s\", \"preset\": \"daemon\", \"account_id\": 123}", argv[1]);
    CHECK(n > 0 && (size_t)n < sizeof config);
    for (int i = 0; i < 50; i++) { /* warm-up: allocator pools */
        cycle(config);
    }
    long threads = count_entries("/proc/self/task");
    /* The directory stream itself holds a descriptor while counting; both counts include it. */
    long fds = count_entries("/proc/self/fd");
    long rss = rss_kib();
    for (int i = 0; i < 1000; i++) {
        cycle(config);
    }
    long threads_after = settled_count("/proc/self/task", threads);
    long fds_after = settled_count("/proc/self/fd", fds);
    long growth = rss_kib() - rss;
    printf("lifecycle: 1000 cycles: threads %ld -> %ld, fds %ld -> %ld, RSS +%ld KiB\n", threads,
           threads_after, fds, fds_after, growth);
    CHECK(threads_after <= threads);
    CHECK(fds_after <= fds);
    CHECK(growth < 20 * 1024);
    return 0;
}

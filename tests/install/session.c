/* A short live session through an installed libtradewire (tests/install/c.sh builds it with
 * pkg-config, shared and static): connect to the mock daemon at argv[1], take three
 * messages, close. Prints the library's and the header's versions, which must agree. */
#include <stdio.h>
#include <string.h>

#include <tradewire.h>

#define STR2(x) #x
#define STR(x) STR2(x)

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s ws://host:port\n", argv[0]);
        return 2;
    }
    const char *header = STR(TW_VERSION_MAJOR) "." STR(TW_VERSION_MINOR) "." STR(TW_VERSION_PATCH);
    printf("library=%s header=%s\n", tw_version(), header);
    if (strcmp(tw_version(), header) != 0 || strcmp(TW_VERSION, header) != 0) {
        fprintf(stderr, "version mismatch: tw_version() %s, header %s, TW_VERSION %s\n",
                tw_version(), header, TW_VERSION);
        return 1;
    }
    char config[512];
    snprintf(config, sizeof config, "{\"url\": \"%s\", \"preset\": \"daemon\"}", argv[1]);
    tw_client *client = tw_client_new(config);
    if (client == NULL) {
        fprintf(stderr, "tw_client_new: %s\n", tw_last_error());
        return 1;
    }
    if (tw_client_start(client) != TW_OK) {
        fprintf(stderr, "tw_client_start: %s\n", tw_last_error());
        tw_client_free(client);
        return 1;
    }
    int messages = 0, connected = 0, waited_ms = 0;
    while (messages < 3 && waited_ms < 20000) {
        tw_event *ev = NULL;
        tw_result rc = tw_client_next_event(client, 500, &ev);
        if (rc == TW_TIMEOUT) {
            waited_ms += 500;
            continue;
        }
        if (rc != TW_OK) break;
        if (strcmp(tw_event_kind(ev), "connected") == 0) connected = 1;
        if (tw_event_type(ev) != NULL) {
            printf("message %s\n", tw_event_type(ev));
            messages++;
        }
        tw_event_free(ev);
    }
    tw_client_close(client);
    tw_client_free(client);
    if (!connected || messages < 3) {
        fprintf(stderr, "live session incomplete: connected=%d messages=%d\n", connected, messages);
        return 1;
    }
    printf("ok\n");
    return 0;
}

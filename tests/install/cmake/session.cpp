// The C++17 side of tests/install/c.sh: built with CMake's find_package(tradewire) against an
// installed prefix; a short live session against the mock daemon at argv[1].
#include <tradewire.h>

#include <cstdio>
#include <memory>
#include <string>

namespace {
struct ClientDeleter {
    void operator()(tw_client *c) const { tw_client_free(c); }
};
struct EventDeleter {
    void operator()(tw_event *e) const { tw_event_free(e); }
};
using Client = std::unique_ptr<tw_client, ClientDeleter>;
using Event = std::unique_ptr<tw_event, EventDeleter>;
}  // namespace

int main(int argc, char **argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s ws://host:port\n", argv[0]);
        return 2;
    }
    const std::string header = std::to_string(TW_VERSION_MAJOR) + "." +
                               std::to_string(TW_VERSION_MINOR) + "." +
                               std::to_string(TW_VERSION_PATCH);
    std::printf("library=%s header=%s\n", tw_version(), header.c_str());
    if (header != tw_version()) return 1;
    const std::string config =
        std::string(R"({"url": ")") + argv[1] + R"(", "preset": "daemon"})";
    Client client(tw_client_new(config.c_str()));
    if (!client || tw_client_start(client.get()) != TW_OK) {
        std::fprintf(stderr, "tradewire: %s\n", tw_last_error());
        return 1;
    }
    int messages = 0;
    for (int waited_ms = 0; messages < 3 && waited_ms < 20000;) {
        tw_event *raw = nullptr;
        tw_result rc = tw_client_next_event(client.get(), 500, &raw);
        if (rc == TW_TIMEOUT) {
            waited_ms += 500;
            continue;
        }
        if (rc != TW_OK) break;
        Event ev(raw);
        if (tw_event_type(ev.get()) != nullptr) {
            std::printf("message %s\n", tw_event_type(ev.get()));
            ++messages;
        }
    }
    tw_client_close(client.get());
    if (messages < 3) {
        std::fprintf(stderr, "live session incomplete: %d messages\n", messages);
        return 1;
    }
    std::printf("ok\n");
    return 0;
}

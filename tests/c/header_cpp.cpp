// The header compiles as C++17 (g++ -std=c++17 -Wall -Wextra -Werror) and links.
//
// Usage: header_cpp EXPECTED_VERSION
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "tradewire.h"

namespace {

// Ownership in C++: unique_ptr with the library's free functions.
struct ClientDeleter {
    void operator()(tw_client *c) const { tw_client_free(c); }
};
struct StringDeleter {
    void operator()(char *s) const { tw_string_free(s); }
};
using ClientPtr = std::unique_ptr<tw_client, ClientDeleter>;
using StringPtr = std::unique_ptr<char, StringDeleter>;

int fail(const char *what) {
    std::fprintf(stderr, "header_cpp: %s (last error: %s)\n", what, tw_last_error());
    return 1;
}

void on_event(const tw_event *, void *) {}

}  // namespace

int main(int argc, char **argv) {
    if (argc != 2 || std::string(tw_version()) != argv[1]) return fail("version");

    // tw_result is a real enum type in C++, with int32_t underneath.
    static_assert(sizeof(tw_result) == sizeof(int32_t), "tw_result is 32 bits");
    tw_result rc = tw_client_close(nullptr);
    if (rc != TW_ERR_INVALID_ARGUMENT) return fail("close(NULL)");
    if (std::strcmp(tw_result_name(rc), "TW_ERR_INVALID_ARGUMENT") != 0) return fail("name");

    if (ClientPtr(tw_client_new("[1, 2]"))) return fail("a JSON array is not a configuration");
    if (tw_last_error_code() != TW_ERR_CONFIG) return fail("config error code");

    ClientPtr client(tw_client_new(R"({"url": "ws://127.0.0.1:9", "preset": "daemon"})"));
    if (!client) return fail("tw_client_new");
    tw_event_callback cb = on_event;
    if (tw_client_set_callback(client.get(), cb, nullptr) != TW_OK) return fail("callback");
    StringPtr status(tw_client_status_json(client.get()));
    if (!status || std::strstr(status.get(), "idle") == nullptr) return fail("status");
    tw_event *ev = nullptr;
    if (tw_client_next_event(client.get(), 0, &ev) != TW_ERR_USAGE || ev != nullptr)
        return fail("next_event with a callback");
    tw_event *batch[2] = {nullptr, nullptr};
    size_t count = 0;
    if (tw_client_next_events(client.get(), 0, batch, 2, &count) != TW_ERR_USAGE)
        return fail("next_events with a callback");
    std::printf("header_cpp: ok (%s)\n", tw_version());
    return 0;
}

//! The help texts of `tradewire` and of each of its commands (`--help`).

/// `tradewire --help`.
pub const MAIN_HELP: &str = "\
tradewire — a client for real-time trading event streams over WebSocket

Usage:
  tradewire <command> [options]

Commands:
  listen URL      Print every event from a stream as one JSON line on stdout
  bridge URL      Append every event to a Redis Stream (--to redis://host:port/db)
  demo            Run a self-contained demo with fault injection (no network needed)
  mock-server     Run a local mock server (daemon, agent or breakout) to develop against

Options:
  -h, --help      Show this help (or 'tradewire <command> --help' for a command)
  -V, --version   Show the version

Examples:
  tradewire demo
  tradewire listen ws://localhost:8765 --preset daemon --account 123
  tradewire bridge ws://localhost:8765 --preset daemon --to redis://localhost:6379/0
  tradewire mock-server --preset daemon --port 8765 --rate 20

Exit codes:
  0  success (including a Ctrl-C stop)
  1  runtime failure (e.g. the demo's client did not recover)
  2  bad arguments or configuration
  3  authentication failed (listen, bridge: the feed or Redis)
  4  gave up reconnecting (listen, bridge)

Environment:
  TRADEWIRE_LOG=info|debug   also print the library's log on stderr
";

/// `tradewire listen --help`.
pub const LISTEN_HELP: &str = "\
tradewire listen — print a stream's events as JSON lines

Usage:
  tradewire listen URL [options]
  tradewire listen --preset P [options]          (URL from the preset, e.g. daemon)
  tradewire listen --config FILE.json [options]  (URL and settings from a file)

Each message is one JSON line on stdout:
  {\"kind\":\"message\",\"type\":..,\"account_id\":..,\"data\":<payload JSON or null>,
   \"raw\":<text when not JSON, else null>,\"binary\":<base64 of a binary frame, else null>,
   \"received_at\":\"2025-01-17T14:45:15.123456Z\",\"epoch\":1}
(the event's JSON form, the same as C's tw_event_to_json and Python's Event.to_json()).
Connection changes (connecting, live, reconnecting, gave up) and bad messages are
reported on stderr in words.
The client reconnects by itself; Ctrl-C closes the connection and exits 0.

Options:
  --preset P          json (default), daemon, agent, breakout, raw, metis
  --account ID        keep only events for this account (plus events with no account)
  --types T1,T2       keep only these message types
  --token T           authentication token (sent as the preset says; never printed)
  --token-env VAR     read the token from environment variable VAR (safer than --token)
  --config FILE       a JSON configuration (the tradewire Config schema); flags override it
  --header K:V        extra handshake header (repeatable)
  --query K=V         extra query parameter (repeatable)
  --count N           exit 0 after N messages
  --max-reconnects N  give up (exit 4) after N failed reconnect attempts in a row
  --proxy URL         connect through http://, socks5:// or socks5h:// [user:pass@]host:port
                      (`direct`: ignore HTTPS_PROXY/HTTP_PROXY/ALL_PROXY; password never shown)
  --record FILE       record every frame and connection boundary to FILE (JSON lines,
                      secrets scrubbed; replay with mock-server --replay FILE)
  --subscribe JSON    a subscription sent on connect and after every reconnect, in order,
                      after on_connect (repeatable; tradovate: {endpoint, body} is a request)
  --wait N            exit 5 (3 if refused credentials) unless the first connection is
                      live within N seconds: the error names the reason (connection_refused,
                      timed_out, dns, tls, handshake, auth)
  --no-compression    do not offer permessage-deflate (compression: null in --config)
  -q, --quiet         no connection messages on stderr (errors and the outcome still show)
  -h, --help          show this help

Examples:
  tradewire listen ws://localhost:8765 --preset daemon --account 123
  tradewire listen ws://localhost:8765 --preset daemon --types GatewayUserTrade,lockout_set | jq .data
  tradewire listen ws://localhost:4000/ws --preset agent --token-env AGENT_JWT --query agentId=agent-1
  tradewire listen --config feed.json --header 'X-Client: desk-3'

The config file holds any Config field, for example:
  {\"url\": \"wss://feed.example.com/ws\", \"heartbeat_timeout\": 20, \"backoff_max\": 30}

Exit codes:
  0  stopped by Ctrl-C (or --count reached, or stdout closed)
  1  unexpected failure
  2  bad arguments or configuration (the message names the field)
  3  authentication failed (HTTP 401/403 or close 1008 from the server)
  4  gave up reconnecting
  5  --wait: not live in time, or the first attempt failed
";

/// `tradewire bridge --help`.
pub const BRIDGE_HELP: &str = "\
tradewire bridge — append a stream's events to Redis Streams

Usage:
  tradewire bridge URL --to redis://[[user]:password@]host[:port][/db] [options]
  tradewire bridge --config FILE.json --to REDIS_URL [options]

Every event the client delivers becomes one entry (XADD), lifecycle events included
(connected, disconnected, reconnecting, gap, lagged, gave_up), in order, with the fields
  key          <instance>:<connection>:<epoch>:<seq>, the same if an entry is sent twice
  kind         message, connected, disconnected, gap, lagged, gave_up, ...
  type, account_id          the message's (left out when absent)
  epoch, seq   the WebSocket connection number and the entry's number within it
  received_at, server_time  ISO-8601 UTC (messages; server_time where known)
  event        the event's JSON line, as listen prints it (with data and raw)
Delivery is at least once: after Redis was lost, the entries it had not acknowledged are
sent again, so a consumer drops an entry whose key it has seen. While Redis is away the
client's overflow policy applies (block, the default: the WebSocket is not read and the
server is slowed down by TCP; nothing is lost). The bridge reconnects to Redis with backoff
(0.1 s doubling to 2 s) and reports both connections on stderr.

Options (and every option of 'tradewire listen'):
  --to URL             the Redis server (required); its password is never printed
  --stream NAME        the stream (default tradewire); {account_id}, {type} and
                       {connection} are replaced per entry (absent: _); lifecycle entries
                       go to every stream the connection has written
  --maxlen N           trim each stream to about N entries (XADD MAXLEN ~ N)
  --instance-id ID     the key's first part (default: random per run; never reuse one)
  --status-interval S  a status line on stderr every S seconds (feed and Redis state,
                       events written and their rate, unacknowledged, queued in the
                       client, dropped, Redis reconnects)
  --config FILE        one connection's Config, or a list of them ([{...}, {...}] or
                       {\"connections\": [...]}), one client, thread and stream each;
                       an entry's \"stream\" names its stream (default tradewire:{connection});
                       the fields beside \"connections\" apply to each connection
  --count N            stop after N messages (all written)
  -h, --help           show this help

Examples:
  tradewire bridge ws://localhost:8765 --preset daemon --to redis://localhost:6379/0
  tradewire bridge ws://feed:8765 --preset daemon --to redis://:$REDIS_PASSWORD@cache:6379/1 \\
      --stream 'tw:{account_id}' --maxlen 1000000 --status-interval 10
  tradewire bridge --config desks.json --to redis://localhost:6379/0

Exit codes:
  0  stopped by Ctrl-C (after writing what was queued), or --count reached
  1  Redis refused a write (wrong key type, out of memory, ACL), or events were not
     written: Redis stayed unreachable for 10 s after Ctrl-C, or was never reached
  2  bad arguments or configuration, a bad --to URL (the message gives the accepted form)
  3  Redis refused the credentials (AUTH), or the feed refused ours
  4  the WebSocket feed gave up reconnecting
";

/// `tradewire demo --help`.
pub const DEMO_HELP: &str = "\
tradewire demo — watch the client survive a misbehaving server

Usage:
  tradewire demo [--quick] [--record FILE]

Starts a mock risk daemon (document 002) on 127.0.0.1, connects a client for account 123,
streams realistic events (trades, positions, orders, quotes, lockouts) for accounts 123 and
456 and daemon-wide ones, then injects faults: a server restart, a half-open connection
(the server goes silent with the socket open), and a burst of malformed messages. A live
status line shows the client recovering; a summary table ends the run. No network, no setup;
takes about 30 seconds.

Options:
  --quick      shorter phases (about 8 seconds), for tests
  --record F   record the client's session to F (replay: mock-server --replay F)
  -h, --help   show this help

Exit codes:
  0  the client recovered from every fault
  1  a check failed (the summary says which)
  130  interrupted by Ctrl-C

Example:
  cargo run --release -p tradewire-cli -- demo
";

/// `tradewire mock-server --help`.
pub const MOCK_HELP: &str = "\
tradewire mock-server — run a local server to develop against

Usage:
  tradewire mock-server --preset P [--port N] [--rate R] [--accounts 123,456]
  tradewire mock-server --replay FILE [--speed 1|10|max] [--port N]

Runs in the foreground until Ctrl-C. The first line on stdout is the URL to connect to.
  daemon    risk daemon (document 002): broadcasts realistic events for --accounts at
            --rate per second, plus a daemon-wide daemon_status now and then
  agent     trading-agent server (document 003): JWT in the query, JSON ping/pong; prints a
            valid token and sends price updates to agent-1 at --rate per second
  breakout  breakout-bot engine (document 001): HEARTBEAT every 30 s, engine/signal/order/
            position events at --rate per second

Options:
  --preset P       daemon, agent or breakout (required)
  --port N         port on 127.0.0.1 (default: the real server's: 8765, 4000, 8000; 0 = any)
  --rate R         events per second (default 5)
  --accounts LIST  accounts of the daemon's events (default 123,456)
  --replay FILE    play a recording (listen --record, config `record`): each recorded
                   connection is served to the next client, with its frames at the recorded
                   pace and its recorded end (close code, dropped socket, silence); exits 0
                   when every connection was played
  --speed S        replay pace: 1 (recorded, default), 10 (ten times faster), max
  -h, --help       show this help

Examples:
  tradewire mock-server --preset daemon
  tradewire mock-server --preset daemon --port 0 --rate 100 --accounts 1,2,3
  tradewire mock-server --preset agent --port 4000
  tradewire mock-server --replay examples/demo-recording.jsonl --speed 10

Exit codes (Ctrl-C is a normal stop, as for listen):
  0  stopped by Ctrl-C (or SIGTERM)
  1  the server could not start (for example, the port is in use)
  2  bad arguments
";

#!/usr/bin/env node
// A SockJS server on the third-party npm `sockjs` package (pinned in package.json).
//
// A peer server for tradewire's interoperability tests: the framing is entirely sockjs-node's,
// so the client's SockJS decoder (the tradovate dialect, reference document 000) is tested
// against code nobody on this team wrote. It serves prefix /sockjs on Node's http server; a raw
// WebSocket client connects to
//
//   ws://127.0.0.1:PORT/sockjs/<server>/<session>/websocket   e.g. /sockjs/000/abcdefgh/websocket
//
// and receives sockjs-node's frames (as observed with sockjs 0.3.24):
//
//   on open                       -> text frame  o
//   {"cmd":"write","text":T}      -> text frame  a["<T as a JSON string>"]  (one frame per write;
//                                    T is always sent as a JSON STRING element, never as raw JSON;
//                                    sockjs also escapes U+2028-U+202F, U+200C-U+200F,
//                                    U+2060-U+206F, U+FFF0-U+FFFF and every non-BMP character as
//                                    \uXXXX, the latter as surrogate pairs: 😀 -> \ud83d\ude00)
//   {"cmd":"close","code":C,...}  -> text frame  c[C,"<reason>"], then a WebSocket close frame
//                                    1000 "Normal closure" (not C: the SockJS code travels
//                                    only in the c[...] frame)
//   every --heartbeat-ms          -> a WebSocket PING frame (empty payload), not an `h` text
//                                    frame: on the websocket transport sockjs-node heartbeats
//                                    with pings, and closes a session whose pong does not come
//                                    within 10 s (c[3000,"No response from heartbeat"], then
//                                    close 1000). The timer is re-armed by every write, so
//                                    pings go out only while the server is quiet.
//
// /sockjs/websocket (no server/session parts) is sockjs' raw WebSocket endpoint: no framing at
// all (no `o`, text in both directions as is). Upgrades to paths outside /sockjs get HTTP 404.
//
// Client -> server: each text frame must be JSON. An array (`["m1","m2"]`, or `[]` which is
// nothing) delivers each element as one message; any other JSON value (`"m"`) is delivered as
// one message; anything that is not JSON (e.g. `authorize\n0\n\n<token>`) makes sockjs close
// the WebSocket with 3000 "Broken framing." (a close frame, no c[...] frame). Empty frames are
// ignored.
//
//   node tests/peers/sockjs_server.js [--port N] [--host 127.0.0.1] [--heartbeat-ms 25000]
//
// Control protocol: prints `READY <port>`, then one JSON command per stdin line, one reply line:
//   {"cmd":"write","text":"..."}                -> OK <n>    (conn.write(text) to every open one)
//   {"cmd":"close","code":3000,"reason":"..."}  -> OK <n>    (conn.close(code, reason) to every one)
//   {"cmd":"heartbeat"}                         -> OK <n>    (an `h` frame to every open one, written
//                                                           by sockjs' own GenericReceiver heartbeat,
//                                                           as its streaming transports send it)
//   {"cmd":"count"}                             -> COUNT <open connections>
//   {"cmd":"received"}                          -> RECEIVED <json array of messages from clients>
//   {"cmd":"quit"}                              -> OK 0, then exit 0
//   anything else                               -> ERR <message>
// EOF on stdin (the parent died or closed the pipe) exits at once with status 0.
'use strict';

const http = require('http');
const readline = require('readline');
const sockjs = require('sockjs');
// sockjs' receiver base class: its heartbeat() writes the `h` frame (used by {"cmd":"heartbeat"}).
const { GenericReceiver } = require('sockjs/lib/transport');

function parseArgs(argv) {
  const opts = { port: 0, host: '127.0.0.1', heartbeatMs: 25000 };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i];
    const val = argv[i + 1];
    const need = () => {
      if (val === undefined) {
        console.error(`sockjs_server: ${key} needs a value`);
        process.exit(2);
      }
      i++;
      return val;
    };
    switch (key) {
      case '--port': opts.port = Number(need()); break;
      case '--host': opts.host = need(); break;
      case '--heartbeat-ms': opts.heartbeatMs = Number(need()); break;
      default:
        console.error(`sockjs_server: unknown argument ${key}`);
        process.exit(2);
    }
  }
  if (!Number.isFinite(opts.heartbeatMs) || opts.heartbeatMs <= 0) {
    console.error('sockjs_server: --heartbeat-ms must be a positive number');
    process.exit(2);
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const connections = new Set(); // SockJSConnection
const received = [];

function reply(line) {
  process.stdout.write(line + '\n');
}

const service = sockjs.createServer({
  heartbeat_delay: opts.heartbeatMs,
  // sockjs logs with console.log by default, which would corrupt the stdout protocol.
  log: (severity, line) => {
    if (severity === 'error') console.error(`sockjs_server: ${line}`);
  },
});

service.on('connection', (conn) => {
  if (!conn) return;
  connections.add(conn);
  conn.on('data', (message) => received.push(message));
  conn.on('close', () => connections.delete(conn));
});

function openConnections() {
  return [...connections].filter((conn) => conn.readyState === 1);
}

function command(line) {
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch (err) {
    return `ERR bad JSON: ${err.message}`;
  }
  if (!cmd || typeof cmd !== 'object') return 'ERR command must be a JSON object';
  try {
    switch (cmd.cmd) {
      case 'write': {
        if (typeof cmd.text !== 'string') return 'ERR text must be a string';
        const targets = openConnections();
        for (const conn of targets) conn.write(cmd.text);
        return `OK ${targets.length}`;
      }
      case 'close': {
        const code = cmd.code === undefined ? 3000 : Number(cmd.code);
        const reason = cmd.reason === undefined ? 'Go away!' : String(cmd.reason);
        const targets = openConnections();
        for (const conn of targets) conn.close(code, reason);
        return `OK ${targets.length}`;
      }
      case 'heartbeat': {
        const targets = openConnections().filter((conn) => conn._session && conn._session.recv);
        for (const conn of targets) GenericReceiver.prototype.heartbeat.call(conn._session.recv);
        return `OK ${targets.length}`;
      }
      case 'count':
        return `COUNT ${openConnections().length}`;
      case 'received':
        return `RECEIVED ${JSON.stringify(received)}`;
      default:
        return `ERR unknown command ${JSON.stringify(cmd.cmd)}`;
    }
  } catch (err) {
    return `ERR ${String(err && err.message ? err.message : err).replace(/\n/g, ' ')}`;
  }
}

function main() {
  const server = http.createServer((req, res) => {
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('Not Found\n');
  });
  // Upgrades outside the prefix: sockjs passes them on to the listeners installed before it.
  server.on('upgrade', (req, socket) => {
    socket.on('error', () => {});
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  service.installHandlers(server, { prefix: '/sockjs' });
  server.on('error', (err) => {
    console.error(`sockjs_server: ${err.message}`);
    process.exit(1);
  });
  server.listen(opts.port, opts.host, () => {
    reply(`READY ${server.address().port}`);
    const rl = readline.createInterface({ input: process.stdin, terminal: false });
    rl.on('line', (raw) => {
      const line = raw.trim();
      if (!line) return;
      let name;
      try {
        name = JSON.parse(line).cmd;
      } catch (_) {
        name = undefined;
      }
      if (name === 'quit') {
        reply('OK 0');
        process.exit(0);
      }
      reply(command(line));
    });
    rl.on('close', () => process.exit(0)); // EOF: the parent is gone
  });
}

main();

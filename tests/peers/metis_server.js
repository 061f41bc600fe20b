#!/usr/bin/env node
// Document-004 server side on the third-party Node `ws` library.
//
// Document 004 (METIS `WebSocketApi`) is a client built on `ws`; this is the kind of server
// it talks to, on the same library (pinned in package.json), so the tradewire client is
// tested against code nobody on this team wrote. It sends the document's message shapes:
// `{type, payload}` objects, text that is not JSON, and binary frames (JSON and not), and it
// answers the document's request-response pattern: a client message
// `{type:'request', requestId, ...}` is answered with `{type:'response', requestId, data}`.
//
//   node tests/peers/metis_server.js [--port N] [--host 127.0.0.1]
//
// Control protocol: prints `READY <port>`, then one JSON command per stdin line, one reply line:
//   {"cmd":"message","type":T,"payload":P}  -> OK <n>   (sends JSON {type, payload} as text)
//   {"cmd":"broadcast","text":"..."}         -> OK <n>   (one text frame, as given)
//   {"cmd":"binary","hex":"..."}             -> OK <n>   (one binary frame of these bytes)
//   {"cmd":"count"}                          -> COUNT <open connections>
//   {"cmd":"received"}                       -> RECEIVED <json array of client texts>
//   {"cmd":"close","code":C[,"reason":R]}    -> OK <n>   (close frame to every client)
//   {"cmd":"quit"}                           -> OK 0, then exit 0
//   anything else                            -> ERR <message>
// EOF on stdin (the parent died or closed the pipe) exits at once with status 0.
'use strict';

const readline = require('readline');
const { WebSocketServer, WebSocket } = require('ws');

function parseArgs(argv) {
  const opts = { port: 0, host: '127.0.0.1' };
  for (let i = 0; i < argv.length; i += 2) {
    const [key, val] = [argv[i], argv[i + 1]];
    if (val === undefined) {
      console.error(`metis_server: ${key} needs a value`);
      process.exit(2);
    }
    switch (key) {
      case '--port': opts.port = Number(val); break;
      case '--host': opts.host = val; break;
      default:
        console.error(`metis_server: unknown argument ${key}`);
        process.exit(2);
    }
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const wss = new WebSocketServer({ port: opts.port, host: opts.host });
const received = [];

function reply(line) {
  process.stdout.write(line + '\n');
}

function openClients() {
  return [...wss.clients].filter((ws) => ws.readyState === WebSocket.OPEN);
}

function sendAll(data, binary) {
  const clients = openClients();
  for (const ws of clients) ws.send(data, { binary });
  return clients.length;
}

wss.on('error', (err) => console.error(`metis_server: wss error: ${err.message}`));
wss.on('connection', (ws) => {
  ws.on('error', (err) => console.error(`metis_server: connection error: ${err.message}`));
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    const text = data.toString('utf8');
    received.push(text);
    let msg;
    try {
      msg = JSON.parse(text);
    } catch (_) {
      return;
    }
    if (msg && msg.type === 'request' && msg.requestId !== undefined) {
      ws.send(JSON.stringify({ type: 'response', requestId: msg.requestId, data: { echo: msg.data } }));
    }
  });
});

wss.on('listening', () => reply(`READY ${wss.address().port}`));

function handle(cmd) {
  switch (cmd.cmd) {
    case 'message':
      return `OK ${sendAll(JSON.stringify({ type: cmd.type, payload: cmd.payload }), false)}`;
    case 'broadcast':
      return `OK ${sendAll(String(cmd.text), false)}`;
    case 'binary':
      return `OK ${sendAll(Buffer.from(String(cmd.hex), 'hex'), true)}`;
    case 'count':
      return `COUNT ${openClients().length}`;
    case 'received':
      return `RECEIVED ${JSON.stringify(received)}`;
    case 'close': {
      const clients = openClients();
      for (const ws of clients) ws.close(cmd.code, cmd.reason || '');
      return `OK ${clients.length}`;
    }
    case 'quit':
      reply('OK 0');
      process.exit(0);
      return null;
    default:
      return `ERR unknown command ${JSON.stringify(cmd.cmd)}`;
  }
}

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch (e) {
    reply(`ERR not JSON: ${e.message}`);
    return;
  }
  try {
    const out = handle(cmd);
    if (out !== null) reply(out);
  } catch (e) {
    reply(`ERR ${e.message}`);
  }
});
rl.on('close', () => process.exit(0));

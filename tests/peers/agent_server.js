#!/usr/bin/env node
// Document-003 agent server on the third-party Node `ws` library.
//
// A peer server for tradewire's interoperability tests: the WebSocket side is entirely the `ws`
// package (pinned in package.json), so the Rust client is tested against code nobody on this
// team wrote. Behaviour follows 003 (src/infrastructure/websocket/server.ts):
//
//   path /ws, query `token` and `agentId`
//   bad token             -> ws.close(1008, 'Invalid token')
//   unknown agent         -> ws.close(1008, 'Agent not found')
//   second conn for agent -> old one gets ws.close(1000, 'New connection established')
//   on connect            -> {type:'connected',data:{agentId,timestamp}}, then
//                            {type:'initial_data',data:{positions:[]}}
//   every --ping-ms       -> {type:'ping',timestamp}; a connection with no JSON pong for
//                            2 × ping-ms is closed with (1000, 'Connection timeout')
//
//   node tests/peers/agent_server.js [--port N] [--host 127.0.0.1] [--token T]
//        [--agents a1,a2] [--ping-ms 30000] [--deflate]
//
// --deflate: permessage-deflate on (off by default in `ws` servers), every message compressed
// (threshold 0).
//
// The token is --token, else env AGENT_TOKEN, else 'test-token'.
//
// Control protocol: prints `READY <port>`, then one JSON command per stdin line, one reply line:
//   {"cmd":"broadcast","text":"..."[,"agent":"a1"]}  -> OK <n>
//   {"cmd":"event","type":T,"data":D[,"agent":"a1"]} -> OK <n>   (sends {type,data})
//   {"cmd":"count"}                                   -> COUNT <open connections>
//   {"cmd":"stop"[,"code":1001,"reason":"..."]}       -> OK 0   (close frames, stop listening)
//   {"cmd":"start"}                                   -> OK 0   (listen again on the same port)
//   {"cmd":"drop"[,"rst":true]}                       -> OK <n> (destroy sockets, no close frame)
//   {"cmd":"close","code":C[,"reason":R]}             -> OK <n> (close frame to every client)
//   {"cmd":"freeze"}                                  -> OK <n> (stop reading and writing every
//                                                               current connection: half-open peer)
//   {"cmd":"received"}                                -> RECEIVED <json array of client texts>
//   {"cmd":"pongs"}                                   -> PONGS <JSON pongs received>
//   {"cmd":"extensions"}                              -> EXTENSIONS <json array of the negotiated
//                                                               extensions of each open connection>
//   {"cmd":"quit"}                                    -> OK 0, then exit 0
//   anything else                                     -> ERR <message>
// EOF on stdin (the parent died or closed the pipe) exits at once with status 0.
'use strict';

const http = require('http');
const readline = require('readline');
const { WebSocketServer, WebSocket } = require('ws');

function parseArgs(argv) {
  const opts = {
    port: 0,
    host: '127.0.0.1',
    token: process.env.AGENT_TOKEN || 'test-token',
    agents: ['agent-1'],
    pingMs: 30000,
    deflate: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i];
    const val = argv[i + 1];
    const need = () => {
      if (val === undefined) {
        console.error(`agent_server: ${key} needs a value`);
        process.exit(2);
      }
      i++;
      return val;
    };
    switch (key) {
      case '--port': opts.port = Number(need()); break;
      case '--host': opts.host = need(); break;
      case '--token': opts.token = need(); break;
      case '--agents': opts.agents = need().split(',').filter((s) => s.length > 0); break;
      case '--ping-ms': opts.pingMs = Number(need()); break;
      case '--deflate': opts.deflate = true; break;
      default:
        console.error(`agent_server: unknown argument ${key}`);
        process.exit(2);
    }
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
let port = opts.port;
let server = null; // http.Server while listening
const wss = new WebSocketServer({
  noServer: true,
  maxPayload: 0 /* no limit */,
  perMessageDeflate: opts.deflate ? { threshold: 0 } : false,
});
const connections = new Map(); // agentId -> { ws, lastPong }
const frozen = new Set(); // ws
const received = [];
let pongs = 0;

function reply(line) {
  process.stdout.write(line + '\n');
}

function send(ws, message) {
  if (ws.readyState === WebSocket.OPEN && !frozen.has(ws)) ws.send(JSON.stringify(message));
}

function openClients() {
  return [...wss.clients].filter((ws) => ws.readyState === WebSocket.OPEN && !frozen.has(ws));
}

wss.on('error', (err) => console.error(`agent_server: wss error: ${err.message}`));

function handleConnection(ws, url) {
  ws.on('error', (err) => console.error(`agent_server: connection error: ${err.message}`));
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
    if (msg && msg.type === 'pong') {
      pongs++;
      for (const conn of connections.values()) {
        if (conn.ws === ws) conn.lastPong = Date.now();
      }
    }
  });

  const token = url.searchParams.get('token');
  const agentId = url.searchParams.get('agentId');
  if (token === null || token !== opts.token) {
    ws.close(1008, 'Invalid token');
    return;
  }
  if (agentId === null || !opts.agents.includes(agentId)) {
    ws.close(1008, 'Agent not found');
    return;
  }

  // One active connection per agent: a new one closes the old one.
  const existing = connections.get(agentId);
  if (existing) existing.ws.close(1000, 'New connection established');
  connections.set(agentId, { ws, lastPong: Date.now() });
  ws.on('close', () => {
    const conn = connections.get(agentId);
    if (conn && conn.ws === ws) connections.delete(agentId);
    frozen.delete(ws);
  });

  send(ws, { type: 'connected', data: { agentId, timestamp: new Date().toISOString() } });
  send(ws, { type: 'initial_data', data: { positions: [] } });
}

function onUpgrade(req, socket, head) {
  socket.on('error', () => {});
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname !== '/ws') {
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => handleConnection(ws, url));
}

function listenOnce() {
  return new Promise((resolve, reject) => {
    const srv = http.createServer((req, res) => {
      res.writeHead(426, { 'Content-Type': 'text/plain' });
      res.end('WebSocket only\n');
    });
    srv.on('upgrade', onUpgrade);
    srv.once('error', reject);
    srv.listen(port, opts.host, () => {
      srv.removeListener('error', reject);
      srv.on('error', (err) => console.error(`agent_server: server error: ${err.message}`));
      resolve(srv);
    });
  });
}

async function start() {
  if (server) return;
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      server = await listenOnce();
      break;
    } catch (err) {
      if (err.code !== 'EADDRINUSE' || Date.now() >= deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  port = server.address().port;
}

function stop(code, reason) {
  const srv = server;
  server = null;
  if (!srv) return;
  srv.close(); // stops listening now; existing sockets are closed below
  for (const ws of wss.clients) {
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) {
      ws.close(code, reason);
    }
    // A peer that never answers the close frame is cut after 3 s (ws waits 30 s by default).
    setTimeout(() => ws.terminate(), 3000).unref();
  }
}

// Destroys every socket (also those in a closing handshake); returns how many were open.
function drop(rst) {
  let n = 0;
  for (const ws of wss.clients) {
    if (ws.readyState === WebSocket.CLOSED) continue;
    if (ws.readyState === WebSocket.OPEN) n++;
    const sock = ws._socket;
    if (rst && sock && typeof sock.resetAndDestroy === 'function') sock.resetAndDestroy();
    else ws.terminate();
  }
  return n;
}

// Keepalive exactly as 003's startPingInterval.
if (opts.pingMs > 0) {
  setInterval(() => {
    for (const [agentId, conn] of connections.entries()) {
      if (conn.ws.readyState !== WebSocket.OPEN || frozen.has(conn.ws)) continue;
      if (Date.now() - conn.lastPong > opts.pingMs * 2) {
        conn.ws.close(1000, 'Connection timeout');
        connections.delete(agentId);
      } else {
        send(conn.ws, { type: 'ping', timestamp: new Date().toISOString() });
      }
    }
  }, opts.pingMs);
}

function targets(cmd) {
  const all = openClients();
  if (cmd.agent === undefined) return all;
  const conn = connections.get(String(cmd.agent));
  return conn && all.includes(conn.ws) ? [conn.ws] : [];
}

async function command(line) {
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch (err) {
    return `ERR bad JSON: ${err.message}`;
  }
  if (!cmd || typeof cmd !== 'object') return 'ERR command must be a JSON object';
  try {
    switch (cmd.cmd) {
      case 'broadcast': {
        if (typeof cmd.text !== 'string') return 'ERR text must be a string';
        const ts = targets(cmd);
        for (const ws of ts) ws.send(cmd.text);
        return `OK ${ts.length}`;
      }
      case 'event': {
        if (typeof cmd.type !== 'string') return 'ERR type must be a string';
        const text = JSON.stringify({ type: cmd.type, data: cmd.data === undefined ? {} : cmd.data });
        const ts = targets(cmd);
        for (const ws of ts) ws.send(text);
        return `OK ${ts.length}`;
      }
      case 'count':
        return `COUNT ${[...wss.clients].filter((ws) => ws.readyState === WebSocket.OPEN).length}`;
      case 'stop':
        stop(cmd.code === undefined ? 1001 : Number(cmd.code), cmd.reason === undefined ? 'Going away' : String(cmd.reason));
        return 'OK 0';
      case 'start':
        await start();
        return 'OK 0';
      case 'drop':
        return `OK ${drop(Boolean(cmd.rst))}`;
      case 'close': {
        const code = Number(cmd.code);
        const reason = cmd.reason === undefined ? '' : String(cmd.reason);
        const ts = openClients();
        for (const ws of ts) ws.close(code, reason);
        return `OK ${ts.length}`;
      }
      case 'freeze': {
        const ts = openClients();
        for (const ws of ts) {
          frozen.add(ws);
          if (ws._socket) ws._socket.pause();
        }
        return `OK ${ts.length}`;
      }
      case 'received':
        return `RECEIVED ${JSON.stringify(received)}`;
      case 'pongs':
        return `PONGS ${pongs}`;
      case 'extensions':
        return `EXTENSIONS ${JSON.stringify(openClients().map((ws) => ws.extensions))}`;
      default:
        return `ERR unknown command ${JSON.stringify(cmd.cmd)}`;
    }
  } catch (err) {
    return `ERR ${String(err && err.message ? err.message : err).replace(/\n/g, ' ')}`;
  }
}

async function main() {
  await start();
  reply(`READY ${port}`);

  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  // Commands are answered strictly in order, even when one of them awaits (start).
  let chain = Promise.resolve();
  rl.on('line', (raw) => {
    const line = raw.trim();
    if (!line) return;
    chain = chain.then(async () => {
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
      reply(await command(line));
    });
  });
  rl.on('close', () => chain.then(() => process.exit(0))); // EOF: the parent is gone
}

main().catch((err) => {
  console.error(`agent_server: ${err && err.stack ? err.stack : err}`);
  process.exit(1);
});

/**
 * Child process of bench/load/fanout.bench.ts: holds the N subscriber sockets so that, at N = 10 000,
 * the client and server ends of the connections do not share the 20 000 open files one process
 * may have, and the clients run on the other core. Commands arrive over IPC:
 * `{connect: url, n}` → `{ready: n}`; `{close: true}` → `{closed: true}`; `{echo: k}` → `{done: k}`
 * (the IPC floor). Every frame carries `"content":"k<id>@…"`; when all N sockets have seen id k
 * it sends `{done: k}`.
 * @module
 */
import { openRawWs, type Subscribers } from "./fanout/client.ts";

const MARK = '"content":"k';
let counts = new Map<number, number>();
let n = 0;
let subs: Subscribers | undefined;

const sink = {
  scan(s: string, from: number): number {
    const k = s.indexOf(MARK, from);
    if (k < 0) return s.length;
    const start = k + MARK.length;
    const id = Number(s.slice(start, s.indexOf("@", start)));
    const c = (counts.get(id) ?? 0) + 1;
    if (c === n) {
      counts.delete(id);
      process.send!({ done: id });
    } else counts.set(id, c);
    return s.length;
  },
};

process.on("message", async (msg: { connect?: string; n?: number; close?: boolean; echo?: number }) => {
  if (msg.echo !== undefined) return process.send!({ done: msg.echo });
  if (msg.connect) {
    n = msg.n!;
    counts = new Map();
    subs = await openRawWs(msg.connect, n, 256, sink);
    return process.send!({ ready: n });
  }
  if (msg.close) {
    await subs?.close();
    subs = undefined;
    process.send!({ closed: true });
  }
});
process.send!({ started: true });

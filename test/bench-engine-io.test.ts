import { describe, expect, test } from "bun:test";
import { encodeEvent, socketIoControl, socketIoDialect, socketIoPath } from "../bench/load/peers/engine-io.ts";
import { nchanConfig } from "../bench/load/peers/nchan.ts";

describe("engine.io v4 / socket.io framing of the peers benchmark", () => {
  test("handshake: open → connect to /, connect ack → ready", () => {
    expect(socketIoControl('0{"sid":"a","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}')).toEqual({ reply: "40" });
    expect(socketIoControl('40{"sid":"b"}')).toEqual({ ready: true });
  });

  test("ping is answered with pong and its payload; errors and closes fail the connection", () => {
    expect(socketIoControl("2")).toEqual({ reply: "3" });
    expect(socketIoControl("2probe")).toEqual({ reply: "3probe" });
    expect(socketIoControl('44{"message":"not authorized"}')).toEqual({ error: '{"message":"not authorized"}' });
    expect(socketIoControl("1")).toEqual({ error: "engine.io close" });
  });

  test("events are messages, not control", () => {
    expect(socketIoControl('42["chat",{"content":"k1@2.5"}]')).toBeUndefined();
    expect(socketIoControl("6")).toBeUndefined();
  });

  test("the publisher's frame is a socket.io event, the paths are WebSocket-only handshakes", () => {
    expect(socketIoDialect.publishFrame!("k7@12.345")).toBe(encodeEvent("publish", { content: "k7@12.345" }));
    expect(encodeEvent("publish", { content: "k7@12.345" })).toBe('42["publish",{"content":"k7@12.345"}]');
    expect(socketIoDialect.wsPath).toBe("/socket.io/?EIO=4&transport=websocket&topics=chat");
    expect(socketIoPath()).toBe("/socket.io/?EIO=4&transport=websocket");
  });
});

describe("nchan config of the peers benchmark", () => {
  const conf = nchanConfig({ port: 4321, dir: "/tmp/n", modulePath: "/m/ngx_nchan_module.so" });

  test("one worker, the module, the port and the temp paths", () => {
    expect(conf).toStartWith("load_module /m/ngx_nchan_module.so;\n");
    expect(conf).toContain("worker_processes 1;");
    expect(conf).toContain("listen 127.0.0.1:4321;");
    expect(conf).toContain("pid /tmp/n/nginx.pid;");
  });

  test("tickwire's paths: subscribers of /ws?topics=chat and /events, the publisher on /ws, newest first", () => {
    expect(conf).toContain('if ($arg_topics = "chat") { rewrite ^ /sub last; }');
    expect(conf).toContain("location = /events { rewrite ^ /sub last; }");
    expect(conf).toContain("nchan_subscriber websocket eventsource;");
    expect(conf).toContain("nchan_publisher websocket http;");
    expect(conf).toContain("nchan_subscriber_first_message newest;");
  });
});

/**
 * The nchan peer: nginx with the nchan module, configured so that it answers the fanout client on
 * tickwire's own paths (the client then needs no dialect, and nchan's WebSocket frames are the
 * raw published bodies):
 * - `GET /ws?topics=chat` (WebSocket) and `GET /events…` (EventSource) → an internal `/sub`,
 *   a subscriber of channel `chat`;
 * - `GET /ws?topics=` (WebSocket) → an internal `/pub`, a publisher of channel `chat`: each text
 *   frame the client sends is one message. nchan also takes `POST` there; the benchmark publishes
 *   over one WebSocket as it does for every other server. nchan answers every publish on that
 *   socket with a short status text (one frame per message, against 1000 deliveries).
 * `worker_processes 1` (and a master that only supervises), so nchan's capacity is one process's,
 * like tickwire's and Socket.IO's; `nchan_subscriber_first_message newest` so a subscriber of a
 * later run gets no message buffered by an earlier one.
 * @module
 */
import { existsSync } from "node:fs";

export interface NchanConfigOptions {
  port: number;
  /** A writable directory for the pid file, logs and temp paths. */
  dir: string;
  /** Path of `ngx_nchan_module.so`. */
  modulePath: string;
}

/** The whole nginx.conf for one nchan peer. */
export function nchanConfig(o: NchanConfigOptions): string {
  return `load_module ${o.modulePath};
worker_processes 1;
worker_rlimit_nofile 20000;
daemon off;
master_process on;
pid ${o.dir}/nginx.pid;
error_log ${o.dir}/error.log warn;
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path ${o.dir}/body;
  proxy_temp_path ${o.dir}/proxy;
  fastcgi_temp_path ${o.dir}/fastcgi;
  uwsgi_temp_path ${o.dir}/uwsgi;
  scgi_temp_path ${o.dir}/scgi;
  tcp_nodelay on;
  server {
    listen 127.0.0.1:${o.port};
    location = /ready { return 200 "ok\\n"; }
    location = /ws {
      if ($arg_topics = "chat") { rewrite ^ /sub last; }
      rewrite ^ /pub last;
    }
    location = /events { rewrite ^ /sub last; }
    location = /sub {
      internal;
      nchan_subscriber websocket eventsource;
      nchan_channel_id chat;
      nchan_subscriber_first_message newest;
    }
    location = /pub {
      internal;
      nchan_publisher websocket http;
      nchan_channel_id chat;
    }
  }
}
`;
}

/** Where Debian's `libnginx-mod-nchan` puts the module, and other usual places. */
const MODULE_PATHS = [
  "/usr/lib/nginx/modules/ngx_nchan_module.so",
  "/usr/lib64/nginx/modules/ngx_nchan_module.so",
  "/usr/local/nginx/modules/ngx_nchan_module.so",
];

/** nginx and the nchan module if both are installed, else why not (for the results table). */
export function findNchan(
  nginx = Bun.which("nginx") ?? (existsSync("/usr/sbin/nginx") ? "/usr/sbin/nginx" : null),
): { nginx: string; module: string } | { missing: string } {
  if (!nginx) return { missing: "nginx not installed (Debian: apt-get install -y nginx-light libnginx-mod-nchan)" };
  const module = MODULE_PATHS.find((p) => existsSync(p));
  if (!module) return { missing: "the nchan module is not installed (Debian: apt-get install -y libnginx-mod-nchan)" };
  return { nginx, module };
}

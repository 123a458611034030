// @tickwire/client, built from packages/client by `npm run build:client`: do not edit.
// src/backoff.ts
class Backoff {
  #step;
  #initial;
  #max;
  #factor;
  constructor(opts = {}) {
    this.#initial = opts.initialMs ?? 500;
    this.#max = opts.maxMs ?? 1e4;
    this.#factor = opts.factor ?? 2;
    this.#step = this.#initial;
  }
  next() {
    const step = this.#step;
    this.#step = Math.min(this.#max, step * this.#factor);
    return step / 2 + Math.random() * (step / 2);
  }
  get maxMs() {
    return this.#max;
  }
  reset() {
    this.#step = this.#initial;
  }
}

// src/sse-stream.ts
var NAMED = ["position", "recovered", "overflow", "token_expired", "error"];
function eventSourceOpener(EventSource) {
  return (url, h) => {
    const es = new EventSource(url);
    let done = false;
    const fail = () => {
      if (done)
        return;
      done = true;
      es.close();
      h.error();
    };
    es.onopen = () => h.open();
    es.onmessage = (e) => h.event("message", e.data, e.lastEventId || undefined);
    for (const type of NAMED) {
      es.addEventListener(type, (e) => {
        if (type === "error" && typeof e.data !== "string")
          return fail();
        h.event(type, e.data ?? "", e.lastEventId || undefined);
      });
    }
    return {
      close() {
        done = true;
        es.close();
      }
    };
  };
}
function fetchOpener(fetchFn, idleMs) {
  return (url, h) => {
    const abort = new AbortController;
    let done = false;
    let idle;
    const fail = (status) => {
      if (done)
        return;
      done = true;
      clearTimeout(idle);
      abort.abort();
      h.error(status);
    };
    const touch = () => {
      clearTimeout(idle);
      idle = setTimeout(() => fail(), idleMs);
    };
    (async () => {
      touch();
      const res = await fetchFn(url, { headers: { Accept: "text/event-stream" }, signal: abort.signal });
      if (res.status !== 200 || !res.body)
        return fail(res.status);
      h.open();
      const reader = res.body.pipeThrough(new TextDecoderStream).getReader();
      const parser = new SseParser(h);
      for (;; ) {
        const { value, done: end } = await reader.read();
        if (end)
          break;
        touch();
        parser.push(value);
      }
      fail();
    })().catch(() => fail());
    return {
      close() {
        done = true;
        clearTimeout(idle);
        abort.abort();
      }
    };
  };
}

class SseParser {
  h;
  #buf = "";
  #type = "";
  #data = [];
  #id;
  constructor(h) {
    this.h = h;
  }
  push(chunk) {
    this.#buf += chunk;
    let nl;
    while ((nl = this.#buf.search(/\r\n|\r|\n/)) !== -1) {
      const line = this.#buf.slice(0, nl);
      this.#buf = this.#buf.slice(nl + (this.#buf.startsWith(`\r
`, nl) ? 2 : 1));
      this.#line(line);
    }
  }
  #line(line) {
    if (line === "") {
      if (this.#data.length > 0)
        this.h.event(this.#type || "message", this.#data.join(`
`), this.#id);
      this.#type = "";
      this.#data = [];
      return;
    }
    if (line.startsWith(":"))
      return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "data")
      this.#data.push(value);
    else if (field === "event")
      this.#type = value;
    else if (field === "id")
      this.#id = value;
  }
}

// src/seq.ts
var SEQ = /^(\d{1,16})(?:-(\d{1,16})(?:\.(\d{1,20}))?)?$/;
function parts(seq) {
  const m = SEQ.exec(seq);
  if (!m)
    throw new TypeError(`not a seq: ${seq}`);
  return [Number(m[1]), Number(m[2] ?? 0), m[3] === undefined ? -1 : Number(m[3])];
}
function compareSeq(a, b) {
  const [am, an, ak] = parts(a);
  const [bm, bn, bk] = parts(b);
  return am - bm || an - bn || ak - bk;
}
function durablePart(seq) {
  const dot = seq.indexOf(".");
  return dot === -1 ? seq : seq.slice(0, dot);
}
function isSeq(value) {
  return typeof value === "string" && SEQ.test(value);
}

// src/subscription.ts
class TickwireError extends Error {
  code;
  constructor(code, message) {
    super(message);
    this.code = code;
    this.name = "TickwireError";
  }
}

class TopicState {
  topic;
  handlers;
  lastSeq;
  epoch;
  #floor;
  #resetAnnounced = false;
  #durable;
  constructor(topic, handlers) {
    this.topic = topic;
    this.handlers = handlers;
    this.lastSeq = handlers.since;
    this.#floor = handlers.since;
    this.#durable = handlers.since !== undefined;
  }
  get resumeFrom() {
    return this.#durable ? this.lastSeq : undefined;
  }
  resume() {
    this.#floor = this.#durable && this.lastSeq !== undefined ? durablePart(this.lastSeq) : undefined;
    return this.resumeFrom;
  }
  acked(position) {
    if (typeof position.seq === "string")
      this.#durable = true;
    if (this.lastSeq === undefined && typeof position.seq === "string")
      this.#floor = this.lastSeq = position.seq;
    if (this.epoch === undefined && typeof position.epoch === "string")
      this.epoch = position.epoch;
  }
  notRecovered() {
    this.#resetAnnounced = true;
    this.#floor = undefined;
    this.#recover("server");
  }
  frame(frame) {
    const epoch = frame.epoch;
    let newHistory = false;
    if (epoch !== undefined)
      this.#durable = true;
    if (epoch !== undefined && epoch !== this.epoch) {
      if (this.epoch !== undefined && !this.#resetAnnounced)
        this.#recover("epoch");
      newHistory = this.epoch !== undefined;
      this.epoch = epoch;
    }
    if (!newHistory && this.#floor !== undefined && compareSeq(frame.seq, this.#floor) <= 0)
      return;
    this.#resetAnnounced = false;
    this.#floor = this.lastSeq = frame.seq;
    this.handlers.onMessage(frame);
  }
  #recover(reason) {
    this.handlers.onRecovered?.({ topic: this.topic, recovered: false, reason });
  }
}

// src/token.ts
function expiryOf(token) {
  const payload = token.split(".")[1];
  if (!payload)
    return;
  try {
    const b64 = payload.replace(/-/g, "+").replace(/_/g, "/");
    const json = JSON.parse(atob(b64 + "=".repeat((4 - b64.length % 4) % 4)));
    return typeof json.exp === "number" ? json.exp * 1000 : undefined;
  } catch {
    return;
  }
}
function refreshLead(exp, now) {
  return Math.min(60000, Math.max(0, (exp - now) / 3));
}
var MIN_LIFE_MS = 2000;

class TokenSource {
  #token;
  #get;
  #joining;
  constructor(token, get) {
    this.#token = token;
    this.#get = get;
  }
  get renewable() {
    return this.#get !== undefined;
  }
  get expiresAt() {
    return this.#token === undefined ? undefined : expiryOf(this.#token);
  }
  async current(now = Date.now()) {
    const exp = this.expiresAt;
    if (this.#token !== undefined && (exp === undefined || !this.#get || exp - now > MIN_LIFE_MS))
      return this.#token;
    this.#joining ??= this.fresh().finally(() => {
      this.#joining = undefined;
    });
    return this.#joining;
  }
  async renew() {
    const before = this.expiresAt ?? 0;
    await this.fresh();
    return (this.expiresAt ?? 0) > before;
  }
  async fresh() {
    if (this.#get)
      this.#token = await this.#get() ?? undefined;
    return this.#token;
  }
}

// src/sse-link.ts
var IDLE_MS = 40000;
function defaultOpener() {
  const ES = globalThis.EventSource;
  return ES ? eventSourceOpener(ES) : fetchOpener(fetch, IDLE_MS);
}

class SseLink {
  #host;
  #urls;
  #open;
  #streams = new Map;
  #stopped = true;
  #renewal;
  constructor(host, urls, opener) {
    this.#host = host;
    this.#urls = urls;
    this.#open = opener ?? defaultOpener();
  }
  start() {
    this.#stopped = false;
    for (const topic of this.#host.subs.keys())
      this.added(topic);
    this.#report();
  }
  stop() {
    this.#stopped = true;
    clearTimeout(this.#renewal);
    for (const topic of [...this.#streams.keys()])
      this.removed(topic);
    this.#host.setState("disconnected", { code: 1000, reason: "closed by the application", willRetry: false });
  }
  added(topic) {
    if (this.#stopped || this.#streams.has(topic))
      return;
    const stream = { topic, backoff: this.#host.newBackoff(), open: false, fresh: false };
    this.#streams.set(topic, stream);
    this.#connect(stream);
  }
  removed(topic) {
    const stream = this.#streams.get(topic);
    if (!stream)
      return;
    this.#streams.delete(topic);
    clearTimeout(stream.retry);
    stream.close?.();
    this.#report();
  }
  async publish(topic, data) {
    if (topic !== "chat")
      throw new TickwireError("not_publishable", `publish on ${topic} needs the WebSocket transport (over SSE only chat, by POST /messages)`);
    const body = await this.#call("POST", "/messages", data);
    return { topic, seq: String(body.seq) };
  }
  async presence(topic) {
    return await this.#call("GET", `/presence/${encodeURIComponent(topic)}`);
  }
  async#call(method, path, body) {
    const token = await this.#host.tokens.current();
    const headers = { Accept: "application/json" };
    if (token)
      headers.Authorization = `Bearer ${token}`;
    if (body !== undefined)
      headers["Content-Type"] = "application/json";
    const timeoutMs = this.#host.timing.requestTimeoutMs;
    const signal = AbortSignal.timeout(timeoutMs);
    const unknown = (error) => new TickwireError("outcome_unknown", signal.aborted ? `${method} ${path}: no answer within ${timeoutMs} ms; the outcome is unknown` : `${method} ${path}: ${error.message}`);
    let res;
    let json;
    try {
      res = await fetch(this.#urls.http(path), { method, headers, signal, ...body === undefined ? {} : { body: JSON.stringify(body) } });
      json = await res.json().catch((error) => {
        if (signal.aborted)
          throw error;
        return {};
      });
    } catch (error) {
      throw unknown(error);
    }
    if (!res.ok)
      throw new TickwireError(json.error?.code ?? `http_${res.status}`, json.error?.message ?? `${method} ${path}: ${res.status}`);
    return json;
  }
  async#connect(stream, fresh = false, quiet = false) {
    if (this.#streams.get(stream.topic) !== stream)
      return;
    if (!quiet)
      this.#report();
    let token;
    try {
      token = fresh ? await this.#host.tokens.fresh() : await this.#host.tokens.current();
    } catch {
      return this.#failed(stream, undefined);
    }
    if (this.#streams.get(stream.topic) !== stream)
      return;
    stream.fresh = fresh;
    if (this.#renewal === undefined)
      this.#scheduleRenewal();
    const since = this.#host.subs.get(stream.topic)?.resume();
    const { close } = this.#open(this.#urls.events(stream.topic, since, token), {
      open: () => {
        if (this.#streams.get(stream.topic) !== stream)
          return;
        stream.open = true;
        this.#report();
        this.#host.subs.get(stream.topic)?.handlers.onSubscribed?.({ topic: stream.topic, since });
      },
      event: (type, data) => this.#event(stream, type, data),
      error: (status) => this.#failed(stream, status)
    });
    stream.close = close;
  }
  #event(stream, type, data) {
    if (this.#streams.get(stream.topic) !== stream)
      return;
    let json;
    try {
      json = JSON.parse(data);
    } catch {}
    if (type === "message") {
      if (!json || typeof json.topic !== "string" || typeof json.seq !== "string")
        return;
      stream.backoff.reset();
      return this.#host.frame(json);
    }
    if (type === "recovered")
      return this.#host.notRecovered(stream.topic);
    if (type === "position")
      return void (json && this.#host.subs.get(stream.topic)?.acked(json));
    this.#failed(stream, type === "token_expired" ? 401 : undefined);
  }
  #failed(stream, status) {
    if (this.#streams.get(stream.topic) !== stream)
      return;
    stream.close?.();
    stream.open = false;
    const auth = status === 401 || status === 403;
    const refused = status === 400 || status === 422;
    if (refused || auth && (!this.#host.tokens.renewable || status === 403 && stream.fresh)) {
      this.#streams.delete(stream.topic);
      const sub = this.#host.subs.get(stream.topic);
      const code = status === 401 ? "unauthorized" : status === 403 ? "forbidden" : "bad_request";
      this.#host.subscribeFailed(stream.topic, new TickwireError(code, `GET /events answered ${status}`));
      if (sub)
        this.#report();
      return;
    }
    const retryInMs = stream.backoff.next();
    this.#host.setState("disconnected", { ...status === undefined ? {} : { code: status }, willRetry: true, retryInMs });
    stream.retry = setTimeout(() => void this.#connect(stream, auth), retryInMs);
  }
  #report() {
    if (this.#stopped)
      return;
    const all = [...this.#streams.values()];
    this.#host.setState(all.every((s) => s.open) ? "connected" : "connecting");
  }
  #scheduleRenewal() {
    clearTimeout(this.#renewal);
    this.#renewal = undefined;
    const tokens = this.#host.tokens;
    const exp = tokens.expiresAt;
    if (exp === undefined || !tokens.renewable || this.#stopped)
      return;
    const now = Date.now();
    this.#renewal = setTimeout(() => void this.#renew(), Math.max(1000, exp - now - refreshLead(exp, now)));
  }
  async#renew() {
    this.#renewal = undefined;
    let renewed = false;
    try {
      renewed = await this.#host.tokens.renew();
    } catch {}
    if (!renewed || this.#stopped)
      return;
    for (const stream of this.#streams.values()) {
      if (!stream.open)
        continue;
      stream.close?.();
      this.#connect(stream, false, true);
    }
    this.#scheduleRenewal();
  }
}

// src/urls.ts
function endpoints(url) {
  const page = globalThis.location?.href;
  const base = new URL(url, page);
  base.pathname = base.pathname.replace(/\/(ws|events)\/?$/, "/").replace(/\/?$/, "/");
  base.search = "";
  base.hash = "";
  const web = new URL(base);
  web.protocol = base.protocol === "wss:" ? "https:" : base.protocol === "ws:" ? "http:" : base.protocol;
  const sock = new URL(base);
  sock.protocol = web.protocol === "https:" ? "wss:" : "ws:";
  const withToken = (u, token) => {
    if (token)
      u.searchParams.set("token", token);
    return u.href;
  };
  return {
    ws(token) {
      const u = new URL("ws", sock);
      u.searchParams.set("topics", "");
      return withToken(u, token);
    },
    events(topic, since, token) {
      const u = new URL("events", web);
      u.searchParams.set("topics", topic);
      if (since !== undefined)
        u.searchParams.set("lastEventId", since);
      else
        u.searchParams.set("position", "1");
      return withToken(u, token);
    },
    http: (path) => new URL(path.replace(/^\//, ""), web).href
  };
}

// src/requests.ts
class Requests {
  #next = 1;
  #pending = new Map;
  open(timeoutMs, onTimeout, onAck) {
    const ref = `c${this.#next++}`;
    const answer = new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(ref);
        reject(new TickwireError("outcome_unknown", `no answer within ${timeoutMs} ms; the outcome is unknown`));
        onTimeout();
      }, timeoutMs);
      this.#pending.set(ref, { resolve, reject, timer, onAck });
    });
    return { ref, answer };
  }
  answer(frame) {
    const ref = typeof frame.ref === "string" ? frame.ref : undefined;
    const pending = ref === undefined ? undefined : this.#pending.get(ref);
    if (!pending || ref === undefined)
      return false;
    this.#pending.delete(ref);
    clearTimeout(pending.timer);
    if (frame.op === "error")
      pending.reject(new TickwireError(String(frame.code ?? "error"), String(frame.message ?? "request failed")));
    else {
      pending.onAck?.(frame);
      pending.resolve(frame);
    }
    return true;
  }
  failAll(reason) {
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new TickwireError("outcome_unknown", `connection lost before the answer (${reason}); the outcome is unknown`));
    }
    this.#pending.clear();
  }
}

// src/ws-link.ts
var AUTH_CLOSES = new Set([4401, 4403]);
var RETRY_CODES = new Set(["rate_limited", "replay_failed", "timeout", "outcome_unknown"]);

class WsLink {
  #host;
  #url;
  #WebSocket;
  #backoff;
  #ws;
  #open = false;
  #stopped = true;
  #requests = new Requests;
  #timers = new Set;
  #retry;
  #waiters = new Set;
  #confirmed = new Map;
  #leaving = new Set;
  #needFreshToken = false;
  #openedAt;
  constructor(host, url, WebSocket) {
    this.#host = host;
    this.#url = url;
    this.#WebSocket = WebSocket;
    this.#backoff = host.newBackoff();
  }
  start() {
    this.#stopped = false;
    this.#connect();
  }
  stop() {
    this.#stopped = true;
    clearTimeout(this.#retry);
    this.#drop(1000, "closed by the application", false);
  }
  added(topic) {
    if (this.#open && !this.#leaving.has(topic))
      this.#subscribe(topic);
  }
  removed(topic) {
    this.#confirmed.delete(topic);
    if (!this.#open || this.#leaving.has(topic))
      return;
    const ws = this.#ws;
    this.#leaving.add(topic);
    this.#request({ op: "unsubscribe", topic }, false).then(() => {
      if (this.#ws !== ws)
        return;
      this.#leaving.delete(topic);
      if (this.#host.subs.has(topic))
        this.#subscribe(topic);
    }, (error) => {
      if (this.#ws === ws && this.#open)
        this.#drop(4000, `an unsubscribe was refused (${error.code}); reconnecting`, true);
    });
  }
  async publish(topic, data) {
    const ack = await this.#request({ op: "publish", topic, data }, true);
    return { topic, seq: String(ack.seq) };
  }
  async presence(topic) {
    const ack = await this.#request({ op: "presence", topic }, true);
    return ack.presence;
  }
  async#connect() {
    if (this.#stopped)
      return;
    this.#host.setState("connecting");
    let token;
    try {
      token = this.#needFreshToken ? await this.#host.tokens.fresh() : await this.#host.tokens.current();
      this.#needFreshToken = false;
    } catch (error) {
      return this.#closed(0, `getToken failed: ${error.message}`, true);
    }
    if (this.#stopped)
      return;
    const ws = new this.#WebSocket(this.#url(token));
    this.#ws = ws;
    ws.onopen = () => this.#opened();
    ws.onmessage = (event) => this.#message(String(event.data));
    ws.onclose = (event) => this.#dropped(ws, event.code, event.reason);
    ws.onerror = () => {};
  }
  #opened() {
    this.#open = true;
    this.#openedAt = Date.now();
    this.#host.setState("connected");
    for (const topic of this.#host.subs.keys())
      this.#subscribe(topic);
    for (const waiter of [...this.#waiters])
      waiter.wake();
    const { pingIntervalMs } = this.#host.timing;
    if (pingIntervalMs > 0)
      this.#every(pingIntervalMs, () => this.#request({ op: "ping" }, false).catch(() => {}));
    this.#scheduleRefresh();
  }
  #subscribe(topic) {
    const sub = this.#host.subs.get(topic);
    if (!sub)
      return;
    const since = sub.resume();
    this.#confirmed.delete(topic);
    const confirm = (ack) => {
      if (this.#host.subs.get(topic) !== sub)
        return;
      this.#confirmed.set(topic, sub);
      sub.acked(ack);
    };
    this.#request({ op: "subscribe", topic, ...since === undefined ? {} : { since } }, false, confirm).then(() => {
      if (this.#host.subs.get(topic) !== sub)
        return;
      sub.handlers.onSubscribed?.({ topic, since });
    }, (error) => {
      if (this.#host.subs.get(topic) !== sub || !this.#open)
        return;
      if (RETRY_CODES.has(error.code))
        this.#later(this.#backoff.next(), () => this.#subscribe(topic));
      else
        this.#host.subscribeFailed(topic, error);
    });
  }
  #message(text) {
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (frame.op === undefined) {
      if (typeof frame.topic === "string" && typeof frame.seq === "string" && this.#current(frame.topic)) {
        this.#backoff.reset();
        this.#host.frame(frame);
      }
      return;
    }
    if (this.#requests.answer(frame))
      return;
    if (frame.op === "recovered" && typeof frame.topic === "string")
      return void (this.#current(frame.topic) && this.#host.notRecovered(frame.topic));
    if (frame.op !== "error")
      return;
    if (typeof frame.topic === "string" && this.#current(frame.topic)) {
      const topic = frame.topic;
      return this.#later(this.#backoff.next(), () => this.#subscribe(topic));
    }
    if (frame.code === "replay_failed")
      this.#drop(4000, "a replay failed; resuming", true);
  }
  #current(topic) {
    const sub = this.#host.subs.get(topic);
    return sub !== undefined && this.#confirmed.get(topic) === sub;
  }
  async#request(op, wait, onAck) {
    const timeoutMs = this.#host.timing.requestTimeoutMs;
    if (!this.#open) {
      if (!wait || this.#stopped)
        throw new TickwireError("not_connected", "not connected");
      await new Promise((resolve, reject) => {
        const waiter = {
          wake: () => (this.#waiters.delete(waiter), clearTimeout(timer), resolve()),
          fail: (error) => (this.#waiters.delete(waiter), clearTimeout(timer), reject(error))
        };
        const timer = setTimeout(() => waiter.fail(new TickwireError("not_connected", `not connected within ${timeoutMs} ms`)), timeoutMs);
        this.#waiters.add(waiter);
      });
    }
    const timedOut = wait ? () => void this.#request({ op: "ping" }, false).catch(() => {}) : () => this.#drop(4000, "a request timed out: the path is dead", true);
    const acked = op.op === "subscribe" ? onAck : (ack) => (this.#backoff.reset(), onAck?.(ack));
    const { ref, answer } = this.#requests.open(timeoutMs, timedOut, acked);
    this.#send({ ...op, ref });
    return answer;
  }
  #send(op) {
    if (this.#open && this.#ws)
      this.#ws.send(JSON.stringify(op));
  }
  #scheduleRefresh() {
    const exp = this.#host.tokens.expiresAt;
    if (exp === undefined || !this.#host.tokens.renewable)
      return;
    const now = Date.now();
    this.#later(Math.max(0, exp - now - refreshLead(exp, now)), () => void this.#refresh());
  }
  async#refresh() {
    const ws = this.#ws;
    try {
      if (!await this.#host.tokens.renew() || !this.#open || this.#ws !== ws)
        return;
      const token = await this.#host.tokens.current();
      await this.#request({ op: "refresh", token }, false);
      this.#scheduleRefresh();
    } catch {
      const exp = this.#host.tokens.expiresAt;
      if (this.#open && this.#ws === ws && exp !== undefined && exp - Date.now() > 2000)
        this.#later(Math.min(5000, (exp - Date.now()) / 2), () => void this.#refresh());
    }
  }
  #later(ms, run) {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      run();
    }, ms);
    this.#timers.add(timer);
  }
  #every(ms, run) {
    this.#timers.add(setInterval(run, ms));
  }
  #drop(code, reason, retry) {
    const ws = this.#ws;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      try {
        ws.close(code === 1000 ? 1000 : 4000, reason);
      } catch {}
    }
    this.#closed(code, reason, retry);
  }
  #dropped(ws, code, reason) {
    if (ws !== this.#ws)
      return;
    const retry = !AUTH_CLOSES.has(code) || this.#host.tokens.renewable;
    this.#closed(code, reason, retry);
  }
  #closed(code, reason, retry) {
    this.#ws = undefined;
    this.#open = false;
    this.#confirmed.clear();
    this.#leaving.clear();
    for (const timer of this.#timers)
      clearTimeout(timer), clearInterval(timer);
    this.#timers.clear();
    this.#requests.failAll(reason || `close ${code}`);
    this.#requests = new Requests;
    const again = retry && !this.#stopped;
    if (this.#openedAt !== undefined && Date.now() - this.#openedAt >= this.#backoff.maxMs)
      this.#backoff.reset();
    this.#openedAt = undefined;
    const retryInMs = again ? this.#backoff.next() : undefined;
    this.#host.setState("disconnected", { code, reason, willRetry: again, ...retryInMs === undefined ? {} : { retryInMs } });
    if (!again) {
      this.#stopped = true;
      for (const waiter of [...this.#waiters])
        waiter.fail(new TickwireError("not_connected", reason || `closed ${code}; not reconnecting`));
      return;
    }
    if (AUTH_CLOSES.has(code))
      this.#needFreshToken = true;
    this.#retry = setTimeout(() => void this.#connect(), retryInMs);
  }
}

// src/client.ts
class Client {
  #subs = new Map;
  #listeners = new Set;
  #link;
  #state = "connecting";
  #detail = {};
  constructor(url, opts = {}) {
    const urls = endpoints(url);
    const timing = { pingIntervalMs: opts.pingIntervalMs ?? 20000, requestTimeoutMs: opts.requestTimeoutMs ?? 1e4 };
    const host = {
      subs: this.#subs,
      tokens: new TokenSource(opts.token, opts.getToken),
      timing,
      newBackoff: () => new Backoff(opts.backoff),
      setState: (state, detail) => this.#setState(state, detail),
      frame: (frame) => this.#subs.get(frame.topic)?.frame(frame),
      notRecovered: (topic) => this.#subs.get(topic)?.notRecovered(),
      subscribeFailed: (topic, error) => {
        const sub = this.#subs.get(topic);
        this.#subs.delete(topic);
        sub?.handlers.onError?.(error);
      }
    };
    const WS = opts.WebSocket ?? globalThis.WebSocket;
    const kind = opts.transport ?? "auto";
    if (kind === "websocket" && !WS)
      throw new TypeError("transport websocket: this environment has no WebSocket; pass options.WebSocket");
    this.#link = kind === "sse" || !WS ? new SseLink(host, urls, opts.sse) : new WsLink(host, (token) => urls.ws(token), WS);
    this.#link.start();
  }
  get state() {
    return this.#state;
  }
  onState(listener) {
    this.#listeners.add(listener);
    listener(this.#state, this.#detail);
    return () => this.#listeners.delete(listener);
  }
  subscribe(topic, opts) {
    if (this.#subs.has(topic))
      throw new TickwireError("already_subscribed", `already subscribed to ${topic}`);
    const state = new TopicState(topic, opts);
    this.#subs.set(topic, state);
    this.#link.added(topic);
    return {
      topic,
      get lastSeq() {
        return state.lastSeq;
      },
      unsubscribe: () => {
        if (this.#subs.get(topic) === state)
          this.unsubscribe(topic);
      }
    };
  }
  unsubscribe(topic) {
    if (!this.#subs.delete(topic))
      return;
    this.#link.removed(topic);
  }
  publish(topic, data) {
    return this.#link.publish(topic, data);
  }
  presence(topic) {
    return this.#link.presence(topic);
  }
  close() {
    this.#link.stop();
    this.#subs.clear();
  }
  #setState(state, detail = {}) {
    if (state === this.#state && state !== "disconnected")
      return;
    this.#state = state;
    this.#detail = detail;
    for (const listener of this.#listeners)
      listener(state, detail);
  }
}

// src/index.ts
function connect(url, opts = {}) {
  return new Client(url, opts);
}
export {
  Client,
  TickwireError,
  compareSeq,
  connect,
  eventSourceOpener,
  fetchOpener,
  isSeq
};

/**
 * How many bytes tickwire puts on the wire for one chat message of the load's shape, so that the
 * bare relay's baselines can send exactly as many (`BARE_RELAY_PAD_BYTES`): frame size is then
 * ruled out of the comparison. One message is published on a running tickwire server and
 * received once over WebSocket (`/ws?topics=chat`) and once over SSE (`/events?topics=chat`);
 * the bare relay forwards the op text as its frame, and as SSE writes `data: <frame>\n\n` (no
 * `id:` line), so the pads are the differences.
 *
 * The content (`k<id>@<ms>`) is the same string in both, so the pads do not depend on it.
 * @module
 */

export interface FrameSizes {
  /** The publish op the bench client sends, which the bare relay forwards as its frame. */
  opBytes: number;
  /** tickwire's chat frame for it (WebSocket message payload). */
  wsFrameBytes: number;
  /** tickwire's SSE event for it (`id: …\ndata: …\n\n`). */
  sseEventBytes: number;
  /** Pad that makes the bare relay's WebSocket frame as large as tickwire's. */
  wsPad: number;
  /** Pad that makes the bare relay's SSE event as large as tickwire's. */
  ssePad: number;
}

const opFor = (content: string) => `{"op":"publish","topic":"chat","data":{"content":"${content}"}}`;

/** Measures tickwire's frame sizes on the server at `url` (publishes one chat message there). */
export async function measureFrameSizes(url: string): Promise<FrameSizes> {
  const content = `k0@${performance.now().toFixed(3)}`;
  const marker = `"content":"${content}"`;
  const { hostname, port } = new URL(url);
  let sse = "";
  let onEvent: (event: string) => void = () => {};
  const sseEvent = new Promise<string>((resolve) => (onEvent = resolve));
  let onOpen: () => void = () => {};
  const sseOpen = new Promise<void>((resolve) => (onOpen = resolve));
  const stream = await Bun.connect({
    hostname,
    port: Number(port),
    socket: {
      data(_s, chunk) {
        sse += chunk.toString("latin1");
        onOpen();
        const at = sse.indexOf(marker);
        if (at < 0) return;
        const start = sse.lastIndexOf("id: ", at);
        const end = sse.indexOf("\n\n", at);
        if (start >= 0 && end >= 0) onEvent(sse.slice(start, end + 2));
      },
    },
  });
  stream.write(`GET /events?topics=chat HTTP/1.1\r\nHost: ${hostname}:${port}\r\n\r\n`);
  const ws = await opened(new WebSocket(`${url.replace(/^http/, "ws")}/ws?topics=chat`));
  const wsFrame = new Promise<string>((resolve) => {
    ws.onmessage = (ev) => typeof ev.data === "string" && ev.data.includes(marker) && resolve(ev.data);
  });
  const publisher = await opened(new WebSocket(`${url.replace(/^http/, "ws")}/ws?topics=`));
  await sseOpen;
  const op = opFor(content);
  publisher.send(op);
  const [frame, event] = await Promise.all([wsFrame, sseEvent]);
  for (const s of [ws, publisher]) s.close();
  stream.end();
  const opBytes = Buffer.byteLength(op);
  const wsFrameBytes = Buffer.byteLength(frame);
  const sseEventBytes = Buffer.byteLength(event, "latin1");
  return { opBytes, wsFrameBytes, sseEventBytes, wsPad: wsFrameBytes - opBytes, ssePad: sseEventBytes - (opBytes + "data: \n\n".length) };
}

function opened(ws: WebSocket): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error(`frame-size: could not connect to ${ws.url}`));
  });
}

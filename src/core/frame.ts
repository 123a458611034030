/**
 * Frame and SSE encoding. A body is serialized once per event; each topic's frame is that JSON
 * with the `topic`, `seq` and `ts` header spliced in front, a string concatenation rather than
 * another `JSON.stringify`.
 * @module
 */

/**
 * `{"topic":…,"seq":…,"ts":…,"epoch":…,…body}` from an already serialized body; `epoch` (the
 * history the seq belongs to) is left out when the topic has none (cron).
 */
export function frameFromBodyJson(topic: string, seq: string, ts: number, bodyJson: string, epoch?: string): string {
  const head =
    epoch === undefined
      ? `{"topic":${JSON.stringify(topic)},"seq":"${seq}","ts":${ts}`
      : `{"topic":${JSON.stringify(topic)},"seq":"${seq}","ts":${ts},"epoch":"${epoch}"`;
  return bodyJson.length <= 2 ? `${head}}` : `${head},${bodyJson.slice(1)}`;
}

export function encodeFrame(topic: string, seq: string, ts: number, body: Record<string, unknown>): string {
  return frameFromBodyJson(topic, seq, ts, JSON.stringify(body));
}

/** One SSE event carrying a frame. `data` never holds a newline: JSON.stringify escapes them. */
export function sseEvent(seq: string, frame: string, event?: string): string {
  return event ? `event: ${event}\nid: ${seq}\ndata: ${frame}\n\n` : `id: ${seq}\ndata: ${frame}\n\n`;
}

/** An SSE comment line; browsers ignore it, proxies and idle timers see traffic. */
export function sseComment(text: string): string {
  return `: ${text}\n\n`;
}

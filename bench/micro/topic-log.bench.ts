/**
 * MemoryTopicLog (src/core/memory-topic-log.ts), the embedded durable log every chat/relay/timer
 * event goes through: append (seq generation, ring buffer, one tail listener) against a bare
 * push of the same entry into an array, and `readAfter` (replay) of the newest 10 and of all
 * 1000 retained entries against an array `filter` by seq.
 *
 *   bun bench/micro/topic-log.bench.ts [--json]
 */
import { bench, do_not_optimize, group, summary } from "mitata";
import { systemClock } from "../../src/core/clock.ts";
import { MemoryTopicLog } from "../../src/core/memory-topic-log.ts";
import { compareSeq } from "../../src/core/seq.ts";
import type { LogEntry } from "../../src/core/topic-log.ts";
import { runMicro } from "../support/micro.ts";

const body = { type: "message", id: "20261123111111.000001-abc", content: "hello there", user: "bench", timestamp: "2026-11-23T11:11:11.000Z" };
const HISTORY = 1000;

summary(() => {
  group("append one chat entry (history 1000, one tail listener)", () => {
    const arr: LogEntry[] = [];
    let n = 0;
    bench("baseline: build entry + Array push (trimmed)", () => {
      arr.push({ topic: "chat", seq: `${Date.now()}-${n++}`, ts: Date.now(), json: JSON.stringify(body), body });
      if (arr.length > HISTORY) arr.shift();
    }).baseline(true);
    const log = new MemoryTopicLog({ historySize: HISTORY, clock: systemClock });
    let seen = 0;
    log.tail(() => seen++);
    bench("MemoryTopicLog.appendSync", () => {
      do_not_optimize(log.appendSync("chat", body));
    });
  });
});

for (const back of [10, 1000]) {
  summary(() => {
    group(`readAfter: the newest ${back} of ${HISTORY} entries`, () => {
      const log = new MemoryTopicLog({ historySize: HISTORY, clock: systemClock });
      const arr: LogEntry[] = [];
      for (let i = 0; i < HISTORY; i++) arr.push(log.appendSync("chat", body));
      const since = back === HISTORY ? undefined : arr[HISTORY - back - 1]!.seq;
      bench("baseline: Array filter by compareSeq", () => {
        do_not_optimize(since === undefined ? arr.slice() : arr.filter((e) => compareSeq(e.seq, since) > 0));
      }).baseline(true);
      bench("MemoryTopicLog.readAfter", async () => {
        do_not_optimize(await log.readAfter("chat", since));
      });
    });
  });
}

await runMicro("topic-log.bench");

import { describe, expect, it } from "bun:test";
import type { FrameHead } from "./frames.ts";
import { compareSeq } from "./seq.ts";
import { type RecoveryInfo, TopicState } from "./subscription.ts";

function state(since?: string) {
  const seen: string[] = [];
  const recovered: RecoveryInfo["reason"][] = [];
  const s = new TopicState<FrameHead>("chat", {
    ...(since === undefined ? {} : { since }),
    onMessage: (f) => void seen.push(f.seq),
    onRecovered: (i) => void recovered.push(i.reason),
  });
  const frame = (seq: string, epoch?: string) => s.frame({ topic: "chat", seq, ts: 0, ...(epoch === undefined ? {} : { epoch }) });
  return { s, seen, recovered, frame };
}

describe("TopicState", () => {
  it("hands each seq over once, dropping what is at or before the last one (ephemeral .k included)", () => {
    const { s, seen, frame } = state();
    for (const seq of ["5-1", "5-1", "5-1.7", "4-9", "5-1.7", "5-1.8", "6-1"]) frame(seq, "e1");
    expect(seen).toEqual(["5-1", "5-1.7", "5-1.8", "6-1"]);
    expect(s.resumeFrom).toBe("6-1");
  });

  it("on a new connection counts only the durable position: a restarted server's lower ephemeral seqs are new", () => {
    const { s, seen, frame } = state();
    for (const seq of ["5-1", "5-1.900", "5-1.3"]) frame(seq, "e1");
    expect(seen).toEqual(["5-1", "5-1.900"]); // same connection: an older frame
    // Reconnected to a server restarted with its clock behind: its counters start lower.
    expect(s.resume()).toBe("5-1.900");
    for (const seq of ["5-1.3", "5-1.3", "4-9", "5-1.4", "6-1"]) frame(seq, "e1");
    expect(seen).toEqual(["5-1", "5-1.900", "5-1.3", "5-1.4", "6-1"]);
    // A topic without a history (cron): its tick seqs may go back too; it resubscribes live.
    const cron = state();
    for (const seq of ["3000-0", "2000-0"]) cron.frame(seq);
    expect(cron.s.resume()).toBeUndefined();
    cron.frame("1500-0");
    expect(cron.seen).toEqual(["3000-0", "1500-0"]);
  });

  it("says recovered:false before the first frame of another epoch, and accepts its seqs", () => {
    const { seen, recovered, frame } = state();
    frame("9-1", "e1");
    frame("3-1", "e2");
    frame("3-2", "e2");
    expect(recovered).toEqual(["epoch"]);
    expect(seen).toEqual(["9-1", "3-1", "3-2"]);
  });

  it("does not announce the epoch change the server already announced", () => {
    const { s, recovered, frame } = state();
    frame("9-1", "e1");
    s.notRecovered();
    frame("10-1", "e2");
    expect(recovered).toEqual(["server"]);
  });

  it("after recovered:false, takes the new history's frames even below an application-given since", () => {
    const { s, seen, recovered, frame } = state("9-1");
    s.notRecovered();
    frame("3-1", "e2");
    frame("3-1", "e2");
    frame("3-2", "e2");
    expect(recovered).toEqual(["server"]);
    expect(seen).toEqual(["3-1", "3-2"]);
  });

  it("resumes from the subscribe ack's position before any frame; topics without one (cron) resubscribe live", () => {
    const chat = state();
    expect(chat.s.resumeFrom).toBeUndefined();
    chat.s.acked({ seq: "7-3", epoch: "e1" });
    expect(chat.s.resumeFrom).toBe("7-3");
    chat.frame("7-3", "e1");
    expect(chat.seen).toEqual([]);

    const cron = state();
    cron.s.acked({});
    cron.frame("1000-0");
    expect(cron.s.resumeFrom).toBeUndefined();
    expect(cron.seen).toEqual(["1000-0"]);
  });

  it("starts after an application-given since", () => {
    const { s, seen, frame } = state("5-5");
    frame("5-5", "e1");
    frame("5-6", "e1");
    expect(seen).toEqual(["5-6"]);
    expect(s.resumeFrom).toBe("5-6");
  });
});

describe("compareSeq", () => {
  it("orders numerically, a durable entry before its ephemeral frames", () => {
    const sorted = ["10-0", "9-0", "9-1.2", "9-1", "9-1.10"].sort(compareSeq);
    expect(sorted).toEqual(["9-0", "9-1", "9-1.2", "9-1.10", "10-0"]);
    expect(compareSeq("9", "9-0")).toBe(0);
  });
});

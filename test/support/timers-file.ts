/**
 * Timers written straight into an embedded SQLite file that a server then loads: thousands of
 * creates over HTTP would take most of a test's time.
 */
import { createTimer } from "../../src/features/timers/timer-state.ts";
import { openDatabase } from "../../src/infra/db/database.ts";
import { timers } from "../../src/infra/db/schema-sqlite.ts";

/** Writes `count` timers of `sessionId` (running, or `paused`) into `file` (`sqlite:<path>`), migrated first. */
export async function writeTimers(file: string, count: number, sessionId: string, opts: { paused?: boolean; maxTime?: number } = {}): Promise<void> {
  const db = await openDatabase(file);
  if (db.dialect !== "sqlite") throw new Error(`writeTimers: ${file} is not an SQLite file`);
  const now = Date.now();
  const rows = Array.from({ length: count }, () => {
    const timer = createTimer(sessionId, opts.maxTime ?? 3600, now);
    return opts.paused ? { ...timer, startedAt: null, status: "paused" as const } : timer;
  });
  db.db.transaction((tx) => {
    for (let i = 0; i < rows.length; i += 500)
      tx.insert(timers)
        .values(rows.slice(i, i + 500))
        .run();
  });
  await db.close();
}

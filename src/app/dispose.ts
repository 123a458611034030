/**
 * Disposal in reverse order of creation: every resource `main.ts` starts pushes its disposer,
 * and shutdown (or a start that failed half-way) runs them newest first.
 * @module
 */
import type { Logger } from "../log.ts";

export /** Runs `disposers` newest first; a failing one is logged and the rest still run. */
async function disposeAll(disposers: (() => unknown)[], log: Logger): Promise<void> {
  for (const dispose of disposers.splice(0).reverse()) {
    try {
      await dispose();
    } catch (err) {
      log.warn({ err }, "dispose failed during shutdown");
    }
  }
}

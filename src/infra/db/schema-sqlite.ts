/**
 * The sqlite schema drizzle-kit reads (`drizzle.config.ts`) and the stores query: one table
 * per file in `sqlite/`.
 * @module
 */
export { idempotencyKeys } from "./sqlite/idempotency-table.ts";
export { logEpochs } from "./sqlite/log-epochs-table.ts";
export { timerOutbox } from "./sqlite/outbox-table.ts";
export { timers } from "./sqlite/timers-table.ts";
export { topicLog } from "./sqlite/topic-log-table.ts";

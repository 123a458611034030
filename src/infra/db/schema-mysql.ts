/**
 * The mysql schema drizzle-kit reads (`drizzle.config.ts`) and the stores query: one table
 * per file in `mysql/`.
 * @module
 */
export { idempotencyKeys } from "./mysql/idempotency-table.ts";
export { timerOutbox } from "./mysql/outbox-table.ts";
export { timerCreateLock } from "./mysql/timer-create-lock-table.ts";
export { timers } from "./mysql/timers-table.ts";

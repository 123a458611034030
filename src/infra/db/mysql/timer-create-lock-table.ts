/**
 * The `timer_create_lock` table (mysql): one row, `timers`, that every timer create locks
 * (`SELECT ... FOR UPDATE`) before it counts timers against `TIMERS_PER_SESSION` / `TIMERS_MAX`,
 * so that creates on every instance take turns and the count cannot overshoot. Its migration
 * inserts the row.
 * @module
 */
import { mysqlTable, varchar } from "drizzle-orm/mysql-core";

export const timerCreateLock = mysqlTable("timer_create_lock", {
  name: varchar("name", { length: 32 }).primaryKey(),
});

/**
 * The `log_epochs` table (sqlite): the identity of each topic's stored history.
 * @module
 */
import { sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * One row per topic, written by the topic's first append. A file whose log tables are new (first
 * start, or the file was replaced) has new epochs, so a reader resuming with a seq from the old
 * history is told it was not recovered. `start` is `<ms>-0` of the epoch's creation.
 *
 * `trimmed` is the seq of the newest entry trimmed away (null: none yet). The rows left cannot
 * tell "the topic's first entry" from "the first entry kept", and after HISTORY_SIZE is raised
 * a restart keeps all of them: without it, a reader whose entries were trimmed would be told
 * it was recovered.
 */
export const logEpochs = sqliteTable("log_epochs", {
  topic: text("topic").primaryKey(),
  epoch: text("epoch").notNull(),
  start: text("start").notNull(),
  trimmed: text("trimmed"),
});

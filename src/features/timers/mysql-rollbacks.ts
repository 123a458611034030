/**
 * MySQL errors after which nothing of the transaction is written: it may run again (a deadlock),
 * or be answered 503 like a refusal.
 * @module
 */

/** Whether `error` (or one of its causes: Drizzle wraps the driver's) has `errno`. */
function hasErrno(error: unknown, errno: number): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { errno?: unknown }).errno === errno) return true;
  }
  return false;
}

/**
 * A deadlock (ER_LOCK_DEADLOCK, 1213): InnoDB rolled the whole transaction back to break it (the
 * purge of day-old answers and a keyed change's cap cleanup lock old answers in opposite orders).
 */
export const isDeadlock = (error: unknown): boolean => hasErrno(error, 1213);

/**
 * A lock wait timeout (ER_LOCK_WAIT_TIMEOUT, 1205): the statement was undone, and Drizzle rolls the
 * rest of its transaction back before it rethrows (a connection too broken for that, the server).
 */
export const isLockWaitTimeout = (error: unknown): boolean => hasErrno(error, 1205);

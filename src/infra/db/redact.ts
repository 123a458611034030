/**
 * Database URLs safe to log.
 * @module
 */

/** `url` with its password replaced, for logs and errors. */
export function redact(url: string): string {
  return url.replace(/^(mysql:\/\/[^:@/]*:)[^@]*@/, "$1***@");
}

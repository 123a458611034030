/**
 * Which key a raw command is routed by in Cluster mode (node-redis's cluster `sendCommand` takes
 * it separately from the arguments): the first key of the commands tickwire sends. Keyless
 * commands (`PING`, `INFO`, `CONFIG`, `TIME`) go to any node.
 * @module
 */

export function routeKey(args: readonly string[]): string | undefined {
  const command = args[0]?.toUpperCase();
  switch (command) {
    case "EVAL":
    case "EVALSHA":
    case "FCALL":
      return Number(args[2]) > 0 ? args[3] : undefined;
    case "XREAD":
    case "XREADGROUP": {
      const at = args.findIndex((a) => a.toUpperCase() === "STREAMS");
      return at < 0 ? undefined : args[at + 1];
    }
    case "XINFO":
      return args[2];
    case "PING":
    case "INFO":
    case "CONFIG":
    case "TIME":
    case "WAIT":
    case "CLIENT":
    case "SCRIPT":
      return undefined;
    default:
      return args[1];
  }
}

/** The Cluster hash slot of `key` (CRC16/XMODEM of its `{tag}` if it has one, mod 16384), as Redis computes it. */
export function hashSlot(key: string): number {
  const open = key.indexOf("{");
  const close = open < 0 ? -1 : key.indexOf("}", open + 1);
  const hashed = Buffer.from(close > open + 1 ? key.slice(open + 1, close) : key);
  let crc = 0;
  for (const byte of hashed) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

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

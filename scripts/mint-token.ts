/**
 * Mints a tickwire access token for operators.
 *
 *   JWT_SECRET=... npm run token -- --sub gm1 --publish timers --subscribe '*' [--expires 24h]
 *
 * `--publish` and `--subscribe` take comma-separated topic patterns (`*` wildcard) and may repeat.
 * Prints the token on stdout.
 */
import { parseArgs } from "node:util";
import { mintToken } from "../src/auth/tokens.ts";

const { values } = parseArgs({
  options: {
    sub: { type: "string" },
    publish: { type: "string", multiple: true, default: [] },
    subscribe: { type: "string", multiple: true, default: [] },
    expires: { type: "string", default: "24h" },
    secret: { type: "string" },
  },
});
// JWT_SECRET may list several secrets (rotation); the first one signs.
const secret = values.secret ?? process.env.JWT_SECRET?.split(",")[0]?.trim();
if (!secret || !values.sub) {
  console.error("usage: JWT_SECRET=... npm run token -- --sub <name> [--publish topics] [--subscribe topics] [--expires 24h]");
  process.exit(2);
}
const split = (list: string[]) =>
  list
    .flatMap((s) => s.split(","))
    .map((s) => s.trim())
    .filter(Boolean);
console.log(await mintToken(secret, { sub: values.sub, publish: split(values.publish), subscribe: split(values.subscribe), expiresIn: values.expires }));

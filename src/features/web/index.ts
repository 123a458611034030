/**
 * The browser client (SPEC §9): `GET /` serves `public/index.html`, its stylesheet and its ES
 * modules, straight from disk with `Bun.file`, so there is nothing to build. Every asset is sent
 * with `Cache-Control: no-cache`: browsers revalidate on each load, so a deploy never leaves a
 * page running yesterday's script against today's server.
 *
 * Only files named in {@link STATIC_FILES} or matching {@link MODULE_NAME} under `public/js/`
 * are served; a path parameter can never climb out of `public/`.
 * @module
 */
import { join } from "node:path";
import type { AppContext } from "../../app/context.ts";
import type { Feature, RouteHandler } from "../../app/feature.ts";
import { notFound } from "../../http/errors.ts";
import { webDocs } from "./web-docs.ts";

/** Where the page lives; resolved from this file so the working directory does not matter. */
export const PUBLIC_DIR = join(import.meta.dir, "../../../public");

/** A module file name under `public/js/`: lower-case kebab-case, `.js`. */
const MODULE_NAME = /^[a-z0-9-]{1,64}\.js$/;

const CONTENT_TYPES = {
  html: "text/html; charset=utf-8",
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  png: "image/png",
  svg: "image/svg+xml",
} as const;

type Kind = keyof typeof CONTENT_TYPES;

/** Route path → file under `public/` and its content type. */
const STATIC_FILES: Record<string, { file: string; kind: Kind }> = {
  "/": { file: "index.html", kind: "html" },
  "/index.html": { file: "index.html", kind: "html" },
  "/app.css": { file: "app.css", kind: "css" },
  "/app.js": { file: "app.js", kind: "js" },
  "/favicon.svg": { file: "favicon.svg", kind: "svg" },
};

/** Answers with the file, or a JSON 404 if it is missing from disk. */
async function serveFile(relative: string, kind: Kind, dir: string): Promise<Response> {
  const file = Bun.file(join(dir, relative));
  if (!(await file.exists())) throw notFound(`no file ${relative}`);
  return new Response(file, {
    headers: {
      "Content-Type": CONTENT_TYPES[kind],
      "Cache-Control": "no-cache",
      "X-Content-Type-Options": "nosniff",
    },
  });
}

export interface WebOptions {
  /** Directory holding `index.html`, `app.css`, `app.js` and `js/`; default {@link PUBLIC_DIR}. */
  dir?: string;
}

/** The page needs nothing from the context: it talks to the other features over HTTP, WS and SSE. */
export function webFeature(_ctx: AppContext, opts: WebOptions = {}): Feature {
  const dir = opts.dir ?? PUBLIC_DIR;
  const routes: Feature["routes"] = {};
  for (const [path, { file, kind }] of Object.entries(STATIC_FILES)) {
    routes[path] = { GET: () => serveFile(file, kind, dir) };
  }
  const moduleRoute: RouteHandler = (req) => {
    const name = (req.params as Record<string, string>).file ?? "";
    if (!MODULE_NAME.test(name)) throw notFound(`no module ${JSON.stringify(name.slice(0, 80))}`);
    return serveFile(`js/${name}`, "js", dir);
  };
  routes["/js/:file"] = { GET: moduleRoute };
  return { name: "web", routes, docs: webDocs };
}

/**
 * What `/openapi.json` says of the browser client's files: one rule, not one entry per file.
 * @module
 */
import { type ApiDocs, error, type Operation } from "../../http/api-docs.ts";

function staticOperation(path: string): Operation {
  const ext = /\.(\w+)$/.exec(path)?.[1] ?? (path.includes(":") ? "js" : "html");
  const type = { html: "text/html", css: "text/css", js: "text/javascript", svg: "image/svg+xml", png: "image/png" }[ext] ?? "application/octet-stream";
  return {
    summary: path === "/" ? "The browser client" : `Browser client asset`,
    tag: "browser",
    responses: { "200": { description: "the file", content: { [type]: { schema: { type: "string" } } } }, "404": error("no such file") },
  };
}

export const webDocs: ApiDocs = { fallback: (method, path) => (method === "GET" ? staticOperation(path) : undefined) };

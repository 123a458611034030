/**
 * Request bodies at the boundary: size-limited JSON reading and TypeBox validation that names
 * the field and the rule in the 400.
 * @module
 */
import type { Static, TSchema } from "@sinclair/typebox";
import { type TypeCheck, TypeCompiler } from "@sinclair/typebox/compiler";
import { badRequest, HttpError } from "./errors.ts";

/** Request bodies over this many bytes get 413. */
export const MAX_BODY_BYTES = 64 * 1024;

const tooLarge = () => new HttpError(413, "payload_too_large", `body: larger than ${MAX_BODY_BYTES} bytes`, "body");

/** Reads a JSON body of at most {@link MAX_BODY_BYTES}. */
export async function readJson(req: Request): Promise<unknown> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const bytes = await req.arrayBuffer();
  if (bytes.byteLength > MAX_BODY_BYTES) throw tooLarge();
  if (bytes.byteLength === 0) throw badRequest("body: expected a JSON object", "body");
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw badRequest("body: not valid UTF-8", "body");
  }
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest("body: not valid JSON", "body");
  }
}

/** A schema compiled once, validating and typing values at the boundary. */
export class Validator<S extends TSchema> {
  readonly schema: S;
  #check: TypeCheck<S>;

  constructor(schema: S) {
    this.schema = schema;
    this.#check = TypeCompiler.Compile(schema);
  }

  /** Returns `value` typed, or throws a 400 naming the first wrong field and its rule. */
  parse(value: unknown, where = "body"): Static<S> {
    const problem = this.problem(value, where);
    if (!problem) return value as Static<S>;
    throw badRequest(problem.message, problem.field);
  }

  /**
   * `undefined` when `value` is valid, else the first wrong field (dotted path, or `where` for the
   * value itself) and `"<field>: <rule>"`. `Check` runs first: it is ~100x cheaper than building
   * the error iterator, which only a bad value pays for.
   */
  problem(value: unknown, where = "body"): { field: string; message: string } | undefined {
    if (this.#check.Check(value)) return undefined;
    const error = this.#check.Errors(value).First();
    const field = error?.path.replace(/^\//, "").replaceAll("/", ".") || where;
    return { field, message: `${field}: ${error?.message ?? "invalid"}` };
  }
}

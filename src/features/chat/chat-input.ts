/**
 * Chat input at the boundary, validated in one place for `POST /messages`, the WS `publish` op
 * on `chat` and `POST /notify`: the schemas, plus what a schema cannot say (that a timestamp's
 * date exists) or TypeBox does not check as it says (`maxLength` in characters, not UTF-16
 * units). A 400 names the wrong field.
 * @module
 */
import { Validator } from "../../http/body.ts";
import { badRequest } from "../../http/errors.ts";
import { CheckedBodies, CONTENT_MAX_CHARS, type NotifyBody, type PostMessageBody, USER_MAX_CHARS } from "./schemas.ts";
import { isCalendarDate } from "./timestamp.ts";

const postBody = new Validator(CheckedBodies.PostMessageBody);
const notifyBody = new Validator(CheckedBodies.NotifyBody);

/**
 * Whether `text` has more than `max` characters (code points; a lone surrogate counts as one).
 * Counting stops past `max`, and a string of at most `max` UTF-16 units is never counted.
 */
function longerThan(text: string, max: number): boolean {
  if (text.length <= max) return false;
  if (text.length > 2 * max) return true;
  let chars = 0;
  for (const _ of text) if (++chars > max) return true;
  return false;
}

/** Refuses a `content` or `user` over its character limit, naming the field. */
function checkLengths(input: { content: string; user?: string | undefined }): void {
  if (longerThan(input.content, CONTENT_MAX_CHARS)) throw badRequest(`content: expected at most ${CONTENT_MAX_CHARS} characters`, "content");
  if (input.user !== undefined && longerThan(input.user, USER_MAX_CHARS)) throw badRequest(`user: expected at most ${USER_MAX_CHARS} characters`, "user");
}

/** A posted message (`where`: `"body"` over HTTP, `"data"` in a WS publish op). */
export function parsePostMessage(value: unknown, where = "body"): PostMessageBody {
  const input = postBody.parse(value, where);
  checkLengths(input);
  return input;
}

/** A `POST /notify` body. */
export function parseNotify(value: unknown): NotifyBody {
  const input = notifyBody.parse(value);
  checkLengths(input);
  if (!isCalendarDate(input.timestamp)) throw badRequest(`timestamp: ${JSON.stringify(input.timestamp)} is not a date that exists`, "timestamp");
  return input;
}

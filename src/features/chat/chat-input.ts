/**
 * Chat input at the boundary, validated in one place for `POST /messages`, the WS `publish` op
 * on `chat` and `POST /notify`: the schemas, plus what a schema cannot say (that a timestamp's
 * date exists) or TypeBox does not check as it says (`maxLength` in characters: `char-limits.ts`).
 * A 400 names the wrong field.
 * @module
 */
import { Validator } from "../../http/body.ts";
import { badRequest } from "../../http/errors.ts";
import { longerThan, withoutMaxLength } from "./char-limits.ts";
import { NotifyBody, PostMessageBody } from "./schemas.ts";
import { isCalendarDate } from "./timestamp.ts";

const COUNTED = ["content", "user"] as const;
const postBody = new Validator(withoutMaxLength(PostMessageBody, COUNTED));
const notifyBody = new Validator(withoutMaxLength(NotifyBody, COUNTED));

/** Refuses a `content` or `user` longer in characters than the documented schema's `maxLength`. */
function checkLengths(input: { content: string; user?: string | undefined }): void {
  for (const field of COUNTED) {
    const max = PostMessageBody.properties[field].maxLength!;
    const text = input[field];
    if (text !== undefined && longerThan(text, max)) throw badRequest(`${field}: expected at most ${max} characters`, field);
  }
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

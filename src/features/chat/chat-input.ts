/**
 * Chat input at the boundary, validated in one place for `POST /messages`, the WS `publish` op
 * on `chat` and `POST /notify`: the schemas, plus what a schema cannot say (that a timestamp's
 * date exists). A 400 names the wrong field.
 * @module
 */
import { Validator } from "../../http/body.ts";
import { badRequest } from "../../http/errors.ts";
import { NotifyBody, PostMessageBody } from "./schemas.ts";
import { isCalendarDate } from "./timestamp.ts";

const postBody = new Validator(PostMessageBody);
const notifyBody = new Validator(NotifyBody);

/** A posted message (`where`: `"body"` over HTTP, `"data"` in a WS publish op). */
export function parsePostMessage(value: unknown, where = "body"): PostMessageBody {
  return postBody.parse(value, where);
}

/** A `POST /notify` body. */
export function parseNotify(value: unknown): NotifyBody {
  const input = notifyBody.parse(value);
  if (!isCalendarDate(input.timestamp)) throw badRequest(`timestamp: ${JSON.stringify(input.timestamp)} is not a date that exists`, "timestamp");
  return input;
}

// Webhook payloads against @octokit/webhooks-schemas.
import { readFileSync } from "node:fs";
import { newAjv, formatErrors, pointer, registerUnknownFormats } from "./ajv.mjs";

const KEY = "https://conformance.invalid/webhooks-schemas.json";

export class WebhookValidator {
  constructor(schemaPath) {
    const schema = JSON.parse(readFileSync(schemaPath, "utf8"));
    this.ajv = newAjv();
    registerUnknownFormats(this.ajv, schema);
    // Only the definitions are registered: Ajv compiles a document's root
    // before resolving a pointer into it, and this root is a oneOf over every
    // event, which would compile all 300 definitions on first use.
    this.ajv.addSchema({ definitions: schema.definitions }, KEY);
    // The bundle names definitions "<event>$<action>", or "<event>$event" for
    // events GitHub sends without an action (ping, push, create...).
    this.events = new Map();
    for (const name of Object.keys(schema.definitions)) {
      const i = name.indexOf("$");
      if (i < 0) continue;
      const event = name.slice(0, i);
      const action = name.slice(i + 1);
      if (!this.events.has(event)) this.events.set(event, new Set());
      this.events.get(event).add(action);
    }
    this.cache = new Map();
  }

  validate(event, payload) {
    const actions = this.events.get(event);
    if (!actions) return [`unknown webhook event "${event}"`];
    let def;
    if (actions.has("event")) {
      def = `${event}$event`;
    } else {
      const action = payload?.action;
      if (typeof action !== "string") {
        return [`(root): ${event} payload must have an "action" (one of ${[...actions].sort().join(", ")})`];
      }
      if (!actions.has(action)) {
        return [`/action: unknown ${event} action "${action}" (known: ${[...actions].sort().join(", ")})`];
      }
      def = `${event}$${action}`;
    }
    let fn = this.cache.get(def);
    if (!fn) {
      fn = this.ajv.getSchema(KEY + pointer(["definitions", def]));
      if (!fn) throw new Error(`definition ${def} did not compile`);
      this.cache.set(def, fn);
    }
    return fn(payload) ? [] : formatErrors(fn.errors);
  }
}

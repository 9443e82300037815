// validate.mjs: a long-lived validator speaking JSON lines on stdin/stdout.
//
//   {"id":1,"kind":"ping"}
//   {"id":2,"kind":"webhook","event":"workflow_job","payload":{...}}
//   {"id":3,"kind":"rest","spec":"api.github.com","method":"GET",
//    "path":"/repos/o/r/actions/runners","status":200,"body":{...}}
//
// Each request gets one line back: {"id":N,"ok":true} or
// {"id":N,"ok":false,"errors":["/path: message", ...]}. A REST request
// without a "body" member means the response body was empty. Corpora load on
// first use and compiled schemas are cached for the life of the process.
import { createInterface } from "node:readline";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { WebhookValidator } from "./lib/webhooks.mjs";
import { RestValidator } from "./lib/rest.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const octokit = join(here, "node_modules", "@octokit");
const SPEC_NAME = /^(api\.github\.com|ghec|ghes-\d+\.\d+)$/;

let webhooks = null;
const specs = new Map();

function restValidator(spec) {
  if (typeof spec !== "string" || !SPEC_NAME.test(spec)) {
    throw new Error(`unknown spec ${JSON.stringify(spec)}`);
  }
  let v = specs.get(spec);
  if (!v) {
    const file = join(octokit, "openapi", "generated", `${spec}.json`);
    if (!existsSync(file)) throw new Error(`@octokit/openapi ships no generated/${spec}.json`);
    v = new RestValidator(spec, file);
    specs.set(spec, v);
  }
  return v;
}

function handle(req) {
  switch (req.kind) {
    case "ping":
      return [];
    case "webhook":
      if (typeof req.event !== "string" || req.event === "") return ["webhook request needs an event name"];
      webhooks ??= new WebhookValidator(join(octokit, "webhooks-schemas", "schema.json"));
      return webhooks.validate(req.event, req.payload);
    case "rest": {
      if (!Number.isInteger(req.status)) return ["rest request needs an integer status"];
      if (typeof req.path !== "string" || !req.path.startsWith("/")) return ["rest request needs a path starting with /"];
      const hasBody = Object.hasOwn(req, "body");
      return restValidator(req.spec).validate(req.method, req.path, req.status, hasBody, req.body);
    }
    default:
      return [`unknown request kind ${JSON.stringify(req.kind)}`];
  }
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on("line", (line) => {
  if (line.trim() === "") return;
  let id = null;
  let errors;
  try {
    const req = JSON.parse(line);
    id = req.id ?? null;
    errors = handle(req);
  } catch (err) {
    errors = [`validator failed: ${err.message}`];
  }
  const answer = errors.length === 0 ? { id, ok: true } : { id, ok: false, errors };
  process.stdout.write(JSON.stringify(answer) + "\n");
});

// REST responses against @octokit/openapi's descriptions of GitHub's API.
import { readFileSync } from "node:fs";
import { newAjv, formatErrors, pointer, registerUnknownFormats, walk } from "./ajv.mjs";

const METHODS = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);

// Annotations stay on a nullable node when its constraints move into anyOf.
const ANNOTATIONS = new Set(["title", "description", "example", "examples", "deprecated", "readOnly", "writeOnly", "externalDocs"]);

export class RestValidator {
  constructor(name, specPath) {
    this.name = name;
    this.key = `https://conformance.invalid/${name}.json`;
    const doc = JSON.parse(readFileSync(specPath, "utf8"));
    honourNullable(doc);
    this.ajv = newAjv();
    registerUnknownFormats(this.ajv, doc);
    this.ajv.addSchema(doc, this.key);
    this.doc = doc;
    this.routes = Object.keys(doc.paths).map((template) => ({
      template,
      segments: template.split("/").slice(1).map(compileSegment),
    }));
    this.cache = new Map();
  }

  validate(method, path, status, hasBody, body) {
    const m = String(method).toLowerCase();
    const label = `${String(method).toUpperCase()} ${path}`;
    if (!METHODS.has(m)) return [`unknown HTTP method in ${label}`];
    const routes = this.match(path);
    if (routes.length === 0) return [`no operation in ${this.name} matches ${label}`];
    // Routing is by path and method: a less literal template that documents
    // the method beats a more literal one that does not.
    const route = routes.find((r) => this.doc.paths[r.template][m]) ?? routes[0];
    const item = this.doc.paths[route.template];
    const op = item[m];
    if (!op) {
      const known = Object.keys(item).filter((k) => METHODS.has(k)).map((k) => k.toUpperCase());
      return [`${String(method).toUpperCase()} not documented for ${route.template} in ${this.name} (documented: ${known.join(", ")})`];
    }
    const key = responseKey(op.responses ?? {}, status);
    if (!key) {
      return [`status ${status} not documented for ${label} (${route.template} in ${this.name} documents: ${Object.keys(op.responses ?? {}).join(", ")})`];
    }
    let ptr = ["paths", route.template, m, "responses", key];
    let resp = op.responses[key];
    for (let hops = 0; resp && resp.$ref; hops++) {
      if (hops > 8) return [`response ${key} of ${route.template}: $ref chain too long`];
      ptr = refSegments(resp.$ref);
      resp = lookup(this.doc, ptr);
    }
    if (!resp) return [`response ${key} of ${route.template}: dangling $ref`];
    const content = resp.content ?? {};
    const types = Object.keys(content);
    if (types.length === 0) {
      return hasBody ? [`status ${status} for ${label} declares no content, but the body is not empty`] : [];
    }
    const ct = types.includes("application/json") ? "application/json" : types.find((t) => /[/+]json$/.test(t));
    if (!ct) {
      return [`status ${status} for ${label} declares only ${types.join(", ")}; a JSON body cannot be checked`];
    }
    if (!content[ct].schema) return [];
    if (!hasBody) return [`status ${status} for ${label} documents a ${ct} body, but the body is empty`];
    const schemaPtr = [...ptr, "content", ct, "schema"];
    const cacheKey = schemaPtr.join("\u0000");
    let fn = this.cache.get(cacheKey);
    if (!fn) {
      fn = this.ajv.getSchema(this.key + pointer(schemaPtr));
      if (!fn) throw new Error(`schema ${schemaPtr.join("/")} did not compile`);
      this.cache.set(cacheKey, fn);
    }
    return fn(body) ? [] : formatErrors(fn.errors);
  }

  // match returns the templates matching a concrete path, most literal
  // first: where several match (/repos/{owner}/{repo}/actions/runners/downloads
  // against .../runners/{runner_id}), the one with a literal segment at the
  // first point of difference is the one GitHub routes to.
  match(path) {
    const parts = path.split("/").slice(1);
    return this.routes
      .filter(
        (r) =>
          r.segments.length === parts.length &&
          r.segments.every((s, i) => (s.literal !== undefined ? s.literal === parts[i] : s.re.test(parts[i]))),
      )
      .sort(literalFirst);
  }
}

function compileSegment(seg) {
  if (!seg.includes("{")) return { literal: seg };
  const source = seg
    .split(/(\{[^}]+\})/)
    .map((p) => (p.startsWith("{") ? "[^/]+" : p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return { re: new RegExp(`^${source}$`) };
}

function literalFirst(a, b) {
  for (let i = 0; i < a.segments.length; i++) {
    const al = a.segments[i].literal !== undefined;
    const bl = b.segments[i].literal !== undefined;
    if (al !== bl) return al ? -1 : 1;
  }
  return 0;
}

// responseKey picks the exact status, then an OpenAPI range ("2XX"), then
// "default" - only what the operation itself documents.
function responseKey(responses, status) {
  for (const k of [String(status), `${Math.floor(status / 100)}XX`, "default"]) {
    if (Object.hasOwn(responses, k)) return k;
  }
  return null;
}

function refSegments(ref) {
  if (!ref.startsWith("#/")) throw new Error(`external $ref ${ref} is not supported`);
  return ref
    .slice(2)
    .split("/")
    .map((s) => decodeURIComponent(s).replace(/~1/g, "/").replace(/~0/g, "~"));
}

function lookup(doc, segments) {
  let node = doc;
  for (const s of segments) {
    if (node === null || typeof node !== "object") return undefined;
    node = node[s];
  }
  return node;
}

// honourNullable rewrites OpenAPI 3.0's nullable into JSON Schema in place.
// Ajv understands nullable only beside "type" (it throws otherwise), and even
// then an enum without null still refuses null. GitHub means "null is a
// legal value" in both cases (e.g. installation.account, a nullable anyOf;
// code-scanning dismissed_reason, a nullable enum), and real responses send
// null there, so both are widened.
function honourNullable(doc) {
  walk(doc, (node) => {
    if (node.nullable !== true) return;
    if (Array.isArray(node.enum) && !node.enum.includes(null)) node.enum.push(null);
    if (node.type !== undefined) return;
    delete node.nullable;
    const rest = {};
    for (const [k, v] of Object.entries(node)) {
      if (ANNOTATIONS.has(k)) continue;
      rest[k] = v;
      delete node[k];
    }
    if (Object.keys(rest).length > 0) node.anyOf = [{ type: "null" }, rest];
  });
}

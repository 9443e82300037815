// Shared Ajv set-up for both corpora.
import Ajv from "ajv";
import addFormats from "ajv-formats";

// newAjv returns an Ajv instance tuned for GitHub's descriptions. strict is off
// because both corpora carry vendor keywords (tsAdditionalProperties,
// x-github, example) that strict mode refuses; validateSchema is off because
// neither document is itself a JSON Schema (an OpenAPI file, a bundle of
// draft-07 definitions whose members repeat $schema). inlineRefs is off: the
// shared definitions (repository, user, workflow-run) are large and used
// everywhere, and compiling each once as its own function is several times
// faster than inlining copies of them into every operation.
export function newAjv() {
  const ajv = new Ajv({
    strict: false,
    validateSchema: false,
    allErrors: false,
    inlineRefs: false,
    logger: false,
  });
  addFormats(ajv);
  return ajv;
}

// registerUnknownFormats accepts any value for formats that appear in doc but
// neither Ajv nor ajv-formats knows ("timestamp", "repo.nwo", "ssh-key"...):
// GitHub documents them for humans, there is no machine definition to hold us
// to, and an unknown format must not make a whole operation uncompilable.
export function registerUnknownFormats(ajv, doc) {
  const seen = new Set();
  walk(doc, (node) => {
    if (typeof node.format === "string") seen.add(node.format);
  });
  for (const f of seen) {
    if (!ajv.formats[f]) ajv.addFormat(f, true);
  }
}

// walk visits every object in value, skipping example payloads: they are data,
// not schemas, and may legitimately contain keys such as "nullable".
export function walk(value, visit) {
  const stack = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      for (const item of node) stack.push(item);
      continue;
    }
    if (node === null || typeof node !== "object") continue;
    visit(node);
    for (const [key, child] of Object.entries(node)) {
      if (key === "example" || key === "examples") continue;
      if (child !== null && typeof child === "object") stack.push(child);
    }
  }
}

// pointer builds a URI fragment for Ajv.getSchema from raw path segments:
// JSON-pointer escaping first, then URI escaping (templates carry "{" and "}",
// webhook definitions carry "$").
export function pointer(segments) {
  return (
    "#/" +
    segments
      .map((s) => encodeURIComponent(String(s).replace(/~/g, "~0").replace(/\//g, "~1")))
      .join("/")
  );
}

const MAX_ERRORS = 20;

// formatErrors turns Ajv errors into "/instance/path: message" lines that name
// the offending field, deduplicated and capped so a oneOf over twenty event
// shapes does not drown the one line that matters.
export function formatErrors(errors) {
  const out = [];
  const seen = new Set();
  for (const e of errors ?? []) {
    const at = e.instancePath === "" ? "(root)" : e.instancePath;
    let msg = e.message ?? e.keyword;
    if (e.keyword === "additionalProperties") {
      msg = `must NOT have additional property "${e.params.additionalProperty}"`;
    } else if (e.keyword === "enum") {
      msg = `${msg}: ${JSON.stringify(e.params.allowedValues)}`;
    }
    const line = `${at}: ${msg}`;
    if (seen.has(line)) continue;
    seen.add(line);
    out.push(line);
    if (out.length === MAX_ERRORS) {
      out.push(`... ${errors.length - MAX_ERRORS} more`);
      break;
    }
  }
  return out;
}

